// The case ledger: follows each case from its events, keeps its facts in the processor's
// durable state, and raises and clears supervision alerts when a watched deadline passes or a
// violation happens. One timer per open case, set to the next instant an alert falls due;
// everything a call changes (the case's facts, its alerts, its timer, the alert events) is
// committed together by the hub, so after a crash each alert exists exactly once.
#pragma once

#include <string>

#include "onewindow/sdk/Components.h"
#include "plugins/cases/calendar/WorkCalendar.h"
#include "plugins/cases/catalog/Catalog.h"
#include "plugins/cases/ledger/CaseFold.h"
#include "plugins/cases/supervision/AlertPolicy.h"

namespace ow::cases {

struct LedgerSettings {
    LedgerRules rules;
    AlertSettings alerts;
};

class CaseLedger {
public:
    CaseLedger(const Catalog& catalog, const WorkCalendar& calendar, LedgerSettings settings);

    /// A gov.case.* or gov.supervision.order_* event at `now`. Reject with the reason when the
    /// event cannot be a case's (no case number, data not an object, a bad time).
    onewindow::sdk::Result process(const onewindow::sdk::Event& e,
                                   onewindow::sdk::ProcessContext& ctx, Instant now);
    /// The case timer `name` ("case/<no>") fell due.
    onewindow::sdk::Result onTimer(const std::string& name, onewindow::sdk::ProcessContext& ctx,
                                   Instant now);

    /// The state key of a case.
    static std::string caseKey(const std::string& caseNo) { return "case/" + caseNo; }
    /// The state key of a case's public view (PublicView).
    static std::string publicKey(const std::string& caseNo) { return "public/" + caseNo; }

private:
    /// gov.fee.notice_issued / notice_cancelled / paid / payment_reversed of the fee book:
    /// the case's payment status (shown by the progress query).
    onewindow::sdk::Result feeEvent(const onewindow::sdk::Event& e,
                                    onewindow::sdk::ProcessContext& ctx, Instant now);
    /// Folds the case, raises and clears what is due, saves it and sets its timer.
    void settle(CaseRecord& record, onewindow::sdk::ProcessContext& ctx, Instant now);
    /// Applies the case's change to the monthly statistics rows.
    void updateStats(const CaseView& view, CaseRecord& record, onewindow::sdk::ProcessContext& ctx);
    onewindow::sdk::Event alertEvent(const CaseView& v, const Raise& r, Instant now) const;
    onewindow::sdk::Event clearedEvent(const CaseView& v, const std::string& alertId,
                                       const RaisedAlert& a, const std::string& reason,
                                       Instant now) const;

    const Catalog& catalog_;
    const WorkCalendar& cal_;
    LedgerSettings s_;
    bool columnsWritten_ = false;
};

} // namespace ow::cases
