// The working-day calendar against the real 2026 calendar shipped in config/calendar (the
// State Council's notice): Spring Festival with its make-up working Saturdays, National Day,
// events at 16:59 and 17:01, Friday acceptances.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "plugins/cases/calendar/CalendarFiles.h"
#include "plugins/cases/data/DataProblem.h"
#include "tests/support/TempDir.h"

using namespace ow::cases;

namespace {

const WorkCalendar& cal2026() {
    static const WorkCalendar c =
        loadCalendar(std::string(OW_SOURCE_DIR) + "/config/calendar", BusinessHours{});
    return c;
}

Day day(int y, unsigned m, unsigned d) {
    return WorkCalendar::dayFromCivil(y, m, d);
}

/// A local (UTC+08:00) time as an instant.
Instant at(int y, unsigned m, unsigned d, int hh, int mm) {
    return day(y, m, d) * 86400000 + (hh * 60 + mm - 8 * 60) * 60000LL;
}

} // namespace

TEST_CASE("Calendar: the 2026 notice's days off and make-up working weekends") {
    const auto& c = cal2026();
    CHECK(c.covers(2025));
    CHECK(c.covers(2026));
    CHECK(c.isWorkingDay(day(2026, 2, 13))); // Friday before the Spring Festival
    CHECK(c.isWorkingDay(day(2026, 2, 14))); // Saturday, made a working day
    for (unsigned d = 15; d <= 23; ++d)
        CHECK_FALSE(c.isWorkingDay(day(2026, 2, d))); // 春节, Sunday to Monday
    CHECK(c.isWorkingDay(day(2026, 2, 24)));
    CHECK(c.isWorkingDay(day(2026, 2, 28)));       // Saturday, made a working day
    CHECK_FALSE(c.isWorkingDay(day(2026, 3, 1)));  // an ordinary Sunday
    CHECK_FALSE(c.isWorkingDay(day(2026, 3, 7)));  // an ordinary Saturday
    CHECK(c.isWorkingDay(day(2026, 1, 4)));        // Sunday, made a working day (元旦)
    CHECK_FALSE(c.isWorkingDay(day(2026, 1, 2)));  // Friday, 元旦
    CHECK_FALSE(c.isWorkingDay(day(2026, 10, 7))); // Wednesday, 国庆节
    CHECK(c.isWorkingDay(day(2026, 10, 10)));      // Saturday, made a working day
    // A year without a notice: weekdays only, and the calendar says it does not cover it.
    CHECK_FALSE(c.covers(2027));
    CHECK(c.isWorkingDay(day(2027, 1, 1)));
}

TEST_CASE("Calendar: 16:59 counts from today, 17:01 from the next working day") {
    const auto& c = cal2026();
    // Friday 6 March 2026, one working day.
    CHECK(c.addWorkingDays(at(2026, 3, 6, 16, 59), 1) == at(2026, 3, 9, 17, 0));
    CHECK(c.addWorkingDays(at(2026, 3, 6, 17, 1), 1) == at(2026, 3, 10, 17, 0));
    // At 17:00 sharp business is closed: the next working day.
    CHECK(c.addWorkingDays(at(2026, 3, 6, 17, 0), 1) == at(2026, 3, 10, 17, 0));
    // Before opening, the day still counts as the start day.
    CHECK(c.addWorkingDays(at(2026, 3, 6, 8, 0), 1) == at(2026, 3, 9, 17, 0));
    // Immediate items (0 days): close of the same working day, or of the next one.
    CHECK(c.addWorkingDays(at(2026, 3, 6, 16, 59), 0) == at(2026, 3, 6, 17, 0));
    CHECK(c.addWorkingDays(at(2026, 3, 6, 17, 1), 0) == at(2026, 3, 9, 17, 0));
    // Submitted online on a Sunday: counted from Monday, so due Tuesday for one day.
    CHECK(c.addWorkingDays(at(2026, 3, 8, 11, 0), 1) == at(2026, 3, 10, 17, 0));
}

TEST_CASE("Calendar: a Friday acceptance before the Spring Festival runs over the make-up days") {
    const auto& c = cal2026();
    const Instant friday = at(2026, 2, 13, 10, 0);
    CHECK(c.addWorkingDays(friday, 1) == at(2026, 2, 14, 17, 0)); // the working Saturday
    CHECK(c.addWorkingDays(friday, 2) == at(2026, 2, 24, 17, 0)); // after nine days off
    CHECK(c.addWorkingDays(friday, 5) == at(2026, 2, 27, 17, 0));
    CHECK(c.addWorkingDays(friday, 6) == at(2026, 2, 28, 17, 0)); // the second working Saturday
    CHECK(c.addWorkingDays(friday, 7) == at(2026, 3, 2, 17, 0));
    // 17:01 on that Friday: the start day is the working Saturday.
    CHECK(c.addWorkingDays(at(2026, 2, 13, 17, 1), 1) == at(2026, 2, 24, 17, 0));
    // A promise of 20 working days (Administrative Licensing Law art. 42) from that Friday.
    CHECK(c.addWorkingDays(friday, 20) == at(2026, 3, 19, 17, 0));
}

TEST_CASE("Calendar: deadlines crossing National Day and the Mid-Autumn Festival") {
    const auto& c = cal2026();
    // Wednesday 30 September: 1 to 7 October are off.
    CHECK(c.addWorkingDays(at(2026, 9, 30, 10, 0), 1) == at(2026, 10, 8, 17, 0));
    CHECK(c.addWorkingDays(at(2026, 9, 30, 10, 0), 3) == at(2026, 10, 10, 17, 0)); // Saturday
    // Thursday 24 September: Friday 25 to Sunday 27 are off (中秋节).
    CHECK(c.addWorkingDays(at(2026, 9, 24, 10, 0), 1) == at(2026, 9, 28, 17, 0));
    // Calendar days: a last day that is off moves to the next working day (Civil Code 203).
    CHECK(c.addCalendarDays(at(2026, 9, 30, 10, 0), 3) == at(2026, 10, 8, 17, 0));
    CHECK(c.addCalendarDays(at(2026, 3, 2, 10, 0), 5) == at(2026, 3, 9, 17, 0));
    CHECK(c.addCalendarDays(at(2026, 3, 2, 10, 0), 3) == at(2026, 3, 5, 17, 0));
    CHECK(c.addCalendarDays(at(2026, 3, 2, 17, 30), 1) == at(2026, 3, 4, 17, 0));
}

TEST_CASE("Calendar: working days used, counted like a limit") {
    const auto& c = cal2026();
    const Instant friday = at(2026, 2, 13, 10, 0);
    CHECK(c.workingDaysBetween(friday, at(2026, 2, 13, 16, 0)) == 0);
    CHECK(c.workingDaysBetween(friday, at(2026, 2, 14, 9, 30)) == 1);
    CHECK(c.workingDaysBetween(friday, at(2026, 2, 20, 9, 30)) == 2); // holidays do not count
    CHECK(c.workingDaysBetween(friday, at(2026, 2, 24, 17, 0)) == 2); // at the deadline: kept
    CHECK(c.workingDaysBetween(friday, at(2026, 2, 24, 17, 0) + 1) == 3);
    CHECK(c.closesIn(at(2026, 2, 13, 16, 0), at(2026, 2, 24, 10, 0)) == 2);
    CHECK(c.previousClose(at(2026, 2, 24, 17, 0)) == at(2026, 2, 14, 17, 0));
    CHECK(c.previousClose(at(2026, 2, 24, 17, 1)) == at(2026, 2, 24, 17, 0));
    CHECK(c.closesIn(at(2026, 2, 24, 10, 0), at(2026, 2, 13, 16, 0)) == 0);
    // Round trip: a limit of n days is kept at its deadline and broken right after it.
    for (int n = 0; n <= 30; ++n) {
        const Instant due = c.addWorkingDays(friday, n);
        CHECK(c.workingDaysBetween(friday, due) == n);
        CHECK(c.workingDaysBetween(friday, due + 1) == n + 1);
    }
}

TEST_CASE("Calendar files: every problem is reported at its line") {
    ow::testkit::TempDir dir;
    {
        std::ofstream(dir.file("2026.yaml")) << "year: 2026\n"
                                                "off_days:\n"
                                                "  - { date: 2026-02-30, name: 春节 }\n"
                                                "  - { date: 2025-12-31, name: 元旦 }\n"
                                                "  - { date: 2026-05-01, name: 劳动节 }\n"
                                                "working_weekends:\n"
                                                "  - { date: 2026-02-16, name: 春节 }\n"
                                                "  - { date: 2026-05-02, name: 劳动节 }\n"
                                                "holidays: []\n";
        std::ofstream(dir.file("z-2026.yaml")) << "year: 2026\n";
    }
    try {
        loadCalendar(dir.path(), BusinessHours{});
        FAIL("a broken calendar was accepted");
    } catch (const DataError& e) {
        const std::string what = e.what();
        const std::string f = dir.file("2026.yaml");
        CHECK_THAT(what, Catch::Contains(f + ":3:13: '2026-02-30' is not a date (YYYY-MM-DD)"));
        CHECK_THAT(what, Catch::Contains(f + ":4:13: 2025-12-31 is not in 2026"));
        CHECK_THAT(what, Catch::Contains(f + ":7:13: 2026-02-16 is a weekday"));
        CHECK_THAT(what, Catch::Contains(f + ":9:1: unknown key 'holidays'"));
        CHECK_THAT(what, Catch::Contains("year 2026 is already given by"));
    }
    // May 2 2026 is a Saturday: listed both off and working in a second broken file.
    ow::testkit::TempDir both;
    std::ofstream(both.file("2026.yaml")) << "year: 2026\n"
                                             "off_days: [ { date: 2026-05-02 } ]\n"
                                             "working_weekends: [ { date: 2026-05-02 } ]\n";
    CHECK_THROWS_WITH(loadCalendar(both.path(), BusinessHours{}),
                      Catch::Contains("3:29: 2026-05-02 is both a day off and a working weekend"));
    ow::testkit::TempDir empty;
    CHECK_THROWS_WITH(loadCalendar(empty.path(), BusinessHours{}),
                      Catch::Contains("no calendar year files"));
}

TEST_CASE("Calendar: business hours and UTC offsets are read strictly") {
    CHECK(parseClockTime("09:00") == 540);
    CHECK(parseClockTime("17:00") == 1020);
    CHECK_THROWS_WITH(parseClockTime("17h"), Catch::Contains("not a time of day"));
    CHECK_THROWS(parseClockTime("24:00"));
    CHECK(parseUtcOffset("+08:00") == 480);
    CHECK(parseUtcOffset("-05:30") == -330);
    CHECK_THROWS_WITH(parseUtcOffset("8"), Catch::Contains("not a UTC offset"));
    // Other hours move every deadline with them.
    const WorkCalendar late({}, BusinessHours{9 * 60, 18 * 60, 480});
    CHECK(late.addWorkingDays(at(2027, 3, 5, 17, 30), 0) == at(2027, 3, 5, 18, 0));
}
