// The intranet-platform adapter with the SDK test kit, created through its own registration:
// the intake and the refusals against a small catalog of their own (hostile submissions too),
// the sequencer's gapless numbering and its idempotence, the status sink's verdicts against a
// fake platform on loopback. No hub.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/testkit/TestKit.h>

namespace sdk = onewindow::sdk;
namespace testkit = onewindow::sdk::testkit;
namespace fs = std::filesystem;
using nlohmann::json;
using Kind = sdk::Result::Kind;

namespace {

const char* const Licence = "350581003785001A000101"; // 工商局's
const char* const Permit = "350581000000013A000201";  // 公安局's
const char* const CaseA = "35058120260302000001";
const char* const CaseB = "35058120260302000002";

// A catalog of two units and an item each, written where the components read it.
class CatalogDir {
public:
    CatalogDir() {
        std::string tmpl = (fs::temp_directory_path() / "ow-platform-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        root_ = tmpl;
        fs::create_directories(root_ / "catalog");
        write("units.yaml", R"(departments:
  - { id: industry-commerce, name: 工商局 }
  - { id: public-security, name: 公安局 }
trading_centers: []
convenience_units: []
)");
        write("catalog/industry-commerce.yaml", item("industry-commerce", Licence, "设立登记"));
        write("catalog/public-security.yaml", item("public-security", Permit, "户口迁移"));
    }
    ~CatalogDir() {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }
    CatalogDir(const CatalogDir&) = delete;
    CatalogDir& operator=(const CatalogDir&) = delete;

    [[nodiscard]] std::string path(const std::string& name) const {
        return (root_ / name).string();
    }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(root_ / name) << text;
    }

private:
    static std::string item(const std::string& dept, const std::string& code,
                            const std::string& name) {
        return "department: " + dept + "\nitems:\n  - code: \"" + code + "\"\n    name: " + name +
               R"(
    kind: license
    handling_type: promised
    legal_limit: { days: 15, unit: working }
    promised_limit: { days: 3, unit: working }
    steps:
      - { code: undertake, name: 承办, limit_days: 1 }
    materials:
      - { name: 申请书, originals: 1, copies: 0, required: true }
    publications: { content: c, basis: b, conditions: c, materials: m, procedure: p,
                    time_limit: t, fee_standard: 不收费, results: r }
)";
    }
    fs::path root_;
};

struct Env {
    CatalogDir catalog;
    testkit::FakeHttpPeer platform;
    testkit::PlainHttpClient http;
    testkit::TestRegistry registry{onewindow_plugin};
    std::unique_ptr<testkit::TestServices> env;

    explicit Env(const std::string& component, sdk::Config given = {}) {
        if (component == "intake" || component == "refusals") {
            if (!given.has("catalog_dir")) given.set("catalog_dir", catalog.path("catalog"));
            given.set("units_file", catalog.path("units.yaml"));
        }
        if (component == "status") {
            given.set("base_url", platform.url("/"));
            given.set("token", std::string("platform-secret"));
        }
        env = std::make_unique<testkit::TestServices>(
            testkit::configFor(registry.info(component).spec, given), component);
        env->useHttp(http);
    }
};

json acceptedData() {
    return {{"item_code", Licence},
            {"applicant", {{"type", "company"}, {"name", "石狮市某某贸易有限公司"}}},
            {"occurred_at", "2026-03-02T10:15:00+08:00"}};
}

sdk::Event submission(const std::string& type, const std::string& caseNo, const json& data,
                      std::map<std::string, std::string> extensions = {}) {
    auto e = testkit::makeEvent(type, caseNo, data.dump(), std::move(extensions));
    e.source = "/intranet-platform/window/3";
    return e;
}

// Both checking components on one event, as one route feeds them.
struct Checks {
    Env gateEnv{"intake"}, noticeEnv{"refusals"};
    std::unique_ptr<sdk::Processor> gate, notice;
    testkit::TestProcessContext gateCtx{gateEnv.env->clock()}, noticeCtx{noticeEnv.env->clock()};

    Checks() {
        gate = gateEnv.registry.createProcessor("intake", gateEnv.env->services());
        notice = noticeEnv.registry.createProcessor("refusals", noticeEnv.env->services());
        const auto started = gate->start();
        INFO(started.reason);
        REQUIRE(started.kind == Kind::Ok);
        REQUIRE(notice->start().kind == Kind::Ok);
    }
    // The gate's result; the notice must answer Ok whatever it finds.
    sdk::Result run(const sdk::Event& e) {
        REQUIRE(noticeCtx.process(*notice, e).kind == Kind::Ok);
        return gateCtx.process(*gate, e);
    }
    // The reasons a bad submission was refused for: the dead letter's message, and the same
    // reasons in the notice to the platform.
    std::vector<std::string> refused(const sdk::Event& e) {
        const auto r = run(e);
        INFO(testkit::describe(r));
        REQUIRE(r.kind == Kind::Reject);
        REQUIRE(r.reason.rfind("submission refused: ", 0) == 0);
        CHECK(gateCtx.takeEmitted().empty());
        auto notices = noticeCtx.takeEmitted();
        CHECK(testkit::catalogProblems(notices) == ""); // the event catalog's schemas
        REQUIRE(notices.size() == 1);
        CHECK(notices[0].type == "gov.case.submission_refused");
        CHECK(notices[0].source == "onewindow://intranet-platform/refused");
        const auto d = json::parse(notices[0].data);
        CHECK(d["refused"]["id"] == e.id);
        std::string joined;
        for (const auto& x : d["reasons"])
            joined += (joined.empty() ? "" : "; ") + x.get<std::string>();
        CHECK(r.reason == "submission refused: " + joined);
        return d["reasons"].get<std::vector<std::string>>();
    }
};

bool mentions(const std::vector<std::string>& reasons, const std::string& fragment) {
    for (const auto& r : reasons)
        if (r.find(fragment) != std::string::npos) return true;
    return false;
}

} // namespace

TEST_CASE("intranet-platform intake: a good acceptance goes on once, checked, with its "
          "department") {
    Checks c;
    const auto e = submission("gov.case.accepted", CaseA, acceptedData());
    REQUIRE(c.run(e).kind == Kind::Ok);
    auto out = c.gateCtx.takeEmitted();
    CHECK(testkit::catalogProblems(out) == ""); // the event catalog's schemas
    REQUIRE(out.size() == 1);
    CHECK(out[0].type == "gov.case.accepted");
    CHECK(out[0].source == "onewindow://intranet-platform/checked");
    CHECK(out[0].id.empty()); // the hub's id: the same whenever this event is handled
    CHECK(out[0].subject == CaseA);
    CHECK(out[0].extensions.at("department") == "industry-commerce");
    CHECK(out[0].extensions.at("itemcode") == Licence);
    CHECK(json::parse(out[0].data) == acceptedData());
    CHECK(c.noticeCtx.emitted().empty());

    // The platform sends it again under a new id: not a second time to the department.
    REQUIRE(c.run(submission("gov.case.accepted", CaseA, acceptedData())).kind == Kind::Ok);
    CHECK(c.gateCtx.takeEmitted().empty());
    // A correction does go on.
    auto corrected = acceptedData();
    corrected["data_version"] = 2;
    REQUIRE(c.run(submission("gov.case.accepted", CaseA, corrected)).kind == Kind::Ok);
    CHECK(c.gateCtx.takeEmitted().size() == 1);
    // The same case's received is another fact; the department named right is kept.
    REQUIRE(c.run(submission("gov.case.received", CaseA, {{"item_code", Licence}},
                             {{"department", "industry-commerce"}}))
                .kind == Kind::Ok);
    CHECK(c.gateCtx.takeEmitted().size() == 1);
    // The case number may come in the data only.
    auto inData = acceptedData();
    inData["case_no"] = CaseB;
    REQUIRE(c.run(submission("gov.case.accepted", "", inData)).kind == Kind::Ok);
    out = c.gateCtx.takeEmitted();
    REQUIRE(out.size() == 1);
    CHECK(out[0].subject == CaseB);
    CHECK(c.noticeCtx.emitted().empty());
}

TEST_CASE("intranet-platform intake: window events name their department or item") {
    Checks c;
    REQUIRE(c.run(submission("gov.case.supplement_received", CaseA, json::object(),
                             {{"department", "public-security"}}))
                .kind == Kind::Ok);
    CHECK(c.gateCtx.takeEmitted().size() == 1);
    REQUIRE(c.run(submission("gov.case.delivered", CaseA, json::object(), {{"itemcode", Permit}}))
                .kind == Kind::Ok);
    auto out = c.gateCtx.takeEmitted();
    REQUIRE(out.size() == 1);
    CHECK(out[0].extensions.at("department") == "public-security");
    // Window events are not application facts: the same twice goes on twice (the hub's
    // de-duplication by id is the rule there).
    REQUIRE(c.run(submission("gov.case.supplement_received", CaseA, json::object(),
                             {{"department", "public-security"}}))
                .kind == Kind::Ok);
    CHECK(c.gateCtx.takeEmitted().size() == 1);

    CHECK(mentions(c.refused(submission("gov.case.delivered", CaseA, json::object())),
                   "no department: give data.item_code or the department extension"));
    CHECK(mentions(c.refused(submission("gov.case.delivered", CaseA, json::object(),
                                        {{"department", "tax-bureau"}})),
                   "department \"tax-bureau\" is not a unit of the hall"));
}

TEST_CASE("intranet-platform intake: each wrong submission refused with its precise reason") {
    Checks c;
    SECTION("an item not in the catalog") {
        auto d = acceptedData();
        d["item_code"] = "350581999999999A999999";
        CHECK(c.refused(submission("gov.case.accepted", CaseA, d)) ==
              std::vector<std::string>{
                  "item \"350581999999999A999999\" is not in the center's catalog"});
    }
    SECTION("another department than the item's") {
        CHECK(c.refused(submission("gov.case.accepted", CaseA, acceptedData(),
                                   {{"department", "public-security"}})) ==
              std::vector<std::string>{"department \"public-security\" is not the department "
                                       "of item 350581003785001A000101 (industry-commerce)"});
    }
    SECTION("case numbers not in the center's form") {
        const std::string form = "is not in the center's form 350581 + yyyyMMdd + a 6-digit serial";
        for (const std::string bad :
             {"35058220260302000001", "35058120260230000001", "35058120261301000001",
              "3505812026030200001", "350581202603020000011", "35058120260302A00001",
              "SS-2026-0001", "35058119990302000001"}) {
            INFO(bad);
            CHECK(c.refused(submission("gov.case.accepted", bad, acceptedData())) ==
                  std::vector<std::string>{"case number \"" + bad + "\" " + form});
        }
        // 2028 is a leap year.
        REQUIRE(
            c.run(submission("gov.case.accepted", "35058120280229000001", acceptedData())).kind ==
            Kind::Ok);
    }
    SECTION("an acceptance without what it must carry, every reason at once") {
        const auto reasons =
            c.refused(submission("gov.case.accepted", CaseA, {{"applicant", {{"name", "  "}}}},
                                 {{"itemcode", Licence}}));
        CHECK(reasons == std::vector<std::string>{
                             "gov.case.accepted needs data.item_code",
                             "gov.case.accepted needs data.applicant.name",
                             "gov.case.accepted needs data.occurred_at (when it was accepted)"});
        auto d = acceptedData();
        d.erase("item_code");
        CHECK(c.refused(submission("gov.case.accepted", CaseA, d)) ==
              std::vector<std::string>{"gov.case.accepted needs the item code (data.item_code)"});
    }
    SECTION("an application without an item, a time that is not one, a bad data_version") {
        auto reasons =
            c.refused(submission("gov.case.submitted", CaseA,
                                 {{"occurred_at", "2026-03-02 10:15"}, {"data_version", 0}}));
        CHECK(reasons == std::vector<std::string>{
                             "gov.case.submitted needs the item code (data.item_code)",
                             "data.occurred_at \"2026-03-02 10:15\" is not an RFC 3339 time",
                             "data.data_version must be a whole number from 1 to 1000000"});
    }
    SECTION("no case number at all: dead-lettered, no notice (nowhere to send it)") {
        const auto r = c.run(submission("gov.case.accepted", "", acceptedData()));
        REQUIRE(r.kind == Kind::Reject);
        CHECK(r.reason == "submission refused: no case number (subject or data.case_no)");
        CHECK(c.noticeCtx.emitted().empty());
        CHECK(c.noticeEnv.env->log().contains("without a case number to address"));
    }
}

TEST_CASE("intranet-platform intake: hostile and malformed data is refused, never passed") {
    Checks c;
    SECTION("data that is not a JSON object") {
        for (const std::string data : {"[1,2]", "\"text\"", "{\"unclosed\": ", "42"}) {
            INFO(data);
            auto e = submission("gov.case.accepted", CaseA, json::object());
            e.data = data;
            CHECK(mentions(c.refused(e), "data is not a JSON object"));
        }
        auto e = submission("gov.case.received", CaseA, json::object());
        e.data = "<xml/>";
        e.dataIsJson = false;
        CHECK(mentions(c.refused(e), "data is not a JSON object"));
    }
    SECTION("fields of the wrong type") {
        auto d = acceptedData();
        d["item_code"] = json{{"$ne", nullptr}};
        d["case_no"] = 350581;
        d["applicant"] = "somebody";
        const auto reasons = c.refused(submission("gov.case.accepted", CaseA, d));
        CHECK(mentions(reasons, "data.case_no must be a string, not \"350581\""));
        CHECK(mentions(reasons, "data.item_code must be a string, not \"{\\\"$ne\\\":null}\""));
        CHECK(mentions(reasons, "gov.case.accepted needs data.applicant.name"));
    }
    SECTION("the subject and the data name different cases") {
        auto d = acceptedData();
        d["case_no"] = CaseB;
        CHECK(mentions(c.refused(submission("gov.case.accepted", CaseA, d)),
                       "subject \"35058120260302000001\" and data.case_no "
                       "\"35058120260302000002\" name different cases"));
    }
    SECTION("huge values are cut in the message, and get no notice (no address)") {
        const std::string huge(100000, '9');
        const auto r = c.run(submission("gov.case.accepted", huge, acceptedData()));
        REQUIRE(r.kind == Kind::Reject);
        CHECK(r.reason.size() < 200);
        CHECK(r.reason.find(std::string(64, '9') + "\"…") != std::string::npos);
        CHECK(c.noticeCtx.emitted().empty());
    }
    SECTION("control characters and cut UTF-8 are shown, not passed on raw") {
        const std::string nasty = std::string("3505812026\n0302") + "\x01" + "案件";
        auto e = submission("gov.case.accepted", nasty, acceptedData());
        const auto r = c.run(e);
        REQUIRE(r.kind == Kind::Reject);
        CHECK(r.reason.find("\\n0302\\u0001案件") != std::string::npos);
        CHECK(c.noticeCtx.takeEmitted().empty());            // a control character: no address
        const std::string cut = std::string(63, '1') + "案"; // the 64-byte cut inside 案
        const auto r2 = c.run(submission("gov.case.accepted", cut, acceptedData()));
        REQUIRE(r2.kind == Kind::Reject);
        CHECK(r2.reason.find("\"" + std::string(63, '1') + "\"…") != std::string::npos);
    }
    SECTION("not a case event, and the item named twice differently") {
        auto reasons =
            c.refused(submission("gov.fee.paid", CaseA, acceptedData(), {{"itemcode", Permit}}));
        CHECK(mentions(reasons, "the intake checks gov.case.* submissions, not \"gov.fee.paid\""));
        CHECK(mentions(reasons, "data.item_code \"350581003785001A000101\" and the itemcode "
                                "extension \"350581000000013A000201\" differ"));
    }
    SECTION("its own events routed back are left alone, whatever they hold") {
        for (const char* source :
             {"onewindow://intranet-platform/checked", "onewindow://intranet-platform/refused",
              "onewindow://intranet-platform/status"}) {
            auto e = submission("gov.case.submission_refused", "nonsense", json::object());
            e.source = source;
            CHECK(c.run(e).kind == Kind::Ok);
        }
        CHECK(c.gateCtx.emitted().empty());
        CHECK(c.noticeCtx.emitted().empty());
    }
}

TEST_CASE("intranet-platform intake: a catalog that cannot be read keeps it from starting") {
    sdk::Config given;
    given.set("catalog_dir", std::string("/nonexistent/catalog"));
    Env t("intake", given);
    auto gate = t.registry.createProcessor("intake", t.env->services());
    const auto r = gate->start();
    REQUIRE(r.kind == Kind::Retry);
    CHECK(r.reason.find("cannot load the catalog") != std::string::npos);
    CHECK(r.reason.find("/nonexistent/catalog") != std::string::npos);

    Env broken("refusals");
    broken.catalog.write("catalog/industry-commerce.yaml", "department: tax-bureau\nitems: []\n");
    auto notice = broken.registry.createProcessor("refusals", broken.env->services());
    const auto r2 = notice->start();
    REQUIRE(r2.kind == Kind::Retry);
    CHECK(r2.reason.find("tax-bureau") != std::string::npos);
}

TEST_CASE("intranet-platform sequencer: each case numbered from 1 without a gap, once per "
          "event") {
    Env t("sequencer");
    auto seq = t.registry.createProcessor("sequencer", t.env->services());
    testkit::TestProcessContext ctx(t.env->clock());
    auto change = [](const std::string& type, const std::string& caseNo, json data = {}) {
        auto e = testkit::makeEvent(type, caseNo, data.is_null() ? "{}" : data.dump(),
                                    {{"department", "industry-commerce"}});
        e.source = "dept:industry-commerce";
        e.time = "2026-03-02T03:00:00Z";
        return e;
    };
    const auto a1 = change("gov.case.step_completed", CaseA, {{"step_code", "undertake"}});
    const auto b1 = change("gov.case.step_completed", CaseB);
    const auto a2 = change("gov.case.supplement_requested", CaseA);
    const auto alert = change("gov.supervision.alert", CaseA, {{"level", "yellow"}});
    const auto b2 = change("gov.case.concluded", CaseB, {{"result_code", 0}});
    for (const auto* e : {&a1, &b1, &a2, &alert, &b2})
        REQUIRE(ctx.process(*seq, *e).kind == Kind::Ok);
    auto out = ctx.takeEmitted();
    CHECK(testkit::catalogProblems(out) == ""); // the event catalog's schemas
    REQUIRE(out.size() == 5);
    std::map<std::string, std::vector<std::string>> numbers;
    for (const auto& o : out) {
        CHECK(o.type == "gov.platform.status");
        CHECK(o.source == "onewindow://intranet-platform/status");
        CHECK(o.extensions.at("department") == "industry-commerce");
        const auto ce = json::parse(o.data);
        CHECK(ce["subject"] == o.subject);
        CHECK(ce["sequence"] == o.extensions.at("sequence"));
        numbers[o.subject].push_back(o.extensions.at("sequence"));
    }
    CHECK(numbers[CaseA] == std::vector<std::string>{"1", "2", "3"});
    CHECK(numbers[CaseB] == std::vector<std::string>{"1", "2"});
    // The platform's CloudEvent: the event as the department sent it, plus its number.
    const auto ce = json::parse(out[0].data);
    CHECK(ce["id"] == a1.id);
    CHECK(ce["source"] == "dept:industry-commerce");
    CHECK(ce["type"] == "gov.case.step_completed");
    CHECK(ce["time"] == "2026-03-02T03:00:00Z");
    CHECK(ce["department"] == "industry-commerce");
    CHECK(ce["data"]["step_code"] == "undertake");
    CHECK(ce["specversion"] == "1.0");

    // Handled again (a replay): no second number, nothing emitted.
    REQUIRE(ctx.process(*seq, a2).kind == Kind::Ok);
    CHECK(ctx.takeEmitted().empty());
    // Its own output, and what the platform does not follow, pass by.
    REQUIRE(ctx.process(*seq, out[0]).kind == Kind::Ok);
    REQUIRE(ctx.process(*seq, change("gov.fee.paid", CaseA)).kind == Kind::Ok);
    REQUIRE(ctx.process(*seq, change("gov.supervision.exchange", CaseA)).kind == Kind::Ok);
    CHECK(ctx.takeEmitted().empty());
    // A status change without a case cannot be numbered; it takes no number either.
    auto r = ctx.process(*seq, change("gov.case.concluded", ""));
    REQUIRE(r.kind == Kind::Reject);
    CHECK(r.reason.find("no case number") != std::string::npos);
    r = ctx.process(*seq, change("gov.case.concluded", "line\nbreak"));
    REQUIRE(r.kind == Kind::Reject);
    CHECK(r.reason.find("cannot be addressed") != std::string::npos);
    // The case number in the data is enough; the count carries on from state.
    REQUIRE(ctx.process(*seq, change("gov.case.delivered", "", {{"case_no", CaseA}})).kind ==
            Kind::Ok);
    out = ctx.takeEmitted();
    REQUIRE(out.size() == 1);
    CHECK(out[0].extensions.at("sequence") == "4");
    CHECK(ctx.state().at("last/" + std::string(CaseA)) == "4");
    CHECK(t.env->metrics().counterValue("platform_status_numbered_total") == 6);
}

TEST_CASE("intranet-platform sequencer: a number given in a call that is not committed is "
          "given again") {
    // The hub commits a call's state and events together; a crash before the commit repeats
    // the call. Here: two sequencers on one state, the first call's effects thrown away.
    Env t("sequencer");
    auto seq = t.registry.createProcessor("sequencer", t.env->services());
    testkit::TestProcessContext committed(t.env->clock());
    auto e1 = testkit::makeEvent("gov.case.accepted", CaseA);
    auto e2 = testkit::makeEvent("gov.case.concluded", CaseA);
    REQUIRE(committed.process(*seq, e1).kind == Kind::Ok);
    {
        testkit::TestProcessContext lost(t.env->clock()); // a call whose commit never happened
        for (const auto& [k, v] : committed.state())
            lost.put(k, v);
        REQUIRE(lost.process(*seq, e2).kind == Kind::Ok);
        CHECK(lost.emitted().at(0).extensions.at("sequence") == "2");
    }
    REQUIRE(committed.process(*seq, e2).kind == Kind::Ok); // the repeat after the crash
    const auto out = committed.takeEmitted();
    REQUIRE(out.size() == 2);
    CHECK(out[1].extensions.at("sequence") == "2");
}

TEST_CASE("intranet-platform sequencer: a case's per-event entries are forgotten after "
          "forget_after_days, its count is not") {
    sdk::Config given;
    given.set("forget_after_days", std::int64_t{2});
    Env t("sequencer", given);
    auto seq = t.registry.createProcessor("sequencer", t.env->services());
    testkit::TestProcessContext ctx(t.env->clock());
    constexpr std::int64_t Day = 24LL * 3600 * 1000;
    const auto a1 = testkit::makeEvent("gov.case.accepted", CaseA);
    const auto a2 = testkit::makeEvent("gov.case.concluded", CaseA);
    const auto b1 = testkit::makeEvent("gov.case.accepted", CaseB);
    REQUIRE(ctx.process(*seq, a1).kind == Kind::Ok);
    REQUIRE(ctx.process(*seq, b1).kind == Kind::Ok);
    REQUIRE(ctx.advanceAndRunTimers(*seq, Day).kind == Kind::Ok);
    REQUIRE(ctx.process(*seq, a2).kind == Kind::Ok); // moves case A's timer on
    CHECK(ctx.takeEmitted().size() == 3);
    auto stamped = [&](const std::string& caseNo) {
        std::size_t n = 0;
        for (const auto& [k, _] : ctx.state())
            n += k.rfind("stamped/" + caseNo + "/", 0) == 0;
        return n;
    };
    CHECK(stamped(CaseA) == 2);

    // Two days after B's last change: B's entries go, A's (changed a day later) stay.
    REQUIRE(ctx.advanceAndRunTimers(*seq, Day + 1).kind == Kind::Ok);
    CHECK(stamped(CaseB) == 0);
    CHECK(ctx.state().count("ids/" + std::string(CaseB)) == 0);
    CHECK(stamped(CaseA) == 2);
    // Within the retention a repeat still gets no second number.
    REQUIRE(ctx.process(*seq, a2).kind == Kind::Ok);
    CHECK(ctx.takeEmitted().empty());

    REQUIRE(ctx.advanceAndRunTimers(*seq, Day).kind == Kind::Ok);
    CHECK(stamped(CaseA) == 0);
    CHECK(ctx.timers().empty());
    CHECK(t.env->metrics().counterValue("platform_status_cases_forgotten_total") == 2);
    // The counts stay: the next change of a case continues its numbering.
    CHECK(ctx.state().at("last/" + std::string(CaseA)) == "2");
    REQUIRE(ctx.process(*seq, testkit::makeEvent("gov.case.delivered", CaseA)).kind == Kind::Ok);
    const auto out = ctx.takeEmitted();
    CHECK(testkit::catalogProblems(out) == ""); // the event catalog's schemas
    REQUIRE(out.size() == 1);
    CHECK(out[0].extensions.at("sequence") == "3");
    // A timer that is not the sequencer's is refused, and changes nothing.
    CHECK(seq->onTimer("forget/" + std::string(CaseB), CaseA, ctx).kind == Kind::Reject);
}

TEST_CASE("intranet-platform status: the platform's verdicts") {
    Env t("status");
    auto sink = t.registry.createSink("status", t.env->services());
    // Stamped by the sequencer, as the hub would hand it to the sink.
    Env s("sequencer");
    auto seq = s.registry.createProcessor("sequencer", s.env->services());
    testkit::TestProcessContext ctx(s.env->clock());
    auto stamped = [&](const std::string& caseNo) {
        REQUIRE(ctx.process(*seq, testkit::makeEvent("gov.case.concluded", caseNo,
                                                     R"({"result_code":0})"))
                    .kind == Kind::Ok);
        return ctx.takeEmitted().at(0);
    };
    const auto first = stamped(CaseA);

    t.platform.queueReply(testkit::PeerReply::answer(200, R"({"applied":1})"));
    CHECK(testkit::deliver(*sink, first).kind == Kind::Ok);
    const auto req = t.platform.requests().at(0);
    CHECK(req.method == "POST");
    CHECK(req.path == "/api/cases/35058120260302000001/events");
    CHECK(req.header("Authorization") == "Bearer platform-secret");
    CHECK(req.header("Content-Type") == "application/cloudevents+json");
    const auto body = json::parse(req.body);
    CHECK(body["type"] == "gov.case.concluded");
    CHECK(body["sequence"] == "1");
    CHECK(body["subject"] == CaseA);

    SECTION("a repeat the platform has: delivered, counted") {
        t.platform.queueReply(testkit::PeerReply::answer(200, R"({"applied":1,"duplicate":true})"));
        CHECK(testkit::deliver(*sink, first).kind == Kind::Ok);
        CHECK(t.env->metrics().counterValue("platform_status_duplicates_total") == 1);
    }
    SECTION("409: an earlier one is still on its way") {
        stamped(CaseA);
        const auto third = stamped(CaseA);
        t.platform.queueReply(testkit::PeerReply::answer(409, R"({"expected":2})"));
        const auto r = testkit::deliver(*sink, third);
        REQUIRE(r.kind == Kind::Retry);
        CHECK(r.reason.find("expects sequence 2 of the case before 3") != std::string::npos);
        CHECK(t.env->metrics().counterValue("platform_status_out_of_order_total") == 1);
        // A 409 that says it is past this one contradicts the protocol: retrying cannot help.
        t.platform.queueReply(testkit::PeerReply::answer(409, R"({"expected":"7"})"));
        CHECK(testkit::deliver(*sink, third).kind == Kind::Reject);
    }
    SECTION("5xx, 408, 429 and no answer: retried, Retry-After honoured") {
        t.platform.queueReply(testkit::PeerReply::answer(500, "<html>oops</html>"));
        auto r = testkit::deliver(*sink, first);
        REQUIRE(r.kind == Kind::Retry);
        CHECK(r.reason.find("HTTP 500") != std::string::npos);
        t.platform.queueReply(testkit::PeerReply::answer(503, "{}", {{"Retry-After", "7"}}));
        r = testkit::deliver(*sink, first);
        REQUIRE(r.kind == Kind::Retry);
        CHECK(r.retryAfterMs == 7000);
        t.platform.queueReply(testkit::PeerReply::answer(429, ""));
        CHECK(testkit::deliver(*sink, first).kind == Kind::Retry);
        t.platform.queueReply(testkit::PeerReply::answer(408, ""));
        CHECK(testkit::deliver(*sink, first).kind == Kind::Retry);
        t.platform.queueReply(testkit::PeerReply::drop());
        r = testkit::deliver(*sink, first);
        REQUIRE(r.kind == Kind::Retry);
        CHECK(r.reason.find("did not answer") != std::string::npos);
    }
    SECTION("other 4xx: rejected with the platform's message") {
        t.platform.queueReply(
            testkit::PeerReply::answer(422, R"({"error":"办件 35058120260302000001 已作废"})"));
        auto r = testkit::deliver(*sink, first);
        REQUIRE(r.kind == Kind::Reject);
        CHECK(r.reason == "the platform refused status 1 (HTTP 422): 办件 35058120260302000001 "
                          "已作废");
        t.platform.queueReply(testkit::PeerReply::answer(401, "bad token"));
        r = testkit::deliver(*sink, first);
        REQUIRE(r.kind == Kind::Reject);
        CHECK(r.reason.find("(HTTP 401): \"bad token\"") != std::string::npos);
        t.platform.queueReply(testkit::PeerReply::answer(302, ""));
        CHECK(testkit::deliver(*sink, first).kind == Kind::Reject);
    }
    SECTION("what is not a numbered status is refused before anything is sent") {
        const auto before = t.platform.requestCount();
        auto r = testkit::deliver(*sink, testkit::makeEvent("gov.case.concluded", CaseA));
        REQUIRE(r.kind == Kind::Reject);
        CHECK(r.reason.find("numbered by the sequencer") != std::string::npos);
        auto unnumbered = first;
        unnumbered.extensions.erase("sequence");
        CHECK(testkit::deliver(*sink, unnumbered).kind == Kind::Reject);
        auto otherCase = first;
        otherCase.subject = CaseB;
        CHECK(testkit::deliver(*sink, otherCase).kind == Kind::Reject);
        CHECK(t.platform.requestCount() == before);
    }
    SECTION("a case number that is not a plain path segment is percent-encoded") {
        t.platform.queueReply(testkit::PeerReply::answer(200, R"({"applied":1})"));
        CHECK(testkit::deliver(*sink, stamped("SS/../2026 案")).kind == Kind::Ok);
        CHECK(t.platform.requests().back().target ==
              "/api/cases/SS%2F..%2F2026%20%E6%A1%88/events");
    }
}
