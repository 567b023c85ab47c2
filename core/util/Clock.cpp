#include "core/util/Clock.h"

#include <cstdio>
#include <ctime>

namespace ow::util {

std::string formatRfc3339Ms(std::int64_t unixMs) {
    std::time_t secs = static_cast<std::time_t>(unixMs / 1000);
    int ms = static_cast<int>(unixMs % 1000);
    if (ms < 0) {
        ms += 1000;
        --secs;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}

} // namespace ow::util
