// Bearer tokens, roles and the per-address limit on failures, on the
// guard's own clock.

#include <catch2/catch.hpp>

#include "jamjet/http/auth.hpp"

using namespace jamjet;
using namespace jamjet::http;
using namespace std::chrono_literals;

TEST_CASE("http auth: the token of a bearer header") {
  CHECK(bearer_token("Bearer abc") == std::optional<std::string>{"abc"});
  CHECK(bearer_token("bearer  abc ") == std::optional<std::string>{"abc"});
  CHECK_FALSE(bearer_token(""));
  CHECK_FALSE(bearer_token("Bearer"));
  CHECK_FALSE(bearer_token("Bearer "));
  CHECK_FALSE(bearer_token("Basic abc"));
  CHECK_FALSE(bearer_token("Bearerabc"));
}

TEST_CASE("http auth: what a route needs") {
  CHECK(need_of("GET", "/executions") == access_need::read);
  CHECK(need_of("GET", "/work-items/x") == access_need::read);
  CHECK(need_of("POST", "/work-items/claim") == access_need::work);
  CHECK(need_of("POST", "/work-items/e/n/complete") == access_need::work);
  CHECK(need_of("POST", "/executions") == access_need::operate);
  CHECK(need_of("POST", "/work-items") == access_need::operate);
}

TEST_CASE("http auth: roles by token, and an address blocked after too "
          "many failures") {
  access_list acl;
  acl.add("op", access_role::operator_);
  acl.add("wk", access_role::worker);
  net_limits lim;
  lim.max_auth_failures = 3;
  lim.auth_window = 10s;
  lim.auth_backoff = 60s;
  auth_guard g{acl, lim};
  auto t0 = auth_guard::clock::time_point{} + 1000s;
  CHECK(g.check("a", "Bearer wk", t0).role == access_role::worker);
  CHECK(g.check("a", "Bearer op", t0).role == access_role::operator_);
  CHECK(g.check("a", "", t0).what == auth_guard::outcome::denied);
  CHECK(g.check("a", "Bearer x", t0 + 1s).what == auth_guard::outcome::denied);
  // Failures outside the window are forgotten.
  CHECK(g.check("a", "Bearer x", t0 + 20s).what == auth_guard::outcome::denied);
  CHECK(g.check("a", "Bearer op", t0 + 20s).what == auth_guard::outcome::ok);
  CHECK(g.check("a", "Bearer x", t0 + 21s).what == auth_guard::outcome::denied);
  CHECK(g.check("a", "Bearer x", t0 + 22s).what == auth_guard::outcome::denied);
  // Third failure within the window: blocked, the right token included.
  auto v = g.check("a", "Bearer op", t0 + 30s);
  CHECK(v.what == auth_guard::outcome::blocked);
  CHECK(v.retry_after > 0s);
  // Other addresses are unaffected.
  CHECK(g.check("b", "Bearer op", t0 + 30s).what == auth_guard::outcome::ok);
  CHECK(g.check("a", "Bearer op", t0 + 30s + 61s).what ==
        auth_guard::outcome::ok);
}

TEST_CASE("http auth: an empty list makes every peer an operator") {
  auth_guard g{access_list{}, net_limits{}};
  CHECK(g.open());
  auto v = g.check("a", "");
  CHECK(v.what == auth_guard::outcome::ok);
  CHECK(v.role == access_role::operator_);
}
