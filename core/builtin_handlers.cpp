#include "jamjet/core/builtin_handlers.hpp"

#include <cmath>
#include <cstdio>
#include <exception>
#include <string_view>
#include <utility>

#include "jamjet/messages/json_limits.hpp"
#include "jamjet/support/subprocess.hpp"
#include "jamjet/support/utf8.hpp"

namespace jamjet {

namespace {

using json = nlohmann::json;

/// How much of the end of stderr a failure message quotes.
constexpr std::size_t stderr_tail_bytes = 2000;

/// How much of the start of stdout a failure message quotes.
constexpr std::size_t stdout_head_bytes = 200;

/// Longest accepted `node_timeout_secs` (about 30 years); beyond that, the
/// millisecond count could overflow.
constexpr double max_timeout_secs = 1e9;

/// The member `key` of `obj`, or null when `obj` is not an object or has no
/// such member.
const json* member(const json& obj, const char* key) {
  if (!obj.is_object())
    return nullptr;
  auto i = obj.find(key);
  return i == obj.end() ? nullptr : &*i;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

std::string trim(std::string_view str) {
  while (!str.empty() && is_space(str.front()))
    str.remove_prefix(1);
  while (!str.empty() && is_space(str.back()))
    str.remove_suffix(1);
  return std::string{str};
}

bool is_utf8_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

/// About the last `n` bytes of `str`, starting at a character boundary.
std::string_view tail(std::string_view str, std::size_t n) {
  if (str.size() <= n)
    return str;
  auto pos = str.size() - n;
  for (int i = 0; i < 3 && pos < str.size() && is_utf8_continuation(str[pos]);
       ++i)
    ++pos;
  return str.substr(pos);
}

/// About the first `n` bytes of `str`, ending at a character boundary.
std::string_view head(std::string_view str, std::size_t n) {
  if (str.size() <= n)
    return str;
  auto len = n;
  for (int i = 0; i < 3 && len > 0 && is_utf8_continuation(str[len]); ++i)
    --len;
  return str.substr(0, len);
}

/// `"<start of stdout>"`, with an ellipsis when cut.
std::string quote_stdout(const std::string& out) {
  auto start = head(out, stdout_head_bytes);
  auto quoted = json(sanitize_utf8(start)).dump();
  if (start.size() < out.size())
    quoted += "...";
  return quoted;
}

/// Serializes `value` without throwing on invalid UTF-8.
std::string dump_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// "1", "2.5": seconds for messages.
std::string format_seconds(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0)
    return std::to_string(ms.count() / 1000);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g",
                static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

/// The timeout for a node, or an error message.
struct timeout_choice {
  std::chrono::milliseconds value{0};
  std::string error;
};

timeout_choice node_timeout(const node_context& ctx,
                            std::chrono::seconds default_timeout) {
  timeout_choice result;
  auto secs = member(ctx.node, "node_timeout_secs");
  if (secs == nullptr || secs->is_null()) {
    if (default_timeout.count() > 0)
      result.value = default_timeout;
    return result;
  }
  if (!secs->is_number()) {
    result.error = std::string{"node_timeout_secs must be a number, got "} +
                   secs->type_name();
    return result;
  }
  auto val = secs->get<double>();
  if (!std::isfinite(val) || val < 0 || val > max_timeout_secs) {
    result.error = "invalid node_timeout_secs " + secs->dump();
    return result;
  }
  auto ms = static_cast<long long>(std::llround(val * 1000.0));
  if (ms == 0 && val > 0)
    ms = 1; // A tiny positive timeout is still a timeout.
  result.value = std::chrono::milliseconds{ms};
  return result;
}

/// Runs `argv` for a node with `input` on stdin and turns the result into an
/// outcome.
node_outcome run_node_process(const node_context& ctx,
                              std::vector<std::string> argv, std::string input,
                              std::chrono::seconds default_timeout) {
  if (ctx.is_cancelled())
    return node_outcome::failure("cancelled", false);
  auto timeout = node_timeout(ctx, default_timeout);
  if (!timeout.error.empty())
    return node_outcome::failure(std::move(timeout.error), false);
  subprocess_options opts;
  opts.argv = std::move(argv);
  opts.stdin_data = std::move(input);
  opts.env = {{"JAMJET_EXECUTION_ID", ctx.execution_id},
              {"JAMJET_NODE_ID", ctx.node_id},
              {"JAMJET_ATTEMPT", std::to_string(ctx.attempt)}};
  opts.timeout = timeout.value;
  opts.cancelled = ctx.cancelled;
  auto res = run_subprocess(opts);
  if (res.spawn_failed)
    return node_outcome::failure(sanitize_utf8(res.error), false);
  if (res.cancelled)
    return node_outcome::failure("cancelled", false);
  if (res.timed_out)
    return node_outcome::failure("command timed out after " +
                                   format_seconds(timeout.value) + " s",
                                 true, "timeout");
  if (res.exit_code != 0) {
    std::string msg;
    if (res.term_signal != 0)
      msg = "command killed by signal " + std::to_string(res.term_signal);
    else if (res.exit_code < 0)
      msg = "command ended with an unknown status";
    else
      msg = "command exited with status " + std::to_string(res.exit_code);
    auto err_tail = trim(tail(res.err, stderr_tail_bytes));
    if (!err_tail.empty())
      msg += ": " + sanitize_utf8(err_tail);
    // A failing program may classify its error on stdout:
    // {"error_class": "rate_limit", "retryable": true, "error": "..."}.
    std::string error_class;
    bool retryable = true;
    auto report = try_parse_bounded(trim(res.out));
    if (report.is_object()) {
      if (auto c = member(report, "error_class"); c && c->is_string())
        error_class = c->get<std::string>();
      if (auto r = member(report, "retryable"); r && r->is_boolean())
        retryable = r->get<bool>();
      if (auto e = member(report, "error"); e && e->is_string())
        msg += " (" + sanitize_utf8(e->get<std::string>()) + ")";
    }
    return node_outcome::failure(std::move(msg), retryable,
                                 std::move(error_class));
  }
  if (res.out_truncated)
    return node_outcome::failure("command stdout exceeds " +
                                   std::to_string(opts.max_output) + " bytes",
                                 false);
  auto trimmed = trim(res.out);
  if (trimmed.empty())
    return node_outcome::success(nullptr);
  // Bounded before anything copies or dumps the value (json_limits.hpp).
  std::string problem;
  auto parsed = try_parse_bounded(trimmed, json_limits{}, &problem);
  if (!problem.empty())
    return node_outcome::failure("command stdout refused: " + problem, false);
  if (parsed.is_discarded())
    return node_outcome::failure(
      "command stdout is not valid JSON: " + quote_stdout(trimmed), false);
  if (!parsed.is_object())
    return node_outcome::failure(std::string{"command stdout must be a JSON "
                                             "object, got "} +
                                   parsed.type_name() + ": " +
                                   quote_stdout(trimmed),
                                 false);
  auto patch = parsed;
  return node_outcome::success(std::move(parsed), std::move(patch));
}

/// Calls `fn`, turning an exception into a (retryable) failure.
template <class F>
node_outcome guarded(F&& fn) {
  try {
    return fn();
  } catch (const std::exception& ex) {
    return node_outcome::failure(ex.what(), true);
  }
}

} // namespace

node_outcome noop_handler(const node_context& ctx) {
  return guarded([&ctx] {
    auto patch = json::object();
    if (auto kind = member(ctx.node, "kind")) {
      if (auto given = member(*kind, "state_patch");
          given != nullptr && !given->is_null()) {
        if (!given->is_object())
          return node_outcome::failure(std::string{"kind.state_patch must be "
                                                   "an object, got "} +
                                         given->type_name(),
                                       false);
        patch = *given;
      }
    }
    auto output = patch;
    return node_outcome::success(std::move(output), std::move(patch));
  });
}

node_outcome command_handler(const node_context& ctx,
                             std::chrono::seconds default_timeout) {
  return guarded([&ctx, default_timeout] {
    auto bad_argv = [] {
      return node_outcome::failure("kind.argv must be a non-empty array "
                                   "of strings",
                                   false);
    };
    auto kind = member(ctx.node, "kind");
    auto argv = kind ? command_argv(*kind) : std::nullopt;
    if (!argv)
      return bad_argv();
    return run_node_process(ctx, std::move(*argv), dump_json(ctx.state),
                            default_timeout);
  });
}

node_outcome program_handler(const node_context& ctx,
                             const std::vector<std::string>& argv,
                             std::chrono::seconds default_timeout) {
  return guarded([&] {
    if (argv.empty())
      return node_outcome::failure("no program given for this node kind",
                                   false);
    json input{
      {"node", ctx.node}, {"state", ctx.state}, {"attempt", ctx.attempt}};
    return run_node_process(ctx, argv, dump_json(input), default_timeout);
  });
}

std::optional<std::vector<std::string>> command_argv(const json& kind) {
  auto argv_json = member(kind, "argv");
  if (argv_json == nullptr || !argv_json->is_array() || argv_json->empty())
    return std::nullopt;
  std::vector<std::string> argv;
  argv.reserve(argv_json->size());
  for (const auto& arg : *argv_json) {
    if (!arg.is_string())
      return std::nullopt;
    argv.push_back(arg.get<std::string>());
  }
  return argv;
}

std::vector<std::string> builtin_kind_problems(const node_def& node) {
  std::vector<std::string> problems;
  auto name = "node '" + node.id + "' (" + node.kind_type + ")";
  if (node.kind_type == "command" && !command_argv(node.kind)) {
    auto argv = member(node.kind, "argv");
    problems.push_back(
      name +
      ": kind.argv must be a non-empty array of strings "
      "(the program and its arguments, run without a "
      "shell), " +
      (argv ? "not " + argv->dump() : std::string{"and is missing"}));
  }
  if (node.kind_type == "noop") {
    auto patch = member(node.kind, "state_patch");
    if (patch && !patch->is_null() && !patch->is_object())
      problems.push_back(name + ": kind.state_patch must be an object, not " +
                         patch->dump());
  }
  return problems;
}

void register_builtin_handlers(handler_registry& registry,
                               std::chrono::seconds default_node_timeout) {
  registry.add_kind("noop", handler_entry{noop_handler, false});
  registry.add_kind(
    "command", handler_entry{[default_node_timeout](const node_context& ctx) {
                               return command_handler(ctx,
                                                      default_node_timeout);
                             },
                             true});
}

} // namespace jamjet
