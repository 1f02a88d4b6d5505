// The HTTP API against an embedded runtime: JamJet's routes, statuses and
// JSON, roles, and the worker protocol's leases and fences.

#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include "http_fixture.hpp"

using namespace jamjet;
using namespace jamjet::testing;
using json = nlohmann::json;

namespace {

json claim(const http_node& n, const std::string& worker, int wait_ms = 20000,
           const std::string& token = worker_token) {
  auto r = n.post("/work-items/claim",
                  {{"worker_id", worker},
                   {"queue_types", {"python_tool"}},
                   {"wait_ms", wait_ms}},
                  token);
  REQUIRE(r.status == 200);
  return r.body;
}

bool has_event(const http_node& n, const std::string& exec,
               const std::string& type) {
  auto r = n.get("/executions/" + exec + "/events");
  for (auto& e : r.body["events"])
    if (e["kind"]["type"] == type)
      return true;
  return false;
}

} // namespace

TEST_CASE("http: a python_fn node runs on an HTTP worker that claims, "
          "heartbeats and completes") {
  http_node n;
  REQUIRE(n.get("/health", "").body["status"] == "ok");
  auto exec = n.start(python_workflow(), {{"x", 2}});
  auto got = claim(n, "py-worker-1");
  REQUIRE(got["claimed"] == true);
  auto& item = got["work_item"];
  CHECK(item["execution_id"] == exec);
  CHECK(item["node_id"] == "a");
  CHECK(item["queue_type"] == "python_tool");
  CHECK(item["attempt"] == 1);
  // What JamJet's Python worker reads: module, function and input.
  CHECK(item["payload"]["module"] == "tools");
  CHECK(item["payload"]["function"] == "double");
  CHECK(item["payload"]["input"] == json{{"x", 2}});
  CHECK(item["payload"]["workflow_id"] == "py");
  auto workers = n.get("/workers").body["workers"];
  REQUIRE(workers.size() == 1);
  CHECK(workers[0]["worker_id"] == "py-worker-1");
  CHECK(workers[0]["transport"] == "http");
  CHECK(workers[0]["leases"] == 1);
  std::string id = item["id"];
  auto fence = item["lease_fence"].get<uint64_t>();
  auto hb = n.post("/work-items/" + id + "/heartbeat",
                   {{"worker_id", "py-worker-1"}, {"lease_fence", fence}},
                   worker_token);
  CHECK(hb.status == 200);
  CHECK(hb.body["renewed"] == true);
  auto done = n.post("/work-items/" + id + "/complete",
                     {{"execution_id", exec},
                      {"node_id", "a"},
                      {"output", {{"y", 4}}},
                      {"state_patch", {{"y", 4}}},
                      {"duration_ms", 3},
                      {"lease_fence", fence}},
                     worker_token);
  CHECK(done.status == 200);
  CHECK(done.body["completed"] == true);
  auto rec = n.wait_end(exec);
  CHECK(rec["status"] == "completed");
  CHECK(rec["current_state"] == json{{"x", 2}, {"y", 4}});
  CHECK(rec["initial_input"] == json{{"x", 2}});
}

TEST_CASE("http: a claim waiting for work gets the item that becomes ready") {
  http_node n;
  auto waiting =
    std::async(std::launch::async, [&] { return claim(n, "early-worker"); });
  auto exec = n.start(python_workflow());
  auto got = waiting.get();
  REQUIRE(got["claimed"] == true);
  CHECK(got["work_item"]["execution_id"] == exec);
}

TEST_CASE("http: a claim with nothing ready answers claimed false") {
  http_node n;
  CHECK(claim(n, "idle", 0) == json{{"claimed", false}});
}

TEST_CASE("http: a completion under a stale fence is refused with 409 and "
          "changes nothing") {
  http_node n;
  auto exec = n.start(python_workflow());
  auto item = claim(n, "w")["work_item"];
  std::string id = item["id"];
  auto fence = item["lease_fence"].get<uint64_t>();
  json body{{"output", 1}, {"state_patch", json::object()}};
  body["lease_fence"] = fence + 1;
  auto stale = n.post("/work-items/" + id + "/complete", body, worker_token);
  CHECK(stale.status == 409);
  CHECK(stale.body["completed"] == false);
  body["lease_fence"] = 0;
  CHECK(n.post("/work-items/" + id + "/complete", body, worker_token).status ==
        409);
  CHECK_FALSE(has_event(n, exec, "node_completed"));
  auto hb =
    n.post("/work-items/" + id + "/heartbeat",
           {{"worker_id", "w"}, {"lease_fence", fence + 7}}, worker_token);
  CHECK(hb.status == 409);
  body["lease_fence"] = fence;
  CHECK(n.post("/work-items/" + id + "/complete", body, worker_token).status ==
        200);
  // Settled: the same completion again is stale.
  CHECK(n.post("/work-items/" + id + "/complete", body, worker_token).status ==
        409);
  CHECK(n.wait_end(exec)["status"] == "completed");
}

TEST_CASE("http: an HTTP worker that stops heartbeating loses its lease; "
          "another takes the retry and the first one's result is refused") {
  http_node n{{}, std::chrono::milliseconds{300}};
  auto exec = n.start(python_workflow());
  auto first = claim(n, "silent")["work_item"];
  REQUIRE(first["attempt"] == 1);
  // The lease expires (no heartbeat); the retry goes to the next claimant.
  auto second = claim(n, "alive")["work_item"];
  REQUIRE(second["attempt"] == 2);
  CHECK(second["lease_fence"] != first["lease_fence"]);
  CHECK(has_event(n, exec, "node_failed"));
  auto late = n.post(
    "/work-items/" + first["id"].get<std::string>() + "/complete",
    {{"output", 1}, {"lease_fence", first["lease_fence"]}}, worker_token);
  CHECK(late.status == 409);
  auto ok =
    n.post("/work-items/" + second["id"].get<std::string>() + "/complete",
           {{"output", 2},
            {"state_patch", {{"by", "alive"}}},
            {"lease_fence", second["lease_fence"]}},
           worker_token);
  CHECK(ok.status == 200);
  auto rec = n.wait_end(exec);
  CHECK(rec["status"] == "completed");
  CHECK(rec["current_state"]["by"] == "alive");
}

TEST_CASE("http: a failure reported by an HTTP worker is retried, then "
          "fails the execution") {
  http_node n;
  auto ir = python_workflow();
  ir.retry_policy("no_retry");
  auto exec = n.start(ir);
  auto item = claim(n, "w")["work_item"];
  auto r = n.post("/work-items/" + item["id"].get<std::string>() + "/fail",
                  {{"error", "boom"}, {"lease_fence", item["lease_fence"]}},
                  worker_token);
  CHECK(r.status == 200);
  CHECK(r.body["failed"] == true);
  auto rec = n.wait_end(exec);
  CHECK(rec["status"] == "failed");
  CHECK(rec["error"].get<std::string>().find("boom") != std::string::npos);
}

TEST_CASE("http: roles decide what a token may do") {
  http_node n;
  auto exec = n.start(python_workflow());
  // No token, a wrong one.
  CHECK(n.get("/executions", "").status == 401);
  CHECK(n.get("/executions", "nope").status == 401);
  // A viewer reads, and nothing else.
  CHECK(n.get("/executions/" + exec, viewer_token).status == 200);
  CHECK(n.get("/workers", viewer_token).status == 200);
  auto refused =
    n.post("/executions/" + exec + "/cancel", json::object(), viewer_token);
  CHECK(refused.status == 403);
  CHECK(refused.body["role"] == "viewer");
  CHECK(n.post("/work-items/claim",
               {{"worker_id", "v"}, {"queue_types", {"python_tool"}}},
               viewer_token)
          .status == 403);
  // A worker takes and settles work, and nothing else.
  CHECK(n.get("/executions", worker_token).status == 403);
  CHECK(
    n.post("/workflows", {{"ir", python_workflow("x").to_json()}}, worker_token)
      .status == 403);
  CHECK(claim(n, "w", 0)["claimed"].is_boolean());
  // The operator does everything.
  auto c = n.post("/executions/" + exec + "/cancel", json::object());
  CHECK(c.status == 200);
  CHECK(c.body["status"] == "cancelled");
  CHECK(n.wait_end(exec)["status"] == "cancelled");
  CHECK(n.post("/executions/" + exec + "/cancel", json::object()).status ==
        400);
}

TEST_CASE("http: failed authentications from one address are refused for "
          "a while, the right token included") {
  http::http_limits lim;
  lim.auth.max_auth_failures = 3;
  http_node n{lim};
  for (int i = 0; i < 3; ++i)
    CHECK(n.get("/executions", "guess").status == 401);
  auto blocked = n.get("/executions");
  CHECK(blocked.status == 429);
  CHECK(blocked.text.find("too many failed authentications") !=
        std::string::npos);
  // Health stays open.
  CHECK(n.get("/health", "").status == 200);
}

TEST_CASE("http: bad input is answered 400 naming the problem, unknown "
          "things 404, oversized bodies 413") {
  http::http_limits lim;
  lim.max_body = 64 * 1024;
  http_node n{lim};
  auto bad = n.call("POST", "/executions", "{\"workflow_id\": ");
  CHECK(bad.status == 400);
  CHECK(bad.body["error"].get<std::string>().find("malformed JSON") !=
        std::string::npos);
  auto arr = n.call("POST", "/executions", "[1]");
  CHECK(arr.status == 400);
  CHECK(arr.body["error"].get<std::string>().find("JSON object") !=
        std::string::npos);
  auto missing = n.post("/executions", {{"input", json::object()}});
  CHECK(missing.status == 400);
  CHECK(missing.body["error"].get<std::string>().find("workflow_id") !=
        std::string::npos);
  auto deep = n.call("POST", "/executions",
                     std::string(300, '[') + std::string(300, ']'));
  CHECK(deep.status == 400);
  CHECK(deep.body["error"].get<std::string>().find("refused") !=
        std::string::npos);
  auto input = n.post("/executions", {{"workflow_id", "py"}, {"input", 3}});
  CHECK(input.status == 400);
  CHECK(n.post("/executions", {{"workflow_id", "nope"}}).status == 404);
  auto ir = n.post("/workflows", {{"ir",
                                   {{"workflow_id", "w"},
                                    {"version", "1"},
                                    {"start_node", "a"},
                                    {"nodes", json::object()},
                                    {"edges", json::array()}}}});
  CHECK(ir.status == 400);
  CHECK(ir.body["error"].get<std::string>().find("invalid workflow IR") !=
        std::string::npos);
  CHECK(n.get("/executions/nope").status == 404);
  CHECK(n.get("/executions/nope/events").status == 404);
  CHECK(n.get("/executions/nope/approvals").status == 404);
  CHECK(n.post("/work-items/nope/a/complete", {{"output", 1}}, worker_token)
          .status == 404);
  CHECK(n.get("/executions?limit=lots").status == 400);
  CHECK(n.get("/executions?status=sleeping").status == 400);
  auto big = n.call("POST", "/executions", std::string(100 * 1024, ' '));
  CHECK(big.status == 413);
  CHECK(n.get("/no/such/route").status == 404);
  auto later = n.get("/agents");
  CHECK(later.status == 501);
  CHECK(later.body["error"].get<std::string>().find("not implemented") !=
        std::string::npos);
  CHECK(n.post("/work-items", json::object()).status == 501);
  // Still serving.
  CHECK(n.get("/health", "").status == 200);
}

TEST_CASE("http: approvals and external events") {
  http_node n;
  ir_builder ir{"flow"};
  ir.node("ok", json{{"type", "human_approval"}, {"approver", "ops"}})
    .node("pay", json{{"type", "wait"},
                      {"condition", "external_event"},
                      {"correlation_key", "paid"}})
    .edge("ok", "pay")
    .edge("pay", "end");
  auto exec = n.start(ir);
  json pending;
  for (int i = 0; i < 1000 && pending.empty(); ++i) {
    pending = n.get("/executions/" + exec + "/approvals").body["pending"];
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  REQUIRE(pending.size() == 1);
  CHECK(pending[0]["node_id"] == "ok");
  CHECK(pending[0]["approver"] == "ops");
  auto bad =
    n.post("/executions/" + exec + "/approve", {{"decision", "maybe"}});
  CHECK(bad.status == 400);
  auto wrong = n.post("/executions/" + exec + "/approve",
                      {{"decision", "approved"}, {"node_id", "pay"}});
  CHECK(wrong.status == 409);
  auto ok = n.post("/executions/" + exec + "/approve",
                   {{"decision", "approved"},
                    {"user_id", "ann"},
                    {"comment", "fine"},
                    {"state_patch", {{"approved_by", "ann"}}}});
  CHECK(ok.status == 200);
  CHECK(ok.body["node_id"] == "ok");
  CHECK(ok.body["accepted"] == true);
  json decided;
  for (int i = 0; i < 1000 && decided.empty(); ++i) {
    decided = n.get("/executions/" + exec + "/approvals").body["decided"];
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  REQUIRE(decided.size() == 1);
  CHECK(decided[0]["status"] == "approved");
  CHECK(decided[0]["user_id"] == "ann");
  // Nothing pending now: a second decision is a conflict.
  CHECK(n.post("/executions/" + exec + "/approve", {{"decision", "rejected"}})
          .status == 409);
  auto missing_key =
    n.post("/executions/" + exec + "/external-event", {{"payload", 1}});
  CHECK(missing_key.status == 400);
  http_reply ev;
  for (int i = 0; i < 1000; ++i) {
    ev = n.post("/executions/" + exec + "/external-event",
                {{"correlation_key", "paid"}, {"payload", {{"amount", 5}}}});
    if (ev.status != 409)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  CHECK(ev.status == 200);
  CHECK(ev.body["accepted"] == true);
  auto rec = n.wait_end(exec);
  CHECK(rec["status"] == "completed");
  CHECK(rec["current_state"]["approved_by"] == "ann");
  CHECK(n.post("/executions/" + exec + "/external-event",
               {{"correlation_key", "paid"}, {"payload", 1}})
          .status == 409);
}

TEST_CASE("http: executions are listed newest first, filtered and paged") {
  http_node n;
  auto a = n.start(python_workflow());
  auto b = n.post("/executions", {{"workflow_id", "py"}}).body["execution_id"];
  n.post("/executions/" + a + "/cancel", json::object());
  n.wait_end(a);
  auto all = n.get("/executions").body["executions"];
  REQUIRE(all.size() == 2);
  auto running = n.get("/executions?status=running").body["executions"];
  REQUIRE(running.size() == 1);
  CHECK(running[0]["execution_id"] == b);
  CHECK(n.get("/executions?status=cancelled")
          .body["executions"][0]["execution_id"] == a);
  CHECK(n.get("/executions?limit=1").body["executions"].size() == 1);
  CHECK(n.get("/executions?offset=2").body["executions"].empty());
}

TEST_CASE("http: GET /metrics counts executions, workers and leases in "
          "Prometheus text") {
  http_node n;
  auto exec = n.start(python_workflow());
  auto item = claim(n, "w")["work_item"];
  httplib::Client c{"127.0.0.1", n.srv->port()};
  auto r = c.Get("/metrics", {{"Authorization", "Bearer " + viewer_token}});
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type").rfind("text/plain", 0) == 0);
  auto& text = r->body;
  CHECK(text.find("# TYPE jamjet_executions gauge") != std::string::npos);
  CHECK(text.find("jamjet_executions{status=\"running\"} 1") !=
        std::string::npos);
  CHECK(text.find("jamjet_workers{transport=\"http\"} 1") != std::string::npos);
  CHECK(text.find("jamjet_leases_in_flight 1") != std::string::npos);
  CHECK(text.find("jamjet_dead_letters 0") != std::string::npos);
  CHECK(n.get("/metrics", "").status == 401);
  (void)exec;
  (void)item;
}
