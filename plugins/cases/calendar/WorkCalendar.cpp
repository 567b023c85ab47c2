#include "plugins/cases/calendar/WorkCalendar.h"

#include <stdexcept>

namespace ow::cases {
namespace {

constexpr std::int64_t MsPerDay = 86400000;
constexpr std::int64_t MsPerMinute = 60000;
// No real calendar has a longer run of days off; a longer one means broken data, and a loop
// that looks for the next working day must end.
constexpr int MaxDaysOff = 400;

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

} // namespace

WorkCalendar::WorkCalendar(std::map<int, Year> years, BusinessHours hours)
    : years_(std::move(years)), hours_(hours) {}

// Howard Hinnant's days_from_civil / civil_from_days (public domain), proleptic Gregorian.
Day WorkCalendar::dayFromCivil(int y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void WorkCalendar::civilFromDay(Day day, int& y, unsigned& m, unsigned& d) {
    day += 719468;
    const std::int64_t era = (day >= 0 ? day : day - 146096) / 146097;
    const auto doe = static_cast<unsigned>(day - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

int WorkCalendar::weekday(Day day) {
    // 1970-01-01 was a Thursday (3 when Monday is 0).
    return static_cast<int>(((day % 7) + 7 + 3) % 7);
}

bool WorkCalendar::isWorkingDay(Day d) const {
    int y = 0;
    unsigned m = 0, dd = 0;
    civilFromDay(d, y, m, dd);
    if (auto it = years_.find(y); it != years_.end()) {
        if (it->second.offDays.count(d)) return false;
        if (it->second.workingWeekends.count(d)) return true;
    }
    return weekday(d) < 5;
}

Day WorkCalendar::dayOf(Instant t) const {
    return floorDiv(t + hours_.utcOffsetMinutes * MsPerMinute, MsPerDay);
}

Instant WorkCalendar::closeOf(Day d) const {
    return d * MsPerDay + (hours_.closeMinute - hours_.utcOffsetMinutes) * MsPerMinute;
}

Instant WorkCalendar::nextClose(Instant t) const {
    Day d = dayOf(t);
    if (closeOf(d) <= t) ++d;
    for (int i = 0; i <= MaxDaysOff; ++i, ++d)
        if (isWorkingDay(d)) return closeOf(d);
    throw std::runtime_error("working-day calendar: no working day within " +
                             std::to_string(MaxDaysOff) + " days");
}

Instant WorkCalendar::previousClose(Instant t) const {
    Day d = dayOf(t);
    if (closeOf(d) >= t) --d;
    for (int i = 0; i <= MaxDaysOff; ++i, --d)
        if (isWorkingDay(d)) return closeOf(d);
    throw std::runtime_error("working-day calendar: no working day within " +
                             std::to_string(MaxDaysOff) + " days");
}

Instant WorkCalendar::addWorkingDays(Instant t, int n) const {
    if (n < 0) throw std::invalid_argument("a limit cannot be negative");
    Instant c = nextClose(t);
    for (int i = 0; i < n; ++i)
        c = nextClose(c);
    return c;
}

Instant WorkCalendar::addCalendarDays(Instant t, int n) const {
    if (n < 0) throw std::invalid_argument("a limit cannot be negative");
    Day start = dayOf(t);
    if (t >= closeOf(start)) ++start;
    Day last = start + n;
    for (int i = 0; i <= MaxDaysOff && !isWorkingDay(last); ++i)
        ++last;
    if (!isWorkingDay(last))
        throw std::runtime_error("working-day calendar: no working day within " +
                                 std::to_string(MaxDaysOff) + " days");
    return closeOf(last);
}

int WorkCalendar::closesIn(Instant a, Instant b) const {
    if (b <= a) return 0;
    int n = 0;
    for (Day d = dayOf(a); d <= dayOf(b); ++d) {
        const Instant c = closeOf(d);
        if (c > a && c <= b && isWorkingDay(d)) ++n;
    }
    return n;
}

int WorkCalendar::workingDaysBetween(Instant a, Instant b) const {
    return closesIn(a, b - 1);
}

} // namespace ow::cases
