// libFuzzer target: JamJet event JSON (and work item JSON) text, decoded as
// the store and the embedding API read it; what decodes is encoded again,
// and that must decode to the same JSON.
//
// Documented failures are a `jamjet::error` with code `bad_input`
// (json_limits.hpp, event_json.hpp). Anything else is a finding.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "jamjet/messages/error.hpp"
#include "jamjet/messages/event_json.hpp"
#include "jamjet/messages/json_limits.hpp"

namespace {

[[noreturn]] void finding(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz_event_json: %s %s\n", what, detail.c_str());
  std::abort();
}

void expect_bad_input(const jamjet::error& ex, const char* where) {
  if (ex.code() != jamjet::error_code::bad_input)
    finding(where, ex.what());
}

/// Decodes `doc` with `decode`, encodes the result with `encode`, and
/// requires the encoding to be a fixed point of decode + encode.
template <class Decode, class Encode>
void round_trip(const nlohmann::json& doc, Decode decode, Encode encode) {
  nlohmann::json first;
  try {
    auto value = decode(doc);
    // Encoding may refuse a timestamp outside the years 0000 to 9999.
    first = encode(value);
  } catch (const jamjet::error& ex) {
    expect_bad_input(ex, "decode/encode threw a code other than bad_input:");
    return;
  }
  try {
    auto text = jamjet::bounded_dump(first, "encoded value");
    auto second = encode(decode(jamjet::parse_bounded(text)));
    if (second != first)
      finding("encode(decode(encoded)) differs:",
              first.dump() + " vs " + second.dump());
  } catch (const jamjet::error& ex) {
    finding("an encoded value does not decode again:", ex.what());
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jamjet;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json doc;
  try {
    doc = parse_bounded(text, json_limits{}, "event JSON");
  } catch (const jamjet::error& ex) {
    expect_bad_input(ex, "parse_bounded threw a code other than bad_input:");
    return 0;
  }
  round_trip(
    doc, [](const nlohmann::json& j) { return event_from_json(j); },
    [](const event& x) { return to_json(x); });
  round_trip(
    doc, [](const nlohmann::json& j) { return work_item_from_json(j); },
    [](const work_item& x) { return to_json(x); });
  if (doc.is_string()) {
    // A bare string: a timestamp.
    try {
      auto ms = parse_rfc3339(doc.get<std::string>());
      auto again = parse_rfc3339(format_rfc3339_ms(ms));
      if (again != ms)
        finding("timestamp does not round-trip:", doc.get<std::string>());
    } catch (const jamjet::error& ex) {
      expect_bad_input(ex, "timestamp threw a code other than bad_input:");
    }
  }
  return 0;
}
