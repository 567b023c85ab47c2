// The deadline-watch processor, driven by a fake clock: days pass in microseconds, and the
// test kit's context applies the hub's rule that only an Ok commits a call's effects.
#include <cstdint>
#include <memory>
#include <string>

#include <onewindow/sdk/testkit/TestKit.h>

#include "Check.h"
#include "Json.h"

namespace sdk = onewindow::sdk;
namespace testkit = onewindow::sdk::testkit;
using Kind = sdk::Result::Kind;

namespace {

constexpr std::int64_t Hour = 3600 * 1000;

struct Fixture {
    testkit::TestRegistry registry{onewindow_plugin};
    testkit::TestServices env{testkit::configFor(registry.info("deadline-watch").spec), "watch"};
    std::unique_ptr<sdk::Processor> watch =
        registry.createProcessor("deadline-watch", env.services());
    testkit::TestProcessContext ctx{env.clock()};
};

sdk::Event caseEvent(const std::string& type, const std::string& caseNo = "SS-2026-000123") {
    return testkit::makeEvent(type, caseNo, "{}", {{"itemcode", "370100-001"}});
}

void raisesAnAlertWhenThePromisedLimitPasses() {
    Fixture f; // limit_hours defaults to 120
    CHECK(f.ctx.process(*f.watch, caseEvent("gov.case.accepted")).kind == Kind::Ok);
    CHECK(f.ctx.timer("SS-2026-000123").has_value());

    CHECK(f.ctx.advanceAndRunTimers(*f.watch, 119 * Hour).kind == Kind::Ok);
    CHECK(f.ctx.emitted().empty());
    CHECK(f.ctx.advanceAndRunTimers(*f.watch, 1 * Hour).kind == Kind::Ok);

    const auto alerts = f.ctx.takeEmitted();
    if (!CHECK(alerts.size() == 1)) return;
    CHECK(alerts[0].type == "gov.supervision.alert");
    CHECK(testkit::catalogProblems(alerts[0]) == ""); // as the center's event catalog says
    CHECK(alerts[0].subject == "SS-2026-000123");
    CHECK(alerts[0].source == "/plugins/dept-market/watch");
    CHECK(alerts[0].extensions.at("itemcode") == "370100-001");
    CHECK(alerts[0].time == "2026-01-06T00:00:00.000Z"); // filled in from the clock
    const auto data = dept_market::json::topLevelScalars(alerts[0].data);
    CHECK(data && data->at("rule") == "promised_limit");
    CHECK(f.ctx.state().empty());
    CHECK(f.ctx.timers().empty());
}

void aConcludedCaseRaisesNoAlert() {
    Fixture f;
    CHECK(f.ctx.process(*f.watch, caseEvent("gov.case.accepted")).kind == Kind::Ok);
    f.env.clock().advanceHours(100);
    CHECK(f.ctx.process(*f.watch, caseEvent("gov.case.concluded")).kind == Kind::Ok);
    CHECK(f.ctx.timers().empty());
    CHECK(f.ctx.advanceAndRunTimers(*f.watch, 1000 * Hour).kind == Kind::Ok);
    CHECK(f.ctx.emitted().empty());
    CHECK(f.ctx.state().empty());
}

void aRepeatedAcceptanceKeepsTheFirstDueTime() {
    Fixture f;
    CHECK(f.ctx.process(*f.watch, caseEvent("gov.case.accepted")).kind == Kind::Ok);
    f.env.clock().advanceHours(100);
    CHECK(f.ctx.process(*f.watch, caseEvent("gov.case.accepted")).kind == Kind::Ok);
    CHECK(f.ctx.advanceAndRunTimers(*f.watch, 20 * Hour).kind == Kind::Ok);
    CHECK(f.ctx.emitted().size() == 1);
}

void casesAreWatchedApart() {
    Fixture f;
    CHECK(f.ctx.process(*f.watch, caseEvent("gov.case.accepted", "SS-1")).kind == Kind::Ok);
    f.env.clock().advanceHours(10);
    CHECK(f.ctx.process(*f.watch, caseEvent("gov.case.accepted", "SS-2")).kind == Kind::Ok);
    CHECK(f.ctx.advanceAndRunTimers(*f.watch, 115 * Hour).kind == Kind::Ok);
    const auto first = f.ctx.takeEmitted();
    CHECK(first.size() == 1 && first[0].subject == "SS-1");
    CHECK(f.ctx.advanceAndRunTimers(*f.watch, 5 * Hour).kind == Kind::Ok);
    const auto second = f.ctx.takeEmitted();
    CHECK(second.size() == 1 && second[0].subject == "SS-2");
}

void aRejectedEventLeavesNoEffects() {
    Fixture f;
    const auto r = f.ctx.process(*f.watch, caseEvent("gov.case.accepted", ""));
    CHECK(r.kind == Kind::Reject);
    CHECK(f.ctx.state().empty());
    CHECK(f.ctx.timers().empty());
    // Events that do not move the clock are handled without effects.
    CHECK(f.ctx.process(*f.watch, caseEvent("gov.case.step_completed")).kind == Kind::Ok);
    CHECK(f.ctx.state().empty());
}

void theLimitIsConfigurable() {
    testkit::TestRegistry registry(onewindow_plugin);
    sdk::Config given;
    given.set("limit_hours", std::int64_t{24});
    testkit::TestServices env(testkit::configFor(registry.info("deadline-watch").spec, given));
    auto watch = registry.createProcessor("deadline-watch", env.services());
    testkit::TestProcessContext ctx(env.clock());
    CHECK(ctx.process(*watch, caseEvent("gov.case.accepted")).kind == Kind::Ok);
    CHECK(ctx.advanceAndRunTimers(*watch, 24 * Hour).kind == Kind::Ok);
    CHECK(ctx.emitted().size() == 1);
}

} // namespace

int main() {
    return check::run({
        {"raises an alert when the promised limit passes", raisesAnAlertWhenThePromisedLimitPasses},
        {"a concluded case raises no alert", aConcludedCaseRaisesNoAlert},
        {"a repeated acceptance keeps the first due time", aRepeatedAcceptanceKeepsTheFirstDueTime},
        {"cases are watched apart", casesAreWatchedApart},
        {"a rejected event leaves no effects", aRejectedEventLeavesNoEffects},
        {"the limit is configurable", theLimitIsConfigurable},
    });
}
