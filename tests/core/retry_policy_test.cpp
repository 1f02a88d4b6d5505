// Retry policies: delays by backoff kind, caps, jitter, retryable classes,
// the policy text stored with work items and how a failed attempt is
// planned under the lease's policy.

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jamjet/core/retry.hpp"
#include "jamjet/messages/error.hpp"
#include "jamjet/messages/ir.hpp"

using namespace jamjet;
using json = nlohmann::json;

namespace {

retry_policy make_policy(backoff_kind backoff, uint64_t initial_secs,
                         uint64_t max_secs, bool jitter = false) {
  retry_policy p;
  p.max_attempts = 5;
  p.backoff = backoff;
  p.initial_delay_secs = initial_secs;
  p.max_delay_secs = max_secs;
  p.jitter = jitter;
  return p;
}

void check_same(const retry_policy& x, const retry_policy& y) {
  CHECK(x.max_attempts == y.max_attempts);
  CHECK(x.backoff == y.backoff);
  CHECK(x.initial_delay_secs == y.initial_delay_secs);
  CHECK(x.max_delay_secs == y.max_delay_secs);
  CHECK(x.jitter == y.jitter);
  CHECK(x.retryable_on == y.retryable_on);
}

lease_entry make_lease(const retry_policy& policy, uint32_t attempt,
                       uint32_t max_attempts) {
  lease_entry lease;
  lease.item_id = "e1/n";
  lease.execution_id = "e1";
  lease.node_id = "n";
  lease.fence = 7;
  lease.attempt = attempt;
  lease.max_attempts = max_attempts;
  lease.worker_id = "w";
  lease.retry = to_json(policy).dump();
  return lease;
}

constexpr uint64_t u64_max = std::numeric_limits<uint64_t>::max();
constexpr uint32_t u32_max = std::numeric_limits<uint32_t>::max();

} // namespace

TEST_CASE("fixed backoff waits the initial delay every time",
          "[retry-policy]") {
  auto p = make_policy(backoff_kind::fixed, 3, 60);
  for (uint32_t attempt = 1; attempt <= 10; ++attempt) {
    INFO("attempt " << attempt);
    CHECK(retry_delay_ms(p, attempt, "k") == 3000);
  }
  // The cap applies to fixed delays too.
  p.max_delay_secs = 2;
  CHECK(retry_delay_ms(p, 1, "k") == 2000);
}

TEST_CASE("linear backoff grows by the initial delay", "[retry-policy]") {
  auto p = make_policy(backoff_kind::linear, 2, 7);
  CHECK(retry_delay_ms(p, 1, "k") == 2000);
  CHECK(retry_delay_ms(p, 2, "k") == 4000);
  CHECK(retry_delay_ms(p, 3, "k") == 6000);
  CHECK(retry_delay_ms(p, 4, "k") == 7000);
  CHECK(retry_delay_ms(p, 50, "k") == 7000);
}

TEST_CASE("exponential backoff doubles up to the cap", "[retry-policy]") {
  auto p = make_policy(backoff_kind::exponential, 2, 60);
  CHECK(retry_delay_ms(p, 1, "k") == 2000);
  CHECK(retry_delay_ms(p, 2, "k") == 4000);
  CHECK(retry_delay_ms(p, 3, "k") == 8000);
  CHECK(retry_delay_ms(p, 4, "k") == 16000);
  CHECK(retry_delay_ms(p, 5, "k") == 32000);
  CHECK(retry_delay_ms(p, 6, "k") == 60000);
  CHECK(retry_delay_ms(p, 7, "k") == 60000);
  // A cap below the initial delay wins from the first retry.
  p.max_delay_secs = 1;
  CHECK(retry_delay_ms(p, 1, "k") == 1000);
}

TEST_CASE("a zero initial delay retries at once", "[retry-policy]") {
  for (auto kind :
       {backoff_kind::fixed, backoff_kind::linear, backoff_kind::exponential}) {
    auto p = make_policy(kind, 0, 60, true);
    for (uint32_t attempt : {1u, 2u, 5u, 40u, 63u}) {
      INFO("kind " << static_cast<int>(kind) << ", attempt " << attempt);
      CHECK(retry_delay_ms(p, attempt, "k") == 0);
    }
  }
  // A zero cap as well (no_retry's shape).
  auto capped = make_policy(backoff_kind::exponential, 5, 0);
  CHECK(retry_delay_ms(capped, 3, "k") == 0);
}

TEST_CASE("a zero initial delay stays zero for any attempt", "[retry-policy]") {
  // 0 * 2^(attempt-1) is 0 however large the attempt: the delay must not
  // jump to the cap once the shift would overflow.
  for (auto kind :
       {backoff_kind::fixed, backoff_kind::linear, backoff_kind::exponential}) {
    for (bool jitter : {false, true}) {
      auto p = make_policy(kind, 0, 60, jitter);
      for (uint32_t attempt : {64u, 65u, 100u, 1000u, u32_max}) {
        INFO("kind " << static_cast<int>(kind) << ", jitter " << jitter
                     << ", attempt " << attempt);
        CHECK(retry_delay_ms(p, attempt, "k") == 0);
      }
    }
  }
}

TEST_CASE("huge attempts and delays saturate at the cap", "[retry-policy]") {
  SECTION("exponential") {
    auto p = make_policy(backoff_kind::exponential, 1, 3600);
    // Still below the cap at 12: 2^11 s.
    CHECK(retry_delay_ms(p, 12, "k") == 2048000);
    for (uint32_t attempt : {13u, 14u, 63u, 64u, 65u, 100u, 1000u, u32_max}) {
      INFO("attempt " << attempt);
      CHECK(retry_delay_ms(p, attempt, "k") == 3600000);
    }
  }
  SECTION("linear") {
    auto p = make_policy(backoff_kind::linear, 1000000, 7200);
    CHECK(retry_delay_ms(p, u32_max, "k") == 7200000);
  }
  SECTION("huge initial delay") {
    auto p = make_policy(backoff_kind::exponential, u64_max / 10, 86400);
    CHECK(retry_delay_ms(p, 1, "k") == 86400000);
    CHECK(retry_delay_ms(p, 40, "k") == 86400000);
  }
  SECTION("no effective cap: clamped to about 31 years, never wrapping") {
    // Delays are added to a millisecond clock: the longest is 10^9 s.
    constexpr uint64_t longest = 1000000000000ull;
    auto p = make_policy(backoff_kind::exponential, 1, u64_max);
    CHECK(retry_delay_ms(p, 1, "k") == 1000);
    CHECK(retry_delay_ms(p, 64, "k") == longest);
    CHECK(retry_delay_ms(p, u32_max, "k") == longest);
    auto linear = make_policy(backoff_kind::linear, u64_max / 1000, u64_max);
    CHECK(retry_delay_ms(linear, 3, "k") == longest);
    // Jitter on the largest delay stays within its bounds too.
    p.jitter = true;
    auto jittered = retry_delay_ms(p, 100, "k");
    CHECK(jittered >= longest / 2);
    CHECK(jittered <= longest);
  }
}

TEST_CASE("jitter scales the delay by a factor in [0.5, 1]", "[retry-policy]") {
  for (auto kind :
       {backoff_kind::fixed, backoff_kind::linear, backoff_kind::exponential}) {
    auto plain = make_policy(kind, 3, 100);
    auto jittered = plain;
    jittered.jitter = true;
    for (int key = 0; key < 50; ++key) {
      for (uint32_t attempt = 1; attempt <= 8; ++attempt) {
        auto k = "exec-" + std::to_string(key) + "/node";
        auto full = retry_delay_ms(plain, attempt, k);
        auto j = retry_delay_ms(jittered, attempt, k);
        INFO("kind " << static_cast<int>(kind) << ", key " << k << ", attempt "
                     << attempt << ": " << j << " of " << full);
        CHECK(j >= full / 2);
        CHECK(j <= full);
      }
    }
  }
}

TEST_CASE("jitter is a function of the key and the attempt", "[retry-policy]") {
  auto p = make_policy(backoff_kind::exponential, 10, 3600, true);
  SECTION("deterministic") {
    for (uint32_t attempt = 1; attempt <= 5; ++attempt) {
      auto first = retry_delay_ms(p, attempt, "e1/n");
      CHECK(retry_delay_ms(p, attempt, "e1/n") == first);
      auto copy = p;
      CHECK(retry_delay_ms(copy, attempt, std::string{"e1"} + "/n") == first);
    }
  }
  SECTION("differs across keys") {
    std::set<uint64_t> seen;
    for (int i = 0; i < 20; ++i)
      seen.insert(retry_delay_ms(p, 1, "exec-" + std::to_string(i) + "/node"));
    CHECK(seen.size() > 1);
    // Some delays are actually shortened, not all left at the full delay.
    CHECK(*seen.begin() < 10000);
  }
  SECTION("differs across attempts for a fixed delay") {
    auto fixed = make_policy(backoff_kind::fixed, 10, 3600, true);
    std::set<uint64_t> seen;
    for (uint32_t attempt = 1; attempt <= 20; ++attempt)
      seen.insert(retry_delay_ms(fixed, attempt, "e1/n"));
    CHECK(seen.size() > 1);
  }
}

TEST_CASE("retries_class", "[retry-policy]") {
  SECTION("an empty list retries every class, unclassified included") {
    auto p = default_retry_policy();
    REQUIRE(p.retryable_on.empty());
    CHECK(retries_class(p, ""));
    CHECK(retries_class(p, "timeout"));
    CHECK(retries_class(p, "anything_else"));
  }
  SECTION("a list retries only the classes listed") {
    auto p = default_retry_policy();
    p.retryable_on = {"timeout", "rate_limit"};
    CHECK(retries_class(p, "timeout"));
    CHECK(retries_class(p, "rate_limit"));
    CHECK_FALSE(retries_class(p, ""));
    CHECK_FALSE(retries_class(p, "io_error"));
    CHECK_FALSE(retries_class(p, "Timeout"));
    CHECK_FALSE(retries_class(p, "timeout "));
  }
}

TEST_CASE("class_refusal names why a retryable failure is not retried",
          "[retry-policy]") {
  auto p = default_retry_policy();
  SECTION("nothing to say when the class is retried") {
    CHECK(class_refusal(p, "").empty());
    p.retryable_on = {"rate_limit", "timeout"};
    CHECK(class_refusal(p, "timeout").empty());
  }
  SECTION("an unclassified failure is told how to give a class") {
    p.retryable_on = {"rate_limit", "timeout"};
    auto why = class_refusal(p, "");
    CHECK(why.find("rate_limit, timeout") != std::string::npos);
    CHECK(why.find("has none") != std::string::npos);
    CHECK(why.find("\"rate_limit\"") != std::string::npos);
  }
  SECTION("a class outside the list is named") {
    p.retryable_on = {"rate_limit"};
    auto why = class_refusal(p, "io_error");
    CHECK(why.find("'io_error'") != std::string::npos);
    CHECK(why.find("only the error classes rate_limit") != std::string::npos);
  }
}

TEST_CASE("policy_of_item reads to_json(policy)", "[retry-policy]") {
  SECTION("round trip") {
    retry_policy p;
    p.max_attempts = 7;
    p.backoff = backoff_kind::linear;
    p.initial_delay_secs = 4;
    p.max_delay_secs = 90;
    p.jitter = true;
    p.retryable_on = {"timeout", "io_error"};
    check_same(policy_of_item(to_json(p).dump()), p);
    p.backoff = backoff_kind::fixed;
    p.retryable_on.clear();
    check_same(policy_of_item(to_json(p).dump()), p);
  }
  SECTION("built-in policies round trip") {
    for (auto name : {"no_retry", "io_default", "llm_default"}) {
      INFO(name);
      auto p = builtin_retry_policy(name);
      REQUIRE(p);
      check_same(policy_of_item(to_json(*p).dump()), *p);
    }
  }
  SECTION("empty or unreadable text yields the default") {
    auto d = default_retry_policy();
    for (auto text : {"", "garbage", "{", "null", "[]", "42",
                      R"({"max_attempts":0})", R"({"backoff":"sometimes"})",
                      R"({"retryable_on":[1]})", R"({"initial_delay":-1})"}) {
      INFO("text: " << text);
      check_same(policy_of_item(text), d);
    }
  }
  SECTION("absent fields take their defaults") {
    auto p = policy_of_item(R"({"max_attempts":9})");
    CHECK(p.max_attempts == 9);
    CHECK(p.backoff == backoff_kind::exponential);
    CHECK(p.initial_delay_secs == 1);
    CHECK(p.max_delay_secs == 60);
    CHECK_FALSE(p.jitter);
    CHECK(p.retryable_on.empty());
  }
}

TEST_CASE("plan_attempt_failure follows the lease's policy", "[retry-policy]") {
  SECTION("fixed delay") {
    auto policy = make_policy(backoff_kind::fixed, 5, 60);
    auto lease = make_lease(policy, 1, 3);
    auto cmd = plan_attempt_failure(lease, "boom", true, 100000);
    CHECK(cmd.execution_id == "e1");
    CHECK(cmd.now_ms == 100000);
    REQUIRE(cmd.events.size() == 2);
    auto failed = caf::get<node_failed>(cmd.events[0]);
    CHECK(failed.node_id == "n");
    CHECK(failed.error == "boom");
    CHECK(failed.attempt == 1);
    CHECK(failed.retryable);
    auto retry = caf::get<retry_scheduled>(cmd.events[1]);
    CHECK(retry.node_id == "n");
    CHECK(retry.attempt == 2);
    CHECK(retry.delay_ms == 5000);
    REQUIRE(cmd.items.size() == 1);
    auto requeue = caf::get<requeue_op>(cmd.items[0]);
    CHECK(requeue.item_id == "e1/n");
    CHECK(requeue.fence == 7);
    CHECK(requeue.attempt == 2);
    CHECK(requeue.not_before_ms == 105000);
  }
  SECTION("linear delay grows with the failed attempt") {
    auto policy = make_policy(backoff_kind::linear, 3, 60);
    auto lease = make_lease(policy, 3, 5);
    auto cmd = plan_attempt_failure(lease, "boom", true, 1000);
    REQUIRE(cmd.events.size() == 2);
    CHECK(caf::get<retry_scheduled>(cmd.events[1]).delay_ms == 9000);
    CHECK(caf::get<retry_scheduled>(cmd.events[1]).attempt == 4);
    REQUIRE(cmd.items.size() == 1);
    CHECK(caf::get<requeue_op>(cmd.items[0]).not_before_ms == 10000);
  }
  SECTION("jitter keyed by execution and node") {
    auto policy = make_policy(backoff_kind::exponential, 8, 600, true);
    auto lease = make_lease(policy, 2, 4);
    auto cmd = plan_attempt_failure(lease, "boom", true, 50);
    auto expected = retry_delay_ms(policy, 2, "e1/n");
    CHECK(expected >= 8000);
    CHECK(expected <= 16000);
    REQUIRE(cmd.events.size() == 2);
    CHECK(caf::get<retry_scheduled>(cmd.events[1]).delay_ms == expected);
    REQUIRE(cmd.items.size() == 1);
    CHECK(caf::get<requeue_op>(cmd.items[0]).not_before_ms ==
          50 + static_cast<int64_t>(expected));
  }
  SECTION("an unreadable policy text plans with the default policy") {
    auto lease = make_lease(default_retry_policy(), 2, 3);
    lease.retry = "not json";
    auto cmd = plan_attempt_failure(lease, "boom", true, 0);
    REQUIRE(cmd.events.size() == 2);
    CHECK(caf::get<retry_scheduled>(cmd.events[1]).delay_ms == 2000);
  }
  SECTION("exhausted attempts dead-letter") {
    auto policy = make_policy(backoff_kind::fixed, 5, 60);
    auto lease = make_lease(policy, 3, 3);
    auto cmd = plan_attempt_failure(lease, "boom", true, 100);
    REQUIRE(cmd.events.size() == 1);
    auto failed = caf::get<node_failed>(cmd.events[0]);
    CHECK_FALSE(failed.retryable);
    CHECK(failed.attempt == 3);
    REQUIRE(cmd.items.size() == 1);
    auto dead = caf::get<dead_letter_op>(cmd.items[0]);
    CHECK(dead.item_id == "e1/n");
    CHECK(dead.fence == 7);
    CHECK(dead.error == "boom");
  }
  SECTION("a single-attempt lease dead-letters at once") {
    auto policy = *builtin_retry_policy("no_retry");
    auto lease = make_lease(policy, 1, 1);
    auto cmd = plan_attempt_failure(lease, "boom", true, 100);
    REQUIRE(cmd.events.size() == 1);
    CHECK_FALSE(caf::get<node_failed>(cmd.events[0]).retryable);
    REQUIRE(cmd.items.size() == 1);
    CHECK(caf::holds_alternative<dead_letter_op>(cmd.items[0]));
  }
  SECTION("a failure that is not retryable dead-letters at once") {
    auto policy = make_policy(backoff_kind::fixed, 5, 60);
    auto lease = make_lease(policy, 1, 3);
    auto cmd = plan_attempt_failure(lease, "bad input", false, 100);
    REQUIRE(cmd.events.size() == 1);
    auto failed = caf::get<node_failed>(cmd.events[0]);
    CHECK_FALSE(failed.retryable);
    CHECK(failed.attempt == 1);
    REQUIRE(cmd.items.size() == 1);
    CHECK(caf::get<dead_letter_op>(cmd.items[0]).error == "bad input");
  }
}

TEST_CASE("built-in retry policies and the default", "[retry-policy]") {
  SECTION("no_retry") {
    auto p = builtin_retry_policy("no_retry");
    REQUIRE(p);
    CHECK(p->max_attempts == 1);
    CHECK(retry_delay_ms(*p, 1, "k") == 0);
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
    CHECK(retries_class(*p, "connection_reset"));
    CHECK_FALSE(retries_class(*p, "rate_limit"));
    CHECK_FALSE(retries_class(*p, ""));
    // Capped at 30 s, jittered down to no less than half.
    auto late = retry_delay_ms(*p, 20, "e/n");
    CHECK(late >= 15000);
    CHECK(late <= 30000);
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
    CHECK(retries_class(*p, "server_error"));
    CHECK_FALSE(retries_class(*p, "io_error"));
    auto first = retry_delay_ms(*p, 1, "e/n");
    CHECK(first >= 1000);
    CHECK(first <= 2000);
  }
  SECTION("unknown names") {
    CHECK_FALSE(builtin_retry_policy("default"));
    CHECK_FALSE(builtin_retry_policy("IO_DEFAULT"));
    CHECK_FALSE(builtin_retry_policy(""));
  }
  SECTION("the default policy") {
    auto d = default_retry_policy();
    CHECK(d.max_attempts == 3);
    CHECK(d.backoff == backoff_kind::exponential);
    CHECK(d.initial_delay_secs == 1);
    CHECK(d.max_delay_secs == 60);
    CHECK_FALSE(d.jitter);
    CHECK(d.retryable_on.empty());
  }
}

TEST_CASE("retry_policy_from_json accepts custom error classes",
          "[retry-policy]") {
  auto p = retry_policy_from_json(json::parse(R"({
    "max_attempts": 4, "backoff": "fixed", "initial_delay": 2,
    "max_delay": 10, "jitter": false,
    "retryable_on": ["timeout", {"custom": "quota_exceeded"}, "io_error"]
  })"));
  CHECK(p.max_attempts == 4);
  CHECK(p.backoff == backoff_kind::fixed);
  CHECK(p.retryable_on ==
        std::vector<std::string>{"timeout", "quota_exceeded", "io_error"});
  CHECK(retries_class(p, "quota_exceeded"));
  CHECK_FALSE(retries_class(p, "custom"));
  // Written back as a plain class name, which reads the same.
  auto again = retry_policy_from_json(to_json(p));
  check_same(again, p);
  SECTION("malformed custom entries are refused") {
    for (auto text : {R"({"retryable_on": [{"custom": 5}]})",
                      R"({"retryable_on": [{"custom": "a", "x": 1}]})",
                      R"({"retryable_on": [{"name": "a"}]})",
                      R"({"retryable_on": [null]})"}) {
      INFO(text);
      try {
        retry_policy_from_json(json::parse(text));
        FAIL("accepted");
      } catch (const error& e) {
        CHECK(e.code() == error_code::bad_input);
        CHECK(std::string{e.what()}.find("retryable_on[0]") !=
              std::string::npos);
      }
    }
  }
}
