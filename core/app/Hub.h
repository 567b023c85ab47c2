// The composition root of a running hub: journal, writer, dispatcher, inputs and the HTTP
// server, wired from one validated configuration.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/audit/AuditLog.h"
#include "core/config/HubConfig.h"
#include "core/delivery/Dispatcher.h"
#include "core/ingest/EventIngress.h"
#include "core/ingest/MqttIngress.h"
#include "core/ingest/SourceIngress.h"
#include "core/observability/LogThrottle.h"
#include "core/observability/Metrics.h"
#include "core/pipeline/JournalWriter.h"
#include "core/plugin/PluginHost.h"
#include "core/privacy/PersonalData.h"
#include "core/query/StateQuery.h"
#include "core/store/Checkpointer.h"
#include "core/store/DamageMonitor.h"
#include "core/store/Journal.h"
#include "core/transport/http/ClientAddress.h"
#include "core/transport/http/HttpServer.h"
#include "core/transport/mqtt/MqttConnection.h"
#include "core/transport/tls/ServerCertificates.h"
#include "core/util/Clock.h"

namespace ow::app {

/// How long after hub.shutdown_timeout_ms a stopping hub may take for the rest of its stop
/// (the last commits, the plugins' stop()) before the process exits regardless.
constexpr std::int64_t kStopMarginMs = 5000;

class Hub {
public:
    explicit Hub(config::HubConfig config);
    ~Hub();

    /// Opens the journal, resumes pending work, starts delivering and listening.
    /// Throws (with a message for the operator) if any of it fails.
    void start();
    /// `onewindow run --accept-journal-loss`: start although the journal lacks events that
    /// were acknowledged (logged as an error). Set before start().
    void acceptJournalLoss(bool accept) { acceptJournalLoss_ = accept; }
    /// Graceful stop: refuse new connections, finish requests in flight (their commits
    /// included), let deliveries in flight finish, commit their results, close the journal.
    /// Requests and deliveries get hub.shutdown_timeout_ms together; a delivery still waiting
    /// for its receiver then is cut off, and its row stays pending for the next start.
    void stop();

    /// Applies a new configuration's plugins, outputs, routes and source inputs: loads and
    /// checks the new plugins first, then drains the outputs that change (deliveries and
    /// processor calls in flight finish, for hub.shutdown_timeout_ms at most), then switches.
    /// Outputs that do not change keep delivering throughout. Nothing accepted is lost; only a
    /// delivery cut off at the drain's deadline may be delivered again.
    /// Returns "" on success, else why nothing was changed. Call from one thread at a time.
    std::string reload(config::HubConfig next);

    /// Records in the audit trail a reload that was refused before reaching reload() (the
    /// file could not be read or checked). `configDigest` may be "".
    void recordRefusedReload(const std::string& configDigest, const std::string& why);

    [[nodiscard]] std::uint16_t port() const;
    transport::http::Response handle(const transport::http::Request& req);
    /// Requests to an input: events POSTed there are answered once committed, without holding
    /// a thread; other methods 405. False for every other request (handle() gets it).
    bool handleEvents(const transport::http::Request& req, transport::http::Reply reply);
    /// A request's head, when its client waits for 100 Continue: the answer it would get
    /// whatever its body (no such path, wrong method, no valid token), or nothing.
    std::optional<transport::http::Response> checkHead(const transport::http::Request& head);

private:
    transport::http::Response admin(const transport::http::Request& req);
    /// The output's client, behind a PersonalDataFilter when it masks or drops personal data.
    delivery::OutputClientFactory clientFactory(const config::OutputSpec& spec,
                                                plugin::PluginHost& plugins);
    delivery::OutputClientFactory receiverClientFactory(const config::OutputSpec& spec,
                                                        plugin::PluginHost& plugins);
    /// Lanes for `outputs`, their plugin outputs made by `plugins`.
    std::unique_ptr<delivery::Dispatcher>
    makeDispatcher(const std::vector<config::OutputSpec>& outputs, plugin::PluginHost& plugins);
    void deadLetterOrphans(store::Journal& journal);
    void startSources();
    /// Records a refused reload in the audit trail; returns `why`.
    std::string refuseReload(const config::HubConfig& next, std::string why);
    [[nodiscard]] audit::AuditLog::Settings auditSettings() const;
    /// What plugins see: hub.business_clock when configured, else the wall clock.
    [[nodiscard]] const util::Clock& businessClock() const;

    config::HubConfig config_;
    std::shared_ptr<const privacy::Masker> masker_; // config_.personalData
    util::SystemClock clock_;
    std::unique_ptr<util::ScaledClock> scaledClock_; // hub.business_clock, when configured
    observability::Metrics metrics_;
    std::unique_ptr<store::Journal> journal_;
    std::unique_ptr<store::Checkpointer> checkpointer_;
    std::unique_ptr<store::Journal> reader_; // the dispatcher's connection for backlogs
    std::mutex readerMu_;
    std::unique_ptr<pipeline::JournalWriter> writer_;
    std::map<std::string, std::shared_ptr<transport::mqtt::MqttConnection>> brokers_;
    std::unique_ptr<plugin::PluginHost> plugins_; // outlives the dispatcher's sink clients
    std::mutex dispatchMu_; // the writer hands rows over while a reload swaps the dispatcher
    std::unique_ptr<delivery::Dispatcher> dispatcher_;
    std::map<std::string, std::unique_ptr<ingest::EventIngress>> inputs_; // by path
    std::vector<std::unique_ptr<ingest::MqttIngress>> mqttInputs_;
    std::mutex sourcesMu_; // a reload replaces the sources while /readyz reads them
    std::vector<std::unique_ptr<ingest::SourceIngress>> sourceInputs_;
    transport::http::TrustedProxies proxies_; // hub.trusted_proxies, for the queries
    std::vector<std::unique_ptr<query::StateQuery>> queries_;
    std::unique_ptr<transport::tls::ServerCertificates> certificates_; // hub.tls, reloadable
    observability::LogThrottle busyLog_{std::chrono::seconds(10)};
    std::unique_ptr<transport::http::HttpServer> server_;
    std::atomic<bool> ready_{false};
    bool stopped_ = false;
    bool acceptJournalLoss_ = false;
    store::DamageMonitor damage_; // the journal's connections report damaged pages here
};

} // namespace ow::app
