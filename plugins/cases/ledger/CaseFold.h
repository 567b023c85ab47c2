// Derives a case from its facts: the state machine of DOMAIN §3 run over the facts in
// business-time order, the clocks of §4, and the watches (deadlines and violations) that
// supervision alerts are raised on. Pure functions of the facts, the catalog, the calendar
// and `now`, so a case is the same whatever order its events arrived in.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plugins/cases/calendar/WorkCalendar.h"
#include "plugins/cases/catalog/Catalog.h"
#include "plugins/cases/ledger/CaseClock.h"
#include "plugins/cases/ledger/CaseRecord.h"

namespace ow::cases {

enum class CaseState {
    None,
    Submitted,
    Received,
    AwaitingSupplementPre, ///< 待补办: materials incomplete before acceptance, clock not started
    Accepted,
    InReview,          ///< 承办 → 审核 → 批准
    SupplementPending, ///< 已受理待补办
    Suspended,         ///< 特别程序 B
    Forwarded,         ///< 报批: at the higher authority
    JointInProgress,   ///< 联办: sub-tasks at the co-departments
    Decided,
    Concluded,
    Delivered,
    NotAccepted,
    Withdrawn,
    Terminated,
};
const char* toString(CaseState s);
bool isTerminal(CaseState s);

/// Limits and rules of the ledger that are not per item (DOMAIN §3, §4.1).
struct LedgerRules {
    int acceptanceDays = 5;     ///< decide on acceptance within 5 working days (Art. 32)
    int forwardDays = 3;        ///< 报批: forward within 3 working days of acceptance
    int answerDays = 2;         ///< 报批: answer the applicant within 2 working days of the reply
    int extensionCap = 10;      ///< 特别程序 A: at most 10 working days
    int jointExtensionCap = 15; ///< ... 15 for joint handling
};

struct StepView {
    Step def;
    std::optional<Instant> started, completed;
};

struct JointView {
    std::string department;
    int limitDays = 0;
    Instant dispatched = 0;
    std::optional<Instant> completed;
};

struct OrderView {
    std::string orderNo;
    Instant issued = 0;
    Instant replyDue = 0;
    std::optional<Instant> replied;
};

/// A fact the state machine could not take: kept in the record, shown, never dropped.
struct Flag {
    std::string fact; ///< the fact's key
    std::string message;
};

/// A refusal, return or non-acceptance without the reason the law requires (trigger 5).
struct Violation {
    std::string fact;
    Instant at = 0;
    std::string message;
};

struct CaseView {
    std::string caseNo, itemCode, department;
    const ServiceItem* item = nullptr;
    CaseState state = CaseState::None;
    HandlingType handling = HandlingType::Promised;
    int promisedDays = 0;
    LimitUnit unit = LimitUnit::WorkingDays;
    SupplementRule supplementRule = SupplementRule::Pause;
    std::optional<Instant> submittedAt, receivedAt, acceptedAt;
    std::optional<Instant> clockStart; ///< accepted_at, or received_at when deemed accepted
    bool deemedAccepted = false;       ///< not decided within the acceptance limit
    int extensionDays = 0;
    std::vector<Pause> pauses; ///< of the case clock
    std::vector<StepView> steps;
    std::vector<JointView> joint;
    std::optional<Instant> forwardedAt, repliedAt;
    std::vector<OrderView> orders;
    std::optional<Instant> decidedAt, concludedAt, deliveredAt, endedAt;
    std::optional<int> resultCode;
    int supplementRounds = 0;
    std::vector<Instant> supplementRequests; ///< when each round was requested
    std::string passwordHash; ///< sha256(case_no ":" query password), from the acceptance
    std::vector<Flag> flags;
    std::vector<Violation> violations;

    /// The step under way: the first started and not completed.
    [[nodiscard]] const StepView* currentStep() const;
    /// The case's own clock (promised limit), if it runs.
    [[nodiscard]] std::optional<ClockSpec> caseClock() const;
};

CaseView foldCase(const CaseRecord& record, const Catalog& catalog, const WorkCalendar& cal,
                  const LedgerRules& rules, Instant now);

enum class WatchKind {
    Limit,     ///< a time limit: reminder / yellow / red on its clock
    Order,     ///< a supervision order's reply deadline: serious when it passes
    Violation, ///< happened already: raised at once
};

/// Something supervision watches on a case.
struct Watch {
    std::string id; ///< "case", "step:review", "joint:fire-brigade", "acceptance", "forward",
                    ///< "answer", "order:<no>", "reason:<fact>"
    WatchKind kind = WatchKind::Limit;
    int trigger = 2;   ///< DOMAIN §5.1 trigger number
    std::string rule;  ///< "case_overdue", "step_overdue", ...
    std::string label; ///< what is watched, in words ("承诺时限", "审核环节时限")
    ClockSpec clock;   ///< Limit
    std::optional<Instant> due; ///< Limit: nullopt while the clock stands still
    Instant at = 0;             ///< Order: reply deadline; Violation: when it happened
};

std::vector<Watch> watchesOf(const CaseView& view, const WorkCalendar& cal,
                             const LedgerRules& rules);

} // namespace ow::cases
