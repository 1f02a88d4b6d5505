#pragma once

// A runtime with no local worker and an HTTP server on a free loopback
// port, with one token per role, and a client for it.

#include <chrono>
#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "jamjet/http/server.hpp"
#include "jamjet/runtime.hpp"
#include "testing/ir_builder.hpp"

namespace jamjet::testing {

inline const std::string operator_token = "op-secret";
inline const std::string worker_token = "worker-secret";
inline const std::string viewer_token = "viewer-secret";

/// An HTTP response: status and parsed body (null when not JSON).
struct http_reply {
  int status = 0;
  nlohmann::json body;
  std::string text;
};

struct http_node {
  std::unique_ptr<runtime> rt;
  std::unique_ptr<http::http_server> srv;

  explicit http_node(
    http::http_limits limits = {},
    std::chrono::milliseconds lease = std::chrono::milliseconds{30000}) {
    runtime_config rc;
    rc.worker_slots = 0;
    rc.lease = lease;
    rt = std::make_unique<runtime>(rc);
    http::http_config hc;
    hc.port = 0;
    hc.access.add(operator_token, access_role::operator_);
    hc.access.add(worker_token, access_role::worker);
    hc.access.add(viewer_token, access_role::viewer);
    hc.limits = limits;
    srv = std::make_unique<http::http_server>(*rt, hc);
  }

  ~http_node() {
    srv.reset();
    rt->shutdown();
  }

  /// A request with `token` (none when empty).
  http_reply call(const std::string& method, const std::string& path,
                  const std::string& body = {},
                  const std::string& token = operator_token) const {
    httplib::Client c{"127.0.0.1", srv->port()};
    c.set_read_timeout(60, 0);
    httplib::Headers h;
    if (!token.empty())
      h.emplace("Authorization", "Bearer " + token);
    httplib::Result r = method == "GET"
                          ? c.Get(path.c_str(), h)
                          : c.Post(path.c_str(), h, body, "application/json");
    http_reply out;
    if (!r)
      return out;
    out.status = r->status;
    out.text = r->body;
    out.body = nlohmann::json::parse(r->body, nullptr, false);
    if (out.body.is_discarded())
      out.body = nullptr;
    return out;
  }

  http_reply post(const std::string& path, const nlohmann::json& body,
                  const std::string& token = operator_token) const {
    return call("POST", path, body.dump(), token);
  }

  http_reply get(const std::string& path,
                 const std::string& token = operator_token) const {
    return call("GET", path, {}, token);
  }

  /// Registers `ir` and starts it with `input`; the execution id.
  std::string start(const ir_builder& ir,
                    nlohmann::json input = nlohmann::json::object()) const {
    auto reg = post("/workflows", {{"ir", ir.to_json()}});
    REQUIRE(reg.status == 201);
    auto st = post("/executions", {{"workflow_id", ir.to_json()["workflow_id"]},
                                   {"input", std::move(input)}});
    REQUIRE(st.status == 201);
    return st.body["execution_id"];
  }

  /// Waits until the execution has ended; its record.
  nlohmann::json wait_end(const std::string& id) const {
    for (int i = 0; i < 3000; ++i) {
      auto r = get("/executions/" + id);
      if (r.status == 200 && r.body["status"] != "running")
        return r.body;
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
    FAIL("execution " << id << " did not end");
    return {};
  }
};

/// a (python_fn) -> end.
inline ir_builder python_workflow(const std::string& id = "py") {
  ir_builder ir{id};
  ir.node("a", nlohmann::json{{"type", "python_fn"},
                              {"module", "tools"},
                              {"function", "double"}})
    .edge("a", "end");
  return ir;
}

} // namespace jamjet::testing
