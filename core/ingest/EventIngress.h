// POST handling for one configured input: authenticate, parse and validate the CloudEvents,
// apply the Idempotency-Key rules, hand them to the journal writer, answer once committed.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
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
#include "core/transport/http/Reply.h"
#include "core/util/Clock.h"

namespace ow::ingest {

class EventIngress {
public:
    /// `clock`: the wall clock signed requests' timestamps are checked against.
    EventIngress(config::InputSpec spec, const config::Limits& limits,
                 pipeline::JournalWriter& writer, observability::Metrics& metrics,
                 const util::Clock& clock);

    [[nodiscard]] const std::string& path() const { return spec_.path; }
    /// Answers through `reply` once the journal has committed (or refused) the events, from
    /// the writer's thread; refusals before that are answered at once, on the caller's. Does
    /// not block: the HTTP event loop calls it.
    void handleAsync(const transport::http::Request& req, transport::http::Reply reply);
    /// Before the body, for a client waiting for 100 Continue: the 401 its request gets
    /// whatever its body, or nothing.
    std::optional<transport::http::Response> refuseBeforeBody(const transport::http::Request& head);

private:
    /// Holds an Idempotency-Key in flight for its client until destroyed.
    struct InFlightKey {
        EventIngress& self;
        std::string client, key;
        InFlightKey(EventIngress& s, std::string c, std::string k)
            : self(s), client(std::move(c)), key(std::move(k)) {}
        InFlightKey(const InFlightKey&) = delete;
        InFlightKey& operator=(const InFlightKey&) = delete;
        ~InFlightKey();
    };
    /// A request that passed every check, on its way through the journal.
    struct Admitted {
        std::string client;
        std::vector<pipeline::AcceptItem> items;
        std::vector<std::shared_ptr<const event::Event>> events;
        std::vector<store::SeenSignature> signatures;
        std::optional<pipeline::IdempotencyBinding> idem;
        std::unique_ptr<InFlightKey> inFlight;
        std::string fingerprint;
        std::size_t count = 0;
        bool batch = false;
    };

    /// The bearer token's check: the 401, or nothing (`client` then says who calls).
    std::optional<transport::http::Response> authenticate(const transport::http::Request& req,
                                                          std::string& client);
    /// The refusal, or nothing when `a` is ready for the journal.
    std::optional<transport::http::Response> admit(const transport::http::Request& req,
                                                   Admitted& a);
    transport::http::Response conclude(Admitted& a, const pipeline::AcceptResult& result);
    void observeSince(std::chrono::steady_clock::time_point started);

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
