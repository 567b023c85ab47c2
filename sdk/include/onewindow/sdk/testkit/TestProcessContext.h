// A processor's ProcessContext without a hub: state, emitted events and timers in memory, with
// the hub's transaction rule (an Ok commits the call's effects, Retry and Reject discard them)
// and timers that fall due when the test advances the fake clock.
//
//   testkit::TestServices env(cfg);
//   auto proc = registry.createProcessor("deadline-watch", env.services());
//   testkit::TestProcessContext ctx(env.clock());
//   assert(ctx.process(*proc, accepted).kind == sdk::Result::Kind::Ok);
//   ctx.advanceAndRunTimers(*proc, 48 * 3600 * 1000);   // two days pass; due timers fire
//   assert(ctx.emitted().size() == 1);
#pragma once

#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onewindow/sdk/Components.h"
#include "onewindow/sdk/testkit/FakeClock.h"

namespace onewindow::sdk::testkit {

struct Timer {
    std::int64_t atMs = 0;
    std::string payload;
};

/// Not thread-safe: the hub never overlaps calls on one processor instance unless it says
/// `concurrent`, and a test drives it from one thread.
class TestProcessContext final : public ProcessContext {
public:
    explicit TestProcessContext(FakeClock& clock) : clock_(clock) {}

    // --- ProcessContext, as the processor sees it: effects apply at once, so a processor
    // called directly (proc.process(e, ctx)) is recorded too; process() below adds the rollback.
    [[nodiscard]] std::optional<std::string> get(const std::string& key) override {
        auto it = state_.find(key);
        if (it == state_.end()) return std::nullopt;
        return it->second;
    }
    void put(const std::string& key, const std::string& value) override { state_[key] = value; }
    void erase(const std::string& key) override { state_.erase(key); }
    void emit(Event e) override {
        if (e.time.empty()) e.time = formatRfc3339(clock_.nowMs()); // as the hub does
        emitted_.push_back(std::move(e));
    }
    void setTimer(const std::string& name, std::int64_t atMs, std::string payload) override {
        timers_[name] = Timer{atMs, std::move(payload)};
    }
    void cancelTimer(const std::string& name) override { timers_.erase(name); }

    // --- Driving the processor as the hub does.

    /// Calls processor.process(event, *this) in a transaction: on Retry or Reject every state
    /// change, emitted event and timer of this call is undone. An exception is turned into
    /// Retry with its message, as the hub does.
    Result process(Processor& processor, const Event& event) {
        return transaction([&] { return processor.process(event, *this); });
    }

    /// Fires the timers due at the clock's time, earliest first (a timer a handler sets that is
    /// already due fires in the same run). Each onTimer is its own transaction, and the fired
    /// timer is consumed unless the call answers Retry (it then stays due, as the hub calls it
    /// again). Stops at the first result that is not Ok and returns it; Ok if all were.
    Result runDueTimers(Processor& processor) {
        // A handler that re-arms a due timer every time would never end; 10,000 firings in
        // one run is far beyond any real processor.
        for (int fired = 0; fired < 10000; ++fired) {
            auto next = timers_.end();
            for (auto it = timers_.begin(); it != timers_.end(); ++it)
                if (it->second.atMs <= clock_.nowMs() &&
                    (next == timers_.end() || it->second.atMs < next->second.atMs))
                    next = it;
            if (next == timers_.end()) return Result::ok();
            const std::string name = next->first;
            const Timer timer = next->second;
            Result r = transaction([&] {
                timers_.erase(name); // before the call, so the handler may set it again
                return processor.onTimer(name, timer.payload, *this);
            });
            if (r.kind != Result::Kind::Ok) {
                if (r.kind == Result::Kind::Reject) timers_.erase(name);
                return r;
            }
        }
        throw std::runtime_error("timers keep falling due: a handler re-arms a due timer");
    }

    /// Advances the clock by `ms` and runs the timers that fell due.
    Result advanceAndRunTimers(Processor& processor, std::int64_t ms) {
        clock_.advance(ms);
        return runDueTimers(processor);
    }

    // --- What the processor left behind (committed effects).

    [[nodiscard]] const std::map<std::string, std::string>& state() const { return state_; }
    [[nodiscard]] const std::vector<Event>& emitted() const { return emitted_; }
    /// The emitted events so far, forgetting them (to check one step at a time).
    std::vector<Event> takeEmitted() { return std::exchange(emitted_, {}); }
    [[nodiscard]] const std::map<std::string, Timer>& timers() const { return timers_; }
    [[nodiscard]] std::optional<Timer> timer(const std::string& name) const {
        auto it = timers_.find(name);
        if (it == timers_.end()) return std::nullopt;
        return it->second;
    }

private:
    template <typename Call> Result transaction(Call call) {
        auto state = state_;
        auto timers = timers_;
        const auto emittedBefore = emitted_.size();
        Result r;
        try {
            r = call();
        } catch (const std::exception& e) {
            r = Result::retry(e.what());
        } catch (...) {
            r = Result::retry("unknown exception");
        }
        if (r.kind != Result::Kind::Ok) {
            state_ = std::move(state);
            timers_ = std::move(timers);
            emitted_.resize(emittedBefore);
        }
        return r;
    }

    FakeClock& clock_;
    std::map<std::string, std::string> state_;
    std::vector<Event> emitted_;
    std::map<std::string, Timer> timers_;
};

} // namespace onewindow::sdk::testkit
