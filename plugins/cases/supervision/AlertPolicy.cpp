#include "plugins/cases/supervision/AlertPolicy.h"

#include <set>

namespace ow::cases {

const char* toString(Level l) {
    switch (l) {
    case Level::Reminder:
        return "reminder";
    case Level::Yellow:
        return "yellow";
    case Level::Red:
        return "red";
    case Level::Serious:
        return "serious";
    }
    return "?";
}

int levelCode(Level l) {
    switch (l) {
    case Level::Reminder:
        return 1;
    case Level::Yellow:
        return 2;
    case Level::Red:
        return 5;
    case Level::Serious:
        return 6;
    }
    return 0;
}

std::string alertId(const Watch& w, Level l) {
    return w.id + "/" + toString(l);
}

std::vector<LevelAt> ladder(const WorkCalendar& cal, const AlertSettings& s, const Watch& w) {
    std::vector<LevelAt> out;
    switch (w.kind) {
    case WatchKind::Order:
        out.push_back({Level::Serious, w.at});
        return out;
    case WatchKind::Violation:
        out.push_back({Level::Red, w.at});
        return out;
    case WatchKind::Limit:
        break;
    }
    if (!w.due) return out;
    const Instant due = *w.due;
    const auto nearLimit = daysBeforeDue(cal, w.clock, s.yellowDaysLeft);
    if (s.convention == Convention::Quanzhou) {
        if (s.reminderPercent > 0 && w.clock.unit == LimitUnit::WorkingDays) {
            const int total = w.clock.days + w.clock.extensionDays;
            const int index = total * s.reminderPercent / 100;
            if (index > 0 && index < total)
                if (auto at = countedClose(cal, w.clock, index - 1))
                    out.push_back({Level::Reminder, *at});
        }
        if (nearLimit) out.push_back({Level::Yellow, *nearLimit});
        out.push_back({Level::Red, due});
    } else {
        if (nearLimit) out.push_back({Level::Reminder, *nearLimit});
        out.push_back({Level::Yellow, due});
        // The n-th close after the deadline.
        out.push_back({Level::Red, cal.addWorkingDays(due, std::max(0, s.orderDays - 1))});
    }
    return out;
}

Decision evaluate(const WorkCalendar& cal, const AlertSettings& s,
                  const std::vector<Watch>& watches,
                  const std::map<std::string, RaisedAlert>& raised, Instant now) {
    Decision d;
    std::set<std::string> live; // alert ids of watches that still exist
    for (const auto& w : watches) {
        const bool frozen = w.kind == WatchKind::Limit && !w.due;
        for (Level l : {Level::Reminder, Level::Yellow, Level::Red, Level::Serious})
            live.insert(alertId(w, l));
        if (frozen) continue; // a paused case never escalates, and keeps what it raised
        std::set<std::string> inLadder;
        for (const auto& [level, at] : ladder(cal, s, w)) {
            const std::string id = alertId(w, level);
            inLadder.insert(id);
            const bool isRaised = raised.count(id) != 0;
            if (at <= now && !isRaised) d.raise.push_back({&w, level, at});
            if (at > now && isRaised) d.clear.push_back({id, "deadline_moved"});
            // Cleared because it moved, it will be raised again at its new instant.
            if (at > now && (!d.wake || at < *d.wake)) d.wake = at;
        }
        // A level the watch no longer has (a changed setting) is not kept either.
        for (Level l : {Level::Reminder, Level::Yellow, Level::Red, Level::Serious}) {
            const std::string id = alertId(w, l);
            if (raised.count(id) && !inLadder.count(id)) d.clear.push_back({id, "resolved"});
        }
    }
    for (const auto& [id, _] : raised)
        if (!live.count(id)) d.clear.push_back({id, "resolved"});
    return d;
}

} // namespace ow::cases
