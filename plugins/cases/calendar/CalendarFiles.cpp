#include "plugins/cases/calendar/CalendarFiles.h"

#include <algorithm>
#include <optional>
#include <regex>
#include <vector>

#include "plugins/cases/data/DataProblem.h"
#include "plugins/cases/data/YamlReader.h"

namespace ow::cases {

namespace {

/// "YYYY-MM-DD" as a day, or nullopt when it is not a real date.
std::optional<Day> parseDate(const std::string& text) {
    static const std::regex shape(R"((\d{4})-(\d{2})-(\d{2}))");
    std::smatch m;
    if (!std::regex_match(text, m, shape)) return std::nullopt;
    const int y = std::stoi(m[1]);
    const auto mo = static_cast<unsigned>(std::stoi(m[2]));
    const auto d = static_cast<unsigned>(std::stoi(m[3]));
    const Day day = WorkCalendar::dayFromCivil(y, mo, d);
    int ry = 0;
    unsigned rm = 0, rd = 0;
    WorkCalendar::civilFromDay(day, ry, rm, rd);
    if (ry != y || rm != mo || rd != d) return std::nullopt; // 2026-02-30
    return day;
}

void readYear(const std::string& file, std::map<int, WorkCalendar::Year>& years,
              std::map<int, std::string>& yearFile, std::vector<DataProblem>& problems) {
    YamlReader r(file, problems);
    auto loaded = r.load();
    if (!loaded) return;
    const YAML::Node root = *loaded;
    if (!root.IsMap()) {
        r.fileProblem("expected a map with 'year', 'off_days' and 'working_weekends'");
        return;
    }
    r.onlyKeys(root, {"year", "source", "off_days", "working_weekends"}, "in a calendar year");
    const auto y64 = r.integer(root, "year", "of a calendar file", true, 1949, 2200);
    if (!y64) return;
    const int year = static_cast<int>(*y64);
    if (auto seen = yearFile.find(year); seen != yearFile.end()) {
        r.problem(root["year"],
                  "year " + std::to_string(year) + " is already given by " + seen->second);
        return;
    }
    yearFile[year] = file;
    auto& y = years[year];
    auto readList = [&](const char* key, std::set<Day>& into, bool weekendsOnly) {
        const YAML::Node list = root[key];
        if (!list) return;
        if (!list.IsSequence()) {
            r.problem(list, std::string("'") + key + "' must be a list of { date, name }");
            return;
        }
        for (const auto& entry : list) {
            if (!entry.IsMap() || !entry["date"]) {
                r.problem(entry, std::string("each entry of '") + key + "' needs a 'date'");
                continue;
            }
            r.onlyKeys(entry, {"date", "name"}, std::string("in an entry of '") + key + "'");
            const auto text = entry["date"].as<std::string>();
            const auto day = parseDate(text);
            if (!day) {
                r.problem(entry["date"], "'" + text + "' is not a date (YYYY-MM-DD)");
                continue;
            }
            int dy = 0;
            unsigned dm = 0, dd = 0;
            WorkCalendar::civilFromDay(*day, dy, dm, dd);
            if (dy != year) {
                r.problem(entry["date"], text + " is not in " + std::to_string(year));
                continue;
            }
            if (weekendsOnly && WorkCalendar::weekday(*day) < 5) {
                r.problem(entry["date"],
                          text + " is a weekday; a working weekend must be a Saturday or Sunday");
                continue;
            }
            if (!into.insert(*day).second) r.problem(entry["date"], text + " is listed twice");
        }
    };
    readList("off_days", y.offDays, false);
    readList("working_weekends", y.workingWeekends, true);
    for (const auto& entry : root["working_weekends"])
        if (entry.IsMap() && entry["date"]) {
            const auto day = parseDate(entry["date"].as<std::string>());
            if (day && y.offDays.count(*day))
                r.problem(entry["date"], entry["date"].as<std::string>() +
                                             " is both a day off and a working weekend");
        }
}

} // namespace

int parseClockTime(const std::string& hhmm) {
    static const std::regex shape(R"(([01]\d|2[0-3]):([0-5]\d))");
    std::smatch m;
    if (!std::regex_match(hhmm, m, shape))
        throw std::invalid_argument("'" + hhmm + "' is not a time of day (HH:MM)");
    return std::stoi(m[1]) * 60 + std::stoi(m[2]);
}

int parseUtcOffset(const std::string& offset) {
    static const std::regex shape(R"(([+-])(0\d|1[0-4]):([0-5]\d))");
    std::smatch m;
    if (!std::regex_match(offset, m, shape))
        throw std::invalid_argument("'" + offset + "' is not a UTC offset (+08:00)");
    const int minutes = std::stoi(m[2]) * 60 + std::stoi(m[3]);
    return m[1] == "-" ? -minutes : minutes;
}

WorkCalendar loadCalendar(const std::string& dir, BusinessHours hours) {
    std::vector<DataProblem> problems;
    const auto files = yamlFilesIn(dir, "calendar folder");
    if (files.empty()) throw DataError({{dir, 0, 0, "no calendar year files (*.yaml)"}});
    if (hours.closeMinute <= hours.openMinute)
        throw DataError({{dir, 0, 0, "business hours close before they open"}});
    std::map<int, WorkCalendar::Year> years;
    std::map<int, std::string> yearFile;
    for (const auto& f : files)
        readYear(f, years, yearFile, problems);
    if (!problems.empty()) throw DataError(std::move(problems));
    return WorkCalendar(std::move(years), hours);
}

} // namespace ow::cases
