// What the hub does around the calls into one sink or processor instance: start() before the
// first use (again after a failure, at the caller's pace: start failures are transient by
// contract), stop() once and only after a start, both bounded by a deadline; and how a
// plugin's Result becomes a delivery outcome.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "core/delivery/OutputClient.h"
#include "core/plugin/DeadlineCaller.h"

namespace ow::plugin {

/// Ok: delivered (or handled); Reject: dead-letter; Retry: later. `who` prefixes the reason.
delivery::DeliveryResult toDelivery(const onewindow::sdk::Result& r, const std::string& who);

class ComponentLifecycle {
public:
    static constexpr std::chrono::milliseconds Deadline{5000};

    /// `kind` ("sink", "processor") and `who` ("sink plugin/component") for logs and reasons.
    ComponentLifecycle(std::string kind, std::string who, std::string plugin, std::string output);

    /// nullopt once started; otherwise the Retry result of a failed start() (or of a call
    /// after stop()).
    std::optional<delivery::DeliveryResult>
    ensureStarted(DeadlineCaller& calls, const std::function<onewindow::sdk::Result()>& start);
    /// Calls `stop` once, if start() succeeded. Idempotent.
    void stop(DeadlineCaller& calls, const std::function<void()>& stop);

private:
    std::string kind_, who_, plugin_, output_;
    std::mutex mu_;
    bool started_ = false;
    bool stopped_ = false;
};

} // namespace ow::plugin
