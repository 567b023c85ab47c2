// The post adapter with the SDK test kit, through its own registration: the order sink
// against a fake EMS on loopback (what it sends, how each answer is taken) and the tracker.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/testkit/TestKit.h>

namespace sdk = onewindow::sdk;
namespace testkit = onewindow::sdk::testkit;
using nlohmann::json;
using Kind = sdk::Result::Kind;

namespace {

sdk::Event concluded(const std::string& caseNo, json delivery) {
    return testkit::makeEvent("gov.case.concluded", caseNo,
                              json{{"result_code", 0},
                                   {"certificate", {{"name", "营业执照"}}},
                                   {"delivery", std::move(delivery)}}
                                  .dump());
}

} // namespace

TEST_CASE("post orders: the waybill EMS needs, and its answers") {
    testkit::FakeHttpPeer ems;
    testkit::PlainHttpClient http;
    testkit::TestRegistry registry{onewindow_plugin};
    sdk::Config given;
    given.set("base_url", ems.url("/"));
    given.set("api_key", std::string("k-1"));
    testkit::TestServices env(testkit::configFor(registry.info("orders").spec, given), "post");
    env.useHttp(http);
    auto sink = registry.createSink("orders", env.services());
    const json to = {{"name", "张三"}, {"mobile", "13800000000"}, {"address", "石狮市八七路1号"}};

    ems.queueReply(testkit::PeerReply::answer(200, R"({"success":true,"mailNo":"1100001CN"})"));
    CHECK(testkit::deliver(*sink, concluded("SS-1", to)).kind == Kind::Ok);
    const auto req = ems.requests().at(0);
    CHECK(req.path == "/ems/api/orders");
    CHECK(req.header("apiKey") == "k-1");
    const auto body = json::parse(req.body);
    CHECK(body["orderNo"] == "SS-1");
    CHECK(body["bizType"] == "政务专递");
    CHECK(body["receiver"]["address"] == "石狮市八七路1号");
    CHECK(body["items"][0] == "营业执照");
    CHECK(body["sender"]["name"] == "石狮市行政服务中心");

    ems.queueReply(testkit::PeerReply::answer(
        200, R"({"success":false,"errorCode":"S99","errorMsg":"系统繁忙"})"));
    CHECK(testkit::deliver(*sink, concluded("SS-2", to)).kind == Kind::Retry);
    ems.queueReply(testkit::PeerReply::answer(502, "Bad Gateway"));
    CHECK(testkit::deliver(*sink, concluded("SS-2", to)).kind == Kind::Retry);
    ems.queueReply(testkit::PeerReply::answer(
        200, R"({"success":false,"errorCode":"B01","errorMsg":"收件信息不完整"})"));
    auto r = testkit::deliver(*sink, concluded("SS-3", to));
    REQUIRE(r.kind == Kind::Reject);
    CHECK(r.reason == "EMS B01: 收件信息不完整");
    // Without an address nothing is sent: the case's data is wrong, not EMS.
    const auto before = ems.requests().size();
    r = testkit::deliver(*sink, concluded("SS-4", {{"name", "李四"}, {"mobile", "139"}}));
    REQUIRE(r.kind == Kind::Reject);
    CHECK(r.reason.find("delivery.address is missing") != std::string::npos);
    CHECK(ems.requests().size() == before);
}

TEST_CASE("post tracker: every record tracked, 妥投 is the case delivered") {
    testkit::TestRegistry registry{onewindow_plugin};
    testkit::TestServices env(testkit::configFor(registry.info("tracker").spec, {}), "post");
    auto tracker = registry.createProcessor("tracker", env.services());
    testkit::TestProcessContext ctx(env.clock());
    auto trace = [&](json t) {
        return ctx.process(*tracker, testkit::makeEvent("dept.post.trace", "", t.dump()));
    };
    CHECK(trace({{"seq", 1},
                 {"mailNo", "11CN"},
                 {"orderNo", "SS-1"},
                 {"opCode", "10"},
                 {"opName", "收寄"},
                 {"opTime", "2026-03-05 09:00:00"}})
              .kind == Kind::Ok);
    CHECK(trace({{"seq", 2},
                 {"mailNo", "11CN"},
                 {"orderNo", "SS-1"},
                 {"opCode", "40"},
                 {"opName", "妥投"},
                 {"signer", "本人"},
                 {"opTime", "2026-03-06 15:20:00"}})
              .kind == Kind::Ok);
    const auto out = ctx.takeEmitted();
    CHECK(testkit::catalogProblems(out) == ""); // the event catalog's schemas
    REQUIRE(out.size() == 3);
    CHECK(out[0].type == "gov.post.tracked");
    CHECK(json::parse(out[0].data)["tracking_no"] == "11CN");
    CHECK(out[2].type == "gov.case.delivered");
    CHECK(out[2].subject == "SS-1");
    const auto d = json::parse(out[2].data);
    CHECK(d["way"] == "post");
    CHECK(d["collected_by"] == "本人");
    CHECK(d["occurred_at"] == "2026-03-06T15:20:00+08:00");
    auto r = trace({{"seq", 3}, {"orderNo", "SS-1"}, {"opCode", "40"}});
    CHECK(r.kind == Kind::Reject);
    r = trace({{"seq", 4},
               {"mailNo", "11CN"},
               {"orderNo", "SS-1"},
               {"opCode", "40"},
               {"opTime", "yesterday"}});
    REQUIRE(r.kind == Kind::Reject);
    CHECK(r.reason.find("'yesterday' is not a time") != std::string::npos);
}

TEST_CASE("post traces: EMS that cannot be read is unavailable, with what happened") {
    testkit::FakeHttpPeer ems;
    testkit::PlainHttpClient http;
    testkit::TestRegistry registry{onewindow_plugin};
    sdk::Config given;
    given.set("base_url", ems.url("/"));
    given.set("api_key", std::string("k-1"));
    given.set("timeout_ms", std::int64_t{300});
    testkit::TestServices env(testkit::configFor(registry.info("traces").spec, given), "post");
    env.useHttp(http);
    auto source = registry.createSource("traces", env.services());

    struct Case {
        const char* what;
        testkit::PeerReply reply;
        std::string reason; // how the reason starts
    };
    const std::vector<Case> cases = {
        {"a dropped connection", testkit::PeerReply::drop(), "EMS did not answer: "},
        {"no answer in time", testkit::PeerReply::hold(), "EMS did not answer: "},
        {"an empty body", testkit::PeerReply::answer(200, ""),
         "EMS answered HTTP 200 with an empty body"},
        {"a body that is not JSON", testkit::PeerReply::answer(200, "<html>gateway</html>"),
         "EMS answered HTTP 200 with a body that is not JSON (20 bytes)"},
        {"JSON null", testkit::PeerReply::answer(200, "null"),
         "EMS answered HTTP 200 with JSON that is not its answer (no 'success')"},
        {"no list of traces", testkit::PeerReply::answer(200, R"({"success":true,"traces":{}})"),
         "EMS answered HTTP 200 with JSON that is not its answer ('traces' is not a list)"},
        {"its own refusal", testkit::PeerReply::answer(200, R"({"success":false,"errorCode":"S99",
            "errorMsg":"系统繁忙"})"),
         "EMS S99: 系统繁忙"},
        {"a server error", testkit::PeerReply::answer(502, "Bad Gateway"), "EMS answered HTTP 502"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        ems.setDefaultReply(c.reply);
        testkit::TestSourceContext ctx(1);
        sdk::Result r;
        REQUIRE_NOTHROW(r = source->run(ctx));
        CHECK(r.kind == Kind::Ok);
        REQUIRE(ctx.outages().size() == 1);
        CHECK(ctx.outages()[0].reason.rfind(c.reason, 0) == 0);
        CHECK(ctx.outages()[0].reason.find("json.exception") == std::string::npos);
        CHECK(ctx.answered() == 0);
        CHECK(ctx.emitted().empty());
    }

    // Its Retry-After is passed on; once it answers the source is up and reads on.
    ems.setDefaultReply(testkit::PeerReply::answer(503, "busy", {{"Retry-After", "30"}}));
    testkit::TestSourceContext busy(1);
    CHECK(source->run(busy).kind == Kind::Ok);
    REQUIRE(busy.outages().size() == 1);
    CHECK(busy.outages()[0].reason == "EMS answered HTTP 503");
    CHECK(busy.outages()[0].retryAfterMs == 30000);
    ems.setDefaultReply(testkit::PeerReply::answer(200, R"({"success":true,"traces":[]})"));
    testkit::TestSourceContext back(1);
    CHECK(source->run(back).kind == Kind::Ok);
    CHECK(back.outages().empty());
    CHECK(back.answered() == 1);
    CHECK(back.up());
}
