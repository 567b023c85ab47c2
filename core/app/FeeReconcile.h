// `onewindow fees reconcile`: the day's bank statement against the payments the fee book
// recorded (its state rows `payments/<YYYY-MM-DD>/<notice>/<bank>/<serial>`, see
// plugins/fees/book/FeeBook.h). Every statement row and every recorded payment ends in exactly
// one verdict: matched, missing in OneWindow, missing in the statement, amount mismatch, or
// duplicate. Money is integer fen throughout; a statement in yuan ("120.50") is read exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/PluginState.h"
#include "core/store/Records.h"

namespace ow::app {

struct StatementRow {
    int line = 0; ///< 1-based line of the file
    std::string noticeNo, bankSerial, bankCode, channel, paidAt;
    std::int64_t amountFen = 0;  ///< what the bank took, late fee included
    std::int64_t lateFeeFen = 0; ///< of which late fee
};

/// The statement CSV (UTF-8, optional BOM, RFC 4180 quoting) with a header line naming its
/// columns, case-insensitive: notice_no (or notice_number, PAYNOTENO), bank_serial (serial,
/// PAYSERIAL), amount (amount_fen, amount_yuan, AMT), and optionally late_fee (late_fee_fen,
/// late_fee_yuan, PNOVERDUEAMT), channel (PAYCHANNEL), paid_at (paid_time), bank_code; other
/// columns are ignored. `amount` and `late_fee` hold either whole fen ("12050") or yuan with
/// a decimal point ("120.50"); the *_fen and *_yuan columns only that unit. Throws
/// std::runtime_error listing every problem as "FILE:LINE: message".
std::vector<StatementRow> parseStatement(const std::string& text, const std::string& file);

struct RecordedPayment {
    std::string noticeNo, bankSerial, bankCode, channel, paidAt, terminal;
    std::string status; ///< accepted | refused | reversed
    std::string reason; ///< why it was refused
    std::int64_t amountFen = 0, lateFeeFen = 0;
};

/// The payments the fee book `instance` recorded for `date` (YYYY-MM-DD).
std::vector<RecordedPayment> readRecordedPayments(store::PluginState& state,
                                                  const std::string& instance,
                                                  const std::string& date);

enum class Verdict { Matched, MissingInHub, MissingInStatement, AmountMismatch, Duplicate };
const char* toString(Verdict v);

struct ReconLine {
    Verdict verdict = Verdict::Matched;
    std::optional<StatementRow> statement;
    std::optional<RecordedPayment> recorded;
    std::string detail;
};

struct Reconciliation {
    std::string date;
    std::vector<ReconLine> lines; ///< statement order, then recorded payments not on it
    std::int64_t statementTotalFen = 0, recordedTotalFen = 0;
    [[nodiscard]] int count(Verdict v) const;
};

Reconciliation reconcile(const std::string& date, const std::vector<StatementRow>& statement,
                         const std::vector<RecordedPayment>& recorded);

/// UTF-8 with a byte-order mark: one line per verdict.
std::string reconciliationCsv(const Reconciliation& r);
/// For the operator's terminal: counts, totals and every mismatch in a sentence.
std::string reconciliationSummary(const Reconciliation& r);
/// One gov.fee.reconciliation_mismatch per mismatch and one gov.fee.reconciled for the day.
/// Their ids depend only on the date, the statement's SHA-256 and the row, so running the
/// command again on the same statement raises nothing twice.
std::vector<store::SubmittedEvent> reconciliationEvents(const Reconciliation& r,
                                                        const std::string& statementSha256,
                                                        const std::string& nowRfc3339);

} // namespace ow::app
