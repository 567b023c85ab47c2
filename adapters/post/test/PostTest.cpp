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
                              json{{"result_code", "0"},
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
