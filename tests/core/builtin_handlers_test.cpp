#include "jamjet/core/builtin_handlers.hpp"
#include "testing/contains.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace jamjet;
using jamjet::testing::contains;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// Far above any expected run time; only checks that a call returned.
constexpr auto generous = std::chrono::seconds{20};

node_context make_ctx(json kind, json state = json::object()) {
  node_context ctx;
  ctx.execution_id = "exec-1";
  ctx.node_id = "n1";
  ctx.node = json{{"id", "n1"}, {"kind", std::move(kind)}};
  ctx.state = std::move(state);
  return ctx;
}

node_context command_ctx(std::vector<std::string> argv,
                         json state = json::object()) {
  return make_ctx(json{{"type", "command"}, {"argv", std::move(argv)}},
                  std::move(state));
}

node_context shell_ctx(const std::string& script, json state = json::object()) {
  return command_ctx({"sh", "-c", script}, std::move(state));
}

} // namespace

TEST_CASE("noop without state_patch", "[handlers]") {
  auto out = noop_handler(make_ctx(json{{"type", "noop"}}));
  CHECK(out.ok);
  CHECK(out.output == json::object());
  CHECK(out.state_patch == json::object());
}

TEST_CASE("noop with state_patch", "[handlers]") {
  json patch{{"x", 1}, {"y", {{"z", "w"}}}};
  auto out =
    noop_handler(make_ctx(json{{"type", "noop"}, {"state_patch", patch}}));
  CHECK(out.ok);
  CHECK(out.output == patch);
  CHECK(out.state_patch == patch);
}

TEST_CASE("noop with a null state_patch", "[handlers]") {
  auto out =
    noop_handler(make_ctx(json{{"type", "noop"}, {"state_patch", nullptr}}));
  CHECK(out.ok);
  CHECK(out.state_patch == json::object());
}

TEST_CASE("noop with a state_patch that is no object", "[handlers]") {
  auto out = noop_handler(
    make_ctx(json{{"type", "noop"}, {"state_patch", json::array({1})}}));
  CHECK_FALSE(out.ok);
  CHECK_FALSE(out.retryable);
  // The event and the execution's error name the node, not the handler.
  CHECK_FALSE(contains(out.error, "'n1'"));
  CHECK(contains(out.error, "state_patch"));
}

TEST_CASE("register_builtin_handlers adds noop and command", "[handlers]") {
  handler_registry reg;
  register_builtin_handlers(reg, 1s);
  auto noop = reg.find("noop", "");
  REQUIRE(noop.fn);
  CHECK_FALSE(noop.blocking);
  CHECK(noop.fn(make_ctx(json{{"type", "noop"}})).ok);
  auto command = reg.find("command", "");
  REQUIRE(command.fn);
  CHECK(command.blocking);
  SECTION("the registered command handler works") {
    auto out = command.fn(shell_ctx(R"(echo '{"a":1}')"));
    CHECK(out.ok);
    CHECK(out.output == json{{"a", 1}});
  }
  SECTION("the registered command handler uses the default timeout") {
    auto start = std::chrono::steady_clock::now();
    auto out = command.fn(shell_ctx("sleep 5"));
    CHECK(std::chrono::steady_clock::now() - start < generous);
    CHECK_FALSE(out.ok);
    CHECK(out.retryable);
    CHECK(out.error == "command timed out after 1 s");
  }
}

TEST_CASE("command gets the state on stdin", "[handlers]") {
  SECTION("reads and ignores it") {
    auto out = command_handler(
      shell_ctx(R"(cat >/dev/null; echo "{\"n\":1}")", json{{"k", "v"}}));
    REQUIRE(out.ok);
    CHECK(out.output == json{{"n", 1}});
    CHECK(out.state_patch == json{{"n", 1}});
  }
  SECTION("echoes it back") {
    json state{{"a", json::array({1, 2, 3})}, {"s", "h\u00e9llo"}};
    auto out = command_handler(command_ctx({"cat"}, state));
    REQUIRE(out.ok);
    CHECK(out.output == state);
    CHECK(out.state_patch == state);
  }
}

TEST_CASE("command sees the JAMJET_ environment", "[handlers]") {
  auto ctx =
    shell_ctx(R"(printf "{\"id\":\"%s\",\"node\":\"%s\",\"attempt\":%s}" )"
              R"("$JAMJET_EXECUTION_ID" "$JAMJET_NODE_ID" "$JAMJET_ATTEMPT")");
  ctx.attempt = 3;
  auto out = command_handler(ctx);
  REQUIRE(out.ok);
  CHECK(out.output == json{{"id", "exec-1"}, {"node", "n1"}, {"attempt", 3}});
}

TEST_CASE("command with empty stdout", "[handlers]") {
  auto out = command_handler(shell_ctx("echo '  '; echo ignored >&2"));
  CHECK(out.ok);
  CHECK(out.output.is_null());
  CHECK(out.state_patch == json::object());
}

TEST_CASE("command with invalid JSON on stdout", "[handlers]") {
  auto out = command_handler(shell_ctx("echo 'not json at all'"));
  CHECK_FALSE(out.ok);
  CHECK_FALSE(out.retryable);
  // The event and the execution's error name the node, not the handler.
  CHECK_FALSE(contains(out.error, "'n1'"));
  CHECK(contains(out.error, "not json at all"));
}

TEST_CASE("command with non-object JSON on stdout", "[handlers]") {
  auto out = command_handler(shell_ctx("echo '[1, 2]'"));
  CHECK_FALSE(out.ok);
  CHECK_FALSE(out.retryable);
  // The event and the execution's error name the node, not the handler.
  CHECK_FALSE(contains(out.error, "'n1'"));
  CHECK(contains(out.error, "[1, 2]"));
}

TEST_CASE("command quotes only the start of long stdout", "[handlers]") {
  auto out =
    command_handler(shell_ctx("head -c 100000 /dev/zero | tr '\\0' x"));
  CHECK_FALSE(out.ok);
  CHECK(contains(out.error, "xxxx"));
  CHECK(out.error.size() < 1000);
}

TEST_CASE("command exiting non-zero", "[handlers]") {
  SECTION("stderr is quoted") {
    auto out = command_handler(
      shell_ctx("echo some output; echo '  boom: detail  ' >&2; exit 4"));
    CHECK_FALSE(out.ok);
    CHECK(out.retryable);
    CHECK(out.error == "command exited with status 4: boom: detail");
  }
  SECTION("only the tail of a long stderr is quoted") {
    auto out = command_handler(shell_ctx(
      "head -c 50000 /dev/zero | tr '\\0' x >&2; echo ' END' >&2; exit 2"));
    CHECK_FALSE(out.ok);
    CHECK(out.retryable);
    CHECK(contains(out.error, "command exited with status 2: "));
    CHECK(out.error.size() < 2100);
    CHECK(out.error.size() > 1900);
    CHECK(out.error.substr(out.error.size() - 4) == " END");
  }
  SECTION("no stderr") {
    auto out = command_handler(shell_ctx("exit 1"));
    CHECK_FALSE(out.ok);
    CHECK(out.retryable);
    CHECK(out.error == "command exited with status 1");
  }
  SECTION("invalid UTF-8 on stderr stays serializable") {
    auto out =
      command_handler(shell_ctx("printf 'bad \\377\\376' >&2; exit 1"));
    CHECK_FALSE(out.ok);
    CHECK_NOTHROW(json(out.error).dump());
  }
}

TEST_CASE("command honours node_timeout_secs", "[handlers]") {
  auto ctx = shell_ctx("sleep 5");
  ctx.node["node_timeout_secs"] = 1;
  auto start = std::chrono::steady_clock::now();
  // The default (60 s) must not apply.
  auto out = command_handler(ctx, 60s);
  CHECK(std::chrono::steady_clock::now() - start < generous);
  CHECK_FALSE(out.ok);
  CHECK(out.retryable);
  CHECK(out.error == "command timed out after 1 s");
}

TEST_CASE("command uses the default timeout when node_timeout_secs is null",
          "[handlers]") {
  auto ctx = shell_ctx("sleep 5");
  ctx.node["node_timeout_secs"] = nullptr;
  auto out = command_handler(ctx, 1s);
  CHECK_FALSE(out.ok);
  CHECK(out.error == "command timed out after 1 s");
}

TEST_CASE("command rejects a bad node_timeout_secs", "[handlers]") {
  auto ctx = shell_ctx("true");
  ctx.node["node_timeout_secs"] = GENERATE(json(-1), json("10"));
  auto out = command_handler(ctx);
  CHECK_FALSE(out.ok);
  CHECK_FALSE(out.retryable);
  CHECK(contains(out.error, "node_timeout_secs"));
}

TEST_CASE("command with a bad argv", "[handlers]") {
  auto kind = GENERATE(json{{"type", "command"}},
                       json{{"type", "command"}, {"argv", json::array()}},
                       json{{"type", "command"}, {"argv", "echo hi"}},
                       json{{"type", "command"}, {"argv", {"echo", 1}}});
  auto out = command_handler(make_ctx(kind));
  CHECK_FALSE(out.ok);
  CHECK_FALSE(out.retryable);
  // The event and the execution's error name the node, not the handler.
  CHECK_FALSE(contains(out.error, "'n1'"));
  CHECK(contains(out.error, "argv"));
}

TEST_CASE("command with a missing program", "[handlers]") {
  auto out = command_handler(command_ctx({"jamjet-no-such-program-4711"}));
  CHECK_FALSE(out.ok);
  CHECK_FALSE(out.retryable);
  // The event and the execution's error name the node, not the handler.
  CHECK_FALSE(contains(out.error, "'n1'"));
  CHECK(contains(out.error, "jamjet-no-such-program-4711"));
}

TEST_CASE("command cancellation", "[handlers]") {
  auto flag = std::make_shared<std::atomic<bool>>(false);
  auto ctx = shell_ctx("sleep 30");
  ctx.cancelled = flag;
  SECTION("while running") {
    std::thread canceller{[flag] {
      std::this_thread::sleep_for(200ms);
      flag->store(true);
    }};
    auto start = std::chrono::steady_clock::now();
    auto out = command_handler(ctx);
    canceller.join();
    CHECK(std::chrono::steady_clock::now() - start < generous);
    CHECK_FALSE(out.ok);
    CHECK_FALSE(out.retryable);
    CHECK(out.error == "cancelled");
  }
  SECTION("before the start") {
    flag->store(true);
    auto out = command_handler(ctx);
    CHECK_FALSE(out.ok);
    CHECK_FALSE(out.retryable);
    CHECK(out.error == "cancelled");
  }
}

TEST_CASE("program_handler gets node, state and attempt", "[handlers]") {
  auto ctx =
    make_ctx(json{{"type", "my_kind"}, {"param", 42}}, json{{"count", 7}});
  ctx.attempt = 2;
  auto out = program_handler(ctx, {"cat"});
  REQUIRE(out.ok);
  json expected{{"node", ctx.node}, {"state", ctx.state}, {"attempt", 2}};
  CHECK(out.output == expected);
  CHECK(out.state_patch == expected);
}

TEST_CASE("program_handler reports failures like command", "[handlers]") {
  auto ctx = make_ctx(json{{"type", "my_kind"}});
  SECTION("empty argv") {
    auto out = program_handler(ctx, {});
    CHECK_FALSE(out.ok);
    CHECK_FALSE(out.retryable);
    // The event and the execution's error name the node, not the handler.
    CHECK_FALSE(contains(out.error, "'n1'"));
  }
  SECTION("missing program") {
    auto out = program_handler(ctx, {"jamjet-no-such-program-4711", "-x"});
    CHECK_FALSE(out.ok);
    CHECK_FALSE(out.retryable);
    CHECK(contains(out.error, "jamjet-no-such-program-4711"));
  }
  SECTION("non-zero exit") {
    auto out = program_handler(ctx, {"sh", "-c", "echo bad >&2; exit 9"});
    CHECK_FALSE(out.ok);
    CHECK(out.retryable);
    CHECK(out.error == "command exited with status 9: bad");
  }
  SECTION("environment") {
    auto out = program_handler(
      ctx, {"sh", "-c", R"(printf '{"node":"%s"}' "$JAMJET_NODE_ID")"});
    REQUIRE(out.ok);
    CHECK(out.output == json{{"node", "n1"}});
  }
}
