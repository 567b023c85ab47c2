// The canonical case events the ledger follows (DOMAIN §6.1), read into facts. The event's
// subject (or `data.case_no`) is the case number; `data.occurred_at` the business time (else
// the event's time); `data.data_version` the version of a corrected fact (default 1). Only the
// fields the ledger uses are kept (see plugins/cases/README.md for each type's fields).
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "onewindow/sdk/Event.h"
#include "plugins/cases/ledger/CaseRecord.h"

namespace ow::cases {

struct CaseFact {
    std::string caseNo;
    Fact fact;
};

/// Ignored: an event type the ledger does not follow (gov.case.evaluated, ...).
struct NotFollowed {};

/// The fact of `e`, NotFollowed, or the reason the event cannot be taken (a string).
std::variant<CaseFact, NotFollowed, std::string> readCaseEvent(const onewindow::sdk::Event& e,
                                                               Instant now);

} // namespace ow::cases
