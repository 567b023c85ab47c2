// The counters every input keeps, with one name and help text whatever protocol it speaks
// (HTTP, MQTT, plugin source), so /metrics shows one family per figure.
#pragma once

#include <string>

#include "core/observability/Metrics.h"

namespace ow::ingest {

class InputCounters {
public:
    InputCounters(observability::Metrics& metrics, std::string input)
        : accepted(metrics.counter("onewindow_events_accepted_total", "Events journaled (new)",
                                   {{"input", input}})),
          duplicates(
              metrics.counter("onewindow_events_duplicate_total",
                              "Events already journaled (same source and id), not routed again",
                              {{"input", input}})),
          metrics_(metrics), input_(std::move(input)) {}

    observability::Counter& accepted;
    observability::Counter& duplicates;
    /// Refusals of this input for `reason` (a short code such as "invalid-event").
    observability::Counter& rejected(const std::string& reason) {
        return metrics_.counter("onewindow_events_rejected_total", "Requests refused, by reason",
                                {{"input", input_}, {"reason", reason}});
    }

    /// Events of `client` refused by the allow lists or for carrying the hub's attributes.
    observability::Counter& refused(const std::string& client, const std::string& reason) {
        return metrics_.counter("onewindow_events_refused_total",
                                "Events refused because their client may not send them",
                                {{"input", input_}, {"client", client}, {"reason", reason}});
    }

private:
    observability::Metrics& metrics_;
    std::string input_;
};

} // namespace ow::ingest
