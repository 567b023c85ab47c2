// The center's working-day calendar: which days are working days (weekdays, minus public
// holidays, plus the make-up working weekends of the State Council's notices), its business
// hours, and the time-limit arithmetic the law prescribes.
//
// Everything is counted in "closes": the instant a working day's business ends (17:00 local).
// The Civil Code rule (arts. 201, 203) — the start day is not counted and the period ends at
// close of business of its last day — then reads: a limit of N working days from instant t
// ends at the (N+1)-th close after t. An event after close (or on a day off) falls into the
// next working day, so it is counted from the day after that; N = 0 (即办, immediate) ends
// at the first close, the same working day.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ow::cases {

/// Days are counted from 1970-01-01 (day 0) in the center's local time; instants are
/// milliseconds since the Unix epoch (UTC).
using Day = std::int64_t;
using Instant = std::int64_t;

struct BusinessHours {
    int openMinute = 9 * 60;       ///< 09:00
    int closeMinute = 17 * 60;     ///< 17:00
    int utcOffsetMinutes = 8 * 60; ///< China Standard Time, no daylight saving
};

class WorkCalendar {
public:
    /// One year of the State Council's notice.
    struct Year {
        std::set<Day> offDays;         ///< public holidays (including the weekend days they cover)
        std::set<Day> workingWeekends; ///< weekend days made working days (调休)
    };

    WorkCalendar() = default;
    WorkCalendar(std::map<int, Year> years, BusinessHours hours);

    /// Weekdays are working days, weekends are not, unless the year's notice says otherwise.
    /// Years without a notice fall back to weekdays only (see covers()).
    [[nodiscard]] bool isWorkingDay(Day d) const;
    /// Whether the notice of `year` is loaded (a deadline in a year without one is a guess).
    [[nodiscard]] bool covers(int year) const { return years_.count(year) != 0; }
    /// The years whose notice is loaded, in order.
    [[nodiscard]] std::vector<int> years() const {
        std::vector<int> out;
        for (const auto& [y, _] : years_)
            out.push_back(y);
        return out;
    }
    [[nodiscard]] const BusinessHours& hours() const { return hours_; }

    /// The local day of an instant.
    [[nodiscard]] Day dayOf(Instant t) const;
    /// The instant business closes on day `d` (whether or not it is a working day).
    [[nodiscard]] Instant closeOf(Day d) const;
    /// The first close of a working day strictly after `t`.
    [[nodiscard]] Instant nextClose(Instant t) const;

    /// The last close of a working day strictly before `t`.
    [[nodiscard]] Instant previousClose(Instant t) const;

    /// The end of a limit of `n` working days starting at `t` (the (n+1)-th close after t).
    [[nodiscard]] Instant addWorkingDays(Instant t, int n) const;
    /// The end of a limit of `n` calendar days starting at `t`: close of business of the n-th
    /// day after the start day (after close, the start day is the next day); a last day that
    /// is not a working day moves to the next working day (Civil Code art. 203).
    [[nodiscard]] Instant addCalendarDays(Instant t, int n) const;
    /// Closes of working days in (a, b].
    [[nodiscard]] int closesIn(Instant a, Instant b) const;
    /// The working day `b` falls in, counted from `a` like a limit: 0 up to the first close
    /// after `a` (the start day), 1 up to the next close, and so on. A limit of n working
    /// days from `a` is kept at `b` exactly when this is <= n.
    [[nodiscard]] int workingDaysBetween(Instant a, Instant b) const;

    /// Civil date helpers.
    static Day dayFromCivil(int y, unsigned m, unsigned d);
    static void civilFromDay(Day day, int& y, unsigned& m, unsigned& d);
    /// 0 = Monday ... 6 = Sunday.
    static int weekday(Day day);

private:
    std::map<int, Year> years_;
    BusinessHours hours_;
};

} // namespace ow::cases
