// What anyone holding a case's number and query password may see (the website and the hall's
// touch screens): where the case stands, its current step and its promised deadline — nothing
// about the applicant. Kept in the processor's state under `public/<case_no>`, which the hub's
// state query (`queries:` in the configuration) serves after checking the password against
// `secret_sha256`.
#pragma once

#include <nlohmann/json.hpp>

#include "plugins/cases/calendar/WorkCalendar.h"
#include "plugins/cases/catalog/Catalog.h"
#include "plugins/cases/ledger/CaseFold.h"

namespace ow::cases {

nlohmann::json publicView(const CaseView& v, const Catalog& catalog, const WorkCalendar& cal);

/// "已受理", "审查中", ... for the state.
const char* statusText(CaseState s);

} // namespace ow::cases
