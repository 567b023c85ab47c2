// Time as the hub sees it, passed in so tests can drive backoff and retention by hand.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ow::util {

class Clock {
public:
    virtual ~Clock() = default;
    /// Wall-clock time in Unix milliseconds: what is persisted (accepted_at, next attempt).
    [[nodiscard]] virtual std::int64_t nowMs() const = 0;
};

class SystemClock final : public Clock {
public:
    [[nodiscard]] std::int64_t nowMs() const override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

/// Unix milliseconds as RFC 3339 UTC with milliseconds ("2026-11-27T09:15:00.123Z").
std::string formatRfc3339Ms(std::int64_t unixMs);

} // namespace ow::util
