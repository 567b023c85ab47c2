// Power cuts under load. A SIGKILL cannot show a missing fsync (the page cache survives it);
// only a power cut can. So the journal's writer, its WAL sync thread and its checkpointer run
// here, in the test process, on a PowerCutVfs (tests/support/PowerCutVfs.h): every write and
// sync of every journal file goes through it, the hub's own fdatasync of the WAL included,
// and the power is cut at a random one of them, hundreds of times, while four clients post
// events and a receiver takes what the writer hands out. After each cut, a new journal and
// writer open what the cut left, as a restarted hub would (with its start-up checks: quick
// check, the record of acknowledged events).
//
// What must hold with the shipped settings (`synchronous: full`):
// - every event answered 2xx before a cut is in the journal after it, with the same sequence
//   number, and is delivered (acked-then-lost 0);
// - no event answered 503 before a cut (a full disk is simulated now and then) is in the
//   journal or delivered;
// - no sequence number is given to two acknowledged events;
// - the start-up check never takes the journal for one that lost events.
// The negative control runs the same with `synchronous: normal` (no fsync before the answer)
// and must report acked-then-lost > 0: the harness can see a loss.
//
// OW_POWERCUT_SEED replays a run; the seed is printed with the figures.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "core/pipeline/JournalWriter.h"
#include "core/store/Checkpointer.h"
#include "core/util/Clock.h"
#include "tests/fakes/Events.h"
#include "tests/support/PowerCutVfs.h"
#include "tests/support/TempDir.h"
#include "tests/support/Wait.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

constexpr int Clients = 4;
constexpr int CutsPerJournal = 25;     // then a fresh data dir, so each journal stays small
constexpr std::uint64_t MaxOps = 2500; // a cut lands at a random write or sync up to this

std::uint64_t seedFromEnv(std::uint64_t fallback) {
    const char* s = std::getenv("OW_POWERCUT_SEED");
    return s ? std::strtoull(s, nullptr, 10) : fallback;
}

std::shared_ptr<const routing::RouteTable> routes() {
    config::RouteSpec r;
    r.name = "cases";
    r.match.type = {"gov.case.*"};
    r.to = {"department"};
    return std::make_shared<const routing::RouteTable>(
        std::vector<config::RouteSpec>{r},
        std::map<std::string, std::string>{{"department", "subject"}});
}

pipeline::AcceptItem item(const std::string& id) {
    auto e = fakes::makeEvent(id, "gov.case.submitted", "C-" + std::to_string(id.size() % 7),
                              {{"data", {{"note", std::string(120, 'x')}}}});
    auto body = event::toStructured(e);
    return {std::make_shared<const event::Event>(std::move(e)), std::move(body)};
}

const std::string Source = fakes::makeEvent("x").source;

struct Figures {
    int cuts = 0;
    std::size_t acked = 0;          ///< answered 2xx before a cut
    std::size_t ackedThenLost = 0;  ///< then missing after a cut (or under another seq)
    std::size_t undelivered = 0;    ///< acknowledged, kept, but never handed to the receiver
    std::size_t refused = 0;        ///< answered 503 before a cut (a simulated full disk)
    std::size_t refusedButKept = 0; ///< ... yet in the journal or delivered
    std::size_t indeterminate = 0;  ///< answered after the cut: no client would have heard it
    std::size_t seqReused = 0;      ///< an acknowledged seq given to another acknowledged event
    std::size_t lossesNamed = 0;    ///< openings refused: "acknowledged events are missing"
    std::size_t delivered = 0;      ///< distinct events handed to the receiver
    testkit::PowerCutVfs::Stats vfs;
};

std::ostream& operator<<(std::ostream& o, const Figures& f) {
    return o << "cuts=" << f.cuts << " acked=" << f.acked << " acked_then_lost=" << f.ackedThenLost
             << " undelivered=" << f.undelivered << " refused_503=" << f.refused
             << " refused_but_kept=" << f.refusedButKept << " indeterminate=" << f.indeterminate
             << " seq_reused=" << f.seqReused << " losses_named_at_start=" << f.lossesNamed
             << " delivered=" << f.delivered << " | vfs writes=" << f.vfs.writes
             << " syncs=" << f.vfs.syncs << " unsynced_dropped=" << f.vfs.droppedWrites
             << " torn=" << f.vfs.tornWrites << " kept=" << f.vfs.keptWrites
             << " disk_full=" << f.vfs.failedWrites;
}

/// One data dir through a series of cuts.
class PowerCutRun {
public:
    PowerCutRun(testkit::PowerCutVfs& vfs, std::string synchronous, std::mt19937_64& rng,
                Figures& f)
        : vfs_(vfs), sync_(std::move(synchronous)), rng_(rng), f_(f) {}

    /// Runs until the power is cut at a random write or sync.
    void cycle(int number) {
        auto journal = open();
        checkLastCycle(*journal);
        {
            store::Checkpointer checkpointer(store::Journal::fileName(dir_.path()), 16, 10);
            util::SystemClock clock;
            observability::Metrics metrics;
            const auto generation = vfs_.generation();
            pipeline::JournalWriter* writer = nullptr;
            pipeline::JournalWriter w(*journal, routes(), clock, metrics, 32,
                                      [&](std::vector<store::OutboxRow> rows) {
                                          for (const auto& r : rows) {
                                              if (vfs_.generation() != generation) return;
                                              deliver(r);
                                              writer->delivered(r.id);
                                          }
                                      });
            writer = &w;
            w.afterCommit = [&](int pages) { checkpointer.walGrew(pages); };
            auto pending = journal->pendingOutbox(); // as a restarted dispatcher reads them
            w.start();
            checkpointer.start();
            for (const auto& r : pending) {
                deliver(r);
                w.delivered(r.id);
            }
            vfs_.cutAfter(1 + rng_() % MaxOps, rng_() % 2 == 0);
            // Now and then the disk is full for a few WAL writes: those commits fail.
            const bool diskFull = rng_() % 3 == 0;
            const int fullAt = static_cast<int>(rng_() % 200);
            const int fullWrites = 1 + static_cast<int>(rng_() % 3);
            std::atomic<int> posted{0};
            std::vector<std::thread> clients;
            for (int c = 0; c < Clients; ++c)
                clients.emplace_back([&, c] {
                    for (int n = 0; vfs_.powered(); ++n) {
                        if (diskFull && posted.fetch_add(1) == fullAt)
                            vfs_.failWrites("-wal", fullWrites);
                        const std::string id = "j" + std::to_string(journalNo_) + "-c" +
                                               std::to_string(number) + "-t" + std::to_string(c) +
                                               "-" + std::to_string(n);
                        auto r = w.accept({item(id)}, "events", "load");
                        // Read after the answer: equal, so the answer came before the cut.
                        record(id, r, vfs_.generation() == generation);
                    }
                });
            const bool cut = vfs_.waitForCut(120'000);
            if (!cut) vfs_.cut(false); // so the clients stop; the test fails below
            for (auto& t : clients)
                t.join();
            w.stop();
            checkpointer.stop();
            REQUIRE(cut);
        }
        journal.reset();
        ++f_.cuts;
    }

    /// Opens what the last cut left, checks everything acknowledged in this data dir and
    /// delivers what is pending, as a hub started after the last cut would.
    void finish() {
        auto journal = open();
        checkLastCycle(*journal);
        for (const auto& [id, seq] : acked_) {
            auto found = journal->findEvent(Source, id);
            if (!found || found->seq != seq) lost_.insert(id);
        }
        for (const auto& id : refused_)
            if (journal->findEvent(Source, id)) keptRefused_.insert(id);
        util::SystemClock clock;
        observability::Metrics metrics;
        pipeline::JournalWriter* writer = nullptr;
        pipeline::JournalWriter w(*journal, routes(), clock, metrics, 32,
                                  [&](std::vector<store::OutboxRow> rows) {
                                      for (const auto& r : rows) {
                                          deliver(r);
                                          writer->delivered(r.id);
                                      }
                                  });
        writer = &w;
        auto pending = journal->pendingOutbox();
        w.start();
        for (const auto& r : pending) {
            deliver(r);
            w.delivered(r.id);
        }
        const auto undelivered = [&] {
            std::lock_guard lock(mu_);
            std::size_t n = 0;
            for (const auto& [id, seq] : acked_)
                if (!lost_.count(id) && !delivered_.count(id)) ++n;
            return n;
        };
        testkit::waitUntil([&] { return w.unroutedCount() == 0 && undelivered() == 0; }, 60s);
        w.sync();
        w.stop();
        f_.undelivered += undelivered();
        std::lock_guard lock(mu_);
        f_.acked += acked_.size();
        f_.ackedThenLost += lost_.size();
        f_.refused += refused_.size();
        for (const auto& id : refused_)
            if (delivered_.count(id)) keptRefused_.insert(id);
        f_.refusedButKept += keptRefused_.size();
        f_.delivered += delivered_.size();
    }

private:
    std::unique_ptr<store::Journal> open() {
        vfs_.powerOn();
        const store::JournalChecks asTheHub{true, true, false};
        try {
            return std::make_unique<store::Journal>(dir_.path(), sync_, asTheHub);
        } catch (const store::StoreError& e) {
            // Damage is a failure of the test; a named loss is counted (it must not happen
            // with `full`), and the hub would then be started with --accept-journal-loss.
            if (std::string(e.what()).find("acknowledged events are missing") == std::string::npos)
                FAIL("the journal did not open after a power cut: " << e.what());
            ++f_.lossesNamed;
            return std::make_unique<store::Journal>(dir_.path(), sync_,
                                                    store::JournalChecks{true, true, true});
        }
    }

    // Everything answered in the last cycle: acknowledged events kept with their seq, refused
    // ones absent.
    void checkLastCycle(store::Journal& journal) {
        std::lock_guard lock(mu_);
        for (const auto& id : lastAcked_) {
            auto found = journal.findEvent(Source, id);
            if (!found || found->seq != acked_.at(id)) lost_.insert(id);
        }
        for (const auto& id : lastRefused_)
            if (journal.findEvent(Source, id)) keptRefused_.insert(id);
        lastAcked_.clear();
        lastRefused_.clear();
    }

    void record(const std::string& id, const pipeline::AcceptResult& r, bool beforeCut) {
        std::lock_guard lock(mu_);
        if (!beforeCut) {
            ++f_.indeterminate;
            return;
        }
        if (!r.ok) {
            refused_.insert(id);
            lastRefused_.push_back(id);
            return;
        }
        const auto seq = r.outcomes.at(0).seq;
        acked_[id] = seq;
        lastAcked_.push_back(id);
        auto [it, fresh] = bySeq_.emplace(seq, id);
        if (!fresh && it->second != id) ++f_.seqReused;
    }

    void deliver(const store::OutboxRow& r) {
        const auto id = nlohmann::json::parse(*r.body).at("id").get<std::string>();
        std::lock_guard lock(mu_);
        ++delivered_[id];
    }

    testkit::PowerCutVfs& vfs_;
    std::string sync_;
    std::mt19937_64& rng_;
    Figures& f_;
    testkit::TempDir dir_{"ow-powercut"};
    static inline int journals_ = 0;
    int journalNo_ = ++journals_;

    std::mutex mu_;
    std::unordered_map<std::string, std::int64_t> acked_;
    std::unordered_map<std::int64_t, std::string> bySeq_;
    std::set<std::string> refused_, lost_, keptRefused_;
    std::vector<std::string> lastAcked_, lastRefused_;
    std::unordered_map<std::string, int> delivered_;
};

Figures runPowerCuts(const std::string& synchronous, int cuts, std::uint64_t seed) {
    testkit::PowerCutVfs vfs(seed);
    std::mt19937_64 rng(seed);
    Figures f;
    for (int done = 0; done < cuts;) {
        PowerCutRun run(vfs, synchronous, rng, f);
        for (int c = 0; c < CutsPerJournal && done < cuts; ++c, ++done)
            run.cycle(c);
        run.finish();
        REQUIRE(vfs.openFiles() == 0);
    }
    f.vfs = vfs.stats();
    return f;
}

} // namespace

TEST_CASE("Power cuts: every acknowledged event survives and is delivered with synchronous full",
          "[integration][powercut]") {
    const auto seed = seedFromEnv(20261207);
    const auto f = runPowerCuts("full", 300, seed);
    std::cout << "power-cut: synchronous=full seed=" << seed << " " << f << std::endl;
    CHECK(f.cuts == 300);
    CHECK(f.acked > 10'000); // the cuts landed under load
    CHECK(f.refused > 0);    // and some commits failed on a full disk before a cut
    CHECK(f.vfs.tornWrites > 0);
    CHECK(f.ackedThenLost == 0);
    CHECK(f.undelivered == 0);
    CHECK(f.refusedButKept == 0);
    CHECK(f.seqReused == 0);
    CHECK(f.lossesNamed == 0);
}

TEST_CASE("Power cuts, negative control: synchronous normal loses acknowledged events",
          "[integration][powercut]") {
    // Without the fsync before the answer the same cuts must show losses, or the harness
    // above could not see one.
    const auto seed = seedFromEnv(20261207);
    const auto f = runPowerCuts("normal", 100, seed);
    std::cout << "power-cut: synchronous=normal (negative control) seed=" << seed << " " << f
              << std::endl;
    CHECK(f.cuts == 100);
    CHECK(f.acked > 1'000);
    CHECK(f.ackedThenLost > 0);
}
