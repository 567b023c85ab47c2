#include "core/observability/Log.h"

#include <cstdio>
#include <mutex>

#include "core/privacy/PersonalData.h"
#include "core/util/Clock.h"

namespace ow::observability {

std::atomic<Level> Log::level_{Level::Info};

bool parseLevel(std::string_view name, Level& out) {
    static constexpr std::pair<std::string_view, Level> names[] = {
        {"trace", Level::Trace}, {"debug", Level::Debug}, {"info", Level::Info},
        {"warn", Level::Warn},   {"error", Level::Error},
    };
    for (const auto& [n, l] : names)
        if (n == name) {
            out = l;
            return true;
        }
    return false;
}

void Log::write(Level l, std::string_view component, std::string_view msg,
                const nlohmann::json& fields) {
    static const char* const names[] = {"trace", "debug", "info", "warn", "error"};
    static std::mutex mu;
    nlohmann::json line = {
        {"ts", util::formatRfc3339Ms(util::SystemClock().nowMs())},
        {"level", names[static_cast<int>(l)]},
        {"component", component},
        {"msg", msg},
    };
    if (fields.is_object())
        for (const auto& [k, v] : fields.items())
            line[k] = v;
    std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // No log line carries a resident ID number or a mobile, whoever wrote the message (a
    // plugin quoting a department's answer, a reason quoting an event).
    if (privacy::containsPersonalData(text)) text = privacy::maskText(text);
    text.push_back('\n');
    // One fwrite per line under a lock: lines from different threads never interleave.
    std::lock_guard lock(mu);
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
}

} // namespace ow::observability
