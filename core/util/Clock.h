// Time as the hub sees it, passed in so tests can drive backoff and retention by hand.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

/// The center's business time as plugins see it, running `rate` times faster than the wall
/// clock from a fixed point: at wall time `anchorMs` it is `startMs`. Used to replay a working
/// day in minutes (simulations, tests of deadlines); a restart keeps the same business time
/// because the anchor is fixed, not the start of the process.
class ScaledClock final : public Clock {
public:
    ScaledClock(std::int64_t startMs, std::int64_t anchorMs, double rate, const Clock& wall)
        : startMs_(startMs), anchorMs_(anchorMs), rate_(rate), wall_(wall) {}
    [[nodiscard]] std::int64_t nowMs() const override {
        return startMs_ +
               static_cast<std::int64_t>(static_cast<double>(wall_.nowMs() - anchorMs_) * rate_);
    }

private:
    std::int64_t startMs_, anchorMs_;
    double rate_;
    const Clock& wall_;
};

/// Unix milliseconds as RFC 3339 UTC with milliseconds ("2026-11-27T09:15:00.123Z").
std::string formatRfc3339Ms(std::int64_t unixMs);

/// "2026-03-02T08:30:00+08:00" (fraction and Z allowed) as Unix milliseconds; nullopt when the
/// text is not an RFC 3339 date-time.
std::optional<std::int64_t> parseRfc3339Ms(std::string_view text);

} // namespace ow::util
