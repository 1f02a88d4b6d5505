// Tests of the workflow IR: parsing, JSON round trip, queue types and retry
// policies.

#include "jamjet/messages/ir.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "jamjet/messages/error.hpp"
#include "testing/files.hpp"

#ifndef JAMJET_FIXTURE_DIR
#error "JAMJET_FIXTURE_DIR must name the directory of the JamJet IR files"
#endif

using json = nlohmann::json;
using namespace jamjet;
using jamjet::testing::read_file;

namespace {

std::string read_fixture(const std::string& name) {
  return read_file(std::string{JAMJET_FIXTURE_DIR} + "/" + name);
}

/// Parses `text`, expecting a `bad_input` error; returns its message.
std::string bad_input_message(const std::string& text) {
  try {
    parse_ir(text);
  } catch (const jamjet::error& e) {
    CHECK(e.code() == error_code::bad_input);
    return e.what();
  }
  FAIL("parse_ir accepted: " << text);
  return {};
}

/// A small valid document in JamJet's layout.
json minimal_doc() {
  return json::parse(R"({
    "workflow_id": "w",
    "version": "1.0.0",
    "start_node": "a",
    "nodes": {
      "a": {
        "id": "a",
        "kind": {"type": "tool", "tool_ref": "search"},
        "retry_policy": null,
        "node_timeout_secs": null
      }
    },
    "edges": [{"from": "a", "to": "end", "condition": null}],
    "retry_policies": {},
    "timeouts": {}
  })");
}

/// `minimal_doc()` with the value at `pointer` replaced (or added).
std::string doc_with(const std::string& pointer, json value) {
  auto doc = minimal_doc();
  doc[json::json_pointer{pointer}] = std::move(value);
  return doc.dump();
}

/// `minimal_doc()` with the value at `pointer` removed.
std::string doc_without(const std::string& pointer) {
  auto doc = minimal_doc();
  auto ptr = json::json_pointer{pointer};
  doc[ptr.parent_pointer()].erase(ptr.back());
  return doc.dump();
}

} // namespace

TEST_CASE("JamJet fixtures round-trip exactly", "[ir]") {
  for (auto name : {"hello_agent_ir.json", "fleet_researcher_ir.json"}) {
    INFO("fixture " << name);
    auto text = read_fixture(name);
    auto doc = json::parse(text);
    auto ir = parse_ir(text);
    CHECK(to_json(ir) == doc);
    // A second trip through the struct changes nothing either.
    CHECK(to_json(ir_from_json(to_json(ir))) == doc);
  }
}

TEST_CASE("the hello_agent fixture parses into the expected fields", "[ir]") {
  auto ir = parse_ir(read_fixture("hello_agent_ir.json"));
  CHECK(ir.workflow_id == "demo");
  CHECK(ir.version == "0.1.0");
  CHECK(ir.start_node == "think");
  REQUIRE(ir.nodes.size() == 1);
  const auto& think = ir.nodes.at("think");
  CHECK(think.id == "think");
  CHECK(think.kind_type == "model");
  CHECK(think.kind.at("model_ref") == "claude-haiku-4-5-20251001");
  CHECK(think.kind.at("system_prompt").is_null());
  CHECK(!think.retry_policy);
  CHECK(!think.node_timeout_secs);
  CHECK(think.extra.at("labels") == json::object());
  CHECK(think.extra.at("description").is_null());
  CHECK(!think.extra.contains("kind"));
  REQUIRE(ir.edges.size() == 1);
  CHECK(ir.edges[0].from == "think");
  CHECK(ir.edges[0].to == end_node);
  CHECK(!ir.edges[0].condition);
  CHECK(ir.retry_policies.empty());
  CHECK(ir.timeouts == json::object());
  CHECK(ir.extra.at("state_schema") ==
        "{\"query\": \"str\", \"answer\": \"str\"}");
  CHECK(ir.extra.at("name").is_null());
  for (auto key : {"models", "tools", "mcp_servers", "remote_agents"})
    CHECK(ir.extra.at(key) == json::object());
  for (auto key : {"workflow_id", "version", "start_node", "nodes", "edges",
                   "retry_policies", "timeouts"})
    CHECK(!ir.extra.contains(key));
}

TEST_CASE("the researcher fixture parses into the expected fields", "[ir]") {
  auto ir = parse_ir(read_fixture("fleet_researcher_ir.json"));
  CHECK(ir.workflow_id == "researcher");
  CHECK(ir.start_node == "__plan__");
  CHECK(ir.nodes.size() == 11);
  CHECK(ir.edges.size() == 15);
  CHECK(ir.nodes.at("__plan__").retry_policy == "llm_default");
  CHECK(ir.nodes.at("__cost_guard_0__").kind_type == "condition");
  CHECK(ir.nodes.at("__cost_guard_0__").kind.at("branches").size() == 2);
  CHECK(ir.nodes.at("__limit_exceeded__").kind_type == "limit_exceeded");
  CHECK(ir.nodes.at("__limit_exceeded__").extra.at("description") ==
        "Strategy limit exceeded \u2014 execution halted");
  CHECK(ir.edges[2].condition == "state.__cost_exceeded__ == true");
  CHECK(ir.timeouts.at("workflow_timeout") == 120);
  CHECK(ir.extra.at("strategy_metadata").at("limits").at("max_iterations") ==
        4);
  CHECK(ir.extra.at("labels").at("jamjet.strategy") == "plan-and-execute");
}

TEST_CASE("unknown fields are kept everywhere they can be", "[ir]") {
  auto doc = minimal_doc();
  doc["future_field"] = {{"x", 1}};
  doc["nodes"]["a"]["labels"] = {{"k", "v"}};
  doc["nodes"]["a"]["something_new"] = json::array({1, 2});
  doc["nodes"]["a"]["kind"]["exotic"] = true;
  auto ir = ir_from_json(doc);
  CHECK(ir.extra.at("future_field") == json{{"x", 1}});
  CHECK(ir.nodes.at("a").extra.at("something_new") == json::array({1, 2}));
  CHECK(ir.nodes.at("a").kind.at("exotic") == true);
  CHECK(to_json(ir) == doc);
}

TEST_CASE("optional fields parse and are always emitted", "[ir]") {
  SECTION("a node id defaults to its key") {
    auto ir = parse_ir(doc_without("/nodes/a/id"));
    CHECK(ir.nodes.at("a").id == "a");
  }
  SECTION("start_node may be missing or null") {
    CHECK(parse_ir(doc_without("/start_node")).start_node.empty());
    CHECK(parse_ir(doc_with("/start_node", nullptr)).start_node.empty());
    CHECK(parse_ir(doc_with("/start_node", "")).start_node.empty());
  }
  SECTION("absent retry_policy, node_timeout_secs, condition emit null") {
    auto doc = minimal_doc();
    doc["nodes"]["a"].erase("retry_policy");
    doc["nodes"]["a"].erase("node_timeout_secs");
    doc["edges"][0].erase("condition");
    auto out = to_json(ir_from_json(doc));
    CHECK(out == minimal_doc());
    CHECK(out.at("nodes").at("a").at("retry_policy").is_null());
    CHECK(out.at("nodes").at("a").at("node_timeout_secs").is_null());
    CHECK(out.at("edges").at(0).at("condition").is_null());
  }
  SECTION("set values are kept") {
    auto doc = minimal_doc();
    doc["nodes"]["a"]["retry_policy"] = "io_default";
    doc["nodes"]["a"]["node_timeout_secs"] = 30;
    doc["edges"][0]["condition"] = "state.ok";
    auto ir = ir_from_json(doc);
    CHECK(ir.nodes.at("a").retry_policy == "io_default");
    CHECK(ir.nodes.at("a").node_timeout_secs == 30u);
    CHECK(ir.edges[0].condition == "state.ok");
    CHECK(to_json(ir) == doc);
  }
  SECTION("missing nodes, edges, retry_policies and timeouts are empty") {
    auto ir = parse_ir(R"({"workflow_id": "w", "version": "1"})");
    CHECK(ir.nodes.empty());
    CHECK(ir.edges.empty());
    CHECK(ir.retry_policies.empty());
    CHECK(ir.timeouts == json::object());
  }
}

TEST_CASE("queue types follow the node kind", "[ir]") {
  CHECK(queue_type_of("model") == "model");
  for (auto kind : {"tool", "mcp_tool", "a2a_task", "finalizer"})
    CHECK(queue_type_of(kind) == "tool");
  CHECK(queue_type_of("python_fn") == "python_tool");
  CHECK(queue_type_of("memory_retrieval") == "retrieval");
  for (auto kind : {"condition", "command", "limit_exceeded", "wait", "", "x"})
    CHECK(queue_type_of(kind) == "general");
}

TEST_CASE("built-in retry policies", "[ir]") {
  SECTION("no_retry") {
    auto p = builtin_retry_policy("no_retry");
    REQUIRE(p);
    CHECK(p->max_attempts == 1);
    CHECK(p->backoff == backoff_kind::fixed);
    CHECK(p->initial_delay_secs == 0);
    CHECK(p->max_delay_secs == 0);
    CHECK(!p->jitter);
    CHECK(p->retryable_on.empty());
  }
  SECTION("io_default") {
    auto p = builtin_retry_policy("io_default");
    REQUIRE(p);
    CHECK(p->max_attempts == 3);
    CHECK(p->backoff == backoff_kind::exponential);
    CHECK(p->initial_delay_secs == 1);
    CHECK(p->max_delay_secs == 30);
    CHECK(p->jitter);
    CHECK(p->retryable_on ==
          std::vector<std::string>{"io_error", "timeout", "connection_reset"});
  }
  SECTION("llm_default") {
    auto p = builtin_retry_policy("llm_default");
    REQUIRE(p);
    CHECK(p->max_attempts == 3);
    CHECK(p->backoff == backoff_kind::exponential);
    CHECK(p->initial_delay_secs == 2);
    CHECK(p->max_delay_secs == 60);
    CHECK(p->jitter);
    CHECK(p->retryable_on ==
          std::vector<std::string>{"rate_limit", "timeout", "server_error"});
  }
  SECTION("anything else") {
    CHECK(!builtin_retry_policy("turbo"));
    CHECK(!builtin_retry_policy(""));
    CHECK(!builtin_retry_policy("IO_DEFAULT"));
  }
}

TEST_CASE("max_attempts_of", "[ir]") {
  workflow_ir ir;
  node_def node;
  node.id = "a";
  SECTION("a node without a policy gets 3") {
    CHECK(max_attempts_of(ir, node) == 3);
  }
  SECTION("built-in policies") {
    node.retry_policy = "no_retry";
    CHECK(max_attempts_of(ir, node) == 1);
    node.retry_policy = "io_default";
    CHECK(max_attempts_of(ir, node) == 3);
    node.retry_policy = "llm_default";
    CHECK(max_attempts_of(ir, node) == 3);
  }
  SECTION("IR definitions win over built-ins") {
    retry_policy p;
    p.max_attempts = 7;
    ir.retry_policies["io_default"] = p;
    p.max_attempts = 2;
    ir.retry_policies["custom"] = p;
    node.retry_policy = "io_default";
    CHECK(max_attempts_of(ir, node) == 7);
    node.retry_policy = "custom";
    CHECK(max_attempts_of(ir, node) == 2);
  }
  SECTION("an unknown name gets 3") {
    node.retry_policy = "turbo";
    CHECK(max_attempts_of(ir, node) == 3);
  }
  SECTION("never less than 1") {
    retry_policy p;
    p.max_attempts = 0;
    ir.retry_policies["zero"] = p;
    node.retry_policy = "zero";
    CHECK(max_attempts_of(ir, node) == 1);
  }
}

TEST_CASE("retry policies in the IR", "[ir]") {
  SECTION("every field") {
    auto policy = json::parse(R"({
      "max_attempts": 4, "backoff": "linear", "initial_delay": 3,
      "max_delay": 9, "jitter": true, "retryable_on": ["timeout"]
    })");
    auto ir = parse_ir(doc_with("/retry_policies/slow", policy));
    REQUIRE(ir.retry_policies.count("slow") == 1);
    const auto& p = ir.retry_policies.at("slow");
    CHECK(p.max_attempts == 4);
    CHECK(p.backoff == backoff_kind::linear);
    CHECK(p.initial_delay_secs == 3);
    CHECK(p.max_delay_secs == 9);
    CHECK(p.jitter);
    CHECK(p.retryable_on == std::vector<std::string>{"timeout"});
    CHECK(to_json(p) == policy);
    CHECK(to_json(ir).at("retry_policies").at("slow") == policy);
  }
  SECTION("missing fields take the struct's defaults") {
    auto ir = parse_ir(doc_with("/retry_policies/p", {{"backoff", "fixed"}}));
    const auto& p = ir.retry_policies.at("p");
    retry_policy defaults;
    CHECK(p.max_attempts == defaults.max_attempts);
    CHECK(p.backoff == backoff_kind::fixed);
    CHECK(p.initial_delay_secs == defaults.initial_delay_secs);
    CHECK(p.max_delay_secs == defaults.max_delay_secs);
    CHECK(p.jitter == defaults.jitter);
    CHECK(p.retryable_on.empty());
  }
  SECTION("bad values name the policy and the field") {
    auto check = [](const char* field, json value) {
      INFO(field << " = " << value.dump());
      auto msg = bad_input_message(
        doc_with("/retry_policies/p", {{field, std::move(value)}}));
      CHECK_THAT(msg,
                 Catch::Contains(std::string{"retry_policies.p."} + field));
    };
    check("max_attempts", 0);
    check("max_attempts", -1);
    check("max_attempts", 1.5);
    check("max_attempts", 4294967296ull);
    check("max_attempts", "3");
    check("backoff", "quadratic");
    check("backoff", 1);
    check("initial_delay", -1);
    check("initial_delay", "1s");
    check("max_delay", 0.5);
    check("jitter", "yes");
    check("retryable_on", "timeout");
    check("retryable_on", json::array({"timeout", 3}));
    auto msg = bad_input_message(doc_with("/retry_policies/p", "fast"));
    CHECK_THAT(msg, Catch::Contains("retry_policies.p: expected an object"));
  }
}

TEST_CASE("malformed JSON reports line, column and byte", "[ir]") {
  SECTION("a bad literal on the third line") {
    // The 'x' is byte 20 (counting from 1), line 3, column 8.
    auto msg = bad_input_message("{\n  \"a\": 1,\n  \"b\": x\n}");
    CHECK_THAT(msg, Catch::StartsWith("malformed JSON at line 3, column 8 "
                                      "(byte 20): "));
    CHECK_THAT(msg, Catch::Contains("invalid literal"));
    // nlohmann's own position prefix is not repeated.
    CHECK_THAT(msg, !Catch::Contains("json.exception"));
  }
  SECTION("a missing comma between members") {
    // nlohmann reads the whole unexpected token; the position is its end.
    auto msg = bad_input_message("{\n  \"a\": {}\n  \"b\": []\n}");
    CHECK_THAT(msg, Catch::Contains("line 3, column 5 (byte 17)"));
  }
  SECTION("empty input") {
    auto msg = bad_input_message("");
    CHECK_THAT(msg, Catch::Contains("line 1, column 1 (byte 1)"));
  }
  SECTION("truncated input points past the end") {
    auto msg = bad_input_message("{\"a\":\n1");
    CHECK_THAT(msg, Catch::Contains("line 2, column 2 (byte 8)"));
  }
  SECTION("columns count characters, not bytes") {
    // "é" takes two bytes; the 'x' is the 8th character of line 1.
    auto msg = bad_input_message("{\"\xc3\xa9\": x}");
    CHECK_THAT(msg, Catch::Contains("line 1, column 7 (byte 8)"));
  }
  SECTION("the malformed fixture") {
    std::string dir = JAMJET_FIXTURE_DIR;
    std::ifstream in{dir + "/../bad/malformed.json"};
    if (in.good()) {
      std::ostringstream buf;
      buf << in.rdbuf();
      CHECK_THAT(bad_input_message(buf.str()),
                 Catch::Contains("line 8, column 9"));
    }
  }
}

TEST_CASE("fields of the wrong type name their path", "[ir]") {
  auto check = [](const std::string& text, const std::string& expected) {
    INFO(text);
    CHECK_THAT(bad_input_message(text), Catch::Contains(expected));
  };
  check("[1, 2]", "IR document: expected an object, found an array");
  check(doc_with("/workflow_id", 5), "workflow_id: expected a string");
  check(doc_without("/workflow_id"), "workflow_id: missing");
  check(doc_with("/version", nullptr), "version: expected a string");
  check(doc_without("/version"), "version: missing");
  check(doc_with("/start_node", 1), "start_node: expected null or a string");
  check(doc_with("/nodes", json::array()), "nodes: expected an object");
  check(doc_with("/nodes/a", "tool"), "nodes.a: expected an object");
  check(doc_with("/nodes/a/id", 1), "nodes.a.id: expected a string");
  check(doc_with("/nodes/a/kind", "tool"),
        "nodes.a.kind: expected an object, found \"tool\"");
  check(doc_without("/nodes/a/kind"), "nodes.a.kind: missing");
  check(doc_with("/nodes/a/kind/type", 3),
        "nodes.a.kind.type: expected a string");
  check(doc_without("/nodes/a/kind/type"), "nodes.a.kind.type: missing");
  check(doc_with("/nodes/a/retry_policy", 3),
        "nodes.a.retry_policy: expected null or a string");
  check(doc_with("/nodes/a/node_timeout_secs", -5),
        "nodes.a.node_timeout_secs: expected null or an unsigned integer");
  check(doc_with("/nodes/a/node_timeout_secs", 1.5),
        "nodes.a.node_timeout_secs");
  check(doc_with("/nodes/a/node_timeout_secs", "10"),
        "nodes.a.node_timeout_secs");
  check(doc_with("/edges", json::object()), "edges: expected an array");
  check(doc_with("/edges/0", "a->end"), "edges[0]: expected an object");
  check(doc_without("/edges/0/from"), "edges[0].from: missing");
  check(doc_with("/edges/0/to", nullptr), "edges[0].to: expected a string");
  check(doc_with("/edges/0/condition", true),
        "edges[0].condition: expected null or a string");
  check(doc_with("/retry_policies", json::array()),
        "retry_policies: expected an object");
  check(doc_with("/timeouts", 30), "timeouts: expected an object");
}

TEST_CASE("every structural problem of a document is named at once", "[ir]") {
  auto doc = json::parse(doc_without("/version"));
  doc["nodes"]["a"]["retry_policy"] = 3;
  doc["nodes"]["b"] = {{"id", "b"}, {"kind", "noop"}};
  doc["edges"].push_back({{"from", "a"}});
  doc["retry_policies"] = {{"p", {{"max_attempts", 0}, {"backoff", "slow"}}}};
  auto msg = bad_input_message(doc.dump());
  INFO(msg);
  CHECK_THAT(msg, Catch::StartsWith("the workflow has 6 problems:\n  - "));
  CHECK_THAT(msg, Catch::Contains("version: missing"));
  CHECK_THAT(msg, Catch::Contains("nodes.a.retry_policy: expected null or"));
  CHECK_THAT(msg, Catch::Contains("nodes.b.kind: expected an object"));
  CHECK_THAT(msg, Catch::Contains("edges[1].to: missing"));
  CHECK_THAT(msg, Catch::Contains("retry_policies.p.max_attempts"));
  CHECK_THAT(msg, Catch::Contains("retry_policies.p.backoff"));
  // The top level's shape problems come together too.
  auto shapes = bad_input_message(
    R"({"workflow_id":"w","nodes":[],"edges":{},"timeouts":3})");
  CHECK_THAT(shapes, Catch::Contains("version: missing"));
  CHECK_THAT(shapes, Catch::Contains("nodes: expected an object"));
  CHECK_THAT(shapes, Catch::Contains("edges: expected an array"));
  CHECK_THAT(shapes, Catch::Contains("timeouts: expected an object"));
}

TEST_CASE("unknown fields of edges and retry policies are kept", "[ir]") {
  auto doc = json::parse(doc_with("/edges/0/weight", 3));
  doc["retry_policies"] = {{"p", {{"max_attempts", 2}, {"attempts", 4}}}};
  auto ir = ir_from_json(doc);
  CHECK(ir.edges[0].extra == json{{"weight", 3}});
  CHECK(ir.retry_policies.at("p").extra == json{{"attempts", 4}});
  CHECK(ir.retry_policies.at("p").max_attempts == 2);
  auto back = to_json(ir);
  CHECK(back["edges"][0]["weight"] == 3);
  CHECK(back["retry_policies"]["p"]["attempts"] == 4);
}
