// The fee book: "一次性收费", one combined payment per case (DOMAIN §7).
//
//   gov.fee.assessed ──► every line checked against the catalog's published fees (a charge
//        outside them is refused and raises a 收费异常 alert, DOMAIN §5.1 trigger 7)
//     └─► the case's open assessments, of every department, consolidated into one notice:
//         gov.fee.notice_issued (notice number, check code, total, per-department shares);
//         a cancellation or re-assessment revises it (new revision, new check code)
//   gov.fee.paid (a terminal or counter) ──► matched by notice number and check code, amount =
//         total + late fee; refused (gov.fee.payment_refused + alert) when it is not, or when
//         the notice is unknown, cancelled or already paid
//     └─► one gov.fee.paid per department share (the split), recorded for reconciliation
//   gov.fee.payment_reversed (same day, 冲销) ──► the shares reversed, the notice open again
//   gov.fee.refund_requested → refund_verified (optional) → refund_approved → refunded, each
//         stage within its working days (DOMAIN §7.3), an alert when a stage overruns
//
// Everything a call changes is committed by the hub with "event handled", so after a crash a
// payment and its shares exist exactly once. Events this book emits carry its own source;
// events of that source coming back (a broad route) are ignored.
//
// State keys (the reconciliation command reads `payments/`):
//   case/<case_no>                   open assessments and the notice they are on
//   notice/<notice_no>               the notice, its shares, payment and refunds
//   public/<notice_no>               what a terminal may read (queries:, password = check code)
//   payments/<YYYY-MM-DD>/<notice>/<bank>/<serial>   every payment seen, with its verdict
//   serial/<bank>/<serial>           which payment a bank serial is
//   refund/<refund_no>               the refund chain
//   seq/notice                       the last notice sequence number
#pragma once

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "onewindow/sdk/Components.h"
#include "plugins/cases/calendar/WorkCalendar.h"
#include "plugins/cases/catalog/Catalog.h"
#include "plugins/cases/data/FieldRead.h"
#include "plugins/fees/book/Money.h"

namespace ow::fees {

using cases::Instant;

struct FeeSettings {
    std::string source = "onewindow://fees"; ///< of every event the book emits
    std::string noticePrefix = "350581";     ///< region code: notice numbers start with it
    std::string checkCodeKey;                ///< keys the check codes (they cannot be guessed)
    int paymentDays = 15;                    ///< working days from issue to the due date
    int lateFeePermillePerDay = 0;           ///< ‰ of the total per day past due (0: none)
    int refundVerifyDays = 10;               ///< 执收单位 verifies the request
    int refundApproveDays = 10;              ///< finance approves after verification
    int refundPayDays = 10;                  ///< the bank pays after approval
    /// How a payment, a reversal or a refund paid out must have been authenticated (the
    /// hub's `owauth`): money moves only on the word of a signed terminal, whatever the routes
    /// let through. Add "mqtt" where terminals publish to a broker that authenticates them.
    std::set<std::string> moneyFrom = {"signature"};
};

class FeeBook {
public:
    FeeBook(const cases::Catalog& catalog, const cases::WorkCalendar& calendar,
            FeeSettings settings);

    /// A gov.fee.* event at `now`. Reject (the event goes to the dead-letter queue with the
    /// reason) when its data cannot be read: a missing field, money that is not whole fen.
    /// A payment or assessment that can be read but is wrong is handled: refused with an
    /// event and an alert, and recorded.
    onewindow::sdk::Result process(const onewindow::sdk::Event& e,
                                   onewindow::sdk::ProcessContext& ctx, Instant now);
    /// What the book reads of each event type it takes (`required`: refused without it); it
    /// sees nothing else of an event's data. Checked against the SDK's event catalog.
    static const cases::FieldReads& fieldsRead();

    /// A refund deadline (`refund/<no>`) fell due.
    onewindow::sdk::Result onTimer(const std::string& name, onewindow::sdk::ProcessContext& ctx,
                                   Instant now);

    /// Six digits derived from the notice, its revision and total with the secret key.
    [[nodiscard]] std::string checkCode(const std::string& noticeNo, int revision, Fen total) const;
    /// The late fee a payment at `paidAt` owes on `notice` (integer fen, at most the total:
    /// 行政强制法 art. 45).
    [[nodiscard]] Fen lateFee(const nlohmann::json& notice, Instant paidAt) const;
    /// "2026-03-09" of an instant in the center's local time.
    [[nodiscard]] std::string localDate(Instant t) const;

private:
    using Ctx = onewindow::sdk::ProcessContext;
    void assessed(const onewindow::sdk::Event& e, const nlohmann::json& d, Ctx& ctx, Instant now);
    void cancelled(const nlohmann::json& d, Ctx& ctx, Instant now);
    void paid(const onewindow::sdk::Event& e, const nlohmann::json& d, Ctx& ctx, Instant now);
    void reversed(const nlohmann::json& d, Ctx& ctx, Instant now);
    void refundEvent(const std::string& kind, const nlohmann::json& d, Ctx& ctx, Instant now);

    /// Re-issues (or cancels) the case's current notice from its open assessments.
    void consolidate(nlohmann::json& caseDoc, Ctx& ctx, Instant now, const std::string& why);
    void refusePayment(const nlohmann::json& pay, const std::string& code,
                       const std::string& reason, const nlohmann::json* notice, Ctx& ctx,
                       Instant now);
    void savePublic(const nlohmann::json& notice, Ctx& ctx) const;
    /// The refund's next deadline as its timer (or none when it is closed).
    void scheduleRefund(const nlohmann::json& refund, Ctx& ctx) const;

    onewindow::sdk::Event event(const std::string& type, const std::string& id,
                                const std::string& subject, const std::string& department,
                                nlohmann::json data, Instant now) const;
    /// gov.supervision.alert, category 04 收费异常.
    void alert(Ctx& ctx, const std::string& alertId, const std::string& level,
               const std::string& rule, int trigger, const std::string& caseNo,
               const std::string& department, const std::string& message, nlohmann::json extra,
               Instant now) const;
    [[nodiscard]] std::string departmentName(const std::string& id) const;

    const cases::Catalog& catalog_;
    const cases::WorkCalendar& cal_;
    FeeSettings s_;
};

} // namespace ow::fees
