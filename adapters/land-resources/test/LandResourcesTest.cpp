// The land-resources adapter with the SDK test kit, through its own registration, on a real
// front-end database: a SQLite file in a temporary folder, and again a database of its own on
// a PostgreSQL server this test process starts (tests/support/Postgres.h): the writer's upsert
// by VERSION, the reader's mark-after-journal rule (a correction made meanwhile is read
// again), the configuration's checks, the mapper.
#include <catch2/catch.hpp>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <onewindow/sdk/testkit/TestKit.h>

#include "adapters/land-resources/frontdb/FrontDb.h"
#include "tests/support/Net.h"
#include "tests/support/Postgres.h"
#include "tests/support/TempDir.h"

namespace sdk = onewindow::sdk;
namespace testkit = onewindow::sdk::testkit;
using nlohmann::json;
using Kind = sdk::Result::Kind;
using Catch::Matchers::Contains;
using ow::adapters::landres::FrontDb;
using ow::adapters::landres::FrontDbError;

namespace {

/// One server for the whole test process, started when a test first needs it; every test gets
/// a database of its own on it.
ow::testkit::Postgres& postgres() {
    static ow::testkit::Postgres server;
    return server;
}

/// An empty front-end database of the given connector ("sqlite" or "postgresql").
struct TempDb {
    std::string connector, connection;
    std::unique_ptr<ow::testkit::TempDir> dir;
    explicit TempDb(const std::string& kind) : connector(kind) {
        if (kind == "postgresql") {
            connection = postgres().freshDatabase();
        } else {
            dir = std::make_unique<ow::testkit::TempDir>("ow-landres");
            connection = dir->file("qzk.db");
        }
    }
    [[nodiscard]] std::unique_ptr<FrontDb> open() const {
        return std::make_unique<FrontDb>(connector, connection);
    }
};

struct Env {
    TempDb db;
    testkit::TestRegistry registry{onewindow_plugin};
    std::unique_ptr<testkit::TestServices> env;
    Env(const std::string& component, const std::string& connector) : db(connector) {
        sdk::Config given;
        if (component != "mapper") {
            if (connector == "postgresql") {
                given.set("connector", connector);
                given.set("connection", db.connection);
            } else {
                given.set("database", db.connection);
            }
        }
        if (component == "reader") given.set("poll_ms", std::int64_t{10});
        env = std::make_unique<testkit::TestServices>(
            testkit::configFor(registry.info(component).spec, given), "land");
    }
};

sdk::Event accepted(const std::string& caseNo, int version) {
    return testkit::makeEvent("gov.case.accepted", caseNo,
                              json{{"item_code", "350581003785050N000105"},
                                   {"applicant", {{"type", "person"}, {"name", "张三"}}},
                                   {"occurred_at", "2026-03-02T10:15:00+08:00"},
                                   {"data_version", version}}
                                  .dump());
}

} // namespace

TEST_CASE("land-resources writer: one row per case, replaced only by a higher VERSION") {
    const std::string connector = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    CAPTURE(connector);
    Env t("writer", connector);
    auto sink = t.registry.createSink("writer", t.env->services());
    REQUIRE(sink->start().kind == Kind::Ok);
    CHECK(testkit::deliver(*sink, accepted("SS-1", 1)).kind == Kind::Ok);
    auto opened = t.db.open();
    FrontDb& db = *opened;
    auto rows = db.newApplications(10);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0]["SBLSH"] == "SS-1");
    CHECK(rows[0]["SXBM"] == "350581003785050N000105");
    CHECK(rows[0]["SQRMC"] == "张三");
    CHECK(rows[0]["SQRLX"] == "1");
    CHECK(rows[0]["SLSJ"] == "2026-03-02 10:15:00");
    CHECK(rows[0]["REC_FLAG"] == 0);
    db.markApplicationsTaken({"SS-1"});
    // The same again: nothing new for the department. A correction: new again.
    CHECK(testkit::deliver(*sink, accepted("SS-1", 1)).kind == Kind::Ok);
    CHECK(db.newApplications(10).empty());
    CHECK(testkit::deliver(*sink, accepted("SS-1", 2)).kind == Kind::Ok);
    rows = db.newApplications(10);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0]["VERSION"] == 2);
    CHECK(testkit::deliver(*sink, testkit::makeEvent("gov.case.accepted", "", "{}")).kind ==
          Kind::Reject);
}

TEST_CASE("land-resources reader: marked taken only after it is journaled, at the VERSION read") {
    const std::string connector = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    CAPTURE(connector);
    Env t("reader", connector);
    auto source = t.registry.createSource("reader", t.env->services());
    auto opened = t.db.open();
    FrontDb& db = *opened;
    const auto xh = db.addRecord(
        {{"SBLSH", "SS-1"}, {"LX", "SP"}, {"SPHJDM", "1"}, {"SPSJ", "2026-03-02 11:00:00"}});
    std::vector<sdk::Event> journaled;
    SECTION("not journaled: still new") {
        testkit::TestSourceContext ctx(2, /*emitOk=*/false);
        CHECK(source->run(ctx).kind == Kind::Ok);
        CHECK(db.newRecords(10).size() == 1);
    }
    SECTION("journaled: taken; a correction made meanwhile is read again as a new event") {
        testkit::TestSourceContext ctx(1);
        ctx.onEmit([&](const auto& events) {
            for (const auto& e : events)
                journaled.push_back(e);
            if (journaled.size() == 1) db.correctRecord(xh, {{"SPYJ", "更正"}});
            return true;
        });
        CHECK(source->run(ctx).kind == Kind::Ok);
        REQUIRE(journaled.size() >= 2);
        CHECK(journaled[0].id == "land-record-" + std::to_string(xh) + "-v1");
        CHECK(journaled[1].id == "land-record-" + std::to_string(xh) + "-v2");
        CHECK(json::parse(journaled[1].data)["SPYJ"] == "更正");
        CHECK(db.newRecords(10).empty());
    }
}

TEST_CASE("land-resources mapper: records to canonical events, corrections with data_version") {
    Env t("mapper", "sqlite");
    auto mapper = t.registry.createProcessor("mapper", t.env->services());
    testkit::TestProcessContext ctx(t.env->clock());
    auto record = [&](json r) {
        return ctx.process(*mapper, testkit::makeEvent("dept.land-resources.record", "", r.dump()));
    };
    CHECK(record({{"XH", 7},
                  {"SBLSH", "SS-1"},
                  {"YWLSH", "GT1"},
                  {"LX", "SP"},
                  {"SPHJDM", "2"},
                  {"SPBZH", "2"},
                  {"SPSJ", "2026-03-02 11:00:00"},
                  {"VERSION", 1}})
              .kind == Kind::Ok);
    CHECK(record({{"XH", 7},
                  {"SBLSH", "SS-1"},
                  {"YWLSH", "GT1"},
                  {"LX", "SP"},
                  {"SPHJDM", "2"},
                  {"SPBZH", "2"},
                  {"SPSJ", "2026-03-02 11:30:00"},
                  {"VERSION", 2}})
              .kind == Kind::Ok);
    const auto out = ctx.takeEmitted();
    CHECK(testkit::catalogProblems(out) == ""); // the event catalog's schemas
    REQUIRE(out.size() == 2);
    CHECK(out[0].id == "land-7");
    CHECK(out[1].id == "land-7-v2");
    CHECK(out[0].source == "dept:land-resources");
    auto d = json::parse(out[1].data);
    CHECK(d["step_code"] == "review");
    CHECK(d["sequence"] == 2);
    CHECK(d["data_version"] == 2);
    CHECK(d["occurred_at"] == "2026-03-02T11:30:00+08:00");
    auto r = record({{"XH", 8}, {"SBLSH", "SS-1"}, {"LX", "XX"}});
    REQUIRE(r.kind == Kind::Reject);
    CHECK(r.reason.find("unknown LX 'XX'") != std::string::npos);
    CHECK(record({{"XH", 9}, {"LX", "SP"}}).kind == Kind::Reject);
}

TEST_CASE("land-resources front-end database: the same rows and marks on every connector") {
    const std::string connector = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    CAPTURE(connector);
    TempDb t(connector);
    auto db = t.open();
    if (connector == "sqlite") // the department's process writes the same file
        CHECK(std::filesystem::exists(t.connection + "-wal"));
    const json app = {{"SBLSH", "SS-9"}, {"SXBM", "350581003785050N000105"}, {"SQRMC", "李四"}};
    CHECK(db->putApplication(app, 1));
    CHECK_FALSE(db->putApplication(app, 1));
    CHECK(db->putApplication(app, 3));
    CHECK_FALSE(db->putApplication(app, 2));
    auto apps = db->newApplications(10);
    REQUIRE(apps.size() == 1);
    CHECK(apps[0]["VERSION"] == 3);
    CHECK(apps[0]["SQRMC"] == "李四");
    CHECK_FALSE(apps[0].contains("SQRLX")); // null: left out
    CHECK(apps[0]["XRSJ"].get<std::string>().size() == 19);

    const auto first = db->addRecord({{"SBLSH", "SS-9"}, {"LX", "SP"}, {"SPYJ", "同意"}});
    const auto second = db->addRecord({{"SBLSH", "SS-9"}, {"LX", "BJ"}, {"NOT_A_COLUMN", "x"}});
    CHECK(second > first);
    auto records = db->newRecords(1); // oldest first, at most the limit
    REQUIRE(records.size() == 1);
    CHECK(records[0]["XH"] == first);
    CHECK(records[0]["VERSION"] == 1);
    CHECK(records[0]["REC_FLAG"] == 0);
    CHECK(records[0]["SPYJ"] == "同意");
    CHECK_FALSE(records[0].contains("BZYY"));
    db->correctRecord(first, {{"SPYJ", "更正"}});
    db->markTaken({{first, 1}, {second, 1}}); // the first was read at VERSION 1: stays new
    records = db->newRecords(10);
    REQUIRE(records.size() == 1);
    CHECK(records[0]["XH"] == first);
    CHECK(records[0]["VERSION"] == 2);
    CHECK(records[0]["SPYJ"] == "更正");
    db->markTaken({{first, 2}});
    CHECK(db->newRecords(10).empty());
    db->markApplicationsTaken({"SS-9"});
    CHECK(db->newApplications(10).empty());
}

TEST_CASE("land-resources front-end database: errors name the database, never the password") {
    const std::string password = "Sekr1t-Pw-77";
    auto failure = [](const std::string& connector, const std::string& connection) {
        try {
            FrontDb db(connector, connection);
        } catch (const FrontDbError& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    CHECK_THAT(failure("oracle", "x"),
               Contains("unknown front-end database connector 'oracle' (sqlite or postgresql)"));
    CHECK_THAT(failure("sqlite", "/nonexistent-ow-dir/qzk.db"),
               Contains("cannot open the front-end database /nonexistent-ow-dir/qzk.db"));
    const std::string closedPort = std::to_string(ow::testkit::freeLoopbackPort());
    std::string why = failure("postgresql", "host=127.0.0.1 port=" + closedPort +
                                                " dbname=x user=postgres password=" + password);
    CHECK_THAT(why, Contains("cannot open the front-end database (postgresql host=127.0.0.1"));
    CHECK_THAT(why, Contains("password=***"));
    CHECK_THAT(why, !Contains(password));
    why = failure("postgresql", postgres().connection("no_such_db") + " password=" + password);
    CHECK_THAT(why, Contains("no_such_db"));
    CHECK_THAT(why, !Contains(password));
    why = failure("postgresql", "postgresql://postgres:" + password + "@127.0.0.1/x");
    CHECK_THAT(why, Contains("not a URI"));
    CHECK_THAT(why, !Contains(password));
}

TEST_CASE("land-resources configuration: the connector's keys are checked when a component is "
          "made") {
    testkit::TestRegistry registry{onewindow_plugin};
    for (const auto& f : registry.info("writer").spec.fields)
        if (f.name == "connection") CHECK(f.type == sdk::FieldType::Secret);
    auto problem = [&](const std::string& component, const sdk::Config& given) {
        testkit::TestServices env(testkit::configFor(registry.info(component).spec, given), "land");
        try {
            if (component == "writer")
                registry.createSink(component, env.services());
            else
                registry.createSource(component, env.services());
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    for (const std::string component : {"writer", "reader"}) {
        CAPTURE(component);
        sdk::Config c;
        c.set("connector", std::string("postgresql"));
        CHECK_THAT(problem(component, c), Contains("connector 'postgresql' needs 'connection'"));
        c.set("database", std::string("/tmp/x.db"));
        c.set("connection", std::string("host=127.0.0.1 dbname=qzk"));
        CHECK_THAT(problem(component, c), Contains("'database' is the SQLite file"));
        CHECK_THAT(problem(component, {}), Contains("connector 'sqlite' needs 'database'"));
        sdk::Config s;
        s.set("database", std::string("/tmp/x.db"));
        s.set("connection", std::string("host=127.0.0.1 dbname=qzk"));
        CHECK_THAT(problem(component, s), Contains("'connection' is for connector 'postgresql'"));
        s = {};
        s.set("database", std::string("/tmp/x.db"));
        CHECK(problem(component, s) == "(no error)"); // made, not opened: no I/O in a factory
    }
}

TEST_CASE("land-resources reader: a front-end database that cannot be read is unavailable, with "
          "what happened") {
    ow::testkit::TempDir dir("ow-landres");
    testkit::TestRegistry registry{onewindow_plugin};
    auto reader = [&](const std::string& file) {
        sdk::Config given;
        given.set("database", file);
        given.set("poll_ms", std::int64_t{10});
        return std::make_unique<testkit::TestServices>(
            testkit::configFor(registry.info("reader").spec, given), "land");
    };
    auto outage = [&](const std::string& file) {
        auto env = reader(file);
        auto source = registry.createSource("reader", env->services());
        testkit::TestSourceContext ctx(1);
        sdk::Result r;
        REQUIRE_NOTHROW(r = source->run(ctx));
        CHECK(r.kind == Kind::Ok);
        CHECK(ctx.answered() == 0);
        REQUIRE(ctx.outages().size() == 1);
        return ctx.outages()[0].reason;
    };
    SECTION("no database there: its folder does not exist") {
        const std::string file = dir.file("gone/qzk.db");
        const auto why = outage(file);
        CHECK(why.rfind("国土资源局: cannot open the front-end database " + file + ": ", 0) == 0);
    }
    SECTION("a file that is not a database") {
        const std::string file = dir.file("qzk.db");
        std::ofstream(file) << "this is not a database, just some text that fills the header "
                               "of a SQLite file and then some more";
        CHECK_THAT(outage(file), Contains("国土资源局: ") && Contains(file));
    }
    SECTION("a database whose table is not the front-end table") {
        const std::string file = dir.file("qzk.db");
        Poco::Data::SQLite::Connector::registerConnector();
        {
            Poco::Data::Session db("SQLite", file);
            db << "CREATE TABLE QZK_BL(ID INTEGER)", Poco::Data::Keywords::now;
        }
        CHECK_THAT(outage(file), Contains("国土资源局: ") && Contains("front-end database"));
    }
    SECTION("an empty file is an empty database: nothing new, and up") {
        const std::string file = dir.file("qzk.db");
        std::ofstream{file};
        auto env = reader(file);
        auto source = registry.createSource("reader", env->services());
        testkit::TestSourceContext ctx(1);
        CHECK(source->run(ctx).kind == Kind::Ok);
        CHECK(ctx.outages().empty());
        CHECK(ctx.answered() == 1);
    }
}
