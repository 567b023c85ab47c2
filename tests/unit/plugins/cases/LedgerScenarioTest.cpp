// The case ledger driven like the hub drives a processor (the SDK's TestProcessContext, a fake
// clock stepped to each timer's instant), on the real 2026 calendar: each of the seven case
// categories, clock pauses (补正, 特别程序 B), extensions (特别程序 A), a joint case with a
// late co-department and the 报批 rules, checked as the exact alerts, at the exact instants,
// and their clearing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>
#include <onewindow/sdk/testkit/CatalogCheck.h>
#include <onewindow/sdk/testkit/FakeClock.h>
#include <onewindow/sdk/testkit/TestProcessContext.h>
#include <random>
#include <string>
#include <vector>

#include "plugins/cases/calendar/CalendarFiles.h"
#include "plugins/cases/data/Rfc3339.h"
#include "plugins/cases/ledger/CaseLedger.h"

using namespace ow::cases;
namespace sdk = onewindow::sdk;
using nlohmann::json;

namespace {

const WorkCalendar& calendar() {
    static const WorkCalendar c =
        loadCalendar(std::string(OW_SOURCE_DIR) + "/config/calendar", BusinessHours{});
    return c;
}

Instant at(unsigned m, unsigned d, int hh, int mm) {
    return WorkCalendar::dayFromCivil(2026, m, d) * 86400000 + (hh * 60 + mm - 480) * 60000LL;
}

ServiceItem item(std::string code, HandlingType h, int promised, std::vector<Step> steps = {},
                 std::vector<JointPart> joint = {}) {
    ServiceItem i;
    i.code = std::move(code);
    i.name = "测试事项" + i.code;
    i.department = "industry-commerce";
    i.handling = h;
    i.promisedLimit = {promised, LimitUnit::WorkingDays};
    i.legalLimit = Limit{20, LimitUnit::WorkingDays};
    i.steps = std::move(steps);
    i.joint = std::move(joint);
    return i;
}

Catalog testCatalog() {
    std::vector<Unit> units = {{"industry-commerce", "工商局", UnitKind::Department},
                               {"fire-brigade", "消防大队", UnitKind::Department},
                               {"environmental-protection", "环保局", UnitKind::Department}};
    auto restart = item("RESTART", HandlingType::Promised, 5);
    restart.supplement = SupplementRule::Restart;
    return Catalog(units,
                   {item("IMM", HandlingType::Immediate, 0), item("PRO", HandlingType::Promised, 5),
                    item("STEPS", HandlingType::Promised, 5,
                         {{"undertake", "承办", 2, true},
                          {"survey", "现场核查", 3, false},
                          {"approve", "批准", 2, true}}),
                    item("JNT", HandlingType::Joint, 10, {},
                         {{"fire-brigade", 5}, {"environmental-protection", 5}}),
                    item("REP", HandlingType::Reported, 10), item("SPC", HandlingType::Special, 2),
                    restart},
                   true);
}

// The ledger as the plugin runs it: the hub's clock is the fake one.
class LedgerProcessor final : public sdk::Processor {
public:
    LedgerProcessor(CaseLedger& l, sdk::Clock& c) : l_(l), c_(c) {}
    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        return l_.process(e, ctx, c_.nowMs());
    }
    sdk::Result onTimer(const std::string& name, const std::string&,
                        sdk::ProcessContext& ctx) override {
        return l_.onTimer(name, ctx, c_.nowMs());
    }

private:
    CaseLedger& l_;
    sdk::Clock& c_;
};

class Scenario {
public:
    explicit Scenario(AlertSettings alerts = {})
        : catalog_(testCatalog()), ledger_(catalog_, calendar(), {LedgerRules{}, alerts}),
          proc_(ledger_, clock_) {
        clock_.set(at(3, 1, 0, 0));
    }

    /// Moves time to `t`, firing each timer at its own instant on the way.
    void until(Instant t) {
        while (true) {
            std::optional<Instant> next;
            for (const auto& [_, timer] : ctx_.timers())
                if (timer.atMs <= t && (!next || timer.atMs < *next)) next = timer.atMs;
            if (!next) break;
            clock_.set(std::max(*next, clock_.nowMs()));
            const auto r = ctx_.runDueTimers(proc_);
            INFO(r.reason);
            REQUIRE(r.kind == sdk::Result::Kind::Ok);
        }
        clock_.set(std::max(t, clock_.nowMs()));
    }

    /// The event `type` of case `no` happening at `t` (and arriving then).
    sdk::Result send(const std::string& type, Instant t, json data = json::object(),
                     const std::string& no = "SS-1") {
        until(t);
        return sendNow(type, t, std::move(data), no);
    }
    /// Arriving now, whenever it happened.
    sdk::Result sendNow(const std::string& type, Instant happened, json data = json::object(),
                        const std::string& no = "SS-1") {
        sdk::Event e;
        e.id = "e-" + std::to_string(++seq_);
        e.source = "/test";
        e.type = type.rfind("gov.", 0) == 0 ? type : "gov.case." + type;
        e.subject = no;
        data["occurred_at"] = formatRfc3339(happened, 480);
        e.data = data.dump();
        return ctx_.process(proc_, e);
    }

    /// What supervision was told so far, one line per alert event:
    /// "raise case/yellow 2026-03-06 17:00" or "clear case/yellow 2026-03-10 10:00 resolved".
    std::vector<std::string> told() {
        std::vector<std::string> out;
        const auto emitted = ctx_.takeEmitted();
        CHECK(sdk::testkit::catalogProblems(emitted) == ""); // the event catalog's schemas
        for (const auto& e : emitted) {
            auto d = json::parse(e.data);
            const std::string id = d["alert_id"].get<std::string>();
            const std::string alert = id.substr(id.find('/') + 1);
            if (e.type == "gov.supervision.alert")
                out.push_back("raise " + alert + " " +
                              formatLocalMinute(*parseRfc3339(d["alert_at"]), 480));
            else
                out.push_back("clear " + alert + " " +
                              formatLocalMinute(*parseRfc3339(d["cleared_at"]), 480) + " " +
                              d["reason"].get<std::string>());
        }
        return out;
    }

    [[nodiscard]] CaseRecord record(const std::string& no = "SS-1") const {
        return CaseRecord::fromJson(json::parse(ctx_.state().at(CaseLedger::caseKey(no))));
    }
    [[nodiscard]] CaseView view(const std::string& no = "SS-1") const {
        return foldCase(record(no), catalog_, calendar(), LedgerRules{}, clock_.nowMs());
    }
    sdk::testkit::TestProcessContext& ctx() { return ctx_; }

private:
    sdk::testkit::FakeClock clock_;
    sdk::testkit::TestProcessContext ctx_{clock_};
    Catalog catalog_;
    CaseLedger ledger_;
    LedgerProcessor proc_;
    int seq_ = 0;
};

using Lines = std::vector<std::string>;

} // namespace

TEST_CASE("Ledger: a promised case gets yellow one working day before its deadline, red at it") {
    Scenario s;
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "PRO"}});
    // Five working days from Monday 2 March: due Monday 9 March 17:00.
    s.until(at(3, 6, 16, 59));
    CHECK(s.told().empty());
    s.until(at(3, 6, 17, 0));
    CHECK(s.told() == Lines{"raise case/yellow 2026-03-06 17:00"});
    s.until(at(3, 9, 17, 0));
    CHECK(s.told() == Lines{"raise case/red 2026-03-09 17:00"});
    s.send("concluded", at(3, 10, 9, 30), {{"result_code", 0}});
    CHECK(s.told() == Lines{"clear case/yellow 2026-03-10 09:30 resolved",
                            "clear case/red 2026-03-10 09:30 resolved"});
    CHECK(s.ctx().timers().empty());
    CHECK(s.view().state == CaseState::Concluded);
}

TEST_CASE("Ledger: an immediate case is due at close of business, counted from 16:59 or 17:01") {
    Scenario s;
    s.send("accepted", at(3, 6, 16, 59), {{"item_code", "IMM"}}, "A");
    s.send("accepted", at(3, 6, 17, 1), {{"item_code", "IMM"}}, "B");
    s.until(at(3, 6, 17, 0));
    CHECK(s.told() == Lines{"raise case/red 2026-03-06 17:00"});
    s.send("concluded", at(3, 6, 17, 30), {}, "A");
    CHECK(s.told() == Lines{"clear case/red 2026-03-06 17:30 resolved"});
    // Accepted after close: due at the close of the next working day, Monday.
    s.send("concluded", at(3, 9, 16, 0), {}, "B");
    CHECK(s.told().empty());
    CHECK(s.view("B").state == CaseState::Concluded);
}

TEST_CASE("Ledger: steps have their own limits, and a step not counted stops the case clock") {
    Scenario s;
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "STEPS"}});
    s.until(at(3, 3, 17, 0)); // 承办 (2 days) has 1 day left
    CHECK(s.told() == Lines{"raise step:undertake/yellow 2026-03-03 17:00"});
    s.send("step_completed", at(3, 4, 10, 0), {{"step_code", "undertake"}});
    CHECK(s.told() == Lines{"clear step:undertake/yellow 2026-03-04 10:00 resolved"});
    // 现场核查 is not counted: the case's clock stands still until it is done (9 March).
    s.until(at(3, 6, 17, 0));
    CHECK(s.told() == Lines{"raise step:survey/yellow 2026-03-06 17:00"});
    s.send("step_completed", at(3, 9, 15, 0), {{"step_code", "survey"}});
    CHECK(s.told() == Lines{"clear step:survey/yellow 2026-03-09 15:00 resolved"});
    // Case: Mar 2 (start), 3 (1), 4..6 paused by the survey (from Mar 4 10:00 to Mar 9 15:00,
    // closes of Mar 4, 5, 6), 9 (2), 10 (3), 11 (4), 12 (5): due Thursday 12 March.
    s.until(at(3, 10, 17, 0)); // 批准 (2 days from Mar 9 15:00) has 1 day left
    CHECK(s.told() == Lines{"raise step:approve/yellow 2026-03-10 17:00"});
    s.until(at(3, 11, 17, 0));
    CHECK(s.told() ==
          Lines{"raise case/yellow 2026-03-11 17:00", "raise step:approve/red 2026-03-11 17:00"});
    s.send("step_completed", at(3, 12, 9, 0), {{"step_code", "approve"}});
    s.send("concluded", at(3, 12, 10, 0), {{"result_code", 0}});
    CHECK(s.told() == Lines{"clear step:approve/yellow 2026-03-12 09:00 resolved",
                            "clear step:approve/red 2026-03-12 09:00 resolved",
                            "clear case/yellow 2026-03-12 10:00 resolved"});
}

TEST_CASE("Ledger: a supplement request after acceptance pauses the clock, a paused case never "
          "escalates") {
    Scenario s;
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "PRO"}});
    s.until(at(3, 6, 17, 0));
    CHECK(s.told() == Lines{"raise case/yellow 2026-03-06 17:00"});
    s.send("supplement_requested", at(3, 9, 10, 0), {{"reason", "缺少股东身份证明"}});
    s.until(at(3, 16, 12, 0)); // past the old deadline: no red while paused
    CHECK(s.told().empty());
    CHECK(s.ctx().timers().empty());
    // Paused over the closes of 9..13 March (5 days): due moves from 9 to 16 March.
    s.send("supplement_received", at(3, 16, 12, 0));
    CHECK(s.told().empty()); // the yellow still stands: 1 working day is left
    s.until(at(3, 16, 17, 0));
    CHECK(s.told() == Lines{"raise case/red 2026-03-16 17:00"});
    CHECK(s.view().supplementRounds == 1);
}

TEST_CASE("Ledger: an item that restarts on supplements counts again from complete materials") {
    Scenario s;
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "RESTART"}});
    s.send("supplement_requested", at(3, 3, 10, 0));
    s.send("supplement_received", at(3, 10, 11, 0));
    // Five working days from 10 March: due 17 March, yellow 16 March.
    s.until(at(3, 16, 17, 0));
    CHECK(s.told() == Lines{"raise case/yellow 2026-03-16 17:00"});
    s.until(at(3, 17, 17, 0));
    CHECK(s.told() == Lines{"raise case/red 2026-03-17 17:00"});
}

TEST_CASE("Ledger: special procedure B pauses the clock, A extends the deadline") {
    Scenario s;
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "PRO"}}, "B");
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "PRO"}}, "A");
    s.until(at(3, 6, 17, 0));
    CHECK(s.told() ==
          Lines{"raise case/yellow 2026-03-06 17:00", "raise case/yellow 2026-03-06 17:00"});
    // B: an expert review from Monday 9 March 10:00 to Thursday 12 March 10:00; the closes of
    // 9, 10 and 11 March do not count, so the deadline moves from 9 to 12 March.
    s.send("special_procedure_started", at(3, 9, 10, 0), {{"kind", "B"}, {"length", 3}}, "B");
    // A: an extension of 3 working days approved on 9 March 9:30: due 12 March, and the yellow
    // light no longer holds (2 days are left) until 11 March.
    s.send("special_procedure_started", at(3, 9, 9, 30), {{"kind", "A"}, {"length", 3}}, "A");
    CHECK(s.told() == Lines{"clear case/yellow 2026-03-09 10:00 deadline_moved"});
    s.until(at(3, 11, 17, 0));
    CHECK(s.told() == Lines{"raise case/yellow 2026-03-11 17:00"}); // A again; B is paused
    s.send("special_procedure_ended", at(3, 12, 10, 0), {{"kind", "B"}}, "B");
    s.until(at(3, 12, 17, 0));
    CHECK(s.told() == Lines{"raise case/red 2026-03-12 17:00", "raise case/red 2026-03-12 17:00"});
    CHECK(s.view("A").extensionDays == 3);
    CHECK(s.view("B").state == CaseState::Accepted);
}

TEST_CASE("Ledger: an extension beyond the legal cap is kept and flagged") {
    Scenario s;
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "PRO"}});
    s.send("extension_approved", at(3, 3, 10, 0), {{"working_days", 11}});
    auto v = s.view();
    CHECK(v.extensionDays == 11);
    REQUIRE(v.flags.size() == 1);
    CHECK_THAT(v.flags[0].message, Catch::Contains("more than the 10 the law allows"));
}

TEST_CASE("Ledger: a joint case watches each co-department's sub-task, a late one is alerted") {
    Scenario s;
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "JNT"}});
    s.send("joint_task_dispatched", at(3, 2, 11, 0), {{"co_department", "fire-brigade"}});
    s.send("joint_task_dispatched", at(3, 2, 11, 0),
           {{"co_department", "environmental-protection"}});
    s.send("joint_task_completed", at(3, 5, 15, 0),
           {{"co_department", "environmental-protection"}});
    CHECK(s.view().state == CaseState::JointInProgress);
    s.until(at(3, 9, 17, 0)); // five working days from 2 March: the fire brigade is late
    CHECK(s.told() == Lines{"raise joint:fire-brigade/yellow 2026-03-06 17:00",
                            "raise joint:fire-brigade/red 2026-03-09 17:00"});
    s.send("joint_task_completed", at(3, 10, 10, 0), {{"co_department", "fire-brigade"}});
    CHECK(s.told() == Lines{"clear joint:fire-brigade/yellow 2026-03-10 10:00 resolved",
                            "clear joint:fire-brigade/red 2026-03-10 10:00 resolved"});
    CHECK(s.view().state == CaseState::InReview);
    s.send("concluded", at(3, 13, 10, 0), {{"result_code", 0}}); // due 16 March: in time
    CHECK(s.told().empty());
}

TEST_CASE("Ledger: a reported case is forwarded within 3 days and answered within 2 of the reply") {
    Scenario s;
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "REP"}});
    s.until(at(3, 5, 17, 0));
    CHECK(s.told() ==
          Lines{"raise forward/yellow 2026-03-04 17:00", "raise forward/red 2026-03-05 17:00"});
    s.send("forwarded", at(3, 6, 10, 0), {{"higher_authority", "泉州市自然资源局"}});
    CHECK(s.told() == Lines{"clear forward/yellow 2026-03-06 10:00 resolved",
                            "clear forward/red 2026-03-06 10:00 resolved"});
    // At the higher authority the local clock stands still: no alert however long it takes.
    s.until(at(3, 20, 10, 0));
    CHECK(s.told().empty());
    s.send("higher_authority_replied", at(3, 20, 10, 0));
    s.until(at(3, 24, 17, 0)); // two working days after the reply
    CHECK(s.told() ==
          Lines{"raise answer/yellow 2026-03-23 17:00", "raise answer/red 2026-03-24 17:00"});
    s.send("decided", at(3, 25, 9, 0), {{"decision", "approve"}});
    CHECK(s.told() == Lines{"clear answer/yellow 2026-03-25 09:00 resolved",
                            "clear answer/red 2026-03-25 09:00 resolved"});
    // Case: 2 (start), 3, 4, 5 (3 days), paused 6..19 March, 20, 23..27, 30: due 30 March.
    CHECK(dueOf(calendar(), *s.view().caseClock()) == at(3, 30, 17, 0));
    s.send("concluded", at(3, 26, 16, 0), {{"result_code", 4}});
    CHECK(s.told().empty());
}

TEST_CASE("Ledger: a special (urgent) case keeps its shortened promise") {
    Scenario s;
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "SPC"}, {"promised_days", 1}});
    s.until(at(3, 3, 17, 0));
    CHECK(s.told() ==
          Lines{"raise case/yellow 2026-03-02 17:00", "raise case/red 2026-03-03 17:00"});
    CHECK(s.view().handling == HandlingType::Special);
}

TEST_CASE("Ledger: a return or refusal without its reason is a violation at once") {
    Scenario s;
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "PRO"}}, "R1");
    s.send("concluded", at(3, 3, 10, 0), {{"result_code", 1}}, "R1"); // 退回办结, no reason
    CHECK(s.told() == Lines{"raise reason:concluded/red 2026-03-03 10:00"});
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "PRO"}}, "R2");
    s.send("concluded", at(3, 3, 10, 0), {{"result_code", 1}, {"reason", "不符合设立条件"}}, "R2");
    s.send("received", at(3, 2, 10, 0), {{"item_code", "PRO"}}, "N1");
    s.send("not_accepted", at(3, 3, 11, 0), {}, "N1");
    CHECK(s.told() == Lines{"raise reason:not_accepted/red 2026-03-03 11:00"});
    // A corrected conclusion with the reason clears it.
    s.send("concluded", at(3, 3, 10, 0),
           {{"result_code", 1}, {"reason", "材料虚假"}, {"data_version", 2}}, "R1");
    CHECK(s.told() == Lines{"clear reason:concluded/red 2026-03-03 11:00 resolved"});
}

TEST_CASE("Ledger: a case not decided within 5 working days of receipt counts from receipt") {
    Scenario s;
    s.send("received", at(3, 2, 10, 0), {{"item_code", "PRO"}});
    s.until(at(3, 9, 17, 0));
    // The acceptance limit ran out: deemed accepted on 2 March, so its 5-day promise ran out
    // at the same instant.
    CHECK(s.told() ==
          Lines{"raise acceptance/yellow 2026-03-06 17:00", "raise case/yellow 2026-03-06 17:00",
                "raise acceptance/red 2026-03-09 17:00", "raise case/red 2026-03-09 17:00"});
    CHECK(s.view().deemedAccepted);
    s.send("accepted", at(3, 10, 9, 0));
    CHECK(s.told() == Lines{"clear acceptance/yellow 2026-03-10 09:00 resolved",
                            "clear acceptance/red 2026-03-10 09:00 resolved"});
    CHECK(s.view().clockStart == at(3, 2, 10, 0));
}

TEST_CASE("Ledger: a supplement request before acceptance stops the acceptance limit") {
    Scenario s;
    s.send("received", at(3, 2, 10, 0), {{"item_code", "PRO"}});
    s.send("supplement_requested", at(3, 4, 10, 0), {{"phase", "pre"}, {"reason", "缺少章程"}});
    s.until(at(3, 16, 10, 0));
    CHECK(s.told().empty());
    CHECK(s.view().state == CaseState::AwaitingSupplementPre);
    s.send("supplement_received", at(3, 16, 10, 0));
    s.send("accepted", at(3, 17, 10, 0));
    CHECK(s.view().clockStart == at(3, 17, 10, 0));
    CHECK_FALSE(s.view().deemedAccepted);
}

TEST_CASE("Ledger: a supervision order whose reply deadline passes is serious") {
    Scenario s;
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "PRO"}});
    s.send("gov.supervision.order_issued", at(3, 3, 10, 0),
           {{"order_no", "DB-2026-017"}, {"reply_days", 2}});
    s.until(at(3, 5, 17, 0));
    CHECK(s.told() == Lines{"raise order:DB-2026-017/serious 2026-03-05 17:00"});
    s.send("gov.supervision.order_replied", at(3, 6, 9, 0), {{"order_no", "DB-2026-017"}});
    CHECK(s.told() == Lines{"clear order:DB-2026-017/serious 2026-03-06 09:00 resolved"});
}

TEST_CASE("Ledger: the zhanjiang convention: yellow card when overdue, red after the order days") {
    AlertSettings zhanjiang;
    zhanjiang.convention = Convention::Zhanjiang;
    zhanjiang.orderDays = 3;
    Scenario s(zhanjiang);
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "PRO"}});
    s.until(at(3, 12, 17, 0));
    CHECK(s.told() == Lines{"raise case/reminder 2026-03-06 17:00",
                            "raise case/yellow 2026-03-09 17:00",
                            "raise case/red 2026-03-12 17:00"});
}

TEST_CASE("Ledger: events in any order give the same case, and the same standing alerts") {
    struct Ev {
        std::string type;
        Instant at;
        json data;
    };
    const std::vector<Ev> events = {
        {"submitted", at(3, 2, 9, 10), {{"item_code", "STEPS"}}},
        {"received", at(3, 2, 9, 30), json::object()},
        {"accepted", at(3, 2, 10, 0), json::object()},
        {"step_completed", at(3, 3, 11, 0), {{"step_code", "undertake"}}},
        {"step_completed", at(3, 9, 15, 0), {{"step_code", "survey"}}},
        {"step_completed", at(3, 16, 9, 0), {{"step_code", "approve"}}},
        {"decided", at(3, 16, 10, 0), {{"decision", "approve"}}},
        {"concluded", at(3, 16, 11, 0), {{"result_code", 0}}},
        {"delivered", at(3, 17, 10, 0), {{"way", "window"}}},
    };
    auto run = [&](const std::vector<std::size_t>& order) -> std::string {
        Scenario s;
        s.until(at(3, 20, 9, 0)); // everything arrives late, at once
        for (std::size_t i : order)
            REQUIRE(s.sendNow(events[i].type, events[i].at, events[i].data).kind ==
                    sdk::Result::Kind::Ok);
        auto v = s.view();
        std::string summary = std::string(toString(v.state)) +
                              " flags=" + std::to_string(v.flags.size()) +
                              " concluded=" + std::to_string(v.concludedAt.value_or(0));
        for (const auto& [id, _] : s.record().raised)
            summary += " " + id;
        return summary;
    };
    std::vector<std::size_t> order(events.size());
    std::iota(order.begin(), order.end(), 0);
    const auto expected = run(order);
    // Concluded after its deadline (16 March; due 12 March with the survey's pause): the
    // yellow and red lights of the case were raised and cleared, none stands.
    CHECK(expected == "delivered flags=0 concluded=" + std::to_string(at(3, 16, 11, 0)));
    std::mt19937 rng(7);
    for (int round = 0; round < 60; ++round) {
        std::shuffle(order.begin(), order.end(), rng);
        INFO("round " << round);
        CHECK(run(order) == expected);
    }
    // Without the decision and conclusion the case stays open and overdue: its yellow and red
    // lights stand, whatever order the rest came in.
    std::vector<std::size_t> open(6);
    std::iota(open.begin(), open.end(), 0);
    const auto standing = run(open);
    CHECK(standing == "in_review flags=0 concluded=0 case/red case/yellow");
    for (int round = 0; round < 30; ++round) {
        std::shuffle(open.begin(), open.end(), rng);
        INFO("open round " << round);
        CHECK(run(open) == standing);
    }
}

TEST_CASE("Ledger: repeats and older versions change nothing, a newer version corrects the fact") {
    Scenario s;
    REQUIRE(s.send("accepted", at(3, 2, 10, 0), {{"item_code", "PRO"}, {"data_version", 2}}).kind ==
            sdk::Result::Kind::Ok);
    // An older version of the same fact (a late resend of the first entry): ignored.
    s.sendNow("accepted", at(3, 3, 10, 0), {{"item_code", "PRO"}, {"data_version", 1}});
    CHECK(s.view().acceptedAt == at(3, 2, 10, 0));
    CHECK(s.record().stale == 1);
    // A correction (version 3) moves the acceptance, and the deadline with it.
    s.sendNow("accepted", at(3, 4, 10, 0), {{"item_code", "PRO"}, {"data_version", 3}});
    CHECK(s.view().acceptedAt == at(3, 4, 10, 0));
    CHECK(dueOf(calendar(), *s.view().caseClock()) == at(3, 11, 17, 0));
    CHECK(s.record().facts.size() == 1);
}

TEST_CASE("Ledger: an event that breaks the state machine is kept and flagged, not dropped") {
    Scenario s;
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "PRO"}});
    s.send("concluded", at(3, 3, 10, 0), {{"result_code", 0}});
    s.send("higher_authority_replied", at(3, 3, 11, 0));
    auto v = s.view();
    CHECK(v.state == CaseState::Concluded);
    REQUIRE(v.flags.size() == 1);
    CHECK(v.flags[0].fact == "higher_authority_replied");
    CHECK(v.flags[0].message ==
          "gov.case.higher_authority_replied is not possible when the case is concluded");
    CHECK(s.record().facts.size() == 3);
}

TEST_CASE("Ledger: the fee book's notice and split show the case waiting for, then released by, "
          "its payment") {
    Scenario s;
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "PRO"}});
    auto payment = [&] {
        return json::parse(s.ctx().state().at(CaseLedger::publicKey("SS-1")))["payment"];
    };
    REQUIRE(s.send("gov.fee.notice_issued", at(3, 2, 10, 5),
                   {{"case_no", "SS-1"}, {"notice_no", "N-1"}, {"total_fen", 12000}})
                .kind == sdk::Result::Kind::Ok);
    CHECK(payment()["status"] == "awaiting_payment");
    CHECK(payment()["total_fen"] == 12000);
    // A terminal's own payment names only the notice: not the ledger's.
    REQUIRE(s.send("gov.fee.paid", at(3, 2, 11, 0), {{"notice_no", "N-1"}}).kind ==
            sdk::Result::Kind::Ok);
    CHECK(payment()["status"] == "awaiting_payment");
    REQUIRE(s.send("gov.fee.paid", at(3, 2, 11, 0),
                   {{"case_no", "SS-1"},
                    {"notice_no", "N-1"},
                    {"notice_total_fen", 12000},
                    {"paid_at", "2026-03-02T11:00:00+08:00"}})
                .kind == sdk::Result::Kind::Ok);
    CHECK(payment()["status"] == "paid");
    CHECK(payment()["paid_at"] == "2026-03-02T11:00:00+08:00");
    // A late copy of the notice does not undo the payment.
    REQUIRE(s.send("gov.fee.notice_issued", at(3, 2, 11, 5),
                   {{"case_no", "SS-1"}, {"notice_no", "N-1"}, {"total_fen", 12000}})
                .kind == sdk::Result::Kind::Ok);
    CHECK(payment()["status"] == "paid");
    CHECK(s.view().state == CaseState::Accepted); // the case's own facts are untouched
}

TEST_CASE("Ledger: events that cannot be a case's are refused with the reason") {
    Scenario s;
    CHECK(s.send("accepted", at(3, 2, 10, 0), {{"item_code", "PRO"}}, "").reason ==
          "no case number (subject or data.case_no)");
    CHECK(s.send("accepted", at(3, 2, 10, 0), {{"case_no", "OTHER"}}, "SS-1").reason ==
          "subject 'SS-1' and data.case_no 'OTHER' name different cases");
    CHECK(s.send("step_completed", at(3, 2, 10, 0)).reason ==
          "gov.case.step_completed needs data.step_code");
    CHECK(s.send("accepted", at(3, 2, 10, 0), {{"data_version", 0}}).reason ==
          "data.data_version must be a whole number from 1");
    // Types the ledger does not follow are taken and ignored.
    CHECK(s.send("evaluated", at(3, 2, 10, 0)).kind == sdk::Result::Kind::Ok);
    CHECK(s.ctx().state().empty());
}

TEST_CASE("Ledger: monthly statistics rows equal the sum over the cases, corrections included") {
    Scenario s;
    s.send("received", at(3, 2, 9, 0), {{"item_code", "PRO"}}, "M1");
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "PRO"}}, "M1");
    s.send("accepted", at(3, 2, 10, 0), {{"item_code", "PRO"}}, "M2");
    s.send("supplement_requested", at(3, 3, 10, 0), {}, "M2");
    s.send("supplement_received", at(3, 4, 10, 0), {}, "M2");
    s.send("concluded", at(3, 5, 10, 0), {{"result_code", 0}}, "M1"); // on time (due 9 March)
    s.send("concluded", at(3, 31, 10, 0), {{"result_code", 1}, {"reason", "不符合条件"}},
           "M2"); // late, returned
    auto row = [&](const std::string& month) {
        auto text = s.ctx().get("stats/" + month + "/industry-commerce/PRO");
        return text ? json::parse(*text) : json();
    };
    const json march = row("2026-03");
    CHECK(march["department_name"] == "工商局");
    CHECK(march["item_name"] == "测试事项PRO");
    CHECK(march["received"] == 2);
    CHECK(march["accepted"] == 2);
    CHECK(march["concluded"] == 2);
    CHECK(march["on_time"] == 1);
    CHECK(march["overdue"] == 1);
    CHECK(march["returned"] == 1);
    CHECK(march["supplement_rounds"] == 1);
    CHECK(march["yellow_alerts"] == 1); // M2 only: M1 concluded before its yellow
    CHECK(march["red_alerts"] == 1);
    // Working days from acceptance to conclusion: M1 3 (2 → 5 March), M2 21 (2 → 31 March).
    CHECK(calendar().workingDaysBetween(at(3, 2, 10, 0), at(3, 5, 10, 0)) == 3);
    CHECK(calendar().workingDaysBetween(at(3, 2, 10, 0), at(3, 31, 10, 0)) == 21);
    CHECK(march["days_sum"] == 24);
    // A correction moves M1's conclusion into April: March loses it, April gains it.
    s.sendNow("concluded", at(4, 1, 10, 0), {{"result_code", 0}, {"data_version", 2}}, "M1");
    CHECK(row("2026-03")["concluded"] == 1);
    CHECK(row("2026-03")["on_time"] == 0);
    CHECK(row("2026-04")["concluded"] == 1);
    CHECK(row("2026-04")["overdue"] == 1);
    CHECK(row("2026-03")["received"] == 2);
    CHECK(s.ctx().get("stats/_columns"));
}

TEST_CASE("Ledger: a department's conclusion dated before the acceptance is taken at the "
          "acceptance, and no lamp is lit") {
    // The department's system clock runs seven minutes behind the center's: its 办结 carries a
    // time before the window's acceptance. Sorted by that time the case would reopen behind
    // its own conclusion and go red at 17:00.
    Scenario s;
    s.send("accepted", at(3, 2, 12, 2), {{"item_code", "IMM"}});
    s.sendNow("concluded", at(3, 2, 11, 55), {{"result_code", 0}});
    CHECK(s.view().state == CaseState::Concluded);
    CHECK(s.view().concludedAt == at(3, 2, 12, 2));
    s.until(at(3, 3, 17, 0));
    CHECK(s.told().empty());
    CHECK(s.ctx().timers().empty());
}
