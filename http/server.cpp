#include "jamjet/http/server.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <caf/all.hpp>
#include <httplib.h>

#include "jamjet/core/workflow_registry.hpp"
#include "jamjet/http/auth.hpp"
#include "jamjet/http/elastic_pool.hpp"
#include "jamjet/http/hub.hpp"
#include "jamjet/http/views.hpp"
#include "jamjet/messages/event_json.hpp"
#include "jamjet/messages/json_limits.hpp"
#include "jamjet/runtime_parts.hpp"
#include "jamjet/support/log.hpp"
#include "jamjet/version.hpp"

namespace jamjet::http {

namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

/// An answer other than 200, with JamJet's body `{"error": message}`.
struct api_error {
  int status;
  std::string message;
};

[[noreturn]] void fail(int status, std::string message) {
  throw api_error{status, std::move(message)};
}

/// The HTTP status of a runtime error.
int status_of(error_code code) {
  switch (code) {
    case error_code::bad_input:
    case error_code::invalid_workflow:
    case error_code::missing_handler:
      return 400;
    case error_code::unknown_workflow:
    case error_code::unknown_execution:
      return 404;
    case error_code::stale_fence:
      return 409;
    case error_code::access_denied:
      return 403;
    case error_code::store_failure:
    case error_code::unavailable:
      return 503;
  }
  return 500;
}

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  // Stored text may hold bytes that are not UTF-8: replace, never throw.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json");
}

/// How long a request to an actor may take before the answer is 503.
constexpr milliseconds ask_timeout{15000};

/// Sends a request and blocks for its answer; throws `api_error` for an
/// error (its status from the error's code; `status` when given).
template <class T, class Dest, class... Ts>
T ask(caf::actor_system& sys, const Dest& dest, milliseconds timeout,
      Ts&&... xs) {
  caf::scoped_actor self{sys};
  std::optional<T> result;
  caf::error err;
  self->request(dest, timeout, std::forward<Ts>(xs)...)
    .receive([&](T& x) { result = std::move(x); },
             [&](caf::error& e) { err = std::move(e); });
  if (!result) {
    if (!err)
      fail(503, "no answer from the scheduler");
    if (err == caf::sec::request_timeout)
      fail(503, "the scheduler did not answer within " +
                  std::to_string(timeout.count()) + " ms");
    fail(status_of(code_of(err)), error_message(err));
  }
  return std::move(*result);
}

/// The request body as JSON: 400 naming the problem when it is not JSON,
/// too deep, or (with `object`) not an object. An empty body is `{}`.
json body_of(const httplib::Request& req, bool object = true) {
  if (req.body.empty())
    return json::object();
  std::string problem;
  auto value = try_parse_bounded(req.body, json_limits{}, &problem);
  if (!problem.empty())
    fail(400, "request body refused: " + problem);
  if (value.is_discarded()) {
    // Within the limits, so nlohmann can say what is wrong without risk.
    try {
      auto again = json::parse(req.body);
      (void)again;
    } catch (const json::exception& e) {
      fail(400, std::string{"malformed JSON in request body: "} + e.what());
    }
    fail(400, "malformed JSON in request body");
  }
  if (object && !value.is_object())
    fail(400, std::string{"request body must be a JSON object, not "} +
                value.type_name());
  return value;
}

/// Field `name` of `body` as a string: 400 when it is missing (unless
/// `fallback`) or not a string.
std::string string_field(const json& body, const char* name,
                         std::optional<std::string> fallback = std::nullopt) {
  auto i = body.find(name);
  if (i == body.end() || i->is_null()) {
    if (fallback)
      return *fallback;
    fail(400, std::string{"field '"} + name + "' is required");
  }
  if (!i->is_string())
    fail(400, std::string{"field '"} + name + "' must be a string, not " +
                i->type_name());
  return i->get<std::string>();
}

std::optional<std::string> optional_string(const json& body, const char* name) {
  auto i = body.find(name);
  if (i == body.end() || i->is_null())
    return std::nullopt;
  if (!i->is_string())
    fail(400, std::string{"field '"} + name + "' must be a string, not " +
                i->type_name());
  return i->get<std::string>();
}

/// An unsigned integer query parameter, `fallback` when absent.
uint64_t query_number(const httplib::Request& req, const char* name,
                      uint64_t fallback, uint64_t max) {
  if (!req.has_param(name))
    return fallback;
  auto text = req.get_param_value(name);
  if (text.empty() || text.size() > 12 ||
      text.find_first_not_of("0123456789") != std::string::npos)
    fail(400, std::string{"query parameter '"} + name +
                "' must be a non-negative integer, not '" + text + "'");
  return std::min<uint64_t>(std::stoull(text), max);
}

bool valid_status_filter(const std::string& s) {
  return parse_execution_status(s).has_value() || s == "paused" ||
         s == "pending";
}

} // namespace

struct http_server::impl {
  http_config cfg;
  caf::actor_system* sys = nullptr;
  scheduler sched;
  hub_actor hub;
  auth_guard guard;
  std::unique_ptr<httplib::Server> svr;
  bool tls = false;
  uint16_t port = 0;
  std::thread thread;
  std::atomic<bool> stopped{false};
  /// The workflows as the supervisor compiled them, refreshed on a miss.
  std::mutex mtx;
  workflow_registry graphs;
  /// Execution id -> workflow id and version, for claimed items.
  std::unordered_map<std::string, std::pair<std::string, std::string>> origin;

  impl(const runtime::parts& parts, http_config c)
    : cfg(std::move(c)), sys(parts.system), sched(parts.scheduler),
      guard(cfg.access, cfg.limits.auth) {
    // nop
  }

  // -- lookups ----------------------------------------------------------------

  graph_ptr graph_of(const std::string& id, const std::string& version) {
    {
      std::lock_guard<std::mutex> guard_{mtx};
      if (auto g = graphs.find(id, version))
        return *g;
    }
    auto fresh = ask<workflow_registry>(*sys, sched.supervisor, ask_timeout,
                                        workflows_atom::value);
    std::lock_guard<std::mutex> guard_{mtx};
    graphs = std::move(fresh);
    auto g = graphs.find(id, version);
    return g ? *g : nullptr;
  }

  execution_record record_of(const std::string& id) {
    return ask<execution_record>(*sys, sched.supervisor, ask_timeout,
                                 status_atom::value, id);
  }

  std::vector<event> events_of(const std::string& id) {
    return ask<std::vector<event>>(*sys, sched.backend, ask_timeout,
                                   read_atom::value, id, uint64_t{1});
  }

  std::pair<std::string, std::string> origin_of(const std::string& exec) {
    {
      std::lock_guard<std::mutex> guard_{mtx};
      auto i = origin.find(exec);
      if (i != origin.end())
        return i->second;
    }
    auto rec = record_of(exec);
    std::lock_guard<std::mutex> guard_{mtx};
    if (origin.size() > 100000)
      origin.clear();
    return origin[exec] = {rec.workflow_id, rec.workflow_version};
  }

  // -- routes -----------------------------------------------------------------

  void health(const httplib::Request&, httplib::Response& res) {
    reply(res, 200, json{{"status", "ok"}, {"version", JAMJET_VERSION_STRING}});
  }

  void create_workflow(const httplib::Request& req, httplib::Response& res) {
    auto body = body_of(req);
    auto ir = body.find("ir");
    if (ir == body.end() || !ir->is_object())
      fail(400, "field 'ir' is required and must be a JSON object (the "
                "workflow IR)");
    for (auto field : {"workflow_id", "version"}) {
      auto f = ir->find(field);
      if (f == ir->end() || !f->is_string())
        fail(400, std::string{"ir."} + field + " is required");
    }
    try {
      (void)ask<std::string>(*sys, sched.supervisor, ask_timeout,
                             register_atom::value, ir->dump());
    } catch (api_error& e) {
      if (e.status == 400)
        e.message = "invalid workflow IR: " + e.message;
      throw;
    }
    reply(res, 201,
          json{{"workflow_id", (*ir)["workflow_id"]},
               {"version", (*ir)["version"]}});
  }

  void start_execution(const httplib::Request& req, httplib::Response& res) {
    auto body = body_of(req);
    start_request sr;
    sr.workflow_id = string_field(body, "workflow_id");
    sr.version = optional_string(body, "workflow_version").value_or("");
    auto input = body.value("input", json::object());
    if (input.is_null())
      input = json::object();
    if (!input.is_object())
      fail(400, std::string{"field 'input' must be a JSON object, not "} +
                  input.type_name());
    sr.input = input.dump();
    auto id = ask<std::string>(*sys, sched.supervisor, ask_timeout,
                               start_atom::value, std::move(sr));
    reply(res, 201, json{{"execution_id", id}});
  }

  void list_executions(const httplib::Request& req, httplib::Response& res) {
    std::optional<std::string> status;
    if (req.has_param("status") && !req.get_param_value("status").empty()) {
      status = req.get_param_value("status");
      if (!valid_status_filter(*status))
        fail(400, "unknown status '" + *status +
                    "' (running, completed, failed, cancelled)");
    }
    auto limit = query_number(req, "limit", 50, 1000);
    auto offset = query_number(req, "offset", 0, uint64_t{1} << 40);
    auto all = ask<std::vector<execution_record>>(
      *sys, sched.backend, ask_timeout, record_atom::value);
    // Newest first, as a console lists them.
    std::stable_sort(all.begin(), all.end(), [](auto& a, auto& b) {
      return a.created_at_ms != b.created_at_ms
               ? a.created_at_ms > b.created_at_ms
               : a.id < b.id;
    });
    auto out = json::array();
    uint64_t seen = 0;
    for (auto& rec : all) {
      if (status && to_string(rec.status) != *status)
        continue;
      if (seen++ < offset)
        continue;
      if (out.size() >= limit)
        break;
      out.push_back(execution_view(rec));
    }
    reply(res, 200, json{{"executions", std::move(out)}});
  }

  void get_execution(const httplib::Request& req, httplib::Response& res) {
    auto rec = record_of(req.matches[1]);
    auto events = events_of(rec.id);
    auto graph = graph_of(rec.workflow_id, rec.workflow_version);
    reply(res, 200, execution_view(rec, graph, &events));
  }

  void cancel_execution(const httplib::Request& req, httplib::Response& res) {
    auto body = body_of(req);
    auto rec = record_of(req.matches[1]);
    if (rec.status != execution_status_code::running)
      fail(400, "execution " + rec.id +
                  " is already in terminal state: " + to_string(rec.status));
    auto reason =
      optional_string(body, "reason").value_or("cancelled over HTTP");
    (void)ask<caf::ok_atom>(*sys, sched.supervisor, ask_timeout,
                            cancel_atom::value, rec.id, reason);
    reply(res, 200, json{{"execution_id", rec.id}, {"status", "cancelled"}});
  }

  void list_events(const httplib::Request& req, httplib::Response& res) {
    auto rec = record_of(req.matches[1]);
    auto all = json::array();
    for (auto& e : events_of(rec.id))
      all.push_back(to_json(e));
    reply(res, 200, json{{"events", std::move(all)}});
  }

  void approve(const httplib::Request& req, httplib::Response& res) {
    auto body = body_of(req);
    auto decision = string_field(body, "decision");
    if (decision != "approved" && decision != "rejected")
      fail(400, "unknown decision: " + decision + " (approved or rejected)");
    auto node = optional_string(body, "node_id");
    approval_request ar;
    ar.approved = decision == "approved";
    ar.user_id = optional_string(body, "user_id").value_or("anonymous");
    if (auto c = optional_string(body, "comment"))
      ar.comment = *c;
    if (auto p = body.find("state_patch"); p != body.end() && !p->is_null()) {
      if (!p->is_object())
        fail(400, "field 'state_patch' must be a JSON object");
      ar.state_patch = p->dump();
    }
    auto rec = record_of(req.matches[1]);
    if (rec.status != execution_status_code::running)
      fail(409, "execution is " + to_string(rec.status) +
                  "; approvals can no longer be decided");
    auto graph = graph_of(rec.workflow_id, rec.workflow_version);
    if (!graph)
      fail(503, "the workflow of execution " + rec.id + " is not loaded");
    auto pending = pending_approvals(*graph, events_of(rec.id));
    if (node && !node->empty()) {
      if (std::find(pending.begin(), pending.end(), *node) == pending.end())
        fail(409, "node '" + *node +
                    "' has no pending approval (unknown or already decided)");
      ar.node_id = *node;
    } else if (pending.empty()) {
      fail(409, "no pending approval on this execution");
    } else if (pending.size() > 1) {
      std::string names;
      for (auto& p : pending)
        names += (names.empty() ? "" : ", ") + p;
      fail(400, "multiple approvals pending (" + names + "); specify node_id");
    } else {
      ar.node_id = pending.front();
    }
    try {
      (void)ask<caf::ok_atom>(*sys, sched.supervisor, ask_timeout,
                              approve_atom::value, rec.id, ar);
    } catch (api_error& e) {
      if (e.status == 400)
        e.status = 409; // well-formed, but the execution's state refuses it
      throw;
    }
    reply(res, 200,
          json{{"execution_id", rec.id},
               {"node_id", ar.node_id},
               {"accepted", true}});
  }

  void list_approvals(const httplib::Request& req, httplib::Response& res) {
    auto rec = record_of(req.matches[1]);
    auto graph = graph_of(rec.workflow_id, rec.workflow_version);
    if (!graph)
      fail(503, "the workflow of execution " + rec.id + " is not loaded");
    reply(res, 200, approvals_view(*graph, events_of(rec.id)));
  }

  void external_event(const httplib::Request& req, httplib::Response& res) {
    auto body = body_of(req);
    auto key = string_field(body, "correlation_key");
    auto payload = body.value("payload", json(nullptr));
    auto rec = record_of(req.matches[1]);
    if (rec.status != execution_status_code::running)
      fail(409, "execution is " + to_string(rec.status) +
                  "; it takes no more events");
    try {
      (void)ask<caf::ok_atom>(*sys, sched.supervisor, ask_timeout,
                              signal_atom::value, rec.id, key, payload.dump());
    } catch (api_error& e) {
      if (e.status == 400)
        e.status = 409;
      throw;
    }
    reply(res, 200, json{{"execution_id", rec.id}, {"accepted", true}});
  }

  void list_workers(const httplib::Request&, httplib::Response& res) {
    auto views = ask<std::vector<worker_view>>(*sys, hub, ask_timeout,
                                               workers_atom::value);
    auto all = json::array();
    for (auto& v : views) {
      json w{{"worker_id", v.summary.id},
             {"transport", v.transport},
             {"queue_types", v.summary.queues},
             {"slots", v.summary.slots},
             {"leases", v.summary.busy},
             {"status", v.summary.busy > 0 ? "busy" : "idle"}};
      if (v.transport == "http") {
        w["last_seen"] = format_rfc3339_ms(v.last_seen_ms);
        w["claimed"] = v.claimed;
        w["waiting_claims"] = v.waiting;
      }
      all.push_back(std::move(w));
    }
    reply(res, 200, json{{"workers", std::move(all)}});
  }

  /// Prometheus text: what the node knows without instrumenting the
  /// scheduler (docs/http-api.md, "Metrics").
  void metrics(const httplib::Request&, httplib::Response& res) {
    auto records = ask<std::vector<execution_record>>(
      *sys, sched.backend, ask_timeout, record_atom::value);
    auto dead = ask<std::vector<dead_letter>>(*sys, sched.backend, ask_timeout,
                                              dlq_atom::value);
    auto views = ask<std::vector<worker_view>>(*sys, hub, ask_timeout,
                                               workers_atom::value);
    std::map<std::string, uint64_t> by_status{
      {"running", 0}, {"completed", 0}, {"failed", 0}, {"cancelled", 0}};
    for (auto& r : records)
      ++by_status[to_string(r.status)];
    std::map<std::string, uint64_t> workers{{"http", 0}, {"native", 0}};
    uint64_t leases = 0;
    uint64_t waiting = 0;
    for (auto& v : views) {
      ++workers[v.transport];
      leases += v.summary.busy;
      waiting += v.waiting;
    }
    std::string out;
    auto family = [&](const char* name, const char* type, const char* help) {
      out += std::string{"# HELP "} + name + " " + help + "\n# TYPE " + name +
             " " + type + "\n";
    };
    family("jamjet_executions", "gauge", "Executions in the store by status.");
    for (auto& [status, n] : by_status)
      out += "jamjet_executions{status=\"" + status + "\"} " +
             std::to_string(n) + "\n";
    family("jamjet_dead_letters", "gauge",
           "Work items in the dead-letter "
           "queue.");
    out += "jamjet_dead_letters " + std::to_string(dead.size()) + "\n";
    family("jamjet_workers", "gauge", "Workers joined, by transport.");
    for (auto& [transport, n] : workers)
      out += "jamjet_workers{transport=\"" + transport + "\"} " +
             std::to_string(n) + "\n";
    family("jamjet_leases_in_flight", "gauge",
           "Work items leased to workers and not yet settled.");
    out += "jamjet_leases_in_flight " + std::to_string(leases) + "\n";
    family("jamjet_http_claims_waiting", "gauge",
           "HTTP claims waiting for a work item.");
    out += "jamjet_http_claims_waiting " + std::to_string(waiting) + "\n";
    res.status = 200;
    res.set_content(out, "text/plain; version=0.0.4");
  }

  // -- the worker protocol ----------------------------------------------------

  void claim(const httplib::Request& req, httplib::Response& res) {
    auto body = body_of(req);
    auto worker = string_field(body, "worker_id");
    if (worker.empty() || worker.size() > 256)
      fail(400, "field 'worker_id' must be 1 to 256 characters");
    auto queues_field = body.find("queue_types");
    if (queues_field == body.end() || !queues_field->is_array() ||
        queues_field->empty())
      fail(400, "field 'queue_types' is required: a non-empty array of "
                "queue type names");
    std::vector<std::string> queues;
    for (auto& q : *queues_field) {
      if (!q.is_string() || q.get<std::string>().empty())
        fail(400, "field 'queue_types' must hold non-empty strings");
      queues.push_back(q.get<std::string>());
    }
    auto wait = cfg.limits.claim_wait;
    if (auto w = body.find("wait_ms"); w != body.end()) {
      if (!w->is_number_unsigned())
        fail(400, "field 'wait_ms' must be a non-negative integer");
      wait = std::min(wait, milliseconds{w->get<int64_t>()});
    }
    auto got = ask<claim_result>(*sys, hub, wait + ask_timeout,
                                 claim_atom::value, worker, std::move(queues),
                                 static_cast<uint32_t>(wait.count()));
    if (!got.claimed) {
      reply(res, 200, json{{"claimed", false}});
      return;
    }
    std::pair<std::string, std::string> wf;
    try {
      wf = origin_of(got.item.execution_id);
    } catch (const api_error&) {
      // The execution's record is gone; hand out what the item says.
    }
    reply(
      res, 200,
      json{{"claimed", true},
           {"work_item", claimed_item_view(got.item, wf.first, wf.second)}});
  }

  /// The fence a request echoes: none when absent; 409 for one that was
  /// never issued (0 or negative), as JamJet answers.
  static std::optional<uint64_t> fence_of(const json& body) {
    auto f = body.find("lease_fence");
    if (f == body.end() || f->is_null())
      return std::nullopt;
    if (!f->is_number_integer())
      fail(400, "field 'lease_fence' must be an integer");
    if (f->is_number_unsigned())
      return f->get<uint64_t>();
    return f->get<int64_t>() > 0 ? f->get<uint64_t>() : uint64_t{0};
  }

  /// Whether item `item_id` ("EXECUTION/NODE") can exist: false when its
  /// execution does not.
  bool known_item(const std::string& item_id) {
    try {
      (void)record_of(item_id.substr(0, item_id.find('/')));
      return true;
    } catch (const api_error& e) {
      if (e.status == 404)
        return false;
      throw;
    }
  }

  void settle(const httplib::Request& req, httplib::Response& res, bool ok) {
    auto body = body_of(req);
    std::string item_id = req.matches[1];
    settle_request sr;
    sr.item_id = item_id;
    sr.ok = ok;
    auto fence = fence_of(body);
    const char* flag = ok ? "completed" : "failed";
    json stale{{flag, false},
               {"work_item_id", item_id},
               {"reason", "stale or invalid lease fence"}};
    if (fence && *fence == 0) {
      reply(res, 409, stale);
      return;
    }
    sr.has_fence = fence.has_value();
    sr.fence = fence.value_or(0);
    if (ok) {
      sr.output = body.value("output", json(nullptr)).dump();
      auto patch = body.value("state_patch", json::object());
      if (!patch.is_object() && !patch.is_null())
        fail(400, std::string{"field 'state_patch' must be a JSON object, "
                              "not "} +
                    patch.type_name());
      sr.state_patch = patch.is_null() ? "{}" : patch.dump();
      if (auto d = body.find("duration_ms"); d != body.end() && !d->is_null()) {
        if (!d->is_number_unsigned())
          fail(400, "field 'duration_ms' must be a non-negative integer");
        sr.duration_ms = d->get<uint64_t>();
      }
    } else {
      sr.error = string_field(body, "error");
    }
    auto out = ask<settle_outcome>(*sys, hub, ask_timeout, settle_atom::value,
                                   std::move(sr));
    if (out.status == settle_status::stale_fence) {
      reply(res, 409, stale);
      return;
    }
    if (out.status == settle_status::not_held) {
      if (!known_item(item_id))
        fail(404, "work item " + item_id + " not found");
      reply(res, 409, stale);
      return;
    }
    if (ok) {
      reply(res, 200, json{{"completed", true}, {"work_item_id", item_id}});
    } else {
      reply(res, 200,
            json{{"failed", true},
                 {"work_item_id", item_id},
                 {"retryable", out.item.attempt < out.item.max_attempts},
                 {"attempt", out.item.attempt}});
    }
  }

  void heartbeat(const httplib::Request& req, httplib::Response& res) {
    auto body = body_of(req);
    std::string item_id = req.matches[1];
    auto worker = string_field(body, "worker_id", std::string{});
    auto fence = fence_of(body).value_or(0);
    auto out = ask<settle_outcome>(
      *sys, hub, ask_timeout, heartbeat_atom::value, item_id, worker, fence);
    if (out.status == settle_status::accepted) {
      reply(res, 200, json{{"renewed", true}, {"work_item_id", item_id}});
      return;
    }
    json stale{{"renewed", false},
               {"work_item_id", item_id},
               {"reason", "stale or invalid lease fence"}};
    if (!known_item(item_id))
      fail(404, "work item " + item_id + " not found");
    reply(res, 409, stale);
  }

  // -- wiring -----------------------------------------------------------------

  using member = void (impl::*)(const httplib::Request&, httplib::Response&);

  /// Wraps a route: errors become JamJet's `{"error": ...}` bodies.
  httplib::Server::Handler wrap(member fn) {
    return [this, fn](const httplib::Request& req, httplib::Response& res) {
      try {
        (this->*fn)(req, res);
      } catch (const api_error& e) {
        reply(res, e.status, json{{"error", e.message}});
      } catch (const error& e) {
        reply(res, status_of(e.code()), json{{"error", e.what()}});
      } catch (const std::exception& e) {
        log()->error("HTTP {} {}: {}", req.method, req.path, e.what());
        reply(res, 500,
              json{{"error", std::string{"internal error: "} + e.what()}});
      }
    };
  }

  void routes() {
    auto& s = *svr;
    const std::string id = "([^/]+)";
    s.Get("/health", wrap(&impl::health));
    s.Post("/workflows", wrap(&impl::create_workflow));
    s.Post("/executions", wrap(&impl::start_execution));
    s.Get("/executions", wrap(&impl::list_executions));
    s.Get("/executions/" + id, wrap(&impl::get_execution));
    s.Post("/executions/" + id + "/cancel", wrap(&impl::cancel_execution));
    s.Get("/executions/" + id + "/events", wrap(&impl::list_events));
    s.Post("/executions/" + id + "/approve", wrap(&impl::approve));
    s.Get("/executions/" + id + "/approvals", wrap(&impl::list_approvals));
    s.Post("/executions/" + id + "/external-event",
           wrap(&impl::external_event));
    s.Get("/workers", wrap(&impl::list_workers));
    s.Get("/metrics", wrap(&impl::metrics));
    s.Post("/work-items/claim", wrap(&impl::claim));
    // Item ids are "EXECUTION/NODE": the id is everything up to the verb.
    s.Post("/work-items/(.+)/complete",
           [this](const httplib::Request& req, httplib::Response& res) {
             wrap_settle(req, res, true);
           });
    s.Post("/work-items/(.+)/fail",
           [this](const httplib::Request& req, httplib::Response& res) {
             wrap_settle(req, res, false);
           });
    s.Post("/work-items/(.+)/heartbeat", wrap(&impl::heartbeat));
    // JamJet's routes this runtime does not implement.
    auto missing = [](const httplib::Request& req, httplib::Response& res) {
      reply(res, 501,
            json{{"error", "not implemented by this runtime: " + req.method +
                             " " + req.path}});
    };
    for (auto& p :
         {std::string{"/cron"}, "/cron/" + id, std::string{"/artifacts"},
          "/artifacts/" + id, std::string{"/agents"},
          std::string{"/agents/discover"}, std::string{"/agents/search"},
          "/agents/" + id,
          "/agents/" + id +
            "/(activate|deactivate|heartbeat|"
            "trace)",
          std::string{"/work-items"}, std::string{"/tenants"}, "/tenants/" + id,
          std::string{"/audit"}, "/executions/" + id + "/coordinator-decisions",
          "/executions/" + id + "/nodes/" + id + "/(scoring|reasoning)",
          std::string{"/.well-known/did.json"}, std::string{"/mcp(/.*)?"}}) {
      s.Get(p, missing);
      s.Post(p, missing);
      s.Put(p, missing);
      s.Delete(p, missing);
    }
  }

  void wrap_settle(const httplib::Request& req, httplib::Response& res,
                   bool ok) {
    try {
      settle(req, res, ok);
    } catch (const api_error& e) {
      reply(res, e.status, json{{"error", e.message}});
    } catch (const std::exception& e) {
      reply(res, 500,
            json{{"error", std::string{"internal error: "} + e.what()}});
    }
  }

  /// Authenticates every request but GET /health; true when it answered.
  bool refuse(const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/health")
      return false;
    auto v =
      guard.check(req.remote_addr, req.get_header_value("Authorization"));
    if (v.what == auth_guard::outcome::blocked) {
      res.set_header("Retry-After", std::to_string(v.retry_after.count()));
      reply(res, 429, json{{"error", v.message}});
      return true;
    }
    if (v.what == auth_guard::outcome::denied) {
      res.set_header("WWW-Authenticate", "Bearer");
      reply(res, 401, json{{"error", v.message}});
      return true;
    }
    auto need = need_of(req.method, req.path);
    if (!permits(v.role, need)) {
      reply(
        res, 403,
        json{{"error", refusal(v.role, need)}, {"role", to_string(v.role)}});
      return true;
    }
    return false;
  }

  void configure() {
    auto& s = *svr;
    auto& lim = cfg.limits;
    auto min = lim.min_threads;
    auto max = lim.max_threads;
    s.new_task_queue = [min, max] { return new elastic_pool(min, max); };
    s.set_payload_max_length(lim.max_body);
    s.set_read_timeout(static_cast<time_t>(lim.read_timeout.count()), 0);
    s.set_write_timeout(static_cast<time_t>(lim.write_timeout.count()), 0);
    s.set_keep_alive_timeout(static_cast<time_t>(lim.keep_alive.count()));
    s.set_keep_alive_max_count(lim.keep_alive_requests);
    s.set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) {
        return refuse(req, res) ? httplib::Server::HandlerResponse::Handled
                                : httplib::Server::HandlerResponse::Unhandled;
      });
    auto max_body = lim.max_body;
    s.set_error_handler(httplib::Server::HandlerWithResponse{
      [max_body](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty())
          return httplib::Server::HandlerResponse::Unhandled;
        std::string message;
        switch (res.status) {
          case 404:
            message = "no route " + req.method + " " + req.path;
            break;
          case 413:
            message = "request body over the limit of " +
                      std::to_string(max_body) + " bytes";
            break;
          case 400:
            message = "malformed HTTP request";
            break;
          default:
            message = "HTTP status " + std::to_string(res.status);
        }
        reply(res, res.status, json{{"error", message}});
        return httplib::Server::HandlerResponse::Handled;
      }});
    s.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        reply(res, 500, json{{"error", "internal error"}});
      });
    routes();
  }
};

http_server::http_server(runtime& rt, http_config cfg) {
  auto& parts = rt.internal_parts();
  if (!parts.system)
    throw error(error_code::unavailable, "the runtime has shut down");
  impl_ = std::make_unique<impl>(parts, std::move(cfg));
  auto& d = *impl_;
  if (!d.cfg.tls_cert.empty() || !d.cfg.tls_key.empty()) {
    if (d.cfg.tls_cert.empty() || d.cfg.tls_key.empty())
      throw error(error_code::bad_input,
                  "TLS needs both a certificate and its key");
    auto ssl = std::make_unique<httplib::SSLServer>(
      d.cfg.tls_cert.c_str(), d.cfg.tls_key.c_str(),
      d.cfg.tls_client_ca.empty() ? nullptr : d.cfg.tls_client_ca.c_str());
    if (!ssl->is_valid())
      throw error(error_code::bad_input,
                  "cannot load the TLS certificate " + d.cfg.tls_cert +
                    " with key " + d.cfg.tls_key +
                    (d.cfg.tls_client_ca.empty()
                       ? std::string{}
                       : " and client CA " + d.cfg.tls_client_ca));
    d.svr = std::move(ssl);
    d.tls = true;
  } else {
    d.svr = std::make_unique<httplib::Server>();
  }
  d.configure();
  hub_config hc;
  hc.idle = d.cfg.limits.worker_idle;
  d.hub = spawn_hub(*d.sys, d.sched, hc);
  int bound =
    d.cfg.port == 0
      ? d.svr->bind_to_any_port(d.cfg.host)
      : (d.svr->bind_to_port(d.cfg.host, d.cfg.port) ? d.cfg.port : -1);
  if (bound <= 0) {
    caf::anon_send_exit(d.hub, caf::exit_reason::user_shutdown);
    throw error(error_code::unavailable, "cannot listen for HTTP on " +
                                           d.cfg.host + ":" +
                                           std::to_string(d.cfg.port));
  }
  d.port = static_cast<uint16_t>(bound);
  d.thread = std::thread{[&d] { d.svr->listen_after_bind(); }};
  // stop() before the listener runs would not stop it.
  for (int i = 0; i < 5000 && !d.svr->is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  log()->info("HTTP API on {}://{}:{}", d.tls ? "https" : "http", d.cfg.host,
              d.port);
}

http_server::~http_server() {
  stop();
}

uint16_t http_server::port() const noexcept {
  return impl_->port;
}

bool http_server::tls() const noexcept {
  return impl_->tls;
}

void http_server::stop() {
  auto& d = *impl_;
  if (d.stopped.exchange(true))
    return;
  d.svr->stop();
  if (d.thread.joinable())
    d.thread.join();
  caf::anon_send_exit(d.hub, caf::exit_reason::user_shutdown);
}

} // namespace jamjet::http
