#include "core/delivery/CircuitBreaker.h"

namespace ow::delivery {

bool CircuitBreaker::tryAcquire(std::int64_t nowMs) {
    switch (state_) {
    case State::Closed:
        return true;
    case State::Open:
        if (nowMs < openUntilMs_) return false;
        state_ = State::HalfOpen;
        probeInFlight_ = true;
        return true;
    case State::HalfOpen:
        if (probeInFlight_) return false;
        probeInFlight_ = true;
        return true;
    }
    return false;
}

void CircuitBreaker::onSuccess() {
    state_ = State::Closed;
    failures_ = 0;
    probeInFlight_ = false;
}

void CircuitBreaker::onFailure(std::int64_t nowMs) {
    probeInFlight_ = false;
    if (state_ == State::HalfOpen || ++failures_ >= policy_.failureThreshold) {
        state_ = State::Open;
        openUntilMs_ = nowMs + policy_.openMs;
    }
}

} // namespace ow::delivery
