#include <catch2/catch.hpp>

#include "core/routing/Glob.h"
#include "core/routing/RouteTable.h"
#include "tests/fakes/Events.h"

using namespace ow;

TEST_CASE("Glob matches literals, stars and question marks", "[routing]") {
    CHECK(routing::globMatch("gov.case.*", "gov.case.submitted"));
    CHECK(routing::globMatch("gov.case.*", "gov.case."));
    CHECK_FALSE(routing::globMatch("gov.case.*", "gov.fee.paid"));
    CHECK(routing::globMatch("*", ""));
    CHECK(routing::globMatch("a?c", "abc"));
    CHECK_FALSE(routing::globMatch("a?c", "ac"));
    CHECK(routing::globMatch("*.paid", "gov.fee.paid"));
    CHECK(routing::globMatch("gov.*.paid", "gov.fee.paid"));
    CHECK_FALSE(routing::globMatch("gov.*.paid", "gov.fee.paid.late"));
    CHECK(routing::globMatch("exact", "exact"));
    CHECK_FALSE(routing::globMatch("exact", "exact!"));
    // A hostile pattern stays quick (no exponential backtracking).
    std::string text(5000, 'a');
    CHECK_FALSE(routing::globMatch("*a*a*a*a*a*a*a*a*b", text));
}

namespace {

config::RouteSpec route(std::string name, std::vector<std::string> to) {
    config::RouteSpec r;
    r.name = std::move(name);
    r.to = std::move(to);
    return r;
}

} // namespace

TEST_CASE("RouteTable fans out to every matching route's outputs once", "[routing]") {
    auto cases = route("cases", {"platform", "supervision"});
    cases.match.type = {"gov.case.*"};
    auto all = route("all", {"platform"});
    routing::RouteTable table({cases, all}, {{"platform", "subject"}, {"supervision", ""}});

    auto targets = table.route(fakes::makeEvent("1", "gov.case.accepted", "C-1"));
    REQUIRE(targets.size() == 2);
    CHECK(targets[0].output == "platform");
    CHECK(targets[0].orderingKey == "C-1");
    CHECK(targets[1].output == "supervision");
    CHECK(targets[1].orderingKey.empty());

    auto fee = table.route(fakes::makeEvent("2", "gov.fee.paid"));
    REQUIRE(fee.size() == 1);
    CHECK(fee[0].route == "all");
}

TEST_CASE("RouteTable matches extensions, subject, source and data pointers", "[routing]") {
    auto r = route("land", {"land"});
    r.match.extensions = {{"department", {"land-*"}}};
    r.match.data = {{"/applicant/kind", {"company"}}, {"/amount", {"1?0"}}};
    r.match.subject = {"SS-*"};
    routing::RouteTable table({r}, {{"land", ""}});

    nlohmann::json good = {{"department", "land-resources"},
                           {"data", {{"applicant", {{"kind", "company"}}}, {"amount", 150}}}};
    CHECK(table.route(fakes::makeEvent("1", "t", "SS-2026-1", good)).size() == 1);

    auto wrongDept = good;
    wrongDept["department"] = "public-security";
    CHECK(table.route(fakes::makeEvent("2", "t", "SS-2026-1", wrongDept)).empty());

    auto noData = good;
    noData.erase("data");
    CHECK(table.route(fakes::makeEvent("3", "t", "SS-2026-1", noData)).empty());

    auto wrongKind = good;
    wrongKind["data"]["applicant"]["kind"] = "person";
    CHECK(table.route(fakes::makeEvent("4", "t", "SS-2026-1", wrongKind)).empty());

    CHECK(table.route(fakes::makeEvent("5", "t", "XX-1", good)).empty());
    CHECK(table.route(fakes::makeEvent("6", "t", "", good)).empty()); // no subject at all
}

TEST_CASE("RouteTable expands output templates and reports what it cannot resolve", "[routing]") {
    auto r = route("dept", {"dept-{department}"});
    routing::RouteTable table({r}, {{"dept-land", ""}});

    auto ok = table.route(fakes::makeEvent("1", "t", "", {{"department", "land"}}));
    REQUIRE(ok.size() == 1);
    CHECK(ok[0].output == "dept-land");
    CHECK(ok[0].error.empty());

    auto unknown = table.route(fakes::makeEvent("2", "t", "", {{"department", "tax"}}));
    REQUIRE(unknown.size() == 1);
    CHECK(unknown[0].output == "dept-tax");
    CHECK_THAT(unknown[0].error, Catch::Contains("not defined"));

    auto missing = table.route(fakes::makeEvent("3", "t"));
    REQUIRE(missing.size() == 1);
    CHECK_THAT(missing[0].error, Catch::Contains("'department'"));
}
