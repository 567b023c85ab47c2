#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>

#include "core/pipeline/JournalWriter.h"
#include "tests/fakes/Events.h"
#include "tests/fakes/ManualClock.h"
#include "tests/support/TempDir.h"
#include "tests/support/Wait.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

struct RowRecorder {
    std::mutex mu;
    std::vector<store::OutboxRow> rows;
    void operator()(std::vector<store::OutboxRow> r) {
        std::lock_guard lock(mu);
        for (auto& x : r)
            rows.push_back(std::move(x));
    }
    std::size_t size() {
        std::lock_guard lock(mu);
        return rows.size();
    }
};

std::shared_ptr<const routing::RouteTable> casesToPlatform() {
    config::RouteSpec r;
    r.name = "cases";
    r.match.type = {"gov.case.*"};
    r.to = {"platform"};
    config::RouteSpec d;
    d.name = "dept";
    d.match.type = {"gov.dept.*"};
    d.to = {"dept-{department}"};
    return std::make_shared<const routing::RouteTable>(
        std::vector<config::RouteSpec>{r, d},
        std::map<std::string, std::string>{{"platform", "subject"}});
}

/// What most tests here start from: a journal in a temporary folder and a writer on it, not
/// started yet (a test may set options first), whose rows go to `rec`.
struct WriterRig {
    testkit::TempDir dir;
    store::Journal journal{dir.path(), "full"};
    observability::Metrics metrics;
    fakes::ManualClock clock;
    RowRecorder rec;
    pipeline::JournalWriter w{journal, casesToPlatform(), clock, metrics, 100, std::ref(rec)};
};

pipeline::AcceptItem item(const event::Event& e) {
    return {std::make_shared<const event::Event>(e), event::toStructured(e)};
}

} // namespace

TEST_CASE_METHOD(WriterRig, "JournalWriter commits, de-duplicates and routes accepted events",
                 "[pipeline]") {
    w.start();

    auto r1 =
        w.accept({item(fakes::makeEvent("e1", "gov.case.submitted", "C-1"))}, "events", "anon");
    REQUIRE(r1.ok);
    REQUIRE(r1.outcomes.size() == 1);
    CHECK(r1.outcomes[0].status == store::AcceptOutcome::Status::Accepted);

    auto r2 =
        w.accept({item(fakes::makeEvent("e1", "gov.case.submitted", "C-1"))}, "events", "anon");
    REQUIRE(r2.ok);
    CHECK(r2.outcomes[0].status == store::AcceptOutcome::Status::Duplicate);
    CHECK(r2.outcomes[0].seq == r1.outcomes[0].seq);

    // One batch: two new events, one matching no route, one duplicate inside the batch.
    auto r3 = w.accept({item(fakes::makeEvent("e2", "gov.case.accepted", "C-1")),
                        item(fakes::makeEvent("e3", "gov.other")),
                        item(fakes::makeEvent("e2", "gov.case.accepted", "C-1"))},
                       "events", "anon");
    REQUIRE(r3.ok);
    CHECK(r3.outcomes[0].status == store::AcceptOutcome::Status::Accepted);
    CHECK(r3.outcomes[1].status == store::AcceptOutcome::Status::Accepted);
    CHECK(r3.outcomes[2].status == store::AcceptOutcome::Status::Duplicate);

    REQUIRE(testkit::waitUntil([&] { return rec.size() == 2; }, 5s));
    CHECK(rec.rows[0].orderingKey == "C-1");
    CHECK(rec.rows[0].eventSeq < rec.rows[1].eventSeq);
    w.stop();
    CHECK(journal.routedCursor() == journal.lastSeq());
    CHECK(journal.countOutbox(0) == 2);
}

TEST_CASE_METHOD(WriterRig, "JournalWriter dead-letters deliveries whose output cannot be resolved",
                 "[pipeline]") {
    w.start();
    REQUIRE(w.accept({item(fakes::makeEvent("d1", "gov.dept.x", "", {{"department", "nowhere"}}))},
                     "i", "c")
                .ok);
    REQUIRE(testkit::waitUntil([&] { return w.deadLetterCount() == 1; }, 5s));
    w.stop();
    auto dead = journal.deadLetters("", 10);
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].row.output == "dept-nowhere");
    CHECK_THAT(dead[0].row.lastError, Catch::Contains("not defined"));
    CHECK(rec.size() == 0);
}

TEST_CASE("JournalWriter routes events left unrouted by a crash when it starts", "[pipeline]") {
    testkit::TempDir dir;
    {
        // What a crash between accept and route leaves behind: events, cursor at 0.
        store::Journal j(dir.path(), "full");
        j.begin();
        for (int i = 0; i < 2500; ++i) {
            auto e = fakes::makeEvent("c" + std::to_string(i), "gov.case.submitted",
                                      "C-" + std::to_string(i % 7));
            j.insertEvent(e.source, e.id, e.type, "i", "c", 1, event::toStructured(e));
        }
        j.commit();
    }
    store::Journal journal(dir.path(), "full");
    observability::Metrics metrics;
    fakes::ManualClock clock;
    RowRecorder rec;
    pipeline::JournalWriter w(journal, casesToPlatform(), clock, metrics, 100, std::ref(rec));
    w.start();
    // New events arriving meanwhile are routed after the backlog, never before it.
    REQUIRE(w.accept({item(fakes::makeEvent("late", "gov.case.submitted", "C-1"))}, "i", "c").ok);
    REQUIRE(testkit::waitUntil([&] { return rec.size() == 2501; }, 10s));
    w.stop();
    std::lock_guard lock(rec.mu);
    for (std::size_t i = 1; i < rec.rows.size(); ++i)
        REQUIRE(rec.rows[i - 1].eventSeq < rec.rows[i].eventSeq);
    CHECK(journal.routedCursor() == journal.lastSeq());
}

TEST_CASE_METHOD(
    WriterRig, "JournalWriter answers a failed commit as not accepted and keeps what was accepted",
    "[pipeline]") {
    // Simulate a full disk: SQLite answers SQLITE_FULL once the file reaches its page limit.
    // Set before the writer starts: only the writer thread may use the connection after that.
    journal.database().exec("PRAGMA max_page_count=40");
    w.start();
    REQUIRE(w.accept({item(fakes::makeEvent("before", "gov.case.a", "C-1"))}, "i", "c").ok);
    REQUIRE(testkit::waitUntil([&] { return rec.size() == 1; }, 5s));

    std::string big(200000, 'x');
    bool failed = false;
    for (int i = 0; i < 50 && !failed; ++i) {
        auto e = fakes::makeEvent("big" + std::to_string(i), "gov.case.a", "C-2", {{"data", big}});
        auto r = w.accept({item(e)}, "i", "c");
        if (!r.ok) {
            failed = true;
            CHECK_FALSE(r.error.empty());
            CHECK_FALSE(w.healthy());
        }
    }
    REQUIRE(failed);
    clock.advance(pipeline::JournalWriter::UnhealthyAfterFailureMs);
    CHECK(w.healthy());
    w.stop();
    CHECK(journal.findEvent("/test", "before"));
}

TEST_CASE_METHOD(WriterRig,
                 "JournalWriter prunes events past their retention, keeping those with deliveries",
                 "[pipeline]") {
    w.eventRetentionMs = 60'000;
    w.start();
    REQUIRE(w.accept({item(fakes::makeEvent("unmatched-1", "gov.other")),
                      item(fakes::makeEvent("unmatched-2", "gov.other")),
                      item(fakes::makeEvent("pending-1", "gov.case.a", "C-1"))},
                     "i", "c")
                .ok);
    REQUIRE(testkit::waitUntil([&] { return rec.size() == 1; }, 5s));
    clock.advance(11 * 60'000);                // past the retention and the prune interval
    store::Journal reader(dir.path(), "full"); // a second connection: the writer owns the first
    REQUIRE(testkit::waitUntil([&] { return !reader.findEvent("/test", "unmatched-1"); }, 10s));
    CHECK_FALSE(reader.findEvent("/test", "unmatched-2"));
    CHECK(reader.findEvent("/test", "pending-1")); // its delivery is still pending
    // A pruned event is outside the de-duplication window: it is accepted again.
    auto again = w.accept({item(fakes::makeEvent("unmatched-1", "gov.other"))}, "i", "c");
    REQUIRE(again.ok);
    CHECK(again.outcomes[0].status == store::AcceptOutcome::Status::Accepted);
    w.stop();
}

namespace {

/// Hands a processor commit to the writer and waits for its outcome.
pipeline::CommitOutcome commitAndWait(pipeline::JournalWriter& w, pipeline::ProcessorCommit c) {
    std::promise<pipeline::CommitOutcome> p;
    auto f = p.get_future();
    w.processed(std::move(c),
                [&p](pipeline::CommitOutcome o, const std::string&) { p.set_value(o); });
    return f.get();
}

} // namespace

TEST_CASE_METHOD(WriterRig, "JournalWriter commits a processor's effects with the row, once",
                 "[pipeline]") {
    w.start();
    REQUIRE(w.accept({item(fakes::makeEvent("e1", "gov.case.submitted", "C-1")),
                      item(fakes::makeEvent("e2", "gov.case.submitted", "C-2"))},
                     "events", "anon")
                .ok);
    REQUIRE(testkit::waitUntil([&] { return rec.size() == 2; }, 5s));
    const auto row1 = rec.rows[0].id, row2 = rec.rows[1].id;

    pipeline::ProcessorCommit c;
    c.instance = "ledger";
    c.generation = 1;
    c.rowId = row1;
    c.state = {{"count", "1"}, {"gone", std::nullopt}};
    c.timers = {{"remind", {5000, "C-1"}}};
    c.emitted = {item(fakes::makeEvent("x1", "gov.case.processed", "C-1"))};
    CHECK(commitAndWait(w, c) == pipeline::CommitOutcome::Committed);
    // The emitted event was journaled and routed like an accepted one.
    REQUIRE(testkit::waitUntil([&] { return rec.size() == 3; }, 5s));

    // The same row again (a lane that timed out and processed it twice): nothing applied,
    // and later commits of that generation, which may have read its effects, are refused.
    c.state = {{"count", "2"}};
    c.emitted = {item(fakes::makeEvent("x2", "gov.case.processed", "C-1"))};
    CHECK(commitAndWait(w, c) == pipeline::CommitOutcome::AlreadyHandled);
    pipeline::ProcessorCommit next;
    next.instance = "ledger";
    next.generation = 1;
    next.rowId = row2;
    next.state = {{"count", "3"}};
    CHECK(commitAndWait(w, next) == pipeline::CommitOutcome::Failed);
    // The next generation is taken.
    next.generation = 2;
    next.state = {{"count", "2"}};
    CHECK(commitAndWait(w, next) == pipeline::CommitOutcome::Committed);

    // A fired timer is removed with its effects; a second firing is refused.
    pipeline::ProcessorCommit fired;
    fired.instance = "ledger";
    fired.generation = 2;
    fired.fired = pipeline::ProcessorCommit::Fired{"remind", 5000};
    fired.state = {{"reminded", "yes"}};
    CHECK(commitAndWait(w, fired) == pipeline::CommitOutcome::Committed);
    fired.generation = 3;
    CHECK(commitAndWait(w, fired) == pipeline::CommitOutcome::AlreadyHandled);
    w.stop();

    store::PluginState st(journal.database());
    CHECK(st.get("ledger", "count") == std::optional<std::string>("2"));
    CHECK(st.get("ledger", "reminded") == std::optional<std::string>("yes"));
    CHECK_FALSE(st.get("other", "count"));
    CHECK_FALSE(st.timer("ledger", "remind"));
    CHECK(journal.countOutbox(0) == 1); // only the emitted event's delivery is left
    CHECK(journal.findEvent(fakes::makeEvent("x1").source, "x1"));
    CHECK_FALSE(journal.findEvent(fakes::makeEvent("x2").source, "x2"));
}

TEST_CASE_METHOD(WriterRig,
                 "JournalWriter takes in events another process submitted, once, and routes them",
                 "[pipeline]") {
    w.start();

    // A CLI command's own connection to the same file, while the writer runs.
    store::Journal other(dir.path(), "full");
    auto submitted = [](const std::string& id) {
        auto e = fakes::makeEvent(id, "gov.case.concluded", "C-9");
        return store::SubmittedEvent{e.source, e.id, e.type, "cli:test", event::toStructured(e)};
    };
    other.submit({submitted("x1"), submitted("x2")}, 0);
    // The same events submitted again (the command run twice): journaled once.
    other.submit({submitted("x1")}, 0);
    REQUIRE(testkit::waitUntil(
        [&] {
            clock.advance(1000); // the inbox is looked at once a (hub) second
            return rec.size() >= 2;
        },
        10s));
    REQUIRE(testkit::waitUntil([&] { return !other.hasSubmitted(); }, 10s));
    CHECK(rec.size() == 2);
    CHECK(journal.lastSeq() == 2);
    CHECK(journal.findEvent(submitted("x1").source, "x1").has_value());
    w.stop();
}

TEST_CASE_METHOD(WriterRig, "JournalWriter sync returns once queued delivery results are committed",
                 "[pipeline]") {
    // What a reload relies on: the old lanes' results are in the journal before the new
    // lanes read it, or a delivered row would be read as pending and delivered again.
    w.start();
    constexpr int Events = 200;
    for (int i = 0; i < Events; ++i)
        REQUIRE(w.accept({item(fakes::makeEvent("e" + std::to_string(i), "gov.case.submitted",
                                                "C-" + std::to_string(i)))},
                         "events", "anon")
                    .ok);
    REQUIRE(testkit::waitUntil([&] { return rec.size() == Events; }, 5s));

    // Read as a new lane does: another connection.
    store::Database reader(store::Journal::fileName(dir.path()), /*readOnly=*/true);
    auto pending = [&] {
        store::Statement s(reader, "SELECT count(*) FROM outbox WHERE state=0");
        REQUIRE(s.step());
        return s.int64(0);
    };
    CHECK(pending() == Events);
    for (const auto& row : rec.rows)
        w.delivered(row.id);
    w.sync();
    CHECK(pending() == 0);
    w.stop();
    w.sync(); // after the stop: returns at once
}

namespace {
// Stands in for the WAL's fdatasync: holds every sync until the test opens the gate, and
// counts them. The real sync runs after it, so the journal is durable as configured.
struct WalGate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    int entered = 0;
    std::function<void()> real;
    void operator()() {
        {
            std::unique_lock lock(mu);
            ++entered;
            cv.notify_all();
            cv.wait(lock, [this] { return open; });
        }
        real();
    }
    bool waitEntered(int n) {
        std::unique_lock lock(mu);
        return cv.wait_for(lock, std::chrono::seconds(5), [&] { return entered >= n; });
    }
    void release() {
        std::lock_guard lock(mu);
        open = true;
        cv.notify_all();
    }
};
} // namespace

TEST_CASE_METHOD(WriterRig,
                 "JournalWriter answers and routes an accepted event only after the WAL is synced",
                 "[pipeline]") {
    // Durability is what a 202 promises. The commit writes the WAL without fsync; the sync
    // runs on its own thread while the writer goes on. Until it returns, nothing of the
    // transaction may leave: no answer, no row to the dispatcher.
    //
    // No timing involved: the gate holds the sync, and the test waits until the writer has
    // committed a later transaction, so it is done with the event's one. Had it answered
    // without waiting for the sync, it would have done so before that commit.
    auto gate = std::make_shared<WalGate>();
    gate->real = [this] { journal.syncWal(); };
    w.setWalSync([gate] { (*gate)(); });
    std::atomic<int> commits{0};
    w.afterCommit = [&commits](int) { ++commits; };
    std::atomic<bool> answered{false};
    std::promise<pipeline::AcceptResult> result;
    w.start();
    w.acceptAsync({item(fakes::makeEvent("e1", "gov.case.submitted", "C-1"))}, "events", "anon", {},
                  {}, [&](pipeline::AcceptResult r) {
                      answered = true;
                      result.set_value(std::move(r));
                  });
    REQUIRE(gate->waitEntered(1)); // committed (and counted), and its sync is held
    const int committed = commits.load();
    w.delivered(424242); // a transaction of its own that needs no sync (no such row: no-op)
    REQUIRE(testkit::waitUntil([&] { return commits.load() > committed; }, 5s));
    CHECK_FALSE(answered.load());
    CHECK(rec.size() == 0);
    gate->release();
    auto r = result.get_future().get();
    REQUIRE(r.ok);
    CHECK(r.outcomes.at(0).status == store::AcceptOutcome::Status::Accepted);
    REQUIRE(testkit::waitUntil([&] { return rec.size() == 1; }, 5s));
    w.stop();
}

TEST_CASE_METHOD(WriterRig, "JournalWriter answers 503 for good once the WAL cannot be synced",
                 "[pipeline]") {
    // After a failed fsync the kernel may have dropped the pages: what the disk holds is
    // unknown, so no commit is answered as accepted again until the hub is restarted.
    w.setWalSync([] { throw store::StoreError(5, "fdatasync of the journal's WAL failed: EIO"); });
    w.start();
    auto first =
        w.accept({item(fakes::makeEvent("e1", "gov.case.submitted", "C-1"))}, "events", "anon");
    CHECK_FALSE(first.ok);
    CHECK(first.error.find("could not be made durable") != std::string::npos);
    CHECK(first.error.find("EIO") != std::string::npos);
    auto second =
        w.accept({item(fakes::makeEvent("e2", "gov.case.submitted", "C-2"))}, "events", "anon");
    CHECK_FALSE(second.ok);
    CHECK_FALSE(w.healthy());
    CHECK(rec.size() == 0); // nothing handed to the dispatcher
    w.stop();
}
