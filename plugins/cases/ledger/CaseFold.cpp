#include "plugins/cases/ledger/CaseFold.h"

#include <algorithm>
#include <deque>
#include <initializer_list>
#include <optional>

namespace ow::cases {
namespace {

using S = CaseState;

// Facts at the same instant apply in the order a case moves (receipt before acceptance,
// a step before the decision), so ties never depend on arrival order.
int rank(const std::string& type) {
    static const char* order[] = {"submitted",
                                  "received",
                                  "supplement_requested",
                                  "supplement_received",
                                  "accepted",
                                  "not_accepted",
                                  "special_procedure_started",
                                  "extension_approved",
                                  "joint_task_dispatched",
                                  "joint_task_completed",
                                  "step_completed",
                                  "forwarded",
                                  "higher_authority_replied",
                                  "special_procedure_ended",
                                  "decided",
                                  "concluded",
                                  "delivered",
                                  "withdrawn",
                                  "terminated",
                                  "order_issued",
                                  "order_replied"};
    for (int i = 0; i < static_cast<int>(std::size(order)); ++i)
        if (type == order[i]) return i;
    return static_cast<int>(std::size(order));
}

bool in(S s, std::initializer_list<S> states) {
    return std::find(states.begin(), states.end(), s) != states.end();
}

const std::initializer_list<S> AfterAcceptance = {
    S::Accepted,  S::InReview, S::SupplementPending, S::Suspended, S::JointInProgress,
    S::Forwarded, S::Decided};

std::string text(const nlohmann::json& d, const char* key) {
    auto it = d.find(key);
    return it != d.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::int64_t> number(const nlohmann::json& d, const char* key) {
    auto it = d.find(key);
    if (it != d.end() && it->is_number_integer()) return it->get<std::int64_t>();
    return std::nullopt;
}

class Folder {
public:
    Folder(CaseView& v, const Catalog& catalog, const WorkCalendar& cal, const LedgerRules& rules)
        : v_(v), catalog_(catalog), cal_(cal), rules_(rules) {}

    void identify(const std::vector<const Fact*>& facts) {
        for (const Fact* f : facts) {
            if (v_.itemCode.empty()) v_.itemCode = text(f->data, "item_code");
            if (v_.department.empty()) v_.department = text(f->data, "department");
        }
        v_.item = v_.itemCode.empty() ? nullptr : catalog_.item(v_.itemCode);
        if (!v_.itemCode.empty() && !v_.item)
            v_.flags.push_back({"item", "item " + v_.itemCode + " is not in the catalog"});
        if (v_.item) {
            if (v_.department.empty()) v_.department = v_.item->department;
            v_.handling = v_.item->handling;
            v_.promisedDays = v_.item->promisedLimit.days;
            v_.unit = v_.item->promisedLimit.unit;
            v_.supplementRule = v_.item->supplement;
            for (const auto& s : v_.item->steps)
                v_.steps.push_back({s, std::nullopt, std::nullopt});
        }
    }

    void apply(const Fact& f) {
        const std::string& t = f.type;
        if (t == "submitted")
            move(f, {S::None}, S::Submitted, [&] { v_.submittedAt = f.at; });
        else if (t == "received")
            move(f, {S::None, S::Submitted}, S::Received, [&] { v_.receivedAt = f.at; });
        else if (t == "accepted")
            move(f, {S::None, S::Submitted, S::Received}, S::Accepted, [&] { accept(f); });
        else if (t == "not_accepted")
            move(f, {S::None, S::Submitted, S::Received, S::AwaitingSupplementPre}, S::NotAccepted,
                 [&] {
                     v_.endedAt = f.at;
                     needsReason(f, "不予受理未说明理由");
                 });
        else if (t == "supplement_requested")
            supplementRequested(f);
        else if (t == "supplement_received")
            supplementReceived(f);
        else if (t == "step_completed")
            stepCompleted(f);
        else if (t == "joint_task_dispatched")
            move(f, {S::Accepted, S::InReview, S::JointInProgress}, S::JointInProgress,
                 [&] { jointDispatched(f); });
        else if (t == "joint_task_completed")
            jointCompleted(f);
        else if (t == "forwarded")
            move(f, {S::Accepted, S::InReview}, S::Forwarded, [&] {
                v_.forwardedAt = f.at;
                v_.pauses.push_back({f.at, std::nullopt, "forwarded"});
            });
        else if (t == "higher_authority_replied")
            move(f, {S::Forwarded}, S::InReview, [&] {
                v_.repliedAt = f.at;
                endPause("forwarded", f.at);
            });
        else if (t == "special_procedure_started")
            specialStarted(f);
        else if (t == "special_procedure_ended")
            specialEnded(f);
        else if (t == "extension_approved")
            extend(f, number(f.data, "working_days").value_or(0));
        else if (t == "decided")
            move(f, {S::Accepted, S::InReview, S::JointInProgress}, S::Decided, [&] {
                v_.decidedAt = f.at;
                if (text(f.data, "decision") == "refuse") needsReason(f, "不予许可未说明理由");
            });
        else if (t == "concluded")
            conclude(f);
        else if (t == "delivered")
            move(f, {S::Concluded}, S::Delivered, [&] { v_.deliveredAt = f.at; });
        else if (t == "withdrawn" || t == "terminated")
            end(f, t == "withdrawn" ? S::Withdrawn : S::Terminated);
        else if (t == "order_issued")
            orderIssued(f);
        else if (t == "order_replied")
            orderReplied(f);
        else
            flag(f, "unknown fact type '" + t + "'");
    }

    void finish(Instant now) {
        // Not decided within the acceptance limit: accepted as of receipt (Art. 32).
        if (v_.state == S::Received && v_.receivedAt && !v_.clockStart &&
            now >= cal_.addWorkingDays(*v_.receivedAt, rules_.acceptanceDays)) {
            v_.clockStart = v_.receivedAt;
            v_.deemedAccepted = true;
            startFirstStep(*v_.receivedAt);
        }
        // A step not counted in the limit stops the case's clock while it is under way.
        for (const auto& s : v_.steps)
            if (!s.def.counted && s.started)
                v_.pauses.push_back({*s.started, s.completed, "step:" + s.def.code});
    }

private:
    template <typename Fn>
    void move(const Fact& f, std::initializer_list<S> from, S to, Fn&& effect) {
        if (!in(v_.state, from)) {
            flag(f,
                 "gov.case." + f.type + " is not possible when the case is " + toString(v_.state));
            return;
        }
        effect();
        v_.state = to;
    }

    void flag(const Fact& f, const std::string& message) { v_.flags.push_back({f.key, message}); }

    void needsReason(const Fact& f, const std::string& message) {
        if (text(f.data, "reason").empty()) v_.violations.push_back({f.key, f.at, message});
    }

    void accept(const Fact& f) {
        v_.acceptedAt = f.at;
        v_.passwordHash = text(f.data, "pw");
        if (!v_.receivedAt) v_.receivedAt = f.at;
        // Accepted after the acceptance limit: the clock runs from receipt all the same.
        const bool late = f.at > cal_.addWorkingDays(*v_.receivedAt, rules_.acceptanceDays);
        v_.clockStart = late ? *v_.receivedAt : f.at;
        v_.deemedAccepted = late;
        const std::string handling = text(f.data, "handling_type");
        if (handling == "immediate") v_.handling = HandlingType::Immediate;
        if (handling == "promised") v_.handling = HandlingType::Promised;
        if (handling == "joint") v_.handling = HandlingType::Joint;
        if (handling == "reported") v_.handling = HandlingType::Reported;
        if (handling == "special") v_.handling = HandlingType::Special;
        if (auto days = number(f.data, "promised_days"); days && *days >= 0)
            v_.promisedDays = static_cast<int>(*days);
        startFirstStep(*v_.clockStart);
    }

    void startFirstStep(Instant at) {
        if (!v_.steps.empty() && !v_.steps.front().started) v_.steps.front().started = at;
    }

    void supplementRequested(const Fact& f) {
        std::string phase = text(f.data, "phase");
        if (phase.empty()) phase = in(v_.state, AfterAcceptance) ? "post" : "pre";
        if (phase == "pre") {
            move(f, {S::Submitted, S::Received}, S::AwaitingSupplementPre, [&] {
                ++v_.supplementRounds;
                v_.supplementRequests.push_back(f.at);
            });
            return;
        }
        if (!in(v_.state, AfterAcceptance) || v_.state == S::SupplementPending) {
            flag(f, "a supplement request after acceptance is not possible when the case is " +
                        std::string(toString(v_.state)));
            return;
        }
        resumeState_ = v_.state;
        v_.state = S::SupplementPending;
        ++v_.supplementRounds;
        v_.supplementRequests.push_back(f.at);
        v_.pauses.push_back({f.at, std::nullopt, "supplement"});
    }

    void supplementReceived(const Fact& f) {
        if (v_.state == S::AwaitingSupplementPre) {
            v_.state = S::Received;
            v_.receivedAt = f.at; // the acceptance limit runs from complete materials
            return;
        }
        if (v_.state != S::SupplementPending) {
            flag(f, "gov.case.supplement_received is not possible when the case is " +
                        std::string(toString(v_.state)));
            return;
        }
        v_.state = resumeState_;
        endPause("supplement", f.at);
        if (v_.supplementRule == SupplementRule::Restart) {
            // 视为重新受理: the limit runs again from complete materials.
            v_.clockStart = f.at;
            std::erase_if(v_.pauses, [](const Pause& p) { return p.to.has_value(); });
            for (auto& s : v_.steps)
                if (s.started && !s.completed) s.started = f.at;
        }
    }

    void stepCompleted(const Fact& f) {
        if (!in(v_.state, {S::Accepted, S::InReview, S::JointInProgress})) {
            flag(f, "gov.case.step_completed is not possible when the case is " +
                        std::string(toString(v_.state)));
            return;
        }
        const std::string code = text(f.data, "step_code");
        auto it = std::find_if(v_.steps.begin(), v_.steps.end(),
                               [&](const StepView& s) { return s.def.code == code; });
        if (it == v_.steps.end()) {
            flag(f, "step '" + code + "' is not a step of item " + v_.itemCode);
            if (v_.state == S::Accepted) v_.state = S::InReview;
            return;
        }
        if (text(f.data, "decision") == "return" && it != v_.steps.begin()) {
            // Returned to the step before (noderesult 7): it runs again from now.
            auto prev = std::prev(it);
            prev->completed.reset();
            prev->started = f.at;
            it->started.reset();
            v_.state = S::InReview;
            return;
        }
        if (!it->started) it->started = f.at; // completed without being reached in order
        it->completed = f.at;
        auto next = std::next(it);
        if (next != v_.steps.end() && !next->started) next->started = f.at;
        if (v_.state == S::Accepted) v_.state = S::InReview;
    }

    void jointDispatched(const Fact& f) {
        JointView j;
        j.department = text(f.data, "co_department");
        j.dispatched = f.at;
        j.limitDays = v_.promisedDays;
        if (v_.item)
            for (const auto& p : v_.item->joint)
                if (p.department == j.department) j.limitDays = p.limitDays;
        if (auto d = number(f.data, "limit_days"); d && *d >= 0) j.limitDays = static_cast<int>(*d);
        v_.joint.push_back(j);
    }

    void jointCompleted(const Fact& f) {
        const std::string dept = text(f.data, "co_department");
        auto it = std::find_if(v_.joint.begin(), v_.joint.end(),
                               [&](const JointView& j) { return j.department == dept; });
        if (it == v_.joint.end() || v_.state != S::JointInProgress) {
            flag(f, "no joint sub-task of '" + dept + "' is under way");
            return;
        }
        it->completed = f.at;
        if (std::all_of(v_.joint.begin(), v_.joint.end(),
                        [](const JointView& j) { return j.completed.has_value(); }))
            v_.state = S::InReview;
    }

    void specialStarted(const Fact& f) {
        const std::string kind = text(f.data, "kind");
        if (kind == "A") {
            // An extension of the review time (延长审查期限), not a pause.
            extend(f, number(f.data, "length").value_or(0));
            return;
        }
        if (!in(v_.state, AfterAcceptance) || v_.state == S::SupplementPending ||
            v_.state == S::Suspended) {
            flag(f, "gov.case.special_procedure_started is not possible when the case is " +
                        std::string(toString(v_.state)));
            return;
        }
        resumeState_ = v_.state;
        v_.state = S::Suspended;
        v_.pauses.push_back({f.at, std::nullopt, "special-procedure"});
    }

    void specialEnded(const Fact& f) {
        if (v_.state != S::Suspended) {
            // The end of an extension (A) has nothing to undo.
            if (text(f.data, "kind") != "A") flag(f, "no special procedure is under way");
            return;
        }
        v_.state = resumeState_;
        endPause("special-procedure", f.at);
    }

    void extend(const Fact& f, std::int64_t days) {
        if (days <= 0 || !in(v_.state, AfterAcceptance)) {
            flag(f, "an extension of " + std::to_string(days) +
                        " days is not possible when the case is " + toString(v_.state));
            return;
        }
        const int cap =
            v_.handling == HandlingType::Joint ? rules_.jointExtensionCap : rules_.extensionCap;
        if (v_.extensionDays + days > cap)
            flag(f, "extensions add up to " + std::to_string(v_.extensionDays + days) +
                        " days, more than the " + std::to_string(cap) + " the law allows");
        v_.extensionDays += static_cast<int>(days);
    }

    void conclude(const Fact& f) {
        const auto from = {
            S::Accepted,  S::InReview, S::SupplementPending, S::Suspended,
            S::Forwarded, S::Decided,  S::JointInProgress,   S::AwaitingSupplementPre};
        if (!in(v_.state, from)) {
            flag(f, "gov.case.concluded is not possible when the case is " +
                        std::string(toString(v_.state)));
            return;
        }
        v_.resultCode = static_cast<int>(number(f.data, "result_code").value_or(0));
        if (*v_.resultCode == 1) needsReason(f, "退回办结未说明理由");
        v_.concludedAt = f.at;
        v_.state = S::Concluded;
        endAllPauses(f.at);
    }

    void end(const Fact& f, S to) {
        if (isTerminal(v_.state)) {
            flag(f,
                 "gov.case." + f.type + " is not possible when the case is " + toString(v_.state));
            return;
        }
        v_.state = to;
        v_.endedAt = f.at;
        endAllPauses(f.at);
    }

    void orderIssued(const Fact& f) {
        OrderView o;
        o.orderNo = text(f.data, "order_no");
        o.issued = f.at;
        if (auto due = number(f.data, "reply_due_ms"))
            o.replyDue = *due;
        else
            o.replyDue = cal_.addWorkingDays(
                f.at, static_cast<int>(number(f.data, "reply_days").value_or(3)));
        v_.orders.push_back(o);
    }

    void orderReplied(const Fact& f) {
        const std::string no = text(f.data, "order_no");
        for (auto& o : v_.orders)
            if (o.orderNo == no) {
                o.replied = f.at;
                return;
            }
        flag(f, "no supervision order '" + no + "' was issued for this case");
    }

    void endPause(const std::string& reason, Instant at) {
        for (auto& p : v_.pauses)
            if (p.reason == reason && !p.to) p.to = at;
    }
    void endAllPauses(Instant at) {
        for (auto& p : v_.pauses)
            if (!p.to) p.to = at;
    }

    CaseView& v_;
    const Catalog& catalog_;
    const WorkCalendar& cal_;
    const LedgerRules& rules_;
    S resumeState_ = S::InReview; // where a supplement or a special procedure returns to
};

} // namespace

const char* toString(CaseState s) {
    switch (s) {
    case S::None:
        return "none";
    case S::Submitted:
        return "submitted";
    case S::Received:
        return "received";
    case S::AwaitingSupplementPre:
        return "awaiting_supplement";
    case S::Accepted:
        return "accepted";
    case S::InReview:
        return "in_review";
    case S::SupplementPending:
        return "supplement_pending";
    case S::Suspended:
        return "suspended";
    case S::Forwarded:
        return "forwarded";
    case S::JointInProgress:
        return "joint_in_progress";
    case S::Decided:
        return "decided";
    case S::Concluded:
        return "concluded";
    case S::Delivered:
        return "delivered";
    case S::NotAccepted:
        return "not_accepted";
    case S::Withdrawn:
        return "withdrawn";
    case S::Terminated:
        return "terminated";
    }
    return "?";
}

bool isTerminal(CaseState s) {
    return in(s, {S::Concluded, S::Delivered, S::NotAccepted, S::Withdrawn, S::Terminated});
}

const StepView* CaseView::currentStep() const {
    for (const auto& s : steps)
        if (s.started && !s.completed) return &s;
    return nullptr;
}

std::optional<ClockSpec> CaseView::caseClock() const {
    if (!clockStart) return std::nullopt;
    return ClockSpec{*clockStart, promisedDays, unit, extensionDays, pauses};
}

CaseView foldCase(const CaseRecord& record, const Catalog& catalog, const WorkCalendar& cal,
                  const LedgerRules& rules, Instant now) {
    CaseView v;
    v.caseNo = record.caseNo;
    // A department system's clock may run behind the center's (the demo's simulators showed
    // it): a step or conclusion dated before the acceptance it follows cannot have happened
    // then, and sorted there it would reopen the case behind its own conclusion (and light its
    // lamps). It is taken at the acceptance instead; only those facts are copied.
    std::optional<Instant> acceptedAt;
    for (const auto& f : record.facts)
        if (f.type == "accepted" && (!acceptedAt || f.at < *acceptedAt)) acceptedAt = f.at;
    // The facts that follow an acceptance: in rank order, from the first after the decision
    // on acceptance up to the delivery (withdrawals and orders are not the department's steps).
    auto afterAcceptance = [](const std::string& type) {
        static const int first = rank("special_procedure_started"), last = rank("delivered");
        const int r = rank(type);
        return r >= first && r <= last;
    };
    std::deque<Fact> clamped;
    std::vector<const Fact*> facts;
    for (const auto& f : record.facts) {
        if (acceptedAt && f.at < *acceptedAt && afterAcceptance(f.type)) {
            clamped.push_back(f);
            clamped.back().at = *acceptedAt;
            facts.push_back(&clamped.back());
        } else {
            facts.push_back(&f);
        }
    }
    std::stable_sort(facts.begin(), facts.end(), [](const Fact* a, const Fact* b) {
        if (a->at != b->at) return a->at < b->at;
        if (rank(a->type) != rank(b->type)) return rank(a->type) < rank(b->type);
        return a->key < b->key;
    });
    Folder folder(v, catalog, cal, rules);
    folder.identify(facts);
    for (const Fact* f : facts)
        folder.apply(*f);
    folder.finish(now);
    return v;
}

std::vector<Watch> watchesOf(const CaseView& v, const WorkCalendar& cal, const LedgerRules& rules) {
    std::vector<Watch> out;
    auto limit = [&](std::string id, int trigger, std::string rule, std::string label,
                     ClockSpec clock) {
        Watch w;
        w.id = std::move(id);
        w.kind = WatchKind::Limit;
        w.trigger = trigger;
        w.rule = std::move(rule);
        w.label = std::move(label);
        w.clock = std::move(clock);
        w.due = dueOf(cal, w.clock);
        out.push_back(std::move(w));
    };
    const bool open = !isTerminal(v.state);
    // Pauses of the case that also stop a step's or sub-task's clock (not the step's own).
    auto pausesFor = [&](const std::string& except) {
        std::vector<Pause> ps;
        for (const auto& p : v.pauses)
            if (p.reason != except) ps.push_back(p);
        return ps;
    };

    if (open && v.state == CaseState::Received && v.receivedAt)
        limit("acceptance", 1, "acceptance_overdue", "受理时限",
              {*v.receivedAt, rules.acceptanceDays, LimitUnit::WorkingDays, 0, {}});
    if (open && v.clockStart && v.state != CaseState::AwaitingSupplementPre) {
        if (auto clock = v.caseClock()) limit("case", 2, "case_overdue", "承诺时限", *clock);
        if (const auto* s = v.currentStep())
            limit("step:" + s->def.code, 3, "step_overdue", s->def.name + "环节时限",
                  {*s->started, s->def.limitDays, LimitUnit::WorkingDays, 0,
                   pausesFor("step:" + s->def.code)});
        for (const auto& j : v.joint)
            if (!j.completed)
                limit("joint:" + j.department, 3, "joint_overdue", "联办子任务时限",
                      {j.dispatched, j.limitDays, LimitUnit::WorkingDays, 0, pausesFor("")});
        if (v.handling == HandlingType::Reported && !v.forwardedAt)
            limit("forward", 4, "forward_late", "报批转报时限",
                  {*v.clockStart, rules.forwardDays, LimitUnit::WorkingDays, 0, {}});
        if (v.repliedAt && !v.decidedAt)
            limit("answer", 2, "answer_late", "报批答复时限",
                  {*v.repliedAt, rules.answerDays, LimitUnit::WorkingDays, 0, {}});
    }
    for (const auto& o : v.orders)
        if (!o.replied) {
            Watch w;
            w.id = "order:" + o.orderNo;
            w.kind = WatchKind::Order;
            w.trigger = 8;
            w.rule = "order_reply_overdue";
            w.label = "督办回复时限";
            w.at = o.replyDue;
            out.push_back(std::move(w));
        }
    for (const auto& x : v.violations) {
        Watch w;
        w.id = "reason:" + x.fact;
        w.kind = WatchKind::Violation;
        w.trigger = 5;
        w.rule = "no_reason";
        w.label = x.message;
        w.at = x.at;
        out.push_back(std::move(w));
    }
    return out;
}

} // namespace ow::cases
