// Waiting for a condition with a deadline, the only acceptable way for a test to wait.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>

namespace ow::testkit {

using namespace std::chrono_literals;

/// Evaluates `condition` until it returns true or `deadline` has passed; returns the last
/// result. The condition is always evaluated once more after the deadline so a condition
/// that became true during the final poll interval is not reported as a timeout.
template <typename Predicate>
bool waitUntil(Predicate condition, std::chrono::milliseconds deadline,
               std::chrono::milliseconds poll = 10ms) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (true) {
        if (condition()) {
            return true;
        }
        const auto now = std::chrono::steady_clock::now();
        if (now >= end) {
            return false;
        }
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(poll, end - now));
    }
}

} // namespace ow::testkit
