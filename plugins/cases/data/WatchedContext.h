// A ProcessContext that passes every call through and shows each emitted event to a watcher
// first. The first-party plugins count what they raise with it: a count is a metric, not
// state, so a call repeated after a crash counts again, as a rate of work should.
#pragma once

#include <functional>

#include <onewindow/sdk/Components.h>

namespace ow::cases {

class WatchedContext final : public onewindow::sdk::ProcessContext {
public:
    WatchedContext(onewindow::sdk::ProcessContext& inner,
                   std::function<void(const onewindow::sdk::Event&)> seen)
        : in_(inner), seen_(std::move(seen)) {}
    std::optional<std::string> get(const std::string& k) override { return in_.get(k); }
    void put(const std::string& k, const std::string& v) override { in_.put(k, v); }
    void erase(const std::string& k) override { in_.erase(k); }
    void emit(onewindow::sdk::Event e) override {
        seen_(e);
        in_.emit(std::move(e));
    }
    void setTimer(const std::string& n, std::int64_t at, std::string p) override {
        in_.setTimer(n, at, std::move(p));
    }
    void cancelTimer(const std::string& n) override { in_.cancelTimer(n); }

private:
    onewindow::sdk::ProcessContext& in_;
    std::function<void(const onewindow::sdk::Event&)> seen_;
};

} // namespace ow::cases
