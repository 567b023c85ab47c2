// RFC 3339 timestamps as the ledger reads and writes them: events carry business times such as
// "2026-03-06T16:59:00+08:00"; alerts show deadlines in the center's local time.
#pragma once

#include <optional>
#include <string>

#include "plugins/cases/calendar/WorkCalendar.h"

namespace ow::cases {

/// "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" (a space for the T is accepted); nullopt when
/// it is not one.
std::optional<Instant> parseRfc3339(const std::string& text);

/// "2026-03-09T17:00:00+08:00" at the given offset (minutes east of UTC).
std::string formatRfc3339(Instant t, int utcOffsetMinutes);

/// "2026-03-09 17:00", for messages people read.
std::string formatLocalMinute(Instant t, int utcOffsetMinutes);

} // namespace ow::cases
