// The typed client protocol: every request survives the frame codec, and an
// unknown request type does not decode.

#include <catch2/catch.hpp>

#include <set>
#include <vector>

#include "jamjet/messages/client_protocol.hpp"
#include "jamjet/messages/wire.hpp"

using namespace jamjet;

namespace {

/// At least one request of each type, with optional fields set and unset,
/// empty and non-ASCII text.
std::vector<client_request> samples() {
  return {
    client_register{R"({"workflow_id":"w","version":"1"})"},
    client_register{""},
    client_start{"w", caf::none, "{}"},
    client_start{"w", std::string{"2"}, R"({"q":"\u00e9t\u00e9"})"},
    client_await{"exec-1"},
    client_status{"exec-1"},
    client_status{""},
    client_list{},
    client_events{"exec-1"},
    client_cancel{"exec-1", "no longer needed"},
    client_cancel{"exec-1", ""},
    client_signal{"exec-1", "k", R"({"v":[1,2,3]})"},
    client_signal{"exec-1", "\xc3\xa9", "null"},
    client_decide{"exec-1", "review", true, "ann", caf::none, caf::none},
    client_decide{"exec-1", "review", false, "bob", std::string{"too risky"},
                  std::string{R"({"x":1})"}},
    client_decide{"exec-1", "review", true, "", std::string{""}, caf::none},
  };
}

/// `msg` through a whole frame and back.
wire_msg round_trip(const wire_msg& msg) {
  auto frame = encode_frame(msg);
  REQUIRE(frame.size() > 4);
  REQUIRE(frame_length(frame.data()) == frame.size() - 4);
  auto decoded = decode_payload(frame.data() + 4, frame.size() - 4);
  REQUIRE(decoded);
  return std::move(*decoded);
}

} // namespace

TEST_CASE("every client request survives the frame codec", "[wire]") {
  std::set<size_t> types;
  uint64_t id = 0;
  for (auto& req : samples()) {
    INFO(request_name(req));
    types.insert(req.index());
    wire_request sent{++id, req};
    auto back = round_trip(wire_msg{sent});
    REQUIRE(caf::holds_alternative<wire_request>(back));
    auto& got = caf::get<wire_request>(back);
    CHECK(got.id == id);
    CHECK(got.request.index() == req.index());
    CHECK(got.request == req);
  }
  // A request type added without a sample here fails this.
  CHECK(types.size() == static_cast<size_t>(client_request::max_type_id) + 1);
}

TEST_CASE("requests compare field by field", "[wire]") {
  client_decide a{"e", "n", true, "u", caf::none, caf::none};
  auto b = a;
  CHECK(a == b);
  b.comment = std::string{""};
  CHECK_FALSE(a == b); // no comment is not an empty one
  b = a;
  b.approve = false;
  CHECK_FALSE(a == b);
  CHECK_FALSE(client_request{client_status{"e"}} ==
              client_request{client_await{"e"}});
  CHECK(client_start{"w", caf::none, "{}"} ==
        client_start{"w", caf::none, "{}"});
  CHECK_FALSE(client_start{"w", caf::none, "{}"} ==
              client_start{"w", std::string{""}, "{}"});
}

TEST_CASE("requests are named for errors and logs", "[wire]") {
  CHECK(std::string{request_name(client_register{})} == "register");
  CHECK(std::string{request_name(client_list{})} == "list");
  CHECK(std::string{request_name(client_signal{})} == "signal");
  client_decide d;
  d.approve = true;
  CHECK(std::string{request_name(d)} == "approve");
  d.approve = false;
  CHECK(std::string{request_name(d)} == "reject");
}

TEST_CASE("unknown message and request types do not decode", "[wire]") {
  auto frame = encode_frame(wire_msg{wire_request{1, client_list{}}});
  std::vector<char> payload(frame.begin() + 4, frame.end());
  REQUIRE(decode_payload(payload.data(), payload.size()));
  // CAF alone would read a tag it does not know (below 30) as the first
  // type: a hello, or a register.
  for (char tag : {char{client_request::max_type_id + 1}, char{29}}) {
    auto bad = payload;
    bad.at(1 + 8) = tag;
    CHECK_FALSE(decode_payload(bad.data(), bad.size()));
  }
  for (char tag : {char{wire_msg::max_type_id + 1}, char{29}}) {
    auto bad = payload;
    bad.at(0) = tag;
    CHECK_FALSE(decode_payload(bad.data(), bad.size()));
  }
  // Cut right after the message's tag and id.
  CHECK_FALSE(decode_payload(payload.data(), 1 + 8));
  CHECK_FALSE(decode_payload(payload.data(), 0));
}
