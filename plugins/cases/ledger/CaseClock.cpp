#include "plugins/cases/ledger/CaseClock.h"

#include <stdexcept>

namespace ow::cases {
namespace {

// Twenty years of closes: a limit longer than that is broken data, and the walk must end.
constexpr int MaxCloses = 5200;

enum class At { Running, Paused, Frozen };

At clockAt(const ClockSpec& c, Instant t) {
    for (const auto& p : c.pauses) {
        if (t < p.from) continue;
        if (!p.to) return At::Frozen;
        if (t < *p.to) return At::Paused;
    }
    return At::Running;
}

int pausedCalendarDays(const WorkCalendar& cal, const ClockSpec& c, bool& frozen) {
    int days = 0;
    frozen = false;
    for (const auto& p : c.pauses) {
        if (!p.to) {
            frozen = true;
            continue;
        }
        if (*p.to > p.from) days += static_cast<int>(cal.dayOf(*p.to) - cal.dayOf(p.from));
    }
    return days;
}

} // namespace

std::optional<Instant> countedClose(const WorkCalendar& cal, const ClockSpec& c, int index) {
    if (index < 0) return std::nullopt;
    Instant close = cal.nextClose(c.start);
    int seen = 0;
    for (int i = 0; i < MaxCloses; ++i, close = cal.nextClose(close)) {
        switch (clockAt(c, close)) {
        case At::Frozen:
            return std::nullopt;
        case At::Paused:
            continue;
        case At::Running:
            if (seen == index) return close;
            ++seen;
        }
    }
    throw std::runtime_error("time limit of " + std::to_string(index) + " days does not end");
}

std::optional<Instant> dueOf(const WorkCalendar& cal, const ClockSpec& c) {
    const int total = c.days + c.extensionDays;
    if (c.unit == LimitUnit::WorkingDays) return countedClose(cal, c, total);
    bool frozen = false;
    const int paused = pausedCalendarDays(cal, c, frozen);
    const Instant due = cal.addCalendarDays(c.start, total + paused);
    // A pause that began after the deadline does not stop a clock that already ran out.
    if (frozen) {
        for (const auto& p : c.pauses)
            if (!p.to && p.from < due) return std::nullopt;
    }
    return due;
}

std::optional<Instant> daysBeforeDue(const WorkCalendar& cal, const ClockSpec& c, int daysLeft) {
    const int total = c.days + c.extensionDays;
    if (daysLeft <= 0 || daysLeft > total) return std::nullopt;
    if (c.unit == LimitUnit::WorkingDays) return countedClose(cal, c, total - daysLeft);
    auto due = dueOf(cal, c);
    if (!due) return std::nullopt;
    Instant at = *due;
    for (int i = 0; i < daysLeft; ++i)
        at = cal.previousClose(at);
    return at > c.start ? std::optional<Instant>(at) : std::nullopt;
}

} // namespace ow::cases
