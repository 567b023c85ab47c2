// Who may send what: the input's and the client's allow lists, the hub's own source namespace,
// and the attributes only the hub sets.
#include <catch2/catch.hpp>

#include "core/event/CloudEventCodec.h"
#include "core/security/AllowList.h"
#include "core/security/Principal.h"

using namespace ow;

namespace {

event::Event ev(const std::string& source, const std::string& type, const std::string& extra = "") {
    return event::parseStructured(R"({"specversion":"1.0","id":"e-1","source":")" + source +
                                      R"(","type":")" + type + "\"" + extra + "}",
                                  {});
}

config::MatchSpec rule(std::vector<std::string> type, std::vector<std::string> source) {
    config::MatchSpec r;
    r.type = std::move(type);
    r.source = std::move(source);
    return r;
}

config::AllowSpec allow(std::vector<std::string> type, std::vector<std::string> source) {
    return config::AllowSpec{{rule(std::move(type), std::move(source))}};
}

const security::Principal kWater{"units", security::AuthMethod::Token, "water-supply"};

} // namespace

TEST_CASE("AllowList: the input's and the client's lists must both let an event through",
          "[security]") {
    const auto input = allow({}, {"unit:*"});
    const auto client = allow({"gov.utility.*"}, {"unit:water*"});
    CHECK_FALSE(security::checkAllowed(ev("unit:water", "gov.utility.account_opened"), "units",
                                       input, "water-supply", &client));
    auto type = security::checkAllowed(ev("unit:water", "gov.fee.paid"), "units", input,
                                       "water-supply", &client);
    REQUIRE(type);
    CHECK(type->attribute == "type");
    CHECK(type->reason == "type-not-allowed");
    CHECK(type->detail.find("water-supply") != std::string::npos);
    CHECK(type->detail.find("gov.fee.paid") != std::string::npos);
    // The client's list allows unit:water*, but the input's does not allow bank:*.
    auto source = security::checkAllowed(ev("bank:cib-terminal-01", "gov.utility.x"), "units",
                                         input, "water-supply", &client);
    REQUIRE(source);
    CHECK(source->attribute == "source");
    CHECK(source->reason == "source-not-allowed");
    // Another unit's source, allowed by the input, refused by the client's own list.
    CHECK(security::checkAllowed(ev("unit:telecom", "gov.utility.x"), "units", input,
                                 "water-supply", &client));
    // A client without a list of its own has the input's.
    CHECK_FALSE(security::checkAllowed(ev("unit:telecom", "gov.utility.x"), "units", input,
                                       "telecom", nullptr));
}

TEST_CASE("AllowList: a list of rules lets through what any one rule takes, and names the "
          "attribute no rule takes",
          "[security]") {
    // The platform: window events of its own; steps only for the departments that approve
    // on it.
    config::MatchSpec window = rule({"gov.case.accepted"}, {"/intranet-platform"});
    config::MatchSpec steps = rule({"gov.case.step_completed"}, {"/intranet-platform"});
    steps.extensions.push_back({"department", {"economy", "health"}});
    const config::AllowSpec platform{{window, steps}};
    auto check = [&](const std::string& type, const std::string& dept) {
        return security::checkAllowed(
            ev("/intranet-platform", type, R"(,"department":")" + dept + "\""), "platform",
            platform, "intranet-platform", nullptr);
    };
    CHECK_FALSE(check("gov.case.accepted", "industry-commerce"));
    CHECK_FALSE(check("gov.case.step_completed", "health"));
    auto foreign = check("gov.case.step_completed", "industry-commerce");
    REQUIRE(foreign);
    CHECK(foreign->attribute == "department");
    CHECK(foreign->reason == "extension-not-allowed");
    CHECK(foreign->detail.find("industry-commerce") != std::string::npos);
    auto type = check("gov.fee.paid", "health");
    REQUIRE(type);
    CHECK(type->attribute == "type");
    auto source = security::checkAllowed(ev("dept:health", "gov.case.accepted"), "platform",
                                         platform, "intranet-platform", nullptr);
    REQUIRE(source);
    CHECK(source->attribute == "source");
}

TEST_CASE("AllowList: no input may send the hub's own onewindow:// sources", "[security]") {
    const config::AllowSpec open; // even an input that allows anything
    for (const char* s : {"onewindow://processor/ledger", "onewindow://fees", "onewindow://"}) {
        auto r = security::checkAllowed(ev(s, "gov.supervision.alert_cleared"), "platform", open,
                                        "intranet-platform", nullptr);
        REQUIRE(r);
        CHECK(r->reason == "reserved-source");
        CHECK(r->attribute == "source");
    }
    CHECK_FALSE(security::checkAllowed(ev("onewindowx://a", "t"), "platform", open, "c", nullptr));
}

TEST_CASE("AllowList: screen refuses the hub's attributes, and stamping sets the principal",
          "[security]") {
    const config::AllowSpec open;
    for (const char* attr : {"owinput", "owauth", "authid", "authtype", "authclaims"}) {
        INFO(attr);
        auto e = ev("unit:water", "t", std::string(",\"") + attr + "\":\"forged\"");
        auto r = security::screen(e, kWater, open, nullptr);
        REQUIRE(r);
        CHECK(r->status == 400);
        CHECK(r->attribute == attr);
        CHECK(r->detail.find("water-supply") != std::string::npos);
    }
    auto e = ev("unit:water", "gov.utility.account_opened");
    REQUIRE_FALSE(security::screen(e, kWater, open, nullptr));
    CHECK_FALSE(e.attribute("authid")); // screening changes nothing
    security::stamp(e, kWater);
    CHECK(e.attribute("owinput") == "units");
    CHECK(e.attribute("owauth") == "token");
    CHECK(e.attribute("authid") == "water-supply");
    CHECK(e.attribute("authtype") == "api_key");
    // The principal recorded beside a stored event gives the same attributes back.
    const auto again = security::principalOf(store::Provenance{"units", "water-supply", "token"});
    CHECK(again.id == kWater.id);
    CHECK(again.input == kWater.input);
    CHECK(again.method == kWater.method);
    CHECK(security::principalOf(store::Provenance{"old", "c", ""}).method ==
          security::AuthMethod::None);
}

TEST_CASE("AllowList: stamping replaces what a plugin copied from another event", "[security]") {
    auto e = ev("dept:x", "t", R"(,"authid":"intranet-platform","authclaims":"x")");
    security::stamp(e, {"processor:mapper", security::AuthMethod::Processor, "processor:mapper"});
    CHECK(e.attribute("authid") == "processor:mapper");
    CHECK(e.attribute("authtype") == "system");
    CHECK_FALSE(e.attribute("authclaims"));
}
