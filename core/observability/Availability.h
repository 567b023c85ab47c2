// One outside system as the hub sees it (a source's department, an output's receiver, a
// broker): up or down, since when, how many attempts failed in a row. The operator hears of
// it once when it goes down (warn, with the reason), at most every `reminderMs` while it stays
// down (the failed attempts and how long it has been down), and once when it answers again
// (info, with the downtime): a department down for a night is a dozen lines an hour, not one
// per attempt.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/observability/Log.h"
#include "core/util/Clock.h"

namespace ow::observability {

/// How often the log reminds of a system that stays down, unless configured
/// (hub.outages.reminder_s).
inline constexpr std::int64_t DefaultOutageReminderMs = 5 * 60 * 1000;

class Availability {
public:
    struct State {
        bool up = true;
        std::int64_t sinceMs = 0; ///< when it went down (its first failed attempt) or came back
        int consecutiveFailures = 0;
        std::string reason; ///< the last failure's, while down
    };

    /// Where the lines go: the hub's log unless a test listens.
    using Writer = std::function<void(Level, std::string_view msg, const nlohmann::json& fields)>;

    /// `component` and `who` (e.g. {"input": "ems-traces"}) go on every line; the system is
    /// down from `threshold` failed attempts in a row (an output's circuit threshold; 1 for a
    /// source or a broker).
    Availability(std::string component, nlohmann::json who, const util::Clock& clock,
                 std::int64_t reminderMs = DefaultOutageReminderMs, int threshold = 1,
                 Writer writer = {});

    /// An attempt failed with `reason` (a sentence for the operator).
    void failed(const std::string& reason);
    /// An attempt reached the system: it is up again, if it was down.
    void succeeded();
    [[nodiscard]] State state() const;

private:
    [[nodiscard]] nlohmann::json fields(std::int64_t nowMs) const;

    const std::string component_;
    const nlohmann::json who_;
    const Writer writer_;
    const util::Clock& clock_;
    const std::int64_t reminderMs_;
    const int threshold_;
    mutable std::mutex mu_;
    State state_;
    std::int64_t firstFailureMs_ = 0;
    std::int64_t lastToldMs_ = 0;
};

} // namespace ow::observability
