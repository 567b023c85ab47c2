#include "plugins/cases/data/Rfc3339.h"

#include <cstdio>
#include <regex>

namespace ow::cases {
namespace {

constexpr std::int64_t MsPerMinute = 60000;

std::string format(Instant t, int offset, bool seconds, bool zone) {
    const Instant local = t + offset * MsPerMinute;
    Day day = local / 86400000;
    std::int64_t msOfDay = local % 86400000;
    if (msOfDay < 0) {
        msOfDay += 86400000;
        --day;
    }
    int y = 0;
    unsigned m = 0, d = 0;
    WorkCalendar::civilFromDay(day, y, m, d);
    const int hh = static_cast<int>(msOfDay / 3600000);
    const int mm = static_cast<int>(msOfDay / 60000 % 60);
    const int ss = static_cast<int>(msOfDay / 1000 % 60);
    char buf[64];
    if (!seconds) {
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d", y, m, d, hh, mm);
        return buf;
    }
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", y, m, d, hh, mm, ss);
    std::string out = buf;
    if (zone) {
        const int a = offset < 0 ? -offset : offset;
        std::snprintf(buf, sizeof buf, "%c%02d:%02d", offset < 0 ? '-' : '+', a / 60, a % 60);
        out += buf;
    }
    return out;
}

} // namespace

std::optional<Instant> parseRfc3339(const std::string& text) {
    static const std::regex shape(
        R"((\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2})))");
    std::smatch m;
    if (!std::regex_match(text, m, shape)) return std::nullopt;
    const int y = std::stoi(m[1]);
    const auto mo = static_cast<unsigned>(std::stoi(m[2]));
    const auto d = static_cast<unsigned>(std::stoi(m[3]));
    const int hh = std::stoi(m[4]), mi = std::stoi(m[5]), ss = std::stoi(m[6]);
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60) return std::nullopt;
    const Day day = WorkCalendar::dayFromCivil(y, mo, d);
    int ry = 0;
    unsigned rm = 0, rd = 0;
    WorkCalendar::civilFromDay(day, ry, rm, rd);
    if (rm != mo || rd != d) return std::nullopt;
    std::int64_t ms = 0;
    if (m[7].matched) {
        std::string frac = m[7].str().substr(1);
        frac = (frac + "000").substr(0, 3);
        ms = std::stoi(frac);
    }
    int offset = 0;
    if (m[9].matched) {
        offset = std::stoi(m[10]) * 60 + std::stoi(m[11]);
        if (m[9] == "-") offset = -offset;
    }
    return day * 86400000 + ((hh * 60 + mi - offset) * 60 + std::min(ss, 59)) * 1000LL + ms;
}

std::string formatRfc3339(Instant t, int utcOffsetMinutes) {
    return format(t, utcOffsetMinutes, true, true);
}

std::string formatLocalMinute(Instant t, int utcOffsetMinutes) {
    return format(t, utcOffsetMinutes, false, false);
}

} // namespace ow::cases
