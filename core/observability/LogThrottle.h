// Keeps a message that can come many times a second (a connection refused during a flood)
// from flooding the log: the first one is logged at once, then at most one per interval, and
// that line says how many were left out since the one before.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace ow::observability {

class LogThrottle {
public:
    using Clock = std::chrono::steady_clock;

    explicit LogThrottle(std::chrono::milliseconds interval) : interval_(interval) {}

    /// One occurrence. nullopt: leave it out of the log. Otherwise log it, with the returned
    /// number of occurrences left out since the last line.
    std::optional<std::uint64_t> admit(Clock::time_point now = Clock::now()) {
        std::lock_guard lock(mu_);
        if (logged_ && now - last_ < interval_) {
            ++skipped_;
            return std::nullopt;
        }
        logged_ = true;
        last_ = now;
        const std::uint64_t skipped = skipped_;
        skipped_ = 0;
        return skipped;
    }

private:
    const std::chrono::milliseconds interval_;
    std::mutex mu_;
    bool logged_ = false;
    Clock::time_point last_{};
    std::uint64_t skipped_ = 0;
};

} // namespace ow::observability
