// Tests of the JSON layout of events and work items, and of their CAF
// serialisation.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>
#include <caf/sum_type.hpp>

#include "jamjet/messages/command.hpp"
#include "jamjet/messages/error.hpp"
#include "jamjet/messages/event.hpp"
#include "jamjet/messages/event_json.hpp"
#include "jamjet/messages/type_registry.hpp"
#include "jamjet/messages/work_item.hpp"

using nlohmann::json;
using namespace jamjet;

namespace {

/// An event object as JamJet writes it, around the kind object `kind`.
json jamjet_event(const std::string& kind, uint64_t sequence = 7) {
  auto result = json::parse(R"({
    "id": "0b6e4f1c-5d2a-4c5e-9a43-2f0c1e7d8b90",
    "execution_id": "exec_3f9a2c",
    "created_at": "2026-11-26T21:54:14.123Z"
  })");
  result["sequence"] = sequence;
  result["kind"] = json::parse(kind);
  return result;
}

/// Requires that `f` throws `jamjet::error` with code `bad_input` and a
/// message containing `needle`.
template <class F>
void require_bad_input(F f, const std::string& needle) {
  try {
    f();
    FAIL("no exception; expected bad_input mentioning " << needle);
  } catch (const jamjet::error& ex) {
    CHECK(ex.code() == error_code::bad_input);
    INFO("message: " << ex.what());
    CHECK(std::string{ex.what()}.find(needle) != std::string::npos);
  }
}

/// The kind objects of every modelled kind, as JamJet emits them.
const std::vector<std::string>& modelled_kinds() {
  static const std::vector<std::string> kinds = {
    R"({"type":"workflow_started","workflow_id":"research_flow",
        "workflow_version":"1.2.0",
        "initial_input":{"query":"tides","limits":[1,2.5,null]}})",
    R"({"type":"workflow_completed",
        "final_state":{"answer":"42","steps":{"a":true}}})",
    R"({"type":"workflow_failed","error":"node 'fetch' failed: timeout"})",
    R"({"type":"workflow_cancelled","reason":"user request"})",
    R"({"type":"workflow_cancelled","reason":null})",
    R"({"type":"node_scheduled","node_id":"fetch","queue_type":"tool"})",
    R"({"type":"node_started","node_id":"fetch","worker_id":"worker-1",
        "attempt":2})",
    R"({"type":"node_completed","node_id":"fetch",
        "output":{"status":200,"body":"ok"},
        "state_patch":{"fetched":true,"cache":null},"duration_ms":1534})",
    R"({"type":"node_completed","node_id":"summarize",
        "output":"plain text output","state_patch":{},"duration_ms":0,
        "gen_ai_system":"openai","gen_ai_model":"gpt-4o-mini",
        "input_tokens":1200,"output_tokens":345,"finish_reason":"stop",
        "cost_usd":0.00123,
        "provenance":{"model_id":"gpt-4o-mini","model_version":null,
                      "confidence":0.87,"verified":true,"source":null,
                      "trust_domain":"internal",
                      "evidence_refs":["doc:1","seq:14"]}})",
    R"({"type":"node_failed","node_id":"fetch","error":"connection reset",
        "attempt":3,"retryable":false})",
    R"({"type":"node_skipped","node_id":"notify",
        "reason":"condition evaluated to false"})",
    R"({"type":"node_cancelled","node_id":"fetch"})",
    R"({"type":"retry_scheduled","node_id":"fetch","attempt":2,
        "delay_ms":4000})",
    R"({"type":"timer_created","node_id":"wait","fire_at":
        "2026-11-27T08:00:00.000Z","correlation_key":null})",
    R"({"type":"timer_created","node_id":"wait","fire_at":
        "2026-11-27T08:00:00.250Z","correlation_key":"reminder-7"})",
    R"({"type":"timer_fired","node_id":"wait","correlation_key":null})",
    R"({"type":"timer_fired","node_id":"wait","correlation_key":"reminder-7"})",
    R"({"type":"external_event_received","correlation_key":"order-991",
        "payload":{"paid":true,"amount":19.99,"items":["a","b"]}})",
    R"({"type":"approval_received","node_id":"review","user_id":"u-17",
        "decision":"approved","comment":null,
        "state_patch":{"approved":true,"notes":{"lines":["ok","ship"]}}})",
    R"({"type":"approval_received","node_id":"review","user_id":"u-18",
        "decision":"rejected","comment":"not yet","state_patch":null})",
  };
  return kinds;
}

/// Kinds this runtime keeps as opaque events.
const std::vector<std::string>& opaque_kinds() {
  static const std::vector<std::string> kinds = {
    R"({"type":"interrupt_raised","node_id":"review",
        "reason":"needs approval","state_for_review":{"draft":"text"}})",
    R"({"type":"budget_exceeded","node_id":"plan","kind":"tokens",
        "limit":10000,"current":10250})",
    R"({"type":"coordinator_decision","node_id":"route","selected":null,
        "method":"score","reasoning":"highest score","confidence":0.75,
        "rejected":[{"agent":"a","score":0.5}],"tiebreaker_tokens":null,
        "tiebreaker_cost":1e-05})",
    R"({"type":"strategy_started","strategy":"react",
        "config":{"max_iterations":5}})",
    R"({"type":"plan_generated","steps":["search","read","answer"]})",
  };
  return kinds;
}

/// One event of each kind, including opaque ones.
std::vector<event> sample_events() {
  std::vector<event> result;
  uint64_t seq = 1;
  for (const auto* kinds : {&modelled_kinds(), &opaque_kinds()})
    for (const auto& kind : *kinds)
      result.push_back(event_from_json(jamjet_event(kind, seq++)));
  return result;
}

/// An actor system whose config has every message type registered. Lives in
/// a test case's scope: CAF 0.17 crashes when an `actor_system` is destroyed
/// during static destruction.
struct caf_env {
  caf_env() : sys(registered(cfg)) {
    // nop
  }

  static caf::actor_system_config& registered(caf::actor_system_config& x) {
    add_message_types(x);
    return x;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
};

/// Serialises `x` with CAF's binary format and reads it back.
template <class T>
T binary_round_trip(caf::actor_system& sys, const T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  auto copy = x;
  auto err = sink(copy);
  REQUIRE(!err);
  T result;
  caf::binary_deserializer source{sys, buf};
  err = source(result);
  REQUIRE(!err);
  CHECK(source.remaining() == 0);
  return result;
}

work_item sample_item() {
  work_item x;
  x.id = "exec_3f9a2c/fetch";
  x.execution_id = "exec_3f9a2c";
  x.node_id = "fetch";
  x.queue_type = "tool";
  x.payload = R"({"node":{"kind":"tool","name":"http"},"state":{"q":1}})";
  x.attempt = 2;
  x.max_attempts = 5;
  x.created_at_ms = 1795730054123;
  x.lease_expires_at_ms = 1795730084123;
  x.worker_id = "worker-1";
  x.tenant_id = "acme";
  x.not_before_ms = 1795730060000;
  x.fence = 42;
  x.status = item_status::leased;
  return x;
}

} // namespace

// -- modelled kinds -----------------------------------------------------------

TEST_CASE("every modelled kind round-trips through its struct", "[events]") {
  for (const auto& kind : modelled_kinds()) {
    auto original = jamjet_event(kind);
    INFO("kind: " << original["kind"].dump());
    auto parsed = event_from_json(original);
    CHECK(!caf::holds_alternative<opaque_event>(parsed.kind));
    CHECK(type_name_of(parsed.kind) == original["kind"]["type"]);
    CHECK(to_json(parsed) == original);
    CHECK(to_json(parsed.kind) == original["kind"]);
    CHECK(event_kind_from_json(original["kind"]) == parsed.kind);
  }
}

TEST_CASE("event fields map to the struct", "[events]") {
  auto x = event_from_json(jamjet_event(
    R"({"type":"node_started","node_id":"fetch","worker_id":"w1",
        "attempt":2})",
    9));
  CHECK(x.id == "0b6e4f1c-5d2a-4c5e-9a43-2f0c1e7d8b90");
  CHECK(x.execution_id == "exec_3f9a2c");
  CHECK(x.sequence == 9);
  CHECK(x.created_at_ms == 1795730054123);
  REQUIRE(caf::holds_alternative<node_started>(x.kind));
  auto& started = caf::get<node_started>(x.kind);
  CHECK(started.node_id == "fetch");
  CHECK(started.worker_id == "w1");
  CHECK(started.attempt == 2);
}

TEST_CASE("JSON-valued fields are kept as compact text", "[events]") {
  auto kind = event_kind_from_json(json::parse(
    R"({"type":"workflow_started","workflow_id":"wf","workflow_version":"1",
        "initial_input": { "a" : [ 1, 2 ], "b" : { } }})"));
  REQUIRE(caf::holds_alternative<workflow_started>(kind));
  CHECK(caf::get<workflow_started>(kind).initial_input ==
        R"({"a":[1,2],"b":{}})");
  auto done = event_kind_from_json(
    json::parse(R"({"type":"workflow_completed","final_state":null})"));
  CHECK(caf::get<workflow_completed>(done).final_state == "null");
}

TEST_CASE("empty JSON text is written as null", "[events]") {
  auto j = to_json(event_kind{node_completed{"n", "", "", 5, ""}});
  CHECK(j == json::parse(R"({"type":"node_completed","node_id":"n",
                             "output":null,"state_patch":null,
                             "duration_ms":5})"));
  CHECK(to_json(event_kind{workflow_completed{}}) ==
        json::parse(R"({"type":"workflow_completed","final_state":null})"));
}

TEST_CASE("absent optional strings read as null", "[events]") {
  auto kind = event_kind_from_json(
    json::parse(R"({"type":"timer_fired","node_id":"wait"})"));
  REQUIRE(caf::holds_alternative<timer_fired>(kind));
  CHECK(!caf::get<timer_fired>(kind).correlation_key);
  CHECK(to_json(kind) == json::parse(R"({"type":"timer_fired","node_id":"wait",
                           "correlation_key":null})"));
  auto cancelled =
    event_kind_from_json(json::parse(R"({"type":"workflow_cancelled"})"));
  CHECK(!caf::get<workflow_cancelled>(cancelled).reason);
}

// -- telemetry ----------------------------------------------------------------

TEST_CASE("node_completed telemetry round-trips", "[events]") {
  const auto& kind_text = modelled_kinds()[8];
  auto original = json::parse(kind_text);
  auto kind = event_kind_from_json(original);
  REQUIRE(caf::holds_alternative<node_completed>(kind));
  const auto& x = caf::get<node_completed>(kind);
  CHECK(x.node_id == "summarize");
  CHECK(x.output == R"("plain text output")");
  CHECK(x.state_patch == "{}");
  CHECK(x.duration_ms == 0);
  auto extra = json::parse(x.extra);
  CHECK(extra.size() == 7);
  CHECK(extra["gen_ai_system"] == "openai");
  CHECK(extra["input_tokens"] == 1200);
  CHECK(extra["cost_usd"] == 0.00123);
  CHECK(extra["provenance"]["evidence_refs"][1] == "seq:14");
  CHECK(extra.dump() == x.extra);
  CHECK(to_json(kind) == original);
}

TEST_CASE("node_completed without telemetry has empty extra", "[events]") {
  auto kind = event_kind_from_json(json::parse(modelled_kinds()[7]));
  CHECK(caf::get<node_completed>(kind).extra.empty());
}

TEST_CASE("telemetry from the struct merges into the kind", "[events]") {
  node_completed x{"n", "1", "{}", 10,
                   R"({"gen_ai_model":"m","output_tokens":3,"node_id":"x"})"};
  auto j = to_json(event_kind{x});
  CHECK(j["gen_ai_model"] == "m");
  CHECK(j["output_tokens"] == 3);
  // Core fields win over clashing keys in `extra`.
  CHECK(j["node_id"] == "n");
  CHECK(j["output"] == 1);
}

// -- opaque kinds -------------------------------------------------------------

TEST_CASE("opaque kinds round-trip exactly", "[events]") {
  for (const auto& kind_text : opaque_kinds()) {
    auto original = jamjet_event(kind_text);
    const auto& kind_json = original["kind"];
    INFO("kind: " << kind_json.dump());
    auto parsed = event_from_json(original);
    REQUIRE(caf::holds_alternative<opaque_event>(parsed.kind));
    const auto& x = caf::get<opaque_event>(parsed.kind);
    CHECK(x.type == kind_json["type"]);
    CHECK(x.body == kind_json.dump());
    CHECK(type_name_of(parsed.kind) == x.type);
    CHECK(to_json(parsed.kind) == kind_json);
    CHECK(to_json(parsed) == original);
    CHECK(!is_terminal(parsed.kind));
  }
}

TEST_CASE("opaque kinds report their node", "[events]") {
  auto approval = event_kind_from_json(json::parse(opaque_kinds()[0]));
  CHECK(node_id_of(approval) == "review");
  auto strategy = event_kind_from_json(json::parse(opaque_kinds()[4]));
  CHECK(node_id_of(strategy).empty());
}

TEST_CASE("an opaque event without a body writes its type", "[events]") {
  CHECK(to_json(event_kind{opaque_event{"plan_generated", ""}}) ==
        json::parse(R"({"type":"plan_generated"})"));
  require_bad_input(
    [] {
      to_json(event_kind{opaque_event{"x", "[1]"}});
    },
    "opaque_event.body");
  require_bad_input(
    [] {
      to_json(event_kind{opaque_event{"x", "{"}});
    },
    "opaque_event.body");
}

// -- helpers of event.hpp -----------------------------------------------------

TEST_CASE("type names, node ids and terminal kinds", "[events]") {
  CHECK(type_name_of(node_scheduled{"a", "general"}) == "node_scheduled");
  CHECK(type_name_of(external_event_received{"k", "{}"}) ==
        "external_event_received");
  CHECK(node_id_of(node_failed{"a", "e", 1, true}) == "a");
  CHECK(node_id_of(timer_created{"t", 0, caf::none}) == "t");
  CHECK(node_id_of(workflow_failed{"e"}).empty());
  CHECK(node_id_of(external_event_received{"k", "{}"}).empty());
  CHECK(is_terminal(workflow_completed{"{}"}));
  CHECK(is_terminal(workflow_failed{"e"}));
  CHECK(is_terminal(workflow_cancelled{caf::none}));
  CHECK(!is_terminal(node_completed{}));
  CHECK(!is_terminal(workflow_started{}));
}

TEST_CASE("item operations name their item", "[events]") {
  auto item = sample_item();
  CHECK(item_id_of(enqueue_op{item}) == item.id);
  CHECK(item_id_of(lease_op{"i1", 3, "w", 10}) == "i1");
  CHECK(item_id_of(settle_op{"i2", 3}) == "i2");
  CHECK(item_id_of(requeue_op{"i3", 3, 2, 99}) == "i3");
  CHECK(item_id_of(dead_letter_op{"i4", 3, "boom"}) == "i4");
  CHECK(item_id_of(cancel_op{"i5"}) == "i5");
  CHECK(item_op{lease_op{"i1", 3, "w", 10}} ==
        item_op{lease_op{"i1", 3, "w", 10}});
  CHECK(!(item_op{lease_op{"i1", 3, "w", 10}} ==
          item_op{lease_op{"i1", 4, "w", 10}}));
  CHECK(!(item_op{settle_op{"i1", 3}} == item_op{cancel_op{"i1"}}));
}

// -- timestamps ---------------------------------------------------------------

TEST_CASE("timestamps format in UTC with milliseconds", "[events]") {
  CHECK(format_rfc3339_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339_ms(1795730054123) == "2026-11-26T21:54:14.123Z");
  CHECK(format_rfc3339_ms(1709208000000) == "2024-02-29T12:00:00.000Z");
  CHECK(format_rfc3339_ms(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339_ms(-2203891200000) == "1900-03-01T00:00:00.000Z");
  CHECK(format_rfc3339_ms(-62167219200000) == "0000-01-01T00:00:00.000Z");
  CHECK(format_rfc3339_ms(253402300799999) == "9999-12-31T23:59:59.999Z");
  require_bad_input([] { format_rfc3339_ms(253402300800000); }, "out of range");
  require_bad_input([] { format_rfc3339_ms(-62167219200001); }, "out of range");
}

TEST_CASE("timestamps parse back to what was formatted", "[events]") {
  // Steps of a prime number of ms visit many dates, times and leap days.
  for (int64_t ms = -62167219200000; ms <= 253402300799999;
       ms += 7'919'993'337) {
    auto text = format_rfc3339_ms(ms);
    INFO("text: " << text);
    REQUIRE(parse_rfc3339(text) == ms);
  }
  CHECK(parse_rfc3339("2026-11-26T21:54:14.123Z") == 1795730054123);
  CHECK(parse_rfc3339("1969-12-31T23:59:59.999Z") == -1);
}

TEST_CASE("timestamps accept offsets", "[events]") {
  const int64_t expected = 1795730054123;
  CHECK(parse_rfc3339("2026-11-26T21:54:14.123+00:00") == expected);
  CHECK(parse_rfc3339("2026-11-26T21:54:14.123-00:00") == expected);
  CHECK(parse_rfc3339("2026-11-26T23:54:14.123+02:00") == expected);
  CHECK(parse_rfc3339("2026-11-26T16:24:14.123-05:30") == expected);
  CHECK(parse_rfc3339("2026-11-27T07:39:14.123+09:45") == expected);
  // An offset can move the instant into another day, month or year.
  CHECK(parse_rfc3339("2027-01-01T01:00:00+02:00") ==
        parse_rfc3339("2026-12-31T23:00:00Z"));
}

TEST_CASE("timestamps accept fractional seconds of any length", "[events]") {
  const int64_t base = 1795730054000;
  CHECK(parse_rfc3339("2026-11-26T21:54:14Z") == base);
  CHECK(parse_rfc3339("2026-11-26T21:54:14.1Z") == base + 100);
  CHECK(parse_rfc3339("2026-11-26T21:54:14.12Z") == base + 120);
  CHECK(parse_rfc3339("2026-11-26T21:54:14.123Z") == base + 123);
  CHECK(parse_rfc3339("2026-11-26T21:54:14.123456Z") == base + 123);
  CHECK(parse_rfc3339("2026-11-26T21:54:14.123456789Z") == base + 123);
  CHECK(parse_rfc3339("2026-11-26T21:54:14.9999999999Z") == base + 999);
  CHECK(parse_rfc3339("2026-11-26T21:54:14.000000001+01:00") ==
        base - 3'600'000);
  CHECK(parse_rfc3339("2026-11-26t21:54:14.123z") == base + 123);
  CHECK(parse_rfc3339("2026-11-26 21:54:14.123Z") == base + 123);
  CHECK(parse_rfc3339("2016-12-31T23:59:60Z") ==
        parse_rfc3339("2016-12-31T23:59:59.999Z"));
}

TEST_CASE("malformed timestamps are rejected", "[events]") {
  for (auto text : {"",
                    "2026-11-26",
                    "2026-11-26T21:54:14",
                    "2026-11-26T21:54Z",
                    "26-11-26T21:54:14Z",
                    "2026-11-26T21:54:14.Z",
                    "2026-11-26T21:54:14Z ",
                    "2026-11-26T21:54:14+0100",
                    "2026-11-26T21:54:14+01",
                    "2026-11-26T21:54:14+24:00",
                    "2026-13-01T00:00:00Z",
                    "2026-00-01T00:00:00Z",
                    "2026-02-29T00:00:00Z",
                    "2026-04-31T00:00:00Z",
                    "2026-11-26T24:00:00Z",
                    "2026-11-26T21:60:00Z",
                    "2026-11-26T21:54:61Z",
                    "2026-11-26X21:54:14Z",
                    "2026-11-26T21:54:14.12a3Z",
                    "+2026-11-26T21:54:14Z"}) {
    INFO("text: " << text);
    require_bad_input([&] { parse_rfc3339(text); }, "RFC 3339");
  }
}

TEST_CASE("timestamps in events may be integer milliseconds", "[events]") {
  auto j = jamjet_event(R"({"type":"timer_created","node_id":"wait",
                            "fire_at":1795730060000,"correlation_key":"k"})");
  j["created_at"] = 1795730054123;
  auto x = event_from_json(j);
  CHECK(x.created_at_ms == 1795730054123);
  CHECK(caf::get<timer_created>(x.kind).fire_at_ms == 1795730060000);
  auto out = to_json(x);
  CHECK(out["created_at"] == "2026-11-26T21:54:14.123Z");
  CHECK(out["kind"]["fire_at"] == "2026-11-26T21:54:20.000Z");
}

TEST_CASE("event timestamps with offsets are normalised to UTC", "[events]") {
  auto j = jamjet_event(R"({"type":"node_cancelled","node_id":"a"})");
  j["created_at"] = "2026-11-26T22:54:14.123456+01:00";
  auto x = event_from_json(j);
  CHECK(x.created_at_ms == 1795730054123);
  CHECK(to_json(x)["created_at"] == "2026-11-26T21:54:14.123Z");
}

// -- bad input ----------------------------------------------------------------

TEST_CASE("bad events throw bad_input naming the field", "[events]") {
  require_bad_input(
    [] {
      event_from_json(
        jamjet_event(R"({"type":"node_scheduled","queue_type":"tool"})"));
    },
    "event.kind.node_id: missing");
  require_bad_input(
    [] {
      auto j = jamjet_event(R"({"type":"node_cancelled","node_id":"a"})");
      j["sequence"] = "7";
      event_from_json(j);
    },
    "event.sequence: expected an unsigned integer");
  require_bad_input(
    [] {
      auto j = jamjet_event(R"({"type":"node_cancelled","node_id":"a"})");
      j["sequence"] = -3;
      event_from_json(j);
    },
    "event.sequence");
  require_bad_input(
    [] {
      auto j = jamjet_event(R"({"type":"node_cancelled","node_id":"a"})");
      j["sequence"] = 1.5;
      event_from_json(j);
    },
    "event.sequence");
  require_bad_input([] { event_from_json(json::parse("42")); },
                    "event: expected an object");
  require_bad_input([] { event_from_json(json::parse("[1,2]")); },
                    "event: expected an object");
  require_bad_input([] { event_from_json(json::parse(R"({"foo":1})")); },
                    "event.id: missing");
  require_bad_input(
    [] {
      auto j = jamjet_event(R"({"type":"node_cancelled","node_id":"a"})");
      j.erase("created_at");
      event_from_json(j);
    },
    "event.created_at: missing");
  require_bad_input(
    [] {
      auto j = jamjet_event(R"({"type":"node_cancelled","node_id":"a"})");
      j["created_at"] = "yesterday";
      event_from_json(j);
    },
    "event.created_at: invalid RFC 3339");
  require_bad_input(
    [] {
      auto j = jamjet_event(R"({"type":"node_cancelled","node_id":"a"})");
      j["kind"] = "node_cancelled";
      event_from_json(j);
    },
    "event.kind: expected an object");
  require_bad_input([] { event_from_json(jamjet_event(R"({"node_id":"a"})")); },
                    "event.kind.type: missing");
  require_bad_input([] { event_from_json(jamjet_event(R"({"type":7})")); },
                    "event.kind.type: expected a string");
  require_bad_input([] { event_from_json(jamjet_event(R"({"type":""})")); },
                    "event.kind.type: empty");
}

TEST_CASE("bad kind fields throw bad_input naming the field", "[events]") {
  auto check = [](const char* kind, const char* needle) {
    INFO("kind: " << kind);
    require_bad_input([&] { event_kind_from_json(json::parse(kind)); }, needle);
  };
  check(R"({"type":"node_started","node_id":"a","worker_id":"w",
            "attempt":1.5})",
        "event.kind.attempt: expected an unsigned integer");
  check(R"({"type":"node_started","node_id":"a","worker_id":"w",
            "attempt":4294967296})",
        "event.kind.attempt: out of range");
  check(R"({"type":"node_failed","node_id":"a","error":"e","attempt":1,
            "retryable":"yes"})",
        "event.kind.retryable: expected a boolean");
  check(R"({"type":"node_failed","node_id":"a","error":"e","attempt":1})",
        "event.kind.retryable: missing");
  check(R"({"type":"node_completed","node_id":"a","output":1,
            "duration_ms":3})",
        "event.kind.state_patch: missing");
  check(R"({"type":"node_completed","node_id":"a","output":1,
            "state_patch":{},"duration_ms":3,"input_tokens":"many"})",
        "event.kind.input_tokens: expected an unsigned integer");
  check(R"({"type":"node_completed","node_id":"a","output":1,
            "state_patch":{},"duration_ms":3,"provenance":[]})",
        "event.kind.provenance: expected an object");
  check(R"({"type":"workflow_started","workflow_id":"w",
            "initial_input":{}})",
        "event.kind.workflow_version: missing");
  check(R"({"type":"workflow_cancelled","reason":5})",
        "event.kind.reason: expected a string");
  check(R"({"type":"timer_created","node_id":"t","fire_at":"soon",
            "correlation_key":null})",
        "event.kind.fire_at: invalid RFC 3339");
  check(R"({"type":"timer_created","node_id":"t","fire_at":true})",
        "event.kind.fire_at: expected an RFC 3339 string");
  check(R"({"type":"external_event_received","payload":{}})",
        "event.kind.correlation_key: missing");
  check(R"({"type":"retry_scheduled","node_id":"a","attempt":2,
            "delay_ms":-1})",
        "event.kind.delay_ms: expected a non-negative integer");
  check(R"({"type":"node_skipped","node_id":["a"],"reason":"r"})",
        "event.kind.node_id: expected a string, got an array");
}

// -- CAF serialisation --------------------------------------------------------

TEST_CASE("events of every kind survive CAF binary serialisation", "[events]") {
  caf_env env;
  auto events = sample_events();
  REQUIRE(events.size() == modelled_kinds().size() + opaque_kinds().size());
  for (const auto& x : events) {
    INFO("kind: " << type_name_of(x.kind));
    CHECK(binary_round_trip(env.sys, x) == x);
  }
  CHECK(binary_round_trip(env.sys, events) == events);
}

TEST_CASE("events survive CAF serialisation inside messages", "[events]") {
  caf_env env;
  auto& sys = env.sys;
  for (const auto& x : sample_events()) {
    INFO("kind: " << type_name_of(x.kind));
    auto msg = caf::make_message(x, x.kind);
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    REQUIRE(!sink(msg));
    caf::message copy;
    caf::binary_deserializer source{sys, buf};
    REQUIRE(!source(copy));
    REQUIRE(copy.match_elements<event, event_kind>());
    CHECK(copy.get_as<event>(0) == x);
    CHECK(copy.get_as<event_kind>(1) == x.kind);
  }
}

TEST_CASE("commands and commit results survive CAF serialisation", "[events]") {
  caf_env env;
  auto item = sample_item();
  command cmd;
  cmd.execution_id = "exec_3f9a2c";
  for (const auto& x : sample_events())
    cmd.events.push_back(x.kind);
  cmd.items = {enqueue_op{item},
               lease_op{item.id, 7, "w", 1000},
               settle_op{item.id, 7},
               requeue_op{item.id, 7, 3, 5000},
               dead_letter_op{item.id, 7, "exhausted"},
               cancel_op{item.id}};
  cmd.now_ms = 1795730054123;
  auto cmd_copy = binary_round_trip(env.sys, cmd);
  CHECK(cmd_copy.execution_id == cmd.execution_id);
  CHECK(cmd_copy.events == cmd.events);
  CHECK(cmd_copy.items == cmd.items);
  CHECK(cmd_copy.now_ms == cmd.now_ms);
  commit_result res{sample_events(), {item, sample_item()}};
  auto res_copy = binary_round_trip(env.sys, res);
  CHECK(res_copy.events == res.events);
  CHECK(res_copy.items == res.items);
  dead_letter dl{item, "boom", 1795730099000};
  auto dl_copy = binary_round_trip(env.sys, dl);
  CHECK(dl_copy.item == dl.item);
  CHECK(dl_copy.error == dl.error);
  CHECK(dl_copy.dead_at_ms == dl.dead_at_ms);
}

// -- work items ---------------------------------------------------------------

TEST_CASE("work items round-trip through JSON", "[events]") {
  auto x = sample_item();
  auto j = to_json(x);
  CHECK(j["payload"]["node"]["name"] == "http");
  CHECK(j["created_at"] == "2026-11-26T21:54:14.123Z");
  CHECK(j["lease_expires_at"] == "2026-11-26T21:54:44.123Z");
  CHECK(j["not_before"] == "2026-11-26T21:54:20.000Z");
  CHECK(j["status"] == "leased");
  CHECK(j["fence"] == 42);
  CHECK(work_item_from_json(j) == x);
  auto text = R"({"id":"e1/n1","execution_id":"e1","node_id":"n1",
                  "queue_type":"model","payload":{"node":{},"state":{}},
                  "attempt":1,"max_attempts":3,
                  "created_at":"2026-11-26T21:54:14.123Z",
                  "lease_expires_at":null,"worker_id":null,
                  "tenant_id":"default","not_before":null,"fence":0,
                  "status":"ready"})";
  auto original = json::parse(text);
  auto y = work_item_from_json(original);
  CHECK(y.lease_expires_at_ms == 0);
  CHECK(y.worker_id.empty());
  CHECK(y.payload == R"({"node":{},"state":{}})");
  CHECK(to_json(y) == original);
}

TEST_CASE("work item statuses and defaults", "[events]") {
  for (auto status :
       {item_status::ready, item_status::leased, item_status::done,
        item_status::dead, item_status::cancelled}) {
    auto x = sample_item();
    x.status = status;
    CHECK(work_item_from_json(to_json(x)).status == status);
  }
  CHECK(to_string(item_status::cancelled) == "cancelled");
  auto minimal = json::parse(R"({"id":"e1/n1","execution_id":"e1",
    "node_id":"n1","queue_type":"general","payload":null,"attempt":1,
    "max_attempts":3,"created_at":"2026-11-26T21:54:14Z"})");
  auto y = work_item_from_json(minimal);
  CHECK(y.tenant_id == "default");
  CHECK(y.status == item_status::ready);
  CHECK(y.fence == 0);
  CHECK(y.not_before_ms == 0);
  CHECK(y.payload == "null");
}

TEST_CASE("bad work items throw bad_input naming the field", "[events]") {
  auto base = to_json(sample_item());
  require_bad_input(
    [&] {
      auto j = base;
      j["status"] = "claimed";
      work_item_from_json(j);
    },
    "work_item.status: unknown status");
  require_bad_input(
    [&] {
      auto j = base;
      j.erase("queue_type");
      work_item_from_json(j);
    },
    "work_item.queue_type: missing");
  require_bad_input(
    [&] {
      auto j = base;
      j["max_attempts"] = "3";
      work_item_from_json(j);
    },
    "work_item.max_attempts");
  require_bad_input(
    [&] {
      auto j = base;
      j["lease_expires_at"] = "later";
      work_item_from_json(j);
    },
    "work_item.lease_expires_at");
  require_bad_input([] { work_item_from_json(json::array()); },
                    "work_item: expected an object");
}
