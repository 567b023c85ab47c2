#include <catch2/catch.hpp>

#include <filesystem>

#include "core/store/Checkpointer.h"
#include "core/store/Journal.h"
#include "tests/support/TempDir.h"
#include "tests/support/Wait.h"

using namespace ow;
using namespace std::chrono_literals;

TEST_CASE("Checkpointer copies the WAL into the database off the writer's connection", "[store]") {
    testkit::TempDir dir;
    store::Journal j(dir.path(), "full");
    store::Checkpointer cp(store::Journal::fileName(dir.path()), 100, 60000);
    cp.start();
    auto dbSize = [&] { return std::filesystem::file_size(store::Journal::fileName(dir.path())); };
    auto before = dbSize();
    std::string body(2000, 'b');
    for (int t = 0; t < 10; ++t) {
        j.begin();
        for (int i = 0; i < 50; ++i)
            j.insertEvent("/s", std::to_string(t) + "-" + std::to_string(i), "t", "i", "c", 1,
                          body);
        j.commit();
    }
    // Automatic checkpoints are off: the data sits in the WAL until the Checkpointer runs.
    REQUIRE(j.walPages() > 100);
    CHECK(dbSize() == before);
    cp.walGrew(j.walPages());
    REQUIRE(testkit::waitUntil([&] { return cp.checkpoints() >= 1; }, 10s));
    CHECK(dbSize() > before + 500 * 2000);
    cp.stop();
    // The writer keeps working after checkpoints, and the WAL starts over.
    j.begin();
    j.insertEvent("/s", "after", "t", "i", "c", 1, "{}");
    j.commit();
    CHECK(j.walPages() < 100);
}

TEST_CASE("CheckpointPacer asks at most every interval, and after every commit once the WAL is "
          "large",
          "[store]") {
    store::CheckpointPacer pacer(/*walPages=*/1000, /*catchUpPages=*/8000, /*minIntervalMs=*/20);
    CHECK_FALSE(pacer.due(999, 0));
    CHECK(pacer.due(1000, 0));
    // Commits that follow within the interval do not each start a checkpoint...
    CHECK_FALSE(pacer.due(1100, 5));
    CHECK_FALSE(pacer.due(1200, 19));
    CHECK(pacer.due(1300, 20));
    CHECK_FALSE(pacer.due(1400, 21));
    // ...until the WAL is so large that only catching up after every commit can restart it.
    CHECK(pacer.due(8000, 22));
    CHECK(pacer.due(8100, 23));
    // The WAL started over: small again, nothing to do.
    CHECK_FALSE(pacer.due(10, 24));
    CHECK_FALSE(pacer.due(1000, 30)); // within 20 ms of the last request
    CHECK(pacer.due(1000, 43));
}
