#include "core/plugin/ComponentLifecycle.h"

#include "core/observability/Log.h"

namespace ow::plugin {
namespace sdk = onewindow::sdk;
using delivery::DeliveryResult;
using observability::Log;

DeliveryResult toDelivery(const sdk::Result& r, const std::string& who) {
    switch (r.kind) {
    case sdk::Result::Kind::Ok:
        return {DeliveryResult::Outcome::Delivered, 0, std::nullopt, ""};
    case sdk::Result::Kind::Reject:
        return {DeliveryResult::Outcome::Reject, 0, std::nullopt, who + ": " + r.reason};
    case sdk::Result::Kind::Retry:
        break;
    }
    return {DeliveryResult::Outcome::Retry, 0, r.retryAfterMs, who + ": " + r.reason};
}

ComponentLifecycle::ComponentLifecycle(std::string kind, std::string who, std::string plugin,
                                       std::string output)
    : kind_(std::move(kind)), who_(std::move(who)), plugin_(std::move(plugin)),
      output_(std::move(output)) {}

std::optional<DeliveryResult>
ComponentLifecycle::ensureStarted(DeadlineCaller& calls,
                                  const std::function<sdk::Result()>& start) {
    std::lock_guard lock(mu_);
    if (started_) return std::nullopt;
    if (stopped_)
        return DeliveryResult{DeliveryResult::Outcome::Retry, 0, std::nullopt,
                              "the " + kind_ + " is stopped"};
    auto r = calls.call(start, Deadline);
    if (r.kind == sdk::Result::Kind::Ok) {
        started_ = true;
        Log::info("plugin", kind_ + " started", {{"plugin", plugin_}, {"output", output_}});
        return std::nullopt;
    }
    // Not a warning per attempt: the output's lane tells the operator once it is down.
    Log::debug("plugin", kind_ + " failed to start; will retry",
               {{"plugin", plugin_}, {"output", output_}, {"reason", r.reason}});
    return DeliveryResult{DeliveryResult::Outcome::Retry, 0, std::nullopt,
                          who_ + " start() failed: " + r.reason};
}

void ComponentLifecycle::stop(DeadlineCaller& calls, const std::function<void()>& stop) {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    if (!started_) return;
    auto r = calls.call(
        [stop] {
            stop();
            return sdk::Result::ok();
        },
        Deadline);
    if (r.kind != sdk::Result::Kind::Ok)
        Log::warn("plugin", kind_ + " did not stop cleanly",
                  {{"plugin", plugin_}, {"output", output_}, {"reason", r.reason}});
}

} // namespace ow::plugin
