#include <catch2/catch.hpp>

#include <set>

#include "core/store/Journal.h"
#include "core/store/PluginState.h"
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

TEST_CASE("Journal ids only grow: a delivered last outbox row's id is never handed out again",
          "[store]") {
    testkit::TempDir dir;
    store::Journal j(dir.path(), "full");
    auto addRow = [&](const std::string& id) {
        j.begin();
        auto seq = j.insertEvent("/a", id, "t", "events", "anon", 1000, "{}");
        store::OutboxRow row;
        row.eventSeq = seq;
        row.output = "o";
        row.route = "r";
        auto rowId = j.insertOutbox(row, 0, 1000);
        j.commit();
        return std::pair(seq, rowId);
    };
    auto [seq1, row1] = addRow("1");
    auto [seq2, row2] = addRow("2");
    // Both rows delivered (deleted): the table is empty, yet the next id continues upwards,
    // because the dispatcher reads a backlog "after id N" and must never miss a new row.
    j.begin();
    j.deleteOutbox(row1);
    j.deleteOutbox(row2);
    j.commit();
    auto [seq3, row3] = addRow("3");
    CHECK(row3 > row2);
    CHECK(seq3 > seq2);
    (void)seq1;
}

TEST_CASE("Journal migrates a schema 1 journal to growing ids, keeping every row", "[store]") {
    testkit::TempDir dir;
    {
        // A journal as OneWindow 0.1 wrote it: plain INTEGER PRIMARY KEY, routed up to seq 7,
        // the events themselves pruned except seq 5 (routed) with one pending delivery.
        store::Database db(store::Journal::fileName(dir.path()));
        db.exec(R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE events(seq INTEGER PRIMARY KEY, source TEXT NOT NULL, id TEXT NOT NULL,
  type TEXT NOT NULL, input TEXT NOT NULL, client TEXT NOT NULL, accepted_at INTEGER NOT NULL,
  body TEXT NOT NULL, UNIQUE(source, id));
CREATE TABLE outbox(id INTEGER PRIMARY KEY, event_seq INTEGER NOT NULL REFERENCES events(seq),
  output TEXT NOT NULL, route TEXT NOT NULL, okey TEXT NOT NULL, state INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
  last_error TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, dead_at INTEGER,
  UNIQUE(event_seq, output));
CREATE INDEX outbox_state ON outbox(state, id);
CREATE TABLE idempotency(client TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
  status INTEGER NOT NULL, response TEXT NOT NULL, created_at INTEGER NOT NULL,
  PRIMARY KEY(client, key));
CREATE INDEX events_accepted ON events(accepted_at);
CREATE INDEX idempotency_created ON idempotency(created_at);
INSERT INTO meta VALUES('schema_version', 1), ('routed_seq', 7);
INSERT INTO events VALUES(5, '/a', 'old', 't', 'events', 'anon', 1000, '{"id":"old"}');
INSERT INTO outbox(id, event_seq, output, route, okey, state, next_at, created_at)
  VALUES(3, 5, 'o', 'r', '', 0, 1000, 1000);
)sql");
    }
    store::Journal j(dir.path(), "full");
    CHECK(j.routedCursor() == 7);
    auto pending = j.pendingOutbox();
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].id == 3);
    CHECK(pending[0].eventSeq == 5);
    j.begin();
    auto seq = j.insertEvent("/a", "new", "t", "events", "anon", 2000, "{}");
    store::OutboxRow row;
    row.eventSeq = seq;
    row.output = "o";
    row.route = "r";
    auto id = j.insertOutbox(row, 0, 2000);
    j.commit();
    CHECK(seq > 7); // after the routing cursor, or the new event would never be routed
    CHECK(id > 3);
    store::Database check(store::Journal::fileName(dir.path()));
    store::Statement s(check, "SELECT value FROM meta WHERE key='schema_version'");
    REQUIRE(s.step());
    CHECK(s.int64(0) == 2);
    store::Statement idx(check, "SELECT count(*) FROM sqlite_master WHERE type='index' AND name IN "
                                "('outbox_state','events_accepted')");
    REQUIRE(idx.step());
    CHECK(idx.int64(0) == 2);
}

TEST_CASE("Plugin timers are swept page by page, each due timer once, in due order", "[store]") {
    testkit::TempDir dir;
    store::Journal j(dir.path(), "full");
    store::PluginState st(j.database());
    // 500 timers due at the same close of business, 10 later ones, and one not due yet.
    for (int i = 0; i < 500; ++i)
        st.setTimer("ledger", "case/" + std::to_string(1000 + i), 1000, "");
    for (int i = 0; i < 10; ++i)
        st.setTimer("ledger", "late/" + std::to_string(i), 2000 + i, "");
    st.setTimer("ledger", "future", 9000, "");
    st.setTimer("other", "case/1", 1000, "");
    std::vector<std::string> seen;
    std::optional<store::TimerKey> cursor;
    int pages = 0;
    while (true) {
        auto page = st.due("ledger", 5000, 200, cursor);
        if (page.empty()) break;
        ++pages;
        for (const auto& t : page)
            seen.push_back(t.name);
        cursor = store::TimerKey{page.back().dueMs, page.back().name};
    }
    CHECK(pages == 3);
    REQUIRE(seen.size() == 510);
    CHECK(seen.front() == "case/1000");
    CHECK(seen[499] == "case/1499");
    CHECK(seen.back() == "late/9");
    CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 510);
}
