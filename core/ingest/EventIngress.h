// POST handling for one configured input: authenticate, parse and validate the CloudEvents,
// check them against the client's allow list, stamp the principal on them, apply the
// Idempotency-Key rules, hand them to the journal writer, answer once committed.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
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
#include "core/security/Principal.h"
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

    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] const std::string& name() const { return name_; }

    /// A reloaded configuration of this input (same name and path): its tokens, signed
    /// senders and keys, and allow lists apply to requests admitted from now on; requests
    /// already admitted finish under the settings they were admitted with.
    void reconfigure(const config::InputSpec& spec);
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
    /// The input's security settings, replaced whole by a reload.
    struct Policy {
        explicit Policy(config::InputSpec s);
        Policy(const Policy&) = delete; // clientAllow points into spec
        Policy& operator=(const Policy&) = delete;
        config::InputSpec spec;
        security::TokenAuth auth;
        std::map<std::string, const config::AllowSpec*> clientAllow; ///< into `spec`
        /// The input's allow list with "{client}" filled in, per client (when it has one).
        std::map<std::string, config::AllowSpec> inputAllowFor;
        [[nodiscard]] const config::AllowSpec& inputAllow(const std::string& client) const;
    };

    /// A request that passed every check, on its way through the journal.
    struct Admitted {
        std::string client;
        security::Principal principal;
        std::vector<pipeline::AcceptItem> items;
        std::vector<std::shared_ptr<const event::Event>> events;
        std::vector<store::SeenSignature> signatures;
        std::optional<pipeline::IdempotencyBinding> idem;
        std::unique_ptr<InFlightKey> inFlight;
        std::string fingerprint;
        std::size_t count = 0;
        bool batch = false;
        std::string refusal; ///< the reason of the refusal answered, if any
    };

    /// The bearer token's check: the 401, or nothing (`a.client` and `a.principal` then say
    /// who calls).
    std::optional<transport::http::Response> authenticate(const transport::http::Request& req,
                                                          const Policy& policy, Admitted& a);
    /// The refusal, or nothing when `a` is ready for the journal.
    std::optional<transport::http::Response> admit(const transport::http::Request& req,
                                                   Admitted& a);
    transport::http::Response conclude(Admitted& a, const pipeline::AcceptResult& result);
    void observeSince(std::chrono::steady_clock::time_point started);

    /// Counts and logs a refusal; notes its reason in `a` for the audit trail.
    transport::http::Response reject(Admitted& a, int status, const std::string& reason,
                                     const std::string& type, const std::string& title,
                                     const std::string& detail,
                                     const nlohmann::json& extra = nlohmann::json::object());

    /// 403 for an event outside the client's allow list, 400 for one carrying attributes
    /// only the hub sets; stamps the principal on every event that passes.
    std::optional<transport::http::Response> screen(std::vector<event::Event>& events,
                                                    const Policy& policy, Admitted& a, bool batch);

    const std::string name_, path_;
    event::JsonLimits jsonLimits_;
    std::size_t maxBatch_;
    pipeline::JournalWriter& writer_;
    std::atomic<std::shared_ptr<const Policy>> policy_;
    // auth.signed: one verifier for the input's life (used when the policy has auth.signed),
    // so a replay is refused across reloads.
    std::unique_ptr<security::WebhookVerifier> signatures_;

    std::mutex inFlightMu_;
    std::set<std::pair<std::string, std::string>> inFlight_; // (client, idempotency key)

    InputCounters counters_;
    observability::Histogram& acceptLatency_;
};

} // namespace ow::ingest
