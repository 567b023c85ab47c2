// Structured logging: one JSON object per line on stderr, so log shippers need no parser.
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ow::observability {

enum class Level { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4 };

/// "info" -> Level::Info; returns false for an unknown name.
bool parseLevel(std::string_view name, Level& out);

/// Process-wide logger. Each line: {"ts":..., "level":..., "component":..., "msg":..., fields...}.
/// Secrets must never be passed in `fields`.
class Log {
public:
    static void setLevel(Level l) { level_.store(l); }
    static bool enabled(Level l) { return l >= level_.load(std::memory_order_relaxed); }
    static void write(Level l, std::string_view component, std::string_view msg,
                      const nlohmann::json& fields = nullptr);

    static void trace(std::string_view c, std::string_view m, const nlohmann::json& f = nullptr) {
        if (enabled(Level::Trace)) write(Level::Trace, c, m, f);
    }
    static void debug(std::string_view c, std::string_view m, const nlohmann::json& f = nullptr) {
        if (enabled(Level::Debug)) write(Level::Debug, c, m, f);
    }
    static void info(std::string_view c, std::string_view m, const nlohmann::json& f = nullptr) {
        if (enabled(Level::Info)) write(Level::Info, c, m, f);
    }
    static void warn(std::string_view c, std::string_view m, const nlohmann::json& f = nullptr) {
        if (enabled(Level::Warn)) write(Level::Warn, c, m, f);
    }
    static void error(std::string_view c, std::string_view m, const nlohmann::json& f = nullptr) {
        if (enabled(Level::Error)) write(Level::Error, c, m, f);
    }

private:
    static std::atomic<Level> level_;
};

} // namespace ow::observability
