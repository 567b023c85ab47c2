// The industry-commerce adapter with the SDK test kit, created through its own registration:
// the application sink and the updates source against a fake 工商局 on loopback, the mapper
// with a TestProcessContext. No hub.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/testkit/TestKit.h>

namespace sdk = onewindow::sdk;
namespace testkit = onewindow::sdk::testkit;
using nlohmann::json;
using Kind = sdk::Result::Kind;

namespace {

struct Env {
    testkit::FakeHttpPeer dept;
    testkit::PlainHttpClient http;
    testkit::TestRegistry registry{onewindow_plugin};
    std::unique_ptr<testkit::TestServices> env;

    explicit Env(const std::string& component) {
        sdk::Config given;
        if (component != "mapper") {
            given.set("base_url", dept.url("/"));
            given.set("api_key", std::string("secret-token"));
        }
        if (component == "updates") given.set("poll_ms", std::int64_t{10});
        if (component == "updates") given.set("timeout_ms", std::int64_t{1000});
        env = std::make_unique<testkit::TestServices>(
            testkit::configFor(registry.info(component).spec, given), "gongshang");
        env->useHttp(http);
    }
};

sdk::Event accepted(const std::string& caseNo) {
    return testkit::makeEvent("gov.case.accepted", caseNo,
                              json{{"item_code", "350581003785001A000101"},
                                   {"applicant", {{"type", "company"}, {"name", "某某公司"}}},
                                   {"occurred_at", "2026-03-02T10:15:00+08:00"}}
                                  .dump());
}

} // namespace

TEST_CASE("industry-commerce applications: the department's field names and its codes") {
    Env t("applications");
    auto sink = t.registry.createSink("applications", t.env->services());
    t.dept.queueReply(testkit::PeerReply::answer(200, R"({"code":"0","data":{"YWLSH":"GS1"}})"));
    CHECK(testkit::deliver(*sink, accepted("SS-1")).kind == Kind::Ok);
    const auto req = t.dept.requests().at(0);
    CHECK(req.method == "POST");
    CHECK(req.path == "/api/v1/applications");
    CHECK(req.header("token") == "secret-token");
    const auto body = json::parse(req.body);
    CHECK(body["SBLSH"] == "SS-1");
    CHECK(body["SXBM"] == "350581003785001A000101");
    CHECK(body["SQRMC"] == "某某公司");
    CHECK(body["SQRLX"] == "2");
    CHECK(body["SLSJ"] == "2026-03-02 10:15:00");
    CHECK(body["XZQHDM"] == "350581");

    t.dept.queueReply(testkit::PeerReply::answer(200, R"({"code":"9999","msg":"系统繁忙"})"));
    CHECK(testkit::deliver(*sink, accepted("SS-2")).kind == Kind::Retry);
    t.dept.queueReply(testkit::PeerReply::answer(500, "<html>oops</html>"));
    CHECK(testkit::deliver(*sink, accepted("SS-2")).kind == Kind::Retry);
    t.dept.queueReply(testkit::PeerReply::drop());
    CHECK(testkit::deliver(*sink, accepted("SS-2")).kind == Kind::Retry);
    t.dept.queueReply(
        testkit::PeerReply::answer(200, R"({"code":"1002","msg":"事项编码不属于本部门"})"));
    auto r = testkit::deliver(*sink, accepted("SS-3"));
    REQUIRE(r.kind == Kind::Reject);
    CHECK(r.reason.find("code 1002: 事项编码不属于本部门") != std::string::npos);
    r = testkit::deliver(*sink, testkit::makeEvent("gov.case.concluded", "SS-3"));
    CHECK(r.kind == Kind::Reject);
}

TEST_CASE("industry-commerce updates: journaled first, acknowledged after") {
    Env t("updates");
    auto source = t.registry.createSource("updates", t.env->services());
    const std::string two = R"({"code":"0","data":[
        {"XH":1,"LX":"DJ","YWLSH":"GS1","SBLSH":"SS-1"},
        {"XH":2,"LX":"SP","YWLSH":"GS1","SPHJDM":"1","SPSJ":"2026-03-02 11:00:00"}]})";
    SECTION("emitted and durable: acknowledged up to the last XH") {
        t.dept.queueReply(testkit::PeerReply::answer(200, two));
        t.dept.setDefaultReply(testkit::PeerReply::answer(200, R"({"code":"0","data":[]})"));
        testkit::TestSourceContext ctx(1);
        CHECK(source->run(ctx).kind == Kind::Ok);
        REQUIRE(ctx.emitted().size() == 2);
        CHECK(ctx.emitted()[0].type == "dept.industry-commerce.update");
        CHECK(ctx.emitted()[0].id == "gongshang-update-1");
        CHECK(ctx.emitted()[1].id == "gongshang-update-2");
        const auto reqs = t.dept.requests();
        REQUIRE(reqs.size() >= 2);
        CHECK(reqs[1].path == "/api/v1/updates/ack");
        CHECK(json::parse(reqs[1].body)["XH"] == 2);
    }
    SECTION("not journaled: not acknowledged, so the department sends them again") {
        t.dept.setDefaultReply(testkit::PeerReply::answer(200, two));
        testkit::TestSourceContext ctx(2, /*emitOk=*/false);
        CHECK(source->run(ctx).kind == Kind::Ok);
        for (const auto& q : t.dept.requests())
            CHECK(q.path != "/api/v1/updates/ack");
        CHECK(ctx.emitted().size() == 4); // the same two, twice
    }
}

TEST_CASE("industry-commerce mapper: the department's serial becomes the center's case") {
    Env t("mapper");
    auto mapper = t.registry.createProcessor("mapper", t.env->services());
    testkit::TestProcessContext ctx(t.env->clock());
    auto update = [&](json item) {
        auto e = testkit::makeEvent("dept.industry-commerce.update", "", item.dump());
        return ctx.process(*mapper, e);
    };
    // A step before the registration is retried, not dropped.
    CHECK(update({{"XH", 2},
                  {"LX", "SP"},
                  {"YWLSH", "GS1"},
                  {"SPHJDM", "1"},
                  {"SPSJ", "2026-03-02 11:00:00"}})
              .kind == Kind::Retry);
    CHECK(update({{"XH", 1}, {"LX", "DJ"}, {"YWLSH", "GS1"}, {"SBLSH", "SS-1"}}).kind == Kind::Ok);
    CHECK(update({{"XH", 2},
                  {"LX", "SP"},
                  {"YWLSH", "GS1"},
                  {"SPHJDM", "1"},
                  {"SPHJMC", "承办"},
                  {"SPRXM", "陈承办"},
                  {"SPJG", "1"},
                  {"SPSJ", "2026-03-02 11:00:00"}})
              .kind == Kind::Ok);
    CHECK(update({{"XH", 3},
                  {"LX", "SP"},
                  {"YWLSH", "GS1"},
                  {"SPHJDM", "2"},
                  {"SPSJ", "2026-03-02 15:00:00"}})
              .kind == Kind::Ok);
    CHECK(update({{"XH", 4},
                  {"LX", "BJ"},
                  {"YWLSH", "GS1"},
                  {"BJJGDM", "0"},
                  {"ZJBH", "9135"},
                  {"BJSJ", "2026-03-03 09:30:00"}})
              .kind == Kind::Ok);
    const auto out = ctx.takeEmitted();
    CHECK(testkit::catalogProblems(out) == ""); // the event catalog's schemas
    REQUIRE(out.size() == 3);
    CHECK(out[0].type == "gov.case.step_completed");
    CHECK(out[0].subject == "SS-1");
    CHECK(out[0].id == "gongshang-2");
    auto d = json::parse(out[0].data);
    CHECK(d["case_no"] == "SS-1");
    CHECK(d["dept_case_no"] == "GS1");
    CHECK(d["step_code"] == "undertake");
    CHECK(d["sequence"] == 1);
    CHECK(d["handler"] == "陈承办");
    CHECK(d["occurred_at"] == "2026-03-02T11:00:00+08:00");
    CHECK(json::parse(out[1].data)["sequence"] == 2);
    CHECK(out[2].type == "gov.case.concluded");
    d = json::parse(out[2].data);
    CHECK(d["result_code"] == 0);
    CHECK(d["certificate"]["no"] == "9135");
    // Wrong data is refused with the reason.
    auto r = update({{"XH", 5}, {"LX", "SP"}, {"YWLSH", "GS1"}, {"SPSJ", "02/03/2026"}});
    REQUIRE(r.kind == Kind::Reject);
    CHECK(r.reason.find("'02/03/2026' is not a time yyyy-MM-dd HH:mm:ss") != std::string::npos);
    r = update({{"XH", 6}, {"LX", "ZZ"}, {"YWLSH", "GS1"}});
    REQUIRE(r.kind == Kind::Reject);
    CHECK(r.reason.find("unknown LX 'ZZ'") != std::string::npos);
}

TEST_CASE("industry-commerce updates: a 工商局 that cannot be read is unavailable, with what "
          "happened") {
    Env t("updates");
    auto source = t.registry.createSource("updates", t.env->services());
    struct Case {
        const char* what;
        testkit::PeerReply reply;
        std::string reason; // how the reason starts
    };
    const std::vector<Case> cases = {
        {"a dropped connection", testkit::PeerReply::drop(), "工商局 did not answer: "},
        {"no answer in time", testkit::PeerReply::hold(), "工商局 did not answer: "},
        {"an empty body", testkit::PeerReply::answer(200, " \r\n"),
         "工商局 answered HTTP 200 with an empty body"},
        {"a body that is not JSON", testkit::PeerReply::answer(200, "<html>维护中</html>"),
         "工商局 answered HTTP 200 with a body that is not JSON"},
        {"JSON without a business code", testkit::PeerReply::answer(200, R"({"data":[]})"),
         "工商局: an answer without a business code"},
        {"no list of updates", testkit::PeerReply::answer(200, R"({"code":"0","data":{"XH":1}})"),
         "工商局 answered HTTP 200 with JSON that is not its answer ('data' is not a list)"},
        {"busy", testkit::PeerReply::answer(200, R"({"code":"9999","msg":"系统繁忙"})"),
         "工商局: code 9999: 系统繁忙"},
        {"a server error", testkit::PeerReply::answer(503, "down", {{"Retry-After", "7"}}),
         "工商局 answered HTTP 503"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        t.dept.setDefaultReply(c.reply);
        testkit::TestSourceContext ctx(1);
        sdk::Result r;
        REQUIRE_NOTHROW(r = source->run(ctx));
        CHECK(r.kind == Kind::Ok);
        REQUIRE(ctx.outages().size() == 1);
        INFO(ctx.outages()[0].reason);
        CHECK(ctx.outages()[0].reason.rfind(c.reason, 0) == 0);
        CHECK(ctx.answered() == 0);
        CHECK(ctx.emitted().empty());
    }
    testkit::TestSourceContext busy(1);
    CHECK(source->run(busy).kind == Kind::Ok);
    REQUIRE(busy.outages().size() == 1);
    CHECK(busy.outages()[0].retryAfterMs == 7000);
}
