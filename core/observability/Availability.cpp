#include "core/observability/Availability.h"

#include <algorithm>

namespace ow::observability {

Availability::Availability(std::string component, nlohmann::json who, const util::Clock& clock,
                           std::int64_t reminderMs, int threshold, Writer writer)
    : component_(std::move(component)), who_(std::move(who)),
      writer_(writer
                  ? std::move(writer)
                  : Writer([c = component_](Level l, std::string_view m, const nlohmann::json& f) {
                        if (Log::enabled(l)) Log::write(l, c, m, f);
                    })),
      clock_(clock), reminderMs_(std::max<std::int64_t>(1, reminderMs)),
      threshold_(std::max(1, threshold)) {
    state_.sinceMs = clock_.nowMs();
}

nlohmann::json Availability::fields(std::int64_t nowMs) const {
    nlohmann::json f = who_.is_object() ? who_ : nlohmann::json::object();
    f["reason"] = state_.reason;
    f["failed_attempts"] = state_.consecutiveFailures;
    f["down_since"] = util::formatRfc3339Ms(firstFailureMs_);
    f["down_for_s"] = std::max<std::int64_t>(0, nowMs - firstFailureMs_) / 1000;
    return f;
}

void Availability::failed(const std::string& reason) {
    std::lock_guard lock(mu_);
    const std::int64_t now = clock_.nowMs();
    if (state_.consecutiveFailures++ == 0) firstFailureMs_ = now;
    state_.reason = reason;
    if (state_.up) {
        if (state_.consecutiveFailures < threshold_) return;
        state_.up = false;
        state_.sinceMs = firstFailureMs_;
        lastToldMs_ = now;
        auto f = fields(now);
        f["reminder_every_s"] = reminderMs_ / 1000;
        writer_(Level::Warn, "unavailable; trying again with backoff", f);
        return;
    }
    if (now - lastToldMs_ < reminderMs_) return;
    lastToldMs_ = now;
    writer_(Level::Warn, "still unavailable", fields(now));
}

void Availability::succeeded() {
    std::lock_guard lock(mu_);
    if (state_.up && state_.consecutiveFailures == 0) return; // the usual case, kept cheap
    const std::int64_t now = clock_.nowMs();
    if (!state_.up) {
        auto f = fields(now);
        f.erase("reason");
        writer_(Level::Info, "available again", f);
        state_.up = true;
        state_.sinceMs = now;
    }
    state_.consecutiveFailures = 0;
    state_.reason.clear();
}

Availability::State Availability::state() const {
    std::lock_guard lock(mu_);
    return state_;
}

} // namespace ow::observability
