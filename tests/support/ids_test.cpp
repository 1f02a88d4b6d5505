// Identifiers: event and execution ids are RFC 4122 version-4 UUIDs.

#include <catch2/catch.hpp>

#include <regex>
#include <set>

#include "jamjet/support/ids.hpp"

TEST_CASE("ids are distinct version-4 UUIDs in their text form", "[ids]") {
  std::regex form{"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                  "[0-9a-f]{12}$"};
  std::set<std::string> seen;
  for (int i = 0; i < 20000; ++i) {
    auto id = jamjet::make_uuid();
    REQUIRE(std::regex_match(id, form));
    seen.insert(id);
  }
  CHECK(seen.size() == 20000);
  CHECK(jamjet::item_id_for("e", "n") == "e/n");
}
