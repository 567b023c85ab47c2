// The utility-accounts chain with the SDK test kit, through its own registration: a licence
// starts one request per convenience unit, the answers complete the chain, silence raises an
// alert after confirm_hours on the fake clock.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/testkit/TestKit.h>

namespace sdk = onewindow::sdk;
namespace testkit = onewindow::sdk::testkit;
using nlohmann::json;
using Kind = sdk::Result::Kind;

namespace {

struct Fixture {
    testkit::TestRegistry registry{onewindow_plugin};
    testkit::TestServices env{testkit::configFor(registry.info("chain").spec, {}), "chain"};
    std::unique_ptr<sdk::Processor> chain = registry.createProcessor("chain", env.services());
    testkit::TestProcessContext ctx{env.clock()};

    sdk::Result send(const std::string& type, const std::string& caseNo, json data) {
        return ctx.process(*chain, testkit::makeEvent(type, caseNo, data.dump()));
    }
    void licence(const std::string& caseNo, const std::string& item = "350581003785001A000101",
                 int result = 0) {
        REQUIRE(send("gov.case.accepted", caseNo,
                     {{"item_code", item}, {"applicant", {{"name", "石狮市某某公司"}}}})
                    .kind == Kind::Ok);
        REQUIRE(send("gov.case.concluded", caseNo,
                     {{"result_code", result}, {"certificate", {{"no", "91350581MA1"}}}})
                    .kind == Kind::Ok);
    }
};

} // namespace

TEST_CASE("utility-accounts: a licence opens the accounts, the answers complete the chain") {
    Fixture f;
    f.licence("SS-1");
    auto out = f.ctx.takeEmitted();
    CHECK(testkit::catalogProblems(out) == ""); // the event catalog's schemas
    REQUIRE(out.size() == 2);
    CHECK(out[0].type == "gov.utility.account_requested");
    CHECK(out[0].extensions.at("utility") == "water");
    CHECK(out[1].extensions.at("utility") == "telecom");
    const auto d = json::parse(out[0].data);
    CHECK(d["company"] == "石狮市某某公司");
    CHECK(d["licence_no"] == "91350581MA1");
    // A repeat of the conclusion starts nothing new.
    REQUIRE(f.send("gov.case.concluded", "SS-1", {{"result_code", 0}}).kind == Kind::Ok);
    CHECK(f.ctx.takeEmitted().empty());

    REQUIRE(f.send("gov.utility.account_opened", "SS-1",
                   {{"case_no", "SS-1"}, {"service", "water"}, {"account_no", "W-1"}})
                .kind == Kind::Ok);
    CHECK(f.ctx.takeEmitted().empty());
    REQUIRE(f.send("gov.utility.account_refused", "SS-1",
                   {{"case_no", "SS-1"}, {"service", "telecom"}, {"reason", "无光纤资源"}})
                .kind == Kind::Ok);
    out = f.ctx.takeEmitted();
    CHECK(testkit::catalogProblems(out) == ""); // the event catalog's schemas
    REQUIRE(out.size() == 1);
    CHECK(out[0].type == "gov.case.chain_completed");
    const auto s = json::parse(out[0].data)["services"];
    CHECK(s["water"]["account_no"] == "W-1");
    CHECK(s["telecom"]["state"] == "refused");
    CHECK(f.ctx.timers().empty());
    // An answer for a service never asked is refused.
    CHECK(f.send("gov.utility.account_opened", "SS-1", {{"case_no", "SS-1"}, {"service", "gas"}})
              .kind == Kind::Reject);
}

TEST_CASE("utility-accounts: no chain without a licence of a chained item, and silence alerts") {
    Fixture f;
    f.licence("SS-2", "350581003785001A000101", 1); // returned, no licence
    f.licence("SS-3", "350581003785114A000103", 0); // another department's item
    CHECK(f.ctx.takeEmitted().empty());
    f.licence("SS-4");
    CHECK(f.ctx.takeEmitted().size() == 2);
    REQUIRE(f.send("gov.utility.account_opened", "SS-4",
                   {{"case_no", "SS-4"}, {"service", "water"}, {"account_no", "W-4"}})
                .kind == Kind::Ok);
    const auto fired = f.ctx.advanceAndRunTimers(*f.chain, 72LL * 3600 * 1000);
    INFO(testkit::describe(fired));
    REQUIRE(fired.kind == Kind::Ok);
    const auto out = f.ctx.takeEmitted();
    CHECK(testkit::catalogProblems(out) == ""); // the event catalog's schemas
    REQUIRE(out.size() == 1);
    CHECK(out[0].type == "gov.supervision.alert");
    const auto d = json::parse(out[0].data);
    CHECK(d["units"] == json::array({"telecom"}));
    CHECK(d["level"] == "yellow");
}
