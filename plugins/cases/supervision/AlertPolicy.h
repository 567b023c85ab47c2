// When supervision alerts are raised on a watch, and which are due now. DOMAIN §5.2:
//
// - quanzhou (default; Shishi is in Quanzhou): yellow light at the threshold (`yellow_days_left`
//   working days left, default 1), red light when the limit has passed; an optional reminder
//   earlier (at `reminder_percent` of the limit, off by default).
// - zhanjiang: a reminder near the limit, a yellow card when it has passed, a red card when the
//   deadline the yellow card set (`order_days` working days later) has passed too.
//
// In both, a supervision order (督办) whose reply deadline passes is serious, and a refusal or
// return without the reason the law requires is red at once. A watch whose clock stands
// still (paused case) raises nothing new and keeps what it raised.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plugins/cases/calendar/WorkCalendar.h"
#include "plugins/cases/ledger/CaseFold.h"
#include "plugins/cases/ledger/CaseRecord.h"

namespace ow::cases {

enum class Level { Reminder, Yellow, Red, Serious };
const char* toString(Level l);
/// The e-supervision front-end level dictionary: 1 预警, 2 黄牌, 5 红牌, 6 严重违规.
int levelCode(Level l);

enum class Convention { Quanzhou, Zhanjiang };

struct AlertSettings {
    Convention convention = Convention::Quanzhou;
    int yellowDaysLeft = 1;
    int reminderPercent = 0; ///< 0: no reminder (quanzhou)
    int orderDays = 5;       ///< zhanjiang: working days from the yellow card to the red
};

struct LevelAt {
    Level level;
    Instant at;
};

/// The levels a watch raises and when (for a Limit watch whose clock runs).
std::vector<LevelAt> ladder(const WorkCalendar& cal, const AlertSettings& s, const Watch& w);

/// The id of an alert: "<watch>/<level>", unique within its case.
std::string alertId(const Watch& w, Level l);

struct Raise {
    const Watch* watch;
    Level level;
    Instant at; ///< when it became due (the alert's instant, not now)
};
struct Clear {
    std::string alertId;
    std::string reason; ///< "resolved" (the watch ended) or "deadline_moved"
};

struct Decision {
    std::vector<Raise> raise;
    std::vector<Clear> clear;
    std::optional<Instant> wake; ///< the next instant a level falls due
};

/// What changes at `now`: every level due and not raised yet is raised (all of them, so a
/// hub that was down raises each once), raised alerts whose watch ended or moved are
/// cleared, and the next instant to look again.
Decision evaluate(const WorkCalendar& cal, const AlertSettings& s,
                  const std::vector<Watch>& watches,
                  const std::map<std::string, RaisedAlert>& raised, Instant now);

} // namespace ow::cases
