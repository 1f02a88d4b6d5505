#include <catch2/catch.hpp>

#include "jamjet/support/deadline_timer.hpp"

using jamjet::deadline_timer;

TEST_CASE("deadline_timer: the first arm sends a wake-up", "[timer]") {
  deadline_timer t;
  CHECK_FALSE(t.armed());
  auto g = t.arm_at(100);
  REQUIRE(g);
  CHECK(t.armed());
  CHECK(t.at() == 100);
  CHECK(t.fire(*g));
  CHECK_FALSE(t.armed());
}

TEST_CASE("deadline_timer: a later deadline reuses the pending wake-up",
          "[timer]") {
  deadline_timer t;
  auto g = t.arm_at(100);
  REQUIRE(g);
  CHECK_FALSE(t.arm_at(100));
  CHECK_FALSE(t.arm_at(250));
  CHECK(t.at() == 100);
  CHECK(t.fire(*g));
}

TEST_CASE("deadline_timer: an earlier deadline makes the old wake-up stale",
          "[timer]") {
  deadline_timer t;
  auto late = t.arm_at(500);
  auto early = t.arm_at(100);
  REQUIRE(late);
  REQUIRE(early);
  CHECK(*early != *late);
  CHECK(t.at() == 100);
  CHECK_FALSE(t.fire(*late)); // stale: ignored, the timer stays armed
  CHECK(t.armed());
  CHECK(t.fire(*early));
  CHECK_FALSE(t.fire(*early)); // a duplicate counts once
}

TEST_CASE("deadline_timer: disarm makes every pending wake-up stale",
          "[timer]") {
  deadline_timer t;
  auto g = t.arm_at(100);
  REQUIRE(g);
  t.disarm();
  CHECK_FALSE(t.armed());
  CHECK_FALSE(t.fire(*g));
  // Armed again, even for a later deadline, it sends a new wake-up.
  auto g2 = t.arm_at(900);
  REQUIRE(g2);
  CHECK_FALSE(t.fire(*g));
  CHECK(t.fire(*g2));
}

TEST_CASE("deadline_timer: after a wake-up any deadline arms anew", "[timer]") {
  deadline_timer t;
  auto g = t.arm_at(100);
  REQUIRE(t.fire(*g));
  auto g2 = t.arm_at(150);
  REQUIRE(g2);
  CHECK(t.at() == 150);
}
