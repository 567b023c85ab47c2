// The clock of one time limit (a case's promise, a step's, a joint sub-task's): where it
// starts, how many days it runs, the intervals it stood still (补正, 特别程序 B, waiting for
// the higher authority, steps not counted in the limit) and the days it was extended
// (特别程序 A, 延期). DOMAIN §4.2–4.3.
//
// Working-day limits count closes of business (see WorkCalendar): the first close after the
// start ends the start day (index 0, not counted), and each later close that does not fall
// inside a pause counts one day; a limit of n days ends at the close with index n. A close
// inside a pause does not count, so a pause over k closes moves the deadline k working days.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plugins/cases/calendar/WorkCalendar.h"
#include "plugins/cases/catalog/Catalog.h"

namespace ow::cases {

/// An interval the clock stood still: [from, to); no `to` while it still stands.
struct Pause {
    Instant from = 0;
    std::optional<Instant> to;
    std::string reason; ///< "supplement", "special-procedure", "forwarded", "step:<code>"
};

struct ClockSpec {
    Instant start = 0;
    int days = 0;
    LimitUnit unit = LimitUnit::WorkingDays;
    int extensionDays = 0; ///< approved extensions, in the limit's unit
    std::vector<Pause> pauses;
};

/// The close with index `index` (0 = end of the start day), or nullopt when the clock is
/// standing still before reaching it. Working-day limits only.
std::optional<Instant> countedClose(const WorkCalendar& cal, const ClockSpec& c, int index);

/// When the limit ends, or nullopt while the clock stands still before it ends.
std::optional<Instant> dueOf(const WorkCalendar& cal, const ClockSpec& c);

/// The instant `daysLeft` days before the end (for a yellow light at "1 working day left"),
/// or nullopt when the limit is shorter than that or the clock stands still.
std::optional<Instant> daysBeforeDue(const WorkCalendar& cal, const ClockSpec& c, int daysLeft);

} // namespace ow::cases
