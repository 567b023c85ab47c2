// Per-output circuit breaker: after `failureThreshold` consecutive transient failures the
// output is left alone for `openMs`, then one probe decides whether it is back.
#pragma once

#include <cstdint>

#include "core/config/HubConfig.h"

namespace ow::delivery {

class CircuitBreaker {
public:
    enum class State { Closed, Open, HalfOpen };

    explicit CircuitBreaker(config::CircuitPolicy p) : policy_(p) {}

    /// May a delivery start now? When the open period is over, the first caller gets the
    /// probe (state HalfOpen) and others are refused until it reports.
    bool tryAcquire(std::int64_t nowMs);
    void onSuccess();
    void onFailure(std::int64_t nowMs);

    [[nodiscard]] State state() const { return state_; }
    /// When an Open circuit lets the next probe through.
    [[nodiscard]] std::int64_t reopenAtMs() const { return openUntilMs_; }

private:
    config::CircuitPolicy policy_;
    State state_ = State::Closed;
    int failures_ = 0;
    std::int64_t openUntilMs_ = 0;
    bool probeInFlight_ = false;
};

} // namespace ow::delivery
