// Reads the working-day calendar from its data files: one YAML file per year, in the shape of
// the State Council's holiday notice (`config/calendar/2026.yaml`):
//
//   year: 2026
//   source: [ https://www.gov.cn/... ]
//   off_days:         [ { date: 2026-02-15, name: 春节 }, ... ]
//   working_weekends: [ { date: 2026-02-14, name: 春节 }, ... ]
//
// A year's notice is data, not code: when the next notice is published, an operator adds the
// file and reloads the hub.
#pragma once

#include <string>

#include "plugins/cases/calendar/WorkCalendar.h"

namespace ow::cases {

/// Every `*.yaml` file of `dir`. Throws DataError listing each problem at its file:line:column
/// (dates outside the file's year, a working weekend that is not a weekend, a day both off and
/// working, a year given twice, unknown keys).
WorkCalendar loadCalendar(const std::string& dir, BusinessHours hours);

/// Parses "HH:MM" (00:00..23:59) into minutes of the day; throws std::invalid_argument.
int parseClockTime(const std::string& hhmm);
/// Parses "+08:00" / "-05:30" into minutes east of UTC; throws std::invalid_argument.
int parseUtcOffset(const std::string& offset);

} // namespace ow::cases
