#include <catch2/catch.hpp>

#include "jamjet/messages/error.hpp"
#include "jamjet/messages/wire.hpp"

using namespace jamjet;

namespace {

std::vector<char> frames_of(int n) {
  std::vector<char> all;
  for (int i = 0; i < n; ++i) {
    auto f = encode_frame(wire_msg{wire_cancel{"item-" + std::to_string(i)}});
    all.insert(all.end(), f.begin(), f.end());
  }
  return all;
}

} // namespace

TEST_CASE("a frame splitter cuts frames from chunks of any size", "[wire]") {
  auto bytes = frames_of(5);
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{7}, bytes.size()}) {
    frame_splitter s;
    std::vector<std::string> got;
    for (size_t at = 0; at < bytes.size(); at += chunk) {
      s.append(bytes.data() + at, std::min(chunk, bytes.size() - at));
      for (;;) {
        auto msg = s.next(1024);
        REQUIRE(msg);
        if (!*msg)
          break;
        got.push_back(caf::get<wire_cancel>(**msg).item_id);
      }
    }
    CHECK(got == std::vector<std::string>{"item-0", "item-1", "item-2",
                                          "item-3", "item-4"});
    CHECK(s.buffered() == 0);
  }
}

TEST_CASE("a frame splitter holds only the bytes that came", "[wire]") {
  frame_splitter s;
  // A prefix announcing 16 MiB, and 10 bytes of it.
  char prefix[4] = {0x01, 0x00, 0x00, 0x00};
  s.append(prefix, 4);
  std::vector<char> some(10, 'x');
  s.append(some.data(), some.size());
  auto msg = s.next(32u << 20);
  REQUIRE(msg);
  CHECK_FALSE(*msg);
  CHECK(s.buffered() == 14);
}

TEST_CASE("a frame splitter refuses bad lengths and payloads", "[wire]") {
  auto frame = encode_frame(wire_msg{wire_cancel{"item-1"}});
  SECTION("over the limit") {
    frame_splitter s;
    s.append(frame.data(), frame.size());
    auto msg = s.next(static_cast<uint32_t>(frame.size() - 5));
    REQUIRE_FALSE(msg);
    CHECK(error_message(msg.error()).find("refused (limit") !=
          std::string::npos);
  }
  SECTION("the limit can change between frames") {
    frame_splitter s;
    s.append(frame.data(), frame.size());
    s.append(frame.data(), frame.size());
    REQUIRE(s.next(1024));
    CHECK_FALSE(s.next(4)); // the second is over a limit now smaller
  }
  SECTION("empty") {
    frame_splitter s;
    std::vector<char> zero(4, 0);
    s.append(zero.data(), zero.size());
    CHECK_FALSE(s.next(1024));
  }
  SECTION("a payload that does not decode") {
    frame_splitter s;
    s.append(frame.data(), 4);
    std::vector<char> junk(frame.size() - 4, '\xc8');
    s.append(junk.data(), junk.size());
    CHECK_FALSE(s.next(1024));
  }
}
