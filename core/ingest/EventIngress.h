// POST handling for one configured input: authenticate, parse and validate the CloudEvents,
// apply the Idempotency-Key rules, wait for the journal commit, answer.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/config/HubConfig.h"
#include "core/event/CloudEventCodec.h"
#include "core/ingest/InputCounters.h"
#include "core/observability/Metrics.h"
#include "core/pipeline/JournalWriter.h"
#include "core/security/TokenAuth.h"
#include "core/security/WebhookSignature.h"
#include "core/transport/http/HttpMessage.h"
#include "core/util/Clock.h"

namespace ow::ingest {

class EventIngress {
public:
    /// `clock`: the wall clock signed requests' timestamps are checked against.
    EventIngress(config::InputSpec spec, const config::Limits& limits,
                 pipeline::JournalWriter& writer, observability::Metrics& metrics,
                 const util::Clock& clock);

    [[nodiscard]] const std::string& path() const { return spec_.path; }
    transport::http::Response handle(const transport::http::Request& req);

private:
    transport::http::Response reject(int status, const std::string& reason, const std::string& type,
                                     const std::string& title, const std::string& detail,
                                     const nlohmann::json& extra = nlohmann::json::object());

    config::InputSpec spec_;
    event::JsonLimits jsonLimits_;
    std::size_t maxBatch_;
    pipeline::JournalWriter& writer_;
    security::TokenAuth auth_;
    std::unique_ptr<security::WebhookVerifier> signatures_; // auth.signed

    std::mutex inFlightMu_;
    std::set<std::pair<std::string, std::string>> inFlight_; // (client, idempotency key)

    InputCounters counters_;
    observability::Histogram& acceptLatency_;
};

} // namespace ow::ingest
