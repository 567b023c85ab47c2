// Damage to the journal from outside the hub, against the real binary: bytes flipped in
// journal.db pages (before a start, and while it runs), the WAL deleted or damaged after a
// SIGKILL, journal.db deleted, a data folder the hub may not write. Each time the hub must say
// so, naming the file and what to do, instead of carrying on as if nothing had happened; and
// starting anyway after a loss takes --accept-journal-loss and never hands an acknowledged
// sequence number out again.
#include "tests/integration/HubFixture.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include "core/store/Journal.h"
#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;
using itest::event;

namespace {

std::string config(const testkit::Receiver& rx, const std::string& outputExtra = "") {
    return R"(
hub:
  log_level: info
inputs:
  - { name: events, path: /v1/events }
outputs:
  - name: department
    url: )" +
           rx.url("/events") +
           R"(
    retry: { initial_delay_ms: 50, max_delay_ms: 200, max_attempts: 1000 }
)" + outputExtra +
           R"(routes:
  - name: cases
    match: { type: "gov.case.*" }
    to: [ department ]
)";
}

/// Posts `n` events with ids `<prefix>-<i>` on one connection; returns id -> seq of the 202s.
std::map<std::string, std::int64_t> post(const itest::Hub& hub, const std::string& prefix, int n,
                                         std::size_t padding = 0) {
    testkit::KeepAliveClient client("127.0.0.1", hub.port());
    std::map<std::string, std::int64_t> acked;
    for (int i = 0; i < n; ++i) {
        const std::string id = prefix + "-" + std::to_string(i);
        std::string body = event(id);
        if (padding)
            body.insert(body.size() - 1, R"(,"note":")" + std::string(padding, 'n') + "\"");
        auto r = client.post("/v1/events", body);
        REQUIRE(r.status == 202);
        acked[id] = nlohmann::json::parse(r.body)["seq"].get<std::int64_t>();
    }
    return acked;
}

std::int64_t highest(const std::map<std::string, std::int64_t>& acked) {
    std::int64_t h = 0;
    for (const auto& [id, seq] : acked)
        h = std::max(h, seq);
    return h;
}

/// XORs `n` bytes at `offset` of `file` with 0x5A.
void flip(const std::string& file, std::int64_t offset, int n) {
    const int fd = ::open(file.c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    std::string bytes(static_cast<std::size_t>(n), '\0');
    REQUIRE(::pread(fd, bytes.data(), bytes.size(), offset) == n);
    for (auto& b : bytes)
        b = static_cast<char>(b ^ 0x5A);
    REQUIRE(::pwrite(fd, bytes.data(), bytes.size(), offset) == n);
    ::close(fd);
}

/// The pages of the events table's leaves (dbstat), as the journal file holds them.
std::vector<std::int64_t> eventLeafPages(const std::string& journal) {
    store::Database db(journal, /*readOnly=*/true);
    store::Statement s(db, "SELECT pageno FROM dbstat WHERE name='events' AND pagetype='leaf'");
    std::vector<std::int64_t> pages;
    while (s.step())
        pages.push_back(s.int64(0));
    return pages;
}

bool quickCheckPasses(const std::string& journal) {
    store::Database db(journal, /*readOnly=*/true);
    try {
        store::Statement s(db, "PRAGMA quick_check");
        return s.step() && s.text(0) == "ok";
    } catch (const store::StoreError&) {
        return false;
    }
}

constexpr std::int64_t PageBytes = 4096;

std::string contents(const std::string& file) {
    return std::filesystem::exists(file) ? testkit::readFile(file) : std::string("(none)");
}

} // namespace

TEST_CASE("Storage: a journal with damaged pages is refused at start, naming the file",
          "[integration][storage]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, config(rx));
    hub.start();
    post(hub, "d", 200, 1000);
    REQUIRE(hub.terminate().success()); // a clean stop: everything is in journal.db
    const std::string journal = store::Journal::fileName(hub.dataDir());

    // The headers of a few of the events table's pages, as a failing disk would leave them.
    const auto pages = eventLeafPages(journal);
    REQUIRE(pages.size() > 10);
    for (std::size_t i = pages.size() / 2; i < pages.size() / 2 + 3; ++i)
        flip(journal, (pages[i] - 1) * PageBytes, 8);
    REQUIRE_FALSE(quickCheckPasses(journal));

    const auto end = hub.startRefused();
    CHECK(end.exited);
    CHECK(end.code == 1);
    const auto log = hub.log();
    CHECK_THAT(log, Catch::Contains("cannot open the journal"));
    CHECK_THAT(log, Catch::Contains(journal + " failed its check"));
    CHECK_THAT(log, Catch::Contains("restore " + journal + " from a backup"));
}

TEST_CASE("Storage: a page damaged while the hub runs makes it not ready and says so",
          "[integration][storage]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    rx.always(503); // the department is down: every delivery stays pending in the journal
    itest::Hub hub(dir, config(rx));
    hub.start();
    post(hub, "p", 200, 1000);
    REQUIRE(hub.terminate().success());
    const std::string journal = store::Journal::fileName(hub.dataDir());
    const auto pages = eventLeafPages(journal);
    REQUIRE(pages.size() > 10);

    hub.start(); // the journal passes its check
    CHECK(hub.metric("onewindow_journal_damaged") == 0);
    for (auto page : pages)
        flip(journal, (page - 1) * PageBytes, 8);
    // One more event: a commit, after which the hub's other connections read the journal
    // from the file again rather than from their caches (its answer does not matter here).
    testkit::postCloudEvent(hub.url(), event("after-damage"));
    // A reload that changes the output starts its lane afresh (an unchanged one keeps running
    // from memory): the new lane reads the pending deliveries, with their events, from the
    // journal, and meets the damage.
    dir.writeFile("hub.yaml", config(rx, "    read_timeout_ms: 9000\n"));
    REQUIRE(::kill(hub.pid(), SIGHUP) == 0);
    REQUIRE(testkit::waitUntil(
        [&] { return testkit::httpRequest("GET", hub.url("/readyz")).status == 503; }, 30s));
    const auto ready = testkit::httpRequest("GET", hub.url("/readyz"));
    CHECK_THAT(ready.body, Catch::Contains("journal damaged") && Catch::Contains(journal));
    CHECK(hub.metric("onewindow_journal_damaged") == 1);
    CHECK_THAT(hub.log(), Catch::Contains("the journal is damaged") &&
                              Catch::Contains("restore " + journal + " from a backup"));
    hub.kill();
}

namespace {

// Rounds of: start (nothing acknowledged may be missing), post, SIGKILL, `damage` the files.
// The checkpointer copies the WAL into journal.db about once a second, so after a kill the
// damage does not always take an acknowledged event with it; a start that finds nothing
// missing is right to go on. Rounds go on until one start refuses; its log is returned.
std::string roundsUntilRefused(itest::Hub& hub, std::map<std::string, std::int64_t>& acked,
                               const std::function<void()>& damage) {
    const std::string journal = store::Journal::fileName(hub.dataDir());
    hub.start();
    for (int round = 0; round < 10; ++round) {
        for (const auto& [id, seq] : acked) {
            auto again = testkit::postCloudEvent(hub.url(), event(id));
            INFO(id << " was acknowledged with seq " << seq << ", answered " << again.body);
            REQUIRE(again.status == 200); // a duplicate: it is still there, with its number
            REQUIRE(nlohmann::json::parse(again.body)["seq"] == seq);
        }
        for (auto& [id, seq] : post(hub, "r" + std::to_string(round), 100))
            acked[id] = seq;
        hub.kill();
        damage();
        const auto before = contents(journal) + contents(journal + "-wal");
        auto end = hub.startOrRefusal();
        if (!end) continue; // nothing was lost: checked at the top of the next round
        CHECK(end->exited);
        CHECK(end->code == 1);
        // Left as found, for a backup or a recovery (SQLite's last connection would otherwise
        // have copied the WAL into journal.db and deleted it).
        CHECK((contents(journal) + contents(journal + "-wal")) == before);
        return hub.log();
    }
    FAIL("no round lost an acknowledged event");
    return {};
}

// Started with --accept-journal-loss: the loss is logged at error level, and the next event
// continues after the highest acknowledged number instead of taking one an acknowledged
// event had.
void startAnywayWithoutReuse(itest::Hub& hub, const std::map<std::string, std::int64_t>& acked) {
    hub.runArgs = {"--accept-journal-loss"};
    hub.start();
    CHECK_THAT(hub.log(), Catch::Contains(R"("level":"error")") &&
                              Catch::Contains("starting without acknowledged events"));
    auto next = testkit::postCloudEvent(hub.url(), event("after-loss"));
    REQUIRE(next.status == 202);
    CHECK(nlohmann::json::parse(next.body)["seq"].get<std::int64_t>() > highest(acked));
    CHECK(hub.terminate().success());
    // From then on a plain start is fine again.
    hub.runArgs.clear();
    hub.start();
    CHECK(hub.terminate().success());
}

} // namespace

TEST_CASE("Storage: a WAL deleted after a SIGKILL is named at start, and numbers are not reused",
          "[integration][storage]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, config(rx));
    const std::string journal = store::Journal::fileName(hub.dataDir());
    std::map<std::string, std::int64_t> acked;
    const auto log =
        roundsUntilRefused(hub, acked, [&] { REQUIRE(std::filesystem::remove(journal + "-wal")); });
    CHECK_THAT(log, Catch::Contains("the WAL " + journal + "-wal was deleted"));
    CHECK_THAT(log, Catch::Contains("events up to " + std::to_string(highest(acked)) +
                                    " were acknowledged"));
    CHECK_THAT(log, Catch::Contains("--accept-journal-loss"));
    startAnywayWithoutReuse(hub, acked);
}

TEST_CASE("Storage: 64 bytes flipped in the WAL are named at start as missing events",
          "[integration][storage]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, config(rx));
    const std::string journal = store::Journal::fileName(hub.dataDir());
    std::map<std::string, std::int64_t> acked;
    // In the second frame (a 32-byte header, then frames of 24 + 4096 bytes): SQLite stops
    // reading the WAL at the first frame whose checksum fails.
    const auto log = roundsUntilRefused(hub, acked, [&] {
        REQUIRE(std::filesystem::file_size(journal + "-wal") > 32 + 2 * (24 + 4096));
        flip(journal + "-wal", 32 + (24 + 4096) + 100, 64);
    });
    CHECK_THAT(log, Catch::Contains("the WAL " + journal + "-wal is damaged"));
    CHECK_THAT(log, Catch::Contains("events up to " + std::to_string(highest(acked)) +
                                    " were acknowledged"));
    startAnywayWithoutReuse(hub, acked);
}

TEST_CASE("Storage: a deleted journal.db is named at start instead of starting over",
          "[integration][storage]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, config(rx));
    hub.start();
    const auto acked = post(hub, "j", 20);
    REQUIRE(hub.terminate().success());
    const std::string journal = store::Journal::fileName(hub.dataDir());
    for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(journal + suffix);

    const auto end = hub.startRefused();
    CHECK(end.code == 1);
    const auto log = hub.log();
    CHECK_THAT(log, Catch::Contains(journal + " was deleted or moved"));
    CHECK_THAT(log, Catch::Contains("events up to " + std::to_string(highest(acked)) +
                                    " were acknowledged"));
    startAnywayWithoutReuse(hub, acked);
}

TEST_CASE("Storage: a data folder the hub may not write is named, with what to do",
          "[integration][storage]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, config(rx));
    hub.start(); // a journal is there already
    post(hub, "ro", 5);
    REQUIRE(hub.terminate().success());
    // Root may write anywhere: the hub then runs as nobody, who may read the configuration
    // but not write the data folder.
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    REQUIRE(::chmod(hub.dataDir().c_str(), 0555) == 0);
    if (::geteuid() == 0)
        hub.wrapper = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
    const auto end = hub.startRefused();
    CHECK(end.code == 1);
    const auto log = hub.log();
    CHECK_THAT(log, Catch::Contains("The folder " + hub.dataDir() + " is not writable"));
    CHECK_THAT(log, Catch::Contains("--data-dir"));
    ::chmod(hub.dataDir().c_str(), 0755);
}
