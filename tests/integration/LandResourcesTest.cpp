// The land-resources adapter in the running hub, exchanging with the department through a
// front-end database that ow-frontdb-sim handles as 国土资源局 would: accepted cases become
// QZK_SQ rows, the department's QZK_BL records come back as canonical events in order, a
// corrected record comes back again with its data_version, and a record of an unknown kind ends
// in the dead-letter queue; every record is marked taken. The same exchange twice: on a SQLite
// file (the default) and on a PostgreSQL server the test starts (tests/support/Postgres.h).
#include "tests/integration/JournalPeek.h"
#include "tests/integration/Simulators.h"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "adapters/land-resources/frontdb/FrontDb.h"
#include "tests/support/Postgres.h"
#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// Where the hub and the simulator meet, as each of them is told.
struct FrontEnd {
    std::string connector, connection; ///< for the test's own FrontDb
    std::string hubKeys;               ///< the writer's and reader's keys, YAML flow
    std::vector<std::string> simArgs;  ///< ow-frontdb-sim's database options
    std::vector<std::pair<std::string, std::string>> hubEnv; ///< secrets the keys name
    std::string password; ///< in hubEnv: never to be seen in the hub's log
};

void casesOutAndRecordsBack(testkit::TempDir& dir, const FrontEnd& db) {
    { adapters::landres::FrontDb create(db.connector, db.connection); } // the department's DBA
    std::vector<std::string> simArgs = db.simArgs;
    simArgs.insert(simArgs.end(),
                   {"--step-ms", "20", "--correct-every", "3", "--poison-every", "5"});
    itest::Simulator sim(dir, "frontdb-sim", simArgs, /*picksPort=*/false);
    testkit::Receiver platform;
    itest::Hub hub(dir, R"(
hub:
  log_level: warn
  plugin_dirs: [ ")" + itest::firstPartyPluginDir(dir, {"land-resources.so"}) +
                            R"(" ]
plugins:
  - { name: land-resources, file: land-resources.so }
inputs:
  - { name: hall, path: /v1/events }
  - { name: land-records, source: land-resources/reader, config: { )" +
                            db.hubKeys + R"(, poll_ms: 20 } }
outputs:
  - { name: land, sink: land-resources/writer, config: { )" +
                            db.hubKeys + R"( } }
  - { name: land-mapper, processor: land-resources/mapper }
  - { name: platform, url: ")" +
                            platform.url("/events") +
                            R"(" }
routes:
  - name: to-land
    match: { type: gov.case.accepted, data: { "/item_code": "350581003785050*" } }
    to: [ land ]
  - { name: records, match: { type: dept.land-resources.record }, to: [ land-mapper ] }
  - { name: back, match: { type: "gov.case.*", source: "dept:land-resources" }, to: [ platform ] }
)");
    hub.env = db.hubEnv;
    hub.start();
    constexpr int Cases = 10;
    for (int i = 1; i <= Cases; ++i) {
        const std::string c = "SS-L" + std::to_string(i);
        json e = {{"specversion", "1.0"},
                  {"id", "acc-" + c},
                  {"source", "/window/5"},
                  {"type", "gov.case.accepted"},
                  {"subject", c},
                  {"data",
                   {{"item_code", "350581003785050N000105"},
                    {"item_name", "国有土地使用权变更登记"},
                    {"applicant", {{"type", "person"}, {"name", "张三"}}},
                    {"occurred_at", "2026-03-02T10:00:00+08:00"}}}};
        REQUIRE(testkit::postCloudEvent(hub.url(), e.dump()).status == 202);
    }
    // What came back, per case: the first versions in arrival order, and the corrections (a
    // record the department corrected before the reader took it comes only as its correction).
    struct Back {
        std::vector<std::string> first;
        std::set<std::string> all;
        bool corrected = false;
    };
    auto back = [&] {
        std::map<std::string, Back> cases;
        std::set<std::string> ids;
        for (const auto& q : platform.snapshot()) {
            auto e = json::parse(q.body, nullptr, false);
            if (q.status != 200 || !e.is_object() || !ids.insert(e["id"].get<std::string>()).second)
                continue;
            const auto& d = e["data"];
            std::string t = e["type"].get<std::string>().substr(9);
            if (t == "step_completed") t += ":" + std::to_string(d["sequence"].get<int>());
            auto& c = cases[e["subject"]];
            c.all.insert(t);
            if (d.value("data_version", 1) > 1) {
                c.corrected = true;
                CHECK(t == "step_completed:1");
                CHECK(d["opinion"].get<std::string>().find("更正") != std::string::npos);
            } else {
                c.first.push_back(t);
            }
        }
        return cases;
    };
    const std::set<std::string> everything = {"step_completed:1", "step_completed:2",
                                              "step_completed:3", "concluded"};
    REQUIRE(testkit::waitUntil(
        [&] {
            auto cases = back();
            int corrected = 0;
            for (const auto& [_, c] : cases)
                corrected += c.corrected ? 1 : 0;
            if (cases.size() != Cases || corrected != Cases / 3) return false;
            for (const auto& [_, c] : cases)
                if (c.all != everything) return false;
            return true;
        },
        60s));
    for (const auto& [c, b] : back()) {
        INFO(c);
        std::vector<std::string> expect = {"step_completed:1", "step_completed:2",
                                           "step_completed:3", "concluded"};
        if (b.first.size() == 3) expect.erase(expect.begin()); // only the correction of step 1
        CHECK(b.first == expect);
    }
    itest::waitForDeadLetters(hub, Cases / 5, "unknown LX 'XX'");
    // Every record the department wrote was taken (REC_FLAG 1).
    REQUIRE(testkit::waitUntil(
        [&] {
            return adapters::landres::FrontDb(db.connector, db.connection).newRecords(1000).empty();
        },
        30s));
    CHECK(hub.terminate().success());
    if (!db.password.empty()) CHECK(hub.log().find(db.password) == std::string::npos);
    const auto summary = sim.stop();
    CHECK(summary["cases"] == Cases);
    CHECK(summary["pending"] == 0);
}

} // namespace

TEST_CASE("land-resources: cases out and records back through the front-end database",
          "[integration][adapter]") {
    testkit::TempDir dir;
    const std::string file = dir.file("qzk.db");
    casesOutAndRecordsBack(dir,
                           {"sqlite", file, "database: \"" + file + "\"", {"--db", file}, {}, ""});
}

TEST_CASE("land-resources: the same exchange through a PostgreSQL front-end database",
          "[integration][adapter]") {
    testkit::TempDir dir;
    testkit::Postgres server;
    const std::string connection = server.freshDatabase();
    // The connection string is a secret of the hub's configuration: named there, given in the
    // environment. The server trusts loopback, so the password only travels.
    const std::string password = "Land-Pw-4711";
    casesOutAndRecordsBack(dir, {"postgresql",
                                 connection,
                                 "connector: postgresql, connection: \"${LAND_FRONTDB}\"",
                                 {"--connector", "postgresql", "--connection", connection},
                                 {{"LAND_FRONTDB", connection + " password=" + password}},
                                 password});
}
