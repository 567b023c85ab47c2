// Runs calls into plugin code on a thread of its own and waits for each up to a deadline. A
// C++ thread cannot be cancelled, so a call that overruns keeps its thread; until it returns,
// further calls are refused at once instead of piling up behind it, and the component shows
// as stuck. The thread holds what the call needs (shared_ptr), so nothing it uses is unloaded.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "onewindow/sdk/Components.h"

namespace ow::plugin {

/// The plugin boundary: runs `fn` (a call into plugin code) and turns anything it throws
/// into Retry with `what` and the message, so nothing thrown travels further.
template <typename Fn> onewindow::sdk::Result guarded(Fn&& fn, const std::string& what) noexcept {
    try {
        return fn();
    } catch (const std::exception& e) {
        return onewindow::sdk::Result::retry(what + " threw: " + e.what());
    } catch (...) {
        return onewindow::sdk::Result::retry(what + " threw an unknown exception");
    }
}

class DeadlineCaller {
public:
    explicit DeadlineCaller(std::string what);
    ~DeadlineCaller();
    DeadlineCaller(const DeadlineCaller&) = delete;
    DeadlineCaller& operator=(const DeadlineCaller&) = delete;

    /// The call's result; Retry with the reason when it threw, overran `deadline`, or a
    /// previous call is still running. Calls from several threads are taken one at a time.
    onewindow::sdk::Result call(const std::function<onewindow::sdk::Result()>& fn,
                                std::chrono::milliseconds deadline);
    /// True while a call has overrun its deadline and not yet returned.
    [[nodiscard]] bool stuck() const;

private:
    struct State;
    std::shared_ptr<State> state_;
    std::timed_mutex callMu_; // one call at a time
    std::thread thread_;
};

} // namespace ow::plugin
