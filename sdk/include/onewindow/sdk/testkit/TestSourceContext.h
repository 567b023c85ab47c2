// A source's SourceContext without a hub: records what the source emits and what it says of
// its system (unavailable with the reason, available), answers emit() as told, and asks the
// source to return after a number of pauses (a waitFor() or an unavailable()), so a test calls
// run() on its own thread and it returns without a clock or a timer.
//
//   testkit::TestSourceContext ctx(/*pauses=*/1);
//   department.queueReply(testkit::PeerReply::answer(200, ""));      // an empty body
//   assert(source->run(ctx).kind == sdk::Result::Kind::Ok);
//   assert(ctx.outages().size() == 1);                                 // with the reason
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "onewindow/sdk/Components.h"

namespace onewindow::sdk::testkit {

class TestSourceContext final : public SourceContext {
public:
    struct Outage {
        std::string reason;
        std::optional<std::int64_t> retryAfterMs;
    };

    /// `pauses`: waitFor() and unavailable() calls before stopping() turns true; `emitOk`:
    /// what emit() answers (false: "not stored", as when the hub's journal cannot commit).
    explicit TestSourceContext(int pauses = 1, bool emitOk = true)
        : pauses_(pauses), emitOk_(emitOk) {}
    /// Decides emit()'s answer per batch instead of `emitOk` (the batch is recorded first).
    void onEmit(std::function<bool(const std::vector<Event>&)> decide) {
        decide_ = std::move(decide);
    }

    bool emit(const std::vector<Event>& events) override {
        emitted_.insert(emitted_.end(), events.begin(), events.end());
        return decide_ ? decide_(events) : emitOk_;
    }
    [[nodiscard]] bool stopping() const override { return paused_ >= pauses_; }
    void waitFor(std::int64_t ms) override {
        waits_.push_back(ms);
        ++paused_;
    }
    void unavailable(const std::string& reason, std::optional<std::int64_t> retryAfterMs) override {
        outages_.push_back({reason, retryAfterMs});
        up_ = false;
        ++paused_;
    }
    void available() override {
        ++answered_;
        up_ = true;
    }

    [[nodiscard]] const std::vector<Event>& emitted() const { return emitted_; }
    /// Every unavailable() call, in order.
    [[nodiscard]] const std::vector<Outage>& outages() const { return outages_; }
    /// How often the source said its system answered.
    [[nodiscard]] int answered() const { return answered_; }
    /// What the source said last: true after available() (or before anything), false after
    /// unavailable().
    [[nodiscard]] bool up() const { return up_; }
    [[nodiscard]] const std::vector<std::int64_t>& waits() const { return waits_; }

private:
    int pauses_, paused_ = 0;
    bool emitOk_;
    std::function<bool(const std::vector<Event>&)> decide_;
    std::vector<Event> emitted_;
    std::vector<Outage> outages_;
    std::vector<std::int64_t> waits_;
    int answered_ = 0;
    bool up_ = true;
};

} // namespace onewindow::sdk::testkit
