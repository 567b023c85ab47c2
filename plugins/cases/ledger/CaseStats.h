// The monthly statistics the center reports (审批情况信息月报): per month, department and
// item — received, accepted, not accepted, concluded, on time, overdue, returned, supplement
// rounds, yellow and red alerts, and the working days concluded cases took. Each case's
// contribution is derived from its facts and kept in its record; when the case changes (a
// correction may even move it to another month), the difference goes to the rows, so the
// rows always equal the sum over the cases.
//
// Rows are kept in the processor's state as `stats/<YYYY-MM>/<department>/<item>`, with
// `stats/_columns` describing the columns; `onewindow report monthly` renders them.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "plugins/cases/catalog/Catalog.h"
#include "plugins/cases/ledger/CaseFold.h"
#include "plugins/cases/ledger/CaseRecord.h"

namespace ow::cases {

using Contributions = std::map<std::string, std::map<std::string, std::int64_t>>;

/// What the case adds to the rows: row key ("2026-03/<dept>/<item>") -> metric -> count.
Contributions contributionsOf(const CaseView& v, const CaseRecord& r, const WorkCalendar& cal);

/// The column description written under `stats/_columns`.
nlohmann::json statsColumns();

} // namespace ow::cases
