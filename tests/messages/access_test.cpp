#include <catch2/catch.hpp>

#include "jamjet/messages/access.hpp"
#include "jamjet/messages/client_protocol.hpp"

using namespace jamjet;

TEST_CASE("roles permit what they are for and nothing else", "[access]") {
  CHECK(permits(access_role::viewer, access_need::read));
  CHECK_FALSE(permits(access_role::viewer, access_need::work));
  CHECK_FALSE(permits(access_role::viewer, access_need::operate));
  CHECK(permits(access_role::worker, access_need::work));
  CHECK_FALSE(permits(access_role::worker, access_need::read));
  CHECK_FALSE(permits(access_role::worker, access_need::operate));
  for (auto n : {access_need::read, access_need::work, access_need::operate})
    CHECK(permits(access_role::operator_, n));
}

TEST_CASE("role names round-trip and unknown names are refused", "[access]") {
  for (auto r :
       {access_role::viewer, access_role::worker, access_role::operator_})
    CHECK(parse_access_role(to_string(r)) == r);
  CHECK_FALSE(parse_access_role("admin"));
  CHECK_FALSE(parse_access_role(""));
  CHECK(refusal(access_role::viewer, access_need::operate) ==
        "a viewer token may only read; this needs to change executions");
}

TEST_CASE("an access list maps each token to its role", "[access]") {
  access_list acl;
  CHECK(acl.role_of("anything") == access_role::operator_); // no tokens
  acl.add("op-secret", access_role::operator_);
  acl.add("wk-secret", access_role::worker);
  acl.add("", access_role::viewer); // ignored
  acl.add("vw-secret", access_role::viewer);
  CHECK(acl.size() == 3);
  CHECK(acl.role_of("op-secret") == access_role::operator_);
  CHECK(acl.role_of("wk-secret") == access_role::worker);
  CHECK(acl.role_of("vw-secret") == access_role::viewer);
  CHECK_FALSE(acl.role_of(""));
  CHECK_FALSE(acl.role_of("op-secre"));
  CHECK_FALSE(acl.role_of("op-secretx"));
  CHECK_FALSE(acl.role_of("wk-secret "));
}

TEST_CASE("same_secret compares whole strings", "[access]") {
  CHECK(same_secret("abc", "abc"));
  CHECK_FALSE(same_secret("abc", "abd"));
  CHECK_FALSE(same_secret("ab", "abc"));
  CHECK_FALSE(same_secret(std::string("abc\0", 4), "abc"));
  CHECK(same_secret("", ""));
}

TEST_CASE("client requests need read or operate", "[access]") {
  CHECK(need_of(client_request{client_status{"e"}}) == access_need::read);
  CHECK(need_of(client_request{client_list{}}) == access_need::read);
  CHECK(need_of(client_request{client_events{"e"}}) == access_need::read);
  CHECK(need_of(client_request{client_await{"e"}}) == access_need::read);
  CHECK(need_of(client_request{client_start{}}) == access_need::operate);
  CHECK(need_of(client_request{client_register{}}) == access_need::operate);
  CHECK(need_of(client_request{client_cancel{}}) == access_need::operate);
  CHECK(need_of(client_request{client_signal{}}) == access_need::operate);
  CHECK(need_of(client_request{client_decide{}}) == access_need::operate);
}
