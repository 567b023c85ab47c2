// The e-supervision adapter with the SDK test kit: canonical case events become exchange
// objects with the wire field names (DOMAIN §1.2-1.4), and each case's objects leave in the
// order the receiver requires, whatever order the hub got them in.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/testkit/CatalogCheck.h>
#include <onewindow/sdk/testkit/FakeClock.h>
#include <onewindow/sdk/testkit/TestProcessContext.h>
#include <string>
#include <vector>

#include "adapters/e-supervision/exchange/ExchangeOrder.h"

using namespace ow::adapters::esupervision;
namespace sdk = onewindow::sdk;
using nlohmann::json;

namespace {

class Proc final : public sdk::Processor {
public:
    explicit Proc(ExchangeOrder& o) : o_(o) {}
    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        return o_.process(e, ctx);
    }

private:
    ExchangeOrder& o_;
};

struct Adapter {
    OrderSettings settings; // a named object: GCC 12 -O2 warns (wrongly) on a temporary
    ExchangeOrder order{settings};
    Proc proc{order};
    sdk::testkit::FakeClock clock;
    sdk::testkit::TestProcessContext ctx{clock};
    int n = 0;

    sdk::Result send(const std::string& type, json data, const std::string& caseNo = "SS-1",
                     const std::string& source = "/intranet-platform") {
        sdk::Event e;
        e.id = "e" + std::to_string(++n);
        e.source = source;
        e.type = type.rfind("gov.", 0) == 0 ? type : "gov.case." + type;
        e.subject = caseNo;
        e.time = "2026-03-02T02:00:00Z";
        if (data.is_null()) data = json::object();
        data["item_code"] = data.value("item_code", "350581003785042N000109");
        e.data = data.dump();
        return ctx.process(proc, e);
    }
    /// SPTYPE of each object sent since the last call, and the objects.
    std::vector<json> sent() {
        std::vector<json> out;
        for (auto& e : ctx.takeEmitted()) {
            REQUIRE(e.type == "gov.supervision.exchange");
            CHECK(onewindow::sdk::testkit::catalogProblems(e) == ""); // the event catalog's
            auto o = json::parse(e.data);
            CHECK(e.extensions.at("sptype") == o["SPTYPE"]);
            CHECK(e.subject == o["SBLSH"]);
            out.push_back(o);
        }
        return out;
    }
    static std::vector<std::string> types(const std::vector<json>& objects) {
        std::vector<std::string> t;
        for (const auto& o : objects)
            t.push_back(o["SPTYPE"]);
        return t;
    }
};

} // namespace

TEST_CASE("e-supervision: each milestone becomes its exchange object with the wire names") {
    Adapter a;
    REQUIRE(a.send("submitted", {{"occurred_at", "2026-03-02T09:05:00+08:00"},
                                 {"applicant", {{"type", "company"}, {"name", "石狮市某某公司"}}},
                                 {"title", "关于石狮市某某公司的房地产转让"}})
                .kind == sdk::Result::Kind::Ok);
    REQUIRE(a.send("accepted", {{"occurred_at", "2026-03-02T10:15:30+08:00"},
                                {"dept_case_no", "GJ-2026-77"},
                                {"actor", {{"name", "王窗口"}, {"staff_no", "0317"}}},
                                {"receipt_no", "SL-0001"}})
                .kind == sdk::Result::Kind::Ok);
    REQUIRE(a.send("step_completed", {{"occurred_at", "2026-03-03T11:00:00+08:00"},
                                      {"step_code", "undertake"},
                                      {"sequence", 1},
                                      {"handler", "李承办"},
                                      {"opinion", "材料齐全，拟同意"},
                                      {"decision", "agree"}})
                .kind == sdk::Result::Kind::Ok);
    auto objects = a.sent();
    REQUIRE(Adapter::types(objects) == std::vector<std::string>{"0", "2", "3"});
    CHECK(objects[0]["SQRLX"] == "2");
    CHECK(objects[0]["SQRMC"] == "石狮市某某公司");
    CHECK(objects[0]["SBSJ"] == "2026-03-02 09:05:00");
    const auto& sl = objects[1];
    CHECK(sl["SPTYPE_MC"] == "ShouLi");
    CHECK(sl["SLZTDM"] == "1");
    CHECK(sl["SLSJ"] == "2026-03-02 10:15:30");
    CHECK(sl["SBLSH"] == "SS-1");
    CHECK(sl["SXBM"] == "350581003785042N000109");
    CHECK(sl["XZQHDM"] == "350581");
    CHECK(sl["YWLSH"] == "GJ-2026-77");
    CHECK(sl["BLRXM"] == "王窗口");
    CHECK(sl["VERSION"] == 1);
    const auto& sp = objects[2];
    CHECK(sp["SPHJDM"] == "1");
    CHECK(sp["SPHJMC"] == "承办");
    CHECK(sp["SPRXM"] == "李承办");
    CHECK(sp["SPHJZTDM"] == "1");
    CHECK(sp["SPSJ"] == "2026-03-03 11:00:00");

    // The fee book's splits give 办结 its fee (SFJE, mandatory with BJJGDM 0).
    REQUIRE(a.send("gov.fee.paid", {{"case_no", "SS-1"}, {"notice_no", "N"}, {"amount_fen", 8000}},
                   "SS-1", "onewindow://fees")
                .kind == sdk::Result::Kind::Ok);
    REQUIRE(a.send("gov.fee.paid", {{"case_no", "SS-1"}, {"notice_no", "N"}, {"amount_fen", 3500}},
                   "SS-1", "onewindow://fees")
                .kind == sdk::Result::Kind::Ok);
    REQUIRE(a.send("special_procedure_started", {{"kind", "B"},
                                                 {"sequence", 1},
                                                 {"length", 20},
                                                 {"unit", "calendar"},
                                                 {"reason", "听证"}})
                .kind == sdk::Result::Kind::Ok);
    REQUIRE(a.send("concluded", {{"result_code", 0},
                                 {"certificate", {{"name", "房屋所有权证"}, {"no", "FZ-1"}}}})
                .kind == sdk::Result::Kind::Ok);
    REQUIRE(a.send("delivered", {{"way", "post"}, {"tracking_no", "EMS123"}}).kind ==
            sdk::Result::Kind::Ok);
    objects = a.sent();
    REQUIRE(Adapter::types(objects) == std::vector<std::string>{"5", "4", "9"});
    CHECK(objects[0]["TBCXZL"] == "B");
    CHECK(objects[0]["TBCXSXDW"] == "Z");
    CHECK(objects[1]["BJJGDM"] == "0");
    CHECK(objects[1]["SFJE"] == "115.00");
    CHECK(objects[1]["ZJBH"] == "FZ-1");
    CHECK(objects[2]["YJDH"] == "EMS123");
}

TEST_CASE("e-supervision: steps and the conclusion that arrive before the acceptance wait for it") {
    Adapter a;
    REQUIRE(a.send("concluded", {{"result_code", 1}, {"reason", "不符合条件"}}).kind ==
            sdk::Result::Kind::Ok);
    REQUIRE(a.send("step_completed", {{"step_code", "review"}, {"sequence", 2}}).kind ==
            sdk::Result::Kind::Ok);
    REQUIRE(a.send("step_completed", {{"step_code", "undertake"}, {"sequence", 1}}).kind ==
            sdk::Result::Kind::Ok);
    // An alert goes at once: acceptance overdue is raised before any acceptance exists.
    REQUIRE(a.send("gov.supervision.alert", {{"case_no", "SS-1"},
                                             {"alert_id", "SS-1/acceptance/red"},
                                             {"level", "red"},
                                             {"raised_at", "2026-03-09T17:00:00+08:00"}})
                .kind == sdk::Result::Kind::Ok);
    CHECK(Adapter::types(a.sent()) == std::vector<std::string>{"YJ"});
    REQUIRE(a.send("accepted", {}).kind == sdk::Result::Kind::Ok);
    // Basic information, then the steps in their arrival order, then the conclusion.
    const auto objects = a.sent();
    REQUIRE(Adapter::types(objects) == std::vector<std::string>{"2", "3", "3", "4"});
    CHECK(objects[1]["SPHJDM"] == "2");
    CHECK(objects[2]["SPHJDM"] == "1");
    CHECK(objects[3]["SFJE"] == "0.00");
    // Another case is not affected by this one's waiting.
    REQUIRE(a.send("accepted", {}, "SS-2").kind == sdk::Result::Kind::Ok);
    CHECK(Adapter::types(a.sent()) == std::vector<std::string>{"2"});
}

TEST_CASE("e-supervision: repeats are sent once, corrections again with their VERSION") {
    Adapter a;
    REQUIRE(a.send("accepted", {}).kind == sdk::Result::Kind::Ok);
    REQUIRE(a.send("accepted", {}).kind == sdk::Result::Kind::Ok);
    REQUIRE(a.send("step_completed", {{"step_code", "undertake"}, {"sequence", 1}}).kind ==
            sdk::Result::Kind::Ok);
    REQUIRE(
        a.send("step_completed", {{"step_code", "undertake"}, {"sequence", 1}, {"data_version", 2}})
            .kind == sdk::Result::Kind::Ok);
    REQUIRE(
        a.send("step_completed", {{"step_code", "undertake"}, {"sequence", 1}, {"data_version", 1}})
            .kind == sdk::Result::Kind::Ok);
    const auto objects = a.sent();
    REQUIRE(Adapter::types(objects) == std::vector<std::string>{"2", "3", "3"});
    CHECK(objects[2]["VERSION"] == 2);
}

TEST_CASE("e-supervision: events that cannot be mapped are refused with the reason") {
    Adapter a;
    auto r = a.send("accepted", {{"occurred_at", "yesterday"}});
    REQUIRE(r.kind == sdk::Result::Kind::Reject);
    CHECK(r.reason.find("'yesterday' is not an RFC 3339 time") != std::string::npos);
    r = a.send("concluded", {}, "");
    REQUIRE(r.kind == sdk::Result::Kind::Reject);
    CHECK(r.reason.find("no case number") != std::string::npos);
    r = a.send("concluded", {});
    REQUIRE(r.kind == sdk::Result::Kind::Reject);
    CHECK(r.reason.find("result_code is missing") != std::string::npos);
    // Not e-supervision's: passed by.
    CHECK(a.send("received", {}).kind == sdk::Result::Kind::Ok);
    CHECK(a.sent().empty());

    OrderSettings small;
    small.maxHeldPerCase = 2;
    ExchangeOrder order(small);
    Proc proc(order);
    sdk::testkit::FakeClock clock;
    sdk::testkit::TestProcessContext ctx(clock);
    auto step = [&](int seq) {
        sdk::Event e;
        e.id = "s" + std::to_string(seq);
        e.source = "/dept";
        e.type = "gov.case.step_completed";
        e.subject = "SS-9";
        e.data = json{{"step_code", "review"}, {"sequence", seq}}.dump();
        return ctx.process(proc, e);
    };
    CHECK(step(1).kind == sdk::Result::Kind::Ok);
    CHECK(step(2).kind == sdk::Result::Kind::Ok);
    r = step(3);
    REQUIRE(r.kind == sdk::Result::Kind::Reject);
    CHECK(r.reason.find("waiting for its basic information") != std::string::npos);
}
