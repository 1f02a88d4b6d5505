// "Did you mean": the edit distance and the nearest known name.

#include <catch2/catch.hpp>

#include "jamjet/support/suggest.hpp"

using jamjet::edit_distance;
using jamjet::nearest_name;

TEST_CASE("edit distance counts insertions, deletions, substitutions and "
          "transpositions",
          "[suggest]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "abc") == 0);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("retry_polcy", "retry_policy") == 1);
  CHECK(edit_distance("stauts", "status") == 1); // one transposition
  CHECK(edit_distance("ab", "ba") == 1);
  CHECK(edit_distance("attempts", "max_attempts") == 4);
  // Symmetric.
  CHECK(edit_distance("flaw", "lawn") == edit_distance("lawn", "flaw"));
}

TEST_CASE("the nearest name is suggested only when it is close", "[suggest]") {
  std::vector<std::string> fields{
    "id", "kind", "retry_policy", "node_timeout_secs", "description", "labels"};
  CHECK(nearest_name("retry_polcy", fields) == std::string{"retry_policy"});
  CHECK(nearest_name("lables", fields) == std::string{"labels"});
  CHECK(nearest_name("retry_count", fields) == std::nullopt); // 5 edits
  CHECK(nearest_name("zzz", fields) == std::nullopt);
  CHECK(nearest_name("", fields) == std::nullopt);
  CHECK(nearest_name("kind", fields) == std::nullopt); // itself is no hint
  std::vector<std::string> commands{"run",    "resume", "status",
                                    "events", "serve",  "submit"};
  CHECK(nearest_name("stauts", commands) == std::string{"status"});
  CHECK(nearest_name("rn", commands) == std::string{"run"});
  // Short words need a short distance: "ab" is not "run".
  CHECK(nearest_name("ab", commands) == std::nullopt);
  // Ties go to the first candidate.
  CHECK(nearest_name("serv", commands) == std::string{"serve"});
  CHECK(nearest_name("x", {}) == std::nullopt);
}

TEST_CASE("a part of a longer name, or a name inside a longer word, is "
          "suggested when nothing is near",
          "[suggest]") {
  std::vector<std::string> policy{"max_attempts", "backoff", "initial_delay",
                                  "max_delay",    "jitter",  "retryable_on"};
  CHECK(nearest_name("attempts", policy) == std::string{"max_attempts"});
  std::vector<std::string> node{"id", "kind", "node_timeout_secs"};
  CHECK(nearest_name("node_timeout", node) ==
        std::string{"node_timeout_secs"}); // 5 edits, but a part of it
  CHECK(nearest_name("initial_delay_secs", policy) ==
        std::string{"initial_delay"});
  // The edit distance goes first: 'max_delays' is one edit from 'max_delay'.
  CHECK(nearest_name("max_delays", policy) == std::string{"max_delay"});
  // Short words are no evidence: 'max' is in two names.
  CHECK(nearest_name("max", policy) == std::nullopt);
  CHECK(nearest_name("retries", policy) == std::nullopt);
}
