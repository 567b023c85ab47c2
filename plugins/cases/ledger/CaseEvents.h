// The canonical case events the ledger follows (DOMAIN §6.1), read into facts. The event's
// subject (or `data.case_no`) is the case number; `data.occurred_at` the business time (else
// the event's time); `data.data_version` the version of a corrected fact (default 1). Only the
// fields ledgerReads() lists for the event's type are kept: the fold never sees anything else,
// and the catalog test checks that list against the SDK's event catalog (sdk/catalog/), so the
// ledger cannot start reading a field that the catalog does not document.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "onewindow/sdk/Event.h"
#include "plugins/cases/data/FieldRead.h"
#include "plugins/cases/ledger/CaseRecord.h"

namespace ow::cases {

struct CaseFact {
    std::string caseNo;
    Fact fact;
};

/// Ignored: an event type the ledger does not follow (gov.case.evaluated, ...).
struct NotFollowed {};

/// What the ledger reads (and, with `required`, refuses a case event or ignores a fee event
/// without) of each event type it follows ("gov.case.accepted", ...,
/// "gov.supervision.order_issued", and the fee book's "gov.fee.notice_issued", ...), the
/// fields of every case event (case_no, occurred_at, data_version, item_code, department)
/// included.
const FieldReads& ledgerReads();

/// The fact of `e`, NotFollowed, or the reason the event cannot be taken (a string).
std::variant<CaseFact, NotFollowed, std::string> readCaseEvent(const onewindow::sdk::Event& e,
                                                               Instant now);

} // namespace ow::cases
