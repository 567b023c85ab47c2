#include <catch2/catch.hpp>

#include "core/store/Journal.h"
#include "tests/support/TempDir.h"

using namespace ow;

TEST_CASE("Journal stores events once per source and id and survives reopening", "[store]") {
    testkit::TempDir dir;
    {
        store::Journal j(dir.path(), "full");
        j.begin();
        auto seq = j.insertEvent("/a", "1", "t", "events", "anon", 1000, R"({"id":"1"})");
        j.commit();
        CHECK(seq == 1);
        auto found = j.findEvent("/a", "1");
        REQUIRE(found);
        CHECK(found->seq == 1);
        CHECK(found->acceptedAtMs == 1000);
        CHECK_FALSE(j.findEvent("/b", "1"));
        j.begin();
        CHECK(j.insertEvent("/a", "1", "t", "events", "anon", 2000, "{}") == 0); // already there
        j.commit();
        CHECK(j.findEvent("/a", "1")->acceptedAtMs == 1000);
    }
    store::Journal again(dir.path(), "full");
    CHECK(again.lastSeq() == 1);
    CHECK(again.routedCursor() == 0);
    auto events = again.eventsAfter(0, 10);
    REQUIRE(events.size() == 1);
    CHECK(*events[0].body == R"({"id":"1"})");
}

TEST_CASE("Journal outbox rows move between pending, dead and replay", "[store]") {
    testkit::TempDir dir;
    store::Journal j(dir.path(), "full");
    j.begin();
    auto seq = j.insertEvent("/a", "1", "gov.case.x", "events", "anon", 1000, R"({"id":"1"})");
    store::OutboxRow row;
    row.eventSeq = seq;
    row.output = "platform";
    row.route = "r";
    row.orderingKey = "C-1";
    row.nextAtMs = 1000;
    auto id = j.insertOutbox(row, 0, 1000);
    CHECK(j.insertOutbox(row, 0, 1000) == 0); // same (event, output): ignored
    j.commit();
    REQUIRE(id > 0);

    auto pending = j.pendingOutbox();
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].orderingKey == "C-1");
    CHECK(*pending[0].body == R"({"id":"1"})");

    j.updateRetry(id, 3, 5000, "HTTP 503");
    j.markDead(id, 4, "HTTP 400 Bad Request", 6000);
    CHECK(j.pendingOutbox().empty());
    CHECK(j.countOutbox(1) == 1);
    auto dead = j.deadLetters("", 10);
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].row.attempts == 4);
    CHECK(dead[0].row.lastError == "HTTP 400 Bad Request");
    CHECK(dead[0].eventType == "gov.case.x");
    CHECK(j.deadLetters("other", 10).empty());

    CHECK(j.requestReplay(id + 100, "") == 0);
    CHECK(j.requestReplay(id, "") == 1);
    auto replayed = j.takeReplayRequests(7000);
    REQUIRE(replayed.size() == 1);
    CHECK(replayed[0].attempts == 0);
    CHECK(j.countOutbox(0) == 1);
    CHECK(j.takeReplayRequests(8000).empty());
    j.deleteOutbox(id);
    CHECK(j.countOutbox(0) == 0);
}

TEST_CASE("Journal prunes only routed events without deliveries", "[store]") {
    testkit::TempDir dir;
    store::Journal j(dir.path(), "full");
    j.begin();
    auto a = j.insertEvent("/a", "old-routed", "t", "i", "c", 1000, "{}");
    auto b = j.insertEvent("/a", "old-pending", "t", "i", "c", 1000, "{}");
    j.insertEvent("/a", "old-unrouted", "t", "i", "c", 1000, "{}");
    j.insertEvent("/a", "new", "t", "i", "c", 9000, "{}");
    store::OutboxRow row;
    row.eventSeq = b;
    row.output = "o";
    j.insertOutbox(row, 0, 1000);
    j.setRoutedCursor(b);
    j.putIdempotency("c", "k-old", {"f", 202, "{}", 1000});
    j.putIdempotency("c", "k-new", {"f", 202, "{}", 9000});
    j.commit();
    (void)a;
    CHECK(j.prune(5000, 5000) == 1); // one event and one key
    CHECK(j.prune(5000, 5000) == 0);
    CHECK_FALSE(j.findEvent("/a", "old-routed"));
    CHECK(j.findEvent("/a", "old-pending"));
    CHECK(j.findEvent("/a", "old-unrouted"));
    CHECK(j.findEvent("/a", "new"));
    CHECK_FALSE(j.findIdempotency("c", "k-old"));
    CHECK(j.findIdempotency("c", "k-new"));
}

TEST_CASE("Journal prunes in bounded chunks", "[store]") {
    testkit::TempDir dir;
    store::Journal j(dir.path(), "full");
    j.begin();
    for (int i = 0; i < 1200; ++i)
        j.insertEvent("/a", std::to_string(i), "t", "i", "c", 1000, "{}");
    j.setRoutedCursor(j.lastSeq());
    j.commit();
    CHECK(j.prune(5000, 5000, 500) == 500);
    CHECK(j.prune(5000, 5000, 500) == 500);
    CHECK(j.prune(5000, 5000, 500) == 200);
    CHECK(j.prune(5000, 5000, 500) == 0);
    CHECK(j.lastSeq() == 0);
}

TEST_CASE("Journal relaxes fsync only when asked and restores the configured durability",
          "[store]") {
    testkit::TempDir dir;
    store::Journal j(dir.path(), "full");
    auto level = [&] {
        store::Statement s(j.database(), "PRAGMA synchronous");
        REQUIRE(s.step());
        return s.int64(0); // 1 NORMAL, 2 FULL, 3 EXTRA
    };
    CHECK(level() == 2);
    j.setRelaxedCommit(true);
    CHECK(level() == 1);
    j.setRelaxedCommit(false);
    CHECK(level() == 2);
}
