// A clock that moves only when the test moves it, so deadlines, timers and backoff are tested
// without waiting: the test says "two days pass" and they have passed.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

#include "onewindow/sdk/Components.h"

namespace onewindow::sdk::testkit {

/// RFC 3339 UTC text for epoch milliseconds, e.g. "2026-01-01T00:00:00.000Z" (how events'
/// `time` is written; the hub fills it in the same way for emitted events that have none).
inline std::string formatRfc3339(std::int64_t epochMs) {
    std::int64_t secs = epochMs / 1000;
    std::int64_t ms = epochMs % 1000;
    if (ms < 0) { // floor division, so times before 1970 still format
        ms += 1000;
        --secs;
    }
    const std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[128]; // room for any int, so no compiler can warn of truncation
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    return buf;
}

/// The hub's sdk::Clock for tests. Reads and moves are atomic, so a component may read it on
/// another thread (a fake HTTP peer's handler, say) while the test advances it.
class FakeClock final : public Clock {
public:
    /// 2026-01-01T00:00:00Z: a fixed start, so that every run of a test sees the same times.
    static constexpr std::int64_t DefaultStartMs = 1767225600000;

    explicit FakeClock(std::int64_t startMs = DefaultStartMs) : nowMs_(startMs) {}

    [[nodiscard]] std::int64_t nowMs() const override { return nowMs_.load(); }

    /// Moves time forward by `ms` (a negative value moves it back, as a wall clock may jump).
    void advance(std::int64_t ms) { nowMs_ += ms; }
    void advanceSeconds(std::int64_t s) { advance(s * 1000); }
    void advanceHours(std::int64_t h) { advance(h * 3600 * 1000); }
    void set(std::int64_t epochMs) { nowMs_ = epochMs; }

private:
    std::atomic<std::int64_t> nowMs_;
};

} // namespace onewindow::sdk::testkit
