// The land-resources adapter with the SDK test kit, through its own registration, on a real
// SQLite front-end database in a temporary folder: the writer's upsert by VERSION, the
// reader's mark-after-journal rule (a correction made meanwhile is read again), the mapper.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <onewindow/sdk/testkit/TestKit.h>

#include "adapters/land-resources/frontdb/FrontDb.h"

namespace sdk = onewindow::sdk;
namespace testkit = onewindow::sdk::testkit;
using nlohmann::json;
using Kind = sdk::Result::Kind;
using ow::adapters::landres::FrontDb;

namespace {

struct TempDb {
    std::string path;
    TempDb() {
        char tmpl[] = "/tmp/ow-landres-XXXXXX";
        path = std::string(::mkdtemp(tmpl)) + "/qzk.db";
    }
    ~TempDb() { std::filesystem::remove_all(std::filesystem::path(path).parent_path()); }
};

struct Env {
    TempDb db;
    testkit::TestRegistry registry{onewindow_plugin};
    std::unique_ptr<testkit::TestServices> env;
    explicit Env(const std::string& component) {
        sdk::Config given;
        if (component != "mapper") given.set("database", db.path);
        if (component == "reader") given.set("poll_ms", std::int64_t{10});
        env = std::make_unique<testkit::TestServices>(
            testkit::configFor(registry.info(component).spec, given), "land");
    }
};

class Ctx final : public sdk::SourceContext {
public:
    Ctx(int polls, std::function<bool(const std::vector<sdk::Event>&)> onEmit)
        : polls_(polls), onEmit_(std::move(onEmit)) {}
    bool emit(const std::vector<sdk::Event>& events) override { return onEmit_(events); }
    [[nodiscard]] bool stopping() const override { return waits_ >= polls_; }
    void waitFor(std::int64_t) override { ++waits_; }

private:
    int polls_, waits_ = 0;
    std::function<bool(const std::vector<sdk::Event>&)> onEmit_;
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
    Env t("writer");
    auto sink = t.registry.createSink("writer", t.env->services());
    REQUIRE(sink->start().kind == Kind::Ok);
    CHECK(testkit::deliver(*sink, accepted("SS-1", 1)).kind == Kind::Ok);
    FrontDb db(t.db.path);
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
    Env t("reader");
    auto source = t.registry.createSource("reader", t.env->services());
    FrontDb db(t.db.path);
    const auto xh = db.addRecord(
        {{"SBLSH", "SS-1"}, {"LX", "SP"}, {"SPHJDM", "1"}, {"SPSJ", "2026-03-02 11:00:00"}});
    std::vector<sdk::Event> journaled;
    SECTION("not journaled: still new") {
        Ctx ctx(2, [&](const auto&) { return false; });
        CHECK(source->run(ctx).kind == Kind::Ok);
        CHECK(db.newRecords(10).size() == 1);
    }
    SECTION("journaled: taken; a correction made meanwhile is read again as a new event") {
        Ctx ctx(1, [&](const auto& events) {
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
    Env t("mapper");
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
