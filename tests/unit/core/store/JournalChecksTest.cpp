// What the hub's journal checks when it opens: its pages (quick_check) and the record of
// acknowledged events kept beside it (see AckedSeqRecord).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/store/Journal.h"
#include "tests/support/TempDir.h"

using namespace ow;

namespace {

const store::JournalChecks AsTheHub{true, true, false};
const store::JournalChecks AcceptingLoss{true, true, true};

std::int64_t addEvents(store::Journal& j, int n) {
    j.begin();
    std::int64_t seq = 0;
    for (int i = 0; i < n; ++i)
        seq = j.insertEvent("/s", "e" + std::to_string(j.highestSeq() + 1), "t", "i", "c", 1, "{}");
    j.commit();
    return seq;
}

std::string openError(const std::string& dir, store::JournalChecks checks) {
    try {
        store::Journal j(dir, "full", checks);
    } catch (const store::StoreError& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("Journal names a loss of acknowledged events at open, and goes on past them only "
          "when told to",
          "[store]") {
    testkit::TempDir dir;
    const std::string db = store::Journal::fileName(dir.path());
    {
        store::Journal j(dir.path(), "full", AsTheHub);
        const auto last = addEvents(j, 5);
        j.recordAcked(last); // as the writer does once they are durable and answered
    }
    // A reopening with everything in place is quiet.
    { store::Journal j(dir.path(), "full", AsTheHub); }

    for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(db + suffix);
    const auto why = openError(dir.path(), AsTheHub);
    CHECK_THAT(why, Catch::Contains(db + " holds events up to sequence number 0, but events up "
                                         "to 5 were acknowledged"));
    CHECK_THAT(why, Catch::Contains(db + " was deleted or moved"));
    CHECK_THAT(why, Catch::Contains("--accept-journal-loss"));
    CHECK_FALSE(std::filesystem::exists(db)); // refused before anything was created

    {
        store::Journal j(dir.path(), "full", AcceptingLoss);
        CHECK(addEvents(j, 1) == 6); // an acknowledged number is never handed out again
    }
    // Once started anyway, the next start is quiet again.
    CHECK(openError(dir.path(), AsTheHub).empty());
}

TEST_CASE("Journal refuses a damaged record of acknowledged events unless told to rewrite it",
          "[store]") {
    testkit::TempDir dir;
    {
        store::Journal j(dir.path(), "full", AsTheHub);
        j.recordAcked(addEvents(j, 3));
    }
    const auto record = store::AckedSeqRecord::fileName(dir.path());
    {
        std::fstream f(record, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(35);
        f.put('9'); // one digit of the number changed
    }
    CHECK_THAT(openError(dir.path(), AsTheHub),
               Catch::Contains(record + " is damaged") && Catch::Contains("--accept-journal-loss"));
    { store::Journal j(dir.path(), "full", AcceptingLoss); }
    CHECK(store::AckedSeqRecord::read(sqlite3_vfs_find(nullptr), record) ==
          std::optional<std::int64_t>(3));
}

TEST_CASE("Journal refuses damaged pages at open, naming the file and what to do", "[store]") {
    testkit::TempDir dir;
    const std::string db = store::Journal::fileName(dir.path());
    {
        store::Journal j(dir.path(), "full");
        j.begin();
        for (int i = 0; i < 200; ++i)
            j.insertEvent("/s", "e" + std::to_string(i), "t", "i", "c", 1, std::string(500, 'x'));
        j.commit();
    } // the last connection checkpoints everything into journal.db
    {
        // The header of page 10 (4096-byte pages), as a failing disk would leave it.
        const int fd = ::open(db.c_str(), O_RDWR);
        REQUIRE(fd >= 0);
        const char junk[8] = {'\x5a', '\x5a', '\x5a', '\x5a', '\x5a', '\x5a', '\x5a', '\x5a'};
        REQUIRE(::pwrite(fd, junk, sizeof junk, 9 * 4096) == 8);
        ::close(fd);
    }
    // Unchecked, it opens: the damage would surface only when that page is read.
    { store::Journal j(dir.path(), "full"); }
    const auto why = openError(dir.path(), AsTheHub);
    CHECK_THAT(why, Catch::Contains(db + " failed its check (PRAGMA quick_check)"));
    CHECK_THAT(why, Catch::Contains("restore " + db + " from a backup"));
}
