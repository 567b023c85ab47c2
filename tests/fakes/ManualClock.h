// A clock tests move by hand.
#pragma once

#include <atomic>

#include "core/util/Clock.h"

namespace ow::fakes {

class ManualClock final : public util::Clock {
public:
    explicit ManualClock(std::int64_t startMs = 1'800'000'000'000) : now_(startMs) {}
    [[nodiscard]] std::int64_t nowMs() const override { return now_.load(); }
    void advance(std::int64_t ms) { now_ += ms; }
    void set(std::int64_t ms) { now_ = ms; }

private:
    std::atomic<std::int64_t> now_;
};

} // namespace ow::fakes
