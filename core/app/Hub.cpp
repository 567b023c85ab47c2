#include "core/app/Hub.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include <Poco/Net/Context.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include "core/audit/OperatorActions.h"
#include "core/delivery/HttpOutputClient.h"
#include "core/delivery/MqttOutputClient.h"
#include "core/delivery/PersonalDataFilter.h"
#include "core/observability/Log.h"
#include "core/transport/http/Problem.h"
#include "core/util/FileTrust.h"

namespace ow::app {

using observability::Log;
using transport::http::problem;
using transport::http::Request;
using transport::http::Response;

namespace {

Poco::Net::Context::Ptr serverContext(const config::TlsServerSettings& tls) {
    Poco::Net::Context::Params p;
    p.privateKeyFile = tls.keyFile;
    p.certificateFile = tls.certFile;
    p.caLocation = tls.clientCaFile;
    p.loadDefaultCAs = false;
    p.verificationMode = tls.clientCaFile.empty() ? Poco::Net::Context::VERIFY_NONE
                         : tls.requireClientCert  ? Poco::Net::Context::VERIFY_STRICT
                                                  : Poco::Net::Context::VERIFY_RELAXED;
    // Mozilla "intermediate": TLS 1.2+ with AEAD ciphers only.
    p.cipherList =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
    Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, p);
    ctx->disableProtocols(Poco::Net::Context::PROTO_SSLV2 | Poco::Net::Context::PROTO_SSLV3 |
                          Poco::Net::Context::PROTO_TLSV1 | Poco::Net::Context::PROTO_TLSV1_1);
    // Poco would also match the client certificate's name against the client's address;
    // clients are identified by certificate subject instead (see STACK-NOTES, mTLS).
    ctx->enableExtendedCertificateVerification(false);
    ctx->preferServerCiphers();
    return ctx;
}

std::shared_ptr<const routing::RouteTable> routeTable(const config::HubConfig& c) {
    std::map<std::string, std::string> orderingKeys;
    for (const auto& o : c.outputs)
        orderingKeys[o.name] = o.orderingKey;
    return std::make_shared<const routing::RouteTable>(c.routes, orderingKeys);
}

std::string refusal(const std::vector<config::ConfigProblem>& problems) {
    std::string all = "plugins refused:";
    for (const auto& p : problems)
        all += "\n" + config::formatProblem(p);
    return all;
}

// The data folder holds what was accepted and is still to be delivered, and the private copies
// of the plugins (code the hub runs): only the hub's user and root may be able to change it.
// Made 0700 when missing.
void trustDataDir(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        fs::create_directories(fs::path(dir).lexically_normal().parent_path(), ec);
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
            throw std::runtime_error("cannot make the data folder " + dir + ": " +
                                     std::strerror(errno));
    }
    const std::string real = fs::canonical(dir, ec).string();
    if (ec) throw std::runtime_error("cannot open the data folder " + dir + ": " + ec.message());
    for (auto why : {util::untrustedEntry(real, "data folder"), util::untrustedAncestors(real)})
        if (why) throw std::runtime_error(*why + " (hub.data_dir or --data-dir)");
}

// The items `keep` selects, without positions: moving a line in the file is not a change.
template <class T, class Keep> std::vector<T> unpositioned(std::vector<T> items, Keep keep) {
    std::erase_if(items, [&](const T& t) { return !keep(t); });
    for (auto& t : items)
        t.where = {};
    return items;
}

} // namespace

Hub::Hub(config::HubConfig config)
    : config_(std::move(config)), masker_(std::make_shared<const privacy::Masker>(
                                      privacy::declarationsOf(config_.personalData))) {
    const auto& bc = config_.hub.businessClock;
    if (bc.startMs)
        scaledClock_ = std::make_unique<util::ScaledClock>(
            *bc.startMs, bc.anchorMs.value_or(clock_.nowMs()), bc.rate, clock_);
}

const util::Clock& Hub::businessClock() const {
    return scaledClock_ ? static_cast<const util::Clock&>(*scaledClock_) : clock_;
}

Hub::~Hub() {
    stop();
}

void Hub::start() {
    const auto& hub = config_.hub;
    trustDataDir(hub.dataDir);
    // Checked before anything else: a damaged journal, or one that lacks acknowledged events,
    // stops the start with the file named and what to do.
    journal_ = std::make_unique<store::Journal>(
        hub.dataDir, hub.journal.synchronous, store::JournalChecks{true, true, acceptJournalLoss_});
    journal_->database().watchDamage(&damage_);
    metrics_.gaugeFunction("onewindow_journal_damaged",
                           "1 once a damaged page of the journal was found (see the log)",
                           [this] { return damage_.damaged() ? 1.0 : 0.0; });
    checkpointer_ = std::make_unique<store::Checkpointer>(store::Journal::fileName(hub.dataDir));
    checkpointer_->start();

    auto routes = routeTable(config_);

    // One connection per broker, shared by the outputs that publish there.
    for (const auto& b : config_.brokers) {
        auto conn = std::make_shared<transport::mqtt::MqttConnection>(b, hub.outages.reminderMs);
        metrics_.gaugeFunction("onewindow_mqtt_connected", "1 while connected to the broker",
                               [conn] { return conn->connected() ? 1.0 : 0.0; },
                               {{"broker", b.name}});
        brokers_[b.name] = std::move(conn);
    }
    // Plugins are loaded and every sink's config checked before anything is delivered; a
    // refused plugin stops the start with the same file:line:column messages as `check`.
    std::vector<config::ConfigProblem> pluginProblems;
    plugins_ = std::make_unique<plugin::PluginHost>(config_, pluginProblems, metrics_,
                                                    businessClock(), true);
    if (!pluginProblems.empty()) throw std::runtime_error(refusal(pluginProblems));
    // Deliveries left for outputs that are no longer configured would wait forever.
    deadLetterOrphans(*journal_);
    reader_ = std::make_unique<store::Journal>(hub.dataDir, hub.journal.synchronous);
    reader_->database().watchDamage(&damage_);
    dispatcher_ = makeDispatcher(config_.outputs, *plugins_);
    writer_ = std::make_unique<pipeline::JournalWriter>(
        *journal_, routes, clock_, metrics_, hub.journal.maxBatch,
        [this](std::vector<store::OutboxRow> rows) {
            // During a reload there is no dispatcher for a moment: the rows are committed, and
            // the next dispatcher's lanes read them from the journal.
            std::lock_guard lock(dispatchMu_);
            if (dispatcher_) dispatcher_->submit(std::move(rows));
        });
    writer_->eventRetentionMs = static_cast<std::int64_t>(hub.journal.retentionHours) * 3600 * 1000;
    writer_->afterCommit = [this](int walPages) { checkpointer_->walGrew(walPages); };
    writer_->idempotencyRetentionMs =
        static_cast<std::int64_t>(hub.idempotencyRetentionHours) * 3600 * 1000;
    if (hub.audit.enabled) {
        audit::AuditLog::createTables(journal_->database());
        writer_->setAudit(std::make_unique<audit::AuditLog>(journal_->database(), auditSettings()),
                          static_cast<std::int64_t>(hub.audit.retentionDays) * 24 * 3600 * 1000);
        writer_->auditAction(audit::operatorAction(
            "start", {{"version", OW_VERSION}, {"config_sha256", config_.digest}}));
    }

    metrics_.gaugeFunction("onewindow_dead_letters", "Deliveries in the dead-letter queue",
                           [this] { return static_cast<double>(writer_->deadLetterCount()); });
    metrics_.gaugeFunction("onewindow_unrouted_events", "Journaled events not routed yet",
                           [this] { return static_cast<double>(writer_->unroutedCount()); });

    for (const auto& in : config_.inputs) {
        if (in.kind == config::InputSpec::Kind::Mqtt)
            mqttInputs_.push_back(std::make_unique<ingest::MqttIngress>(
                in, hub.limits, *writer_, brokers_.at(in.mqtt.broker), metrics_));
        else if (in.kind == config::InputSpec::Kind::Source)
            continue; // made by startSources(), again at each reload
        else
            inputs_[in.path] =
                std::make_unique<ingest::EventIngress>(in, hub.limits, *writer_, metrics_, clock_);
    }

    proxies_ = transport::http::TrustedProxies(hub.trustedProxies);
    for (const auto& q : config_.queries)
        queries_.push_back(std::make_unique<query::StateQuery>(
            q, store::Journal::fileName(hub.dataDir), clock_, proxies_));

    for (auto& [_, conn] : brokers_)
        conn->start();
    dispatcher_->start();
    writer_->start();
    plugins_->startTimers();
    for (auto& in : mqttInputs_)
        in->start();
    startSources();

    Poco::Net::SocketAddress addr(hub.listenHost, static_cast<Poco::UInt16>(hub.listenPort));
    std::unique_ptr<Poco::Net::ServerSocket> socket;
    if (hub.tls.enabled) {
        auto context = serverContext(hub.tls);
        // The certificate is handed out per handshake, so SIGHUP can replace it.
        certificates_ = std::make_unique<transport::tls::ServerCertificates>(hub.tls);
        certificates_->attach(context->sslContext());
        socket = std::make_unique<Poco::Net::SecureServerSocket>(context);
    } else
        socket = std::make_unique<Poco::Net::ServerSocket>();
    // Poco's convenience constructors also set SO_REUSEPORT: a second hub started on the same
    // port by mistake would then silently take half the traffic into another journal.
    socket->bind(addr, /*reuseAddress=*/true, /*reusePort=*/false);
    socket->listen(128);

    transport::http::ServerLimits limits;
    limits.maxHeaderBytes = hub.limits.maxHeaderBytes;
    limits.maxHeaderCount = hub.limits.maxHeaderCount;
    limits.maxBodyBytes = hub.limits.maxBodyBytes;
    limits.headerTimeoutMs = hub.limits.headerTimeoutMs;
    limits.bodyTimeoutMs = hub.limits.bodyTimeoutMs;
    limits.idleTimeoutMs = hub.limits.idleTimeoutMs;
    limits.maxConnections = hub.maxConnections;
    limits.reserveConnections = hub.reserveConnections;
    limits.reservedPaths = {"/healthz", "/readyz", "/metrics"};
    server_ = std::make_unique<transport::http::HttpServer>(
        *socket, [this](const Request& r) { return handle(r); }, limits,
        [this](int status, const std::string& reason) {
            metrics_
                .counter("onewindow_http_errors_total", "Requests the HTTP layer refused or failed",
                         {{"status", std::to_string(status)}})
                .inc();
            if (status == 503) {
                // Every connection slot taken: load, maybe a flood; one line per 10 s.
                if (auto left = busyLog_.admit())
                    Log::warn("http", "connection refused: every slot is taken",
                              {{"reason", reason}, {"similar_not_logged", *left}});
            } else if (status >= 500 && status != 501 && status != 505) {
                Log::error("http", "request failed", {{"status", status}, {"reason", reason}});
            } else {
                // The client's doing (501/505 too: a coding or version it asked for).
                Log::debug("http", "request refused", {{"status", status}, {"reason", reason}});
            }
        },
        [this](const Request& r, transport::http::Reply reply) {
            return handleEvents(r, std::move(reply));
        },
        [this](const Request& head) { return checkHead(head); });
    server_->start();
    ready_ = true;
    Log::info("hub", "listening",
              {{"version", OW_VERSION},
               {"address", hub.listenHost + ":" + std::to_string(server_->port())},
               {"tls", hub.tls.enabled},
               {"data_dir", hub.dataDir},
               {"inputs", config_.inputs.size()},
               {"outputs", config_.outputs.size()},
               {"routes", config_.routes.size()}});
}

delivery::OutputClientFactory Hub::clientFactory(const config::OutputSpec& spec,
                                                 plugin::PluginHost& plugins) {
    auto plain = receiverClientFactory(spec, plugins);
    if (spec.personalData == "keep") return plain;
    const auto treatment =
        spec.personalData == "drop" ? privacy::Treatment::Drop : privacy::Treatment::Mask;
    return [plain = std::move(plain), masker = masker_, treatment] {
        return std::make_unique<delivery::PersonalDataFilter>(plain(), masker, treatment);
    };
}

delivery::OutputClientFactory Hub::receiverClientFactory(const config::OutputSpec& spec,
                                                         plugin::PluginHost& plugins) {
    if (spec.kind == config::OutputSpec::Kind::Sink) return plugins.sinkClientFactory(spec);
    if (spec.kind == config::OutputSpec::Kind::Processor)
        return plugins.processorClientFactory(
            spec, [this](pipeline::ProcessorCommit c, pipeline::CommitCallback done) {
                writer_->processed(std::move(c), std::move(done));
            });
    // The spec is copied: a lane a reload keeps outlives the configuration it was made from.
    if (spec.kind == config::OutputSpec::Kind::Mqtt) {
        auto conn = brokers_.at(spec.mqtt.broker);
        return [spec, conn] { return std::make_unique<delivery::MqttOutputClient>(spec, conn); };
    }
    Poco::Net::Context::Ptr tls;
    if (spec.url.rfind("https://", 0) == 0)
        tls = delivery::HttpOutputClient::makeClientContext(spec.tls);
    return [spec, tls] { return std::make_unique<delivery::HttpOutputClient>(spec, tls); };
}

std::unique_ptr<delivery::Dispatcher>
Hub::makeDispatcher(const std::vector<config::OutputSpec>& outputs, plugin::PluginHost& plugins) {
    delivery::ResultSink sink{
        [this](std::int64_t id) { writer_->delivered(id); },
        [this](std::int64_t id, int attempts, std::int64_t next, const std::string& err) {
            writer_->retry(id, attempts, next, err);
        },
        [this](std::int64_t id, int attempts, const std::string& err) {
            writer_->dead(id, attempts, err);
        },
    };
    delivery::OutboxReader backlog{
        [this](const std::string& output, std::int64_t afterId, int limit) {
            std::lock_guard lock(readerMu_);
            return reader_->pendingOutboxFor(output, afterId, limit);
        },
        [this](const std::string& output) {
            std::lock_guard lock(readerMu_);
            return reader_->countPending(output);
        }};
    return std::make_unique<delivery::Dispatcher>(
        outputs,
        [this, &plugins](const config::OutputSpec& spec) { return clientFactory(spec, plugins); },
        sink, clock_, metrics_, backlog, delivery::DefaultMaxRowsInMemory,
        config_.hub.outages.reminderMs);
}

void Hub::deadLetterOrphans(store::Journal& journal) {
    std::set<std::string> outputNames;
    for (const auto& o : config_.outputs)
        outputNames.insert(o.name);
    if (int orphans = journal.deadLetterOrphans(outputNames, clock_.nowMs()))
        Log::warn("hub", "pending deliveries to outputs no longer configured were dead-lettered",
                  {{"rows", orphans}});
}

void Hub::startSources() {
    std::lock_guard lock(sourcesMu_);
    for (const auto& in : config_.inputs)
        if (in.kind == config::InputSpec::Kind::Source)
            sourceInputs_.push_back(std::make_unique<ingest::SourceIngress>(
                in, config_.hub.limits, *writer_, plugins_->sourceFor(in.name), metrics_, clock_,
                config_.hub.outages));
    for (auto& in : sourceInputs_)
        in->start();
}

std::string Hub::reload(config::HubConfig next) {
    if (!ready_) return "the hub is not running";
    // HTTP and MQTT inputs hold sockets and subscriptions, brokers connections: a restart.
    auto all = [](const auto&) { return true; };
    auto fixedInput = [](const config::InputSpec& in) {
        return in.kind != config::InputSpec::Kind::Source;
    };
    // Credentials and allow lists of an input change without touching its socket.
    auto withoutCredentials = [](std::vector<config::InputSpec> inputs) {
        for (auto& in : inputs) {
            in.tokens.clear();
            in.signedAuth.reset();
            in.allow = {};
        }
        return inputs;
    };
    // The listener's certificate, key and client CA are read again at every reload.
    auto withoutTlsFiles = [](config::HubSettings h) {
        h.tls.certFile.clear();
        h.tls.keyFile.clear();
        h.tls.clientCaFile.clear();
        return h;
    };
    std::vector<std::string> fixed;
    if (withoutTlsFiles(next.hub) != withoutTlsFiles(config_.hub))
        fixed.emplace_back("'hub' (other than hub.tls's files)");
    if (unpositioned(next.brokers, all) != unpositioned(config_.brokers, all))
        fixed.emplace_back("'brokers'");
    if (withoutCredentials(unpositioned(next.inputs, fixedInput)) !=
        withoutCredentials(unpositioned(config_.inputs, fixedInput)))
        fixed.emplace_back("HTTP or MQTT 'inputs' (other than their auth and allow lists)");
    if (unpositioned(next.queries, all) != unpositioned(config_.queries, all))
        fixed.emplace_back("'queries'");
    if (!fixed.empty()) {
        std::string list;
        for (const auto& f : fixed)
            list += (list.empty() ? "" : ", ") + f;
        return refuseReload(next, "changes to " + list +
                                      " take effect only at a restart; nothing was reloaded "
                                      "(plugins, outputs, routes, source inputs, and inputs' "
                                      "credentials and allow lists can be reloaded)");
    }
    // Everything new is loaded and checked before anything old is touched: a refused reload
    // leaves the running configuration as it was.
    std::vector<config::ConfigProblem> problems;
    auto nextPlugins =
        std::make_unique<plugin::PluginHost>(next, problems, metrics_, businessClock(), true);
    if (!problems.empty()) return refuseReload(next, refusal(problems));
    auto routes = routeTable(next);
    if (certificates_) {
        try {
            certificates_->reload(next.hub.tls);
        } catch (const std::exception& e) {
            return refuseReload(next, e.what());
        }
        config_.hub.tls = next.hub.tls;
    }

    // New tokens, keys and allow lists take effect at once, for the requests admitted from now
    // on (those admitted before finish under the old ones); they need no drain.
    for (const auto& in : next.inputs) {
        if (in.kind == config::InputSpec::Kind::Http) inputs_.at(in.path)->reconfigure(in);
        if (in.kind == config::InputSpec::Kind::Mqtt)
            for (auto& m : mqttInputs_)
                if (m->name() == in.name) m->reconfigure(in);
    }

    // HTTP and MQTT outputs that stay exactly as they are keep their lanes: they deliver
    // throughout the reload, from their connections, with nothing to drain. Plugin outputs get
    // the new plugin instances, and https outputs read their certificate files again, so they
    // are always drained and started again.
    // An output that masks personal data holds the declarations it was made with: it is kept
    // only while they stay the same.
    const bool samePersonalData =
        unpositioned(next.personalData, all) == unpositioned(config_.personalData, all);
    std::set<std::string> kept;
    for (const auto& o : next.outputs) {
        const bool plainHttp =
            o.kind == config::OutputSpec::Kind::Http && o.url.rfind("https://", 0) != 0;
        if (!plainHttp && o.kind != config::OutputSpec::Kind::Mqtt) continue;
        if (o.personalData != "keep" && !samePersonalData) continue;
        auto same = [&](const config::OutputSpec& old) {
            return unpositioned(std::vector{old}, all) == unpositioned(std::vector{o}, all);
        };
        if (std::any_of(config_.outputs.begin(), config_.outputs.end(), same)) kept.insert(o.name);
    }

    // Drain: sources stop emitting; every delivery and processor call in flight to an output
    // that changes ends and its result is recorded. A delivery still waiting for its receiver
    // after hub.shutdown_timeout_ms is cut off (a retry; the new output sends it again). Events
    // keep being accepted and routed meanwhile; the stopped lanes stay in place until the
    // switch, so onewindow_outbox_depth counts what waits for them (in the journal).
    for (auto& in : sourceInputs_)
        in->stop(std::chrono::milliseconds(5000));
    {
        std::lock_guard lock(sourcesMu_); // /readyz reads them
        sourceInputs_.clear();
    }
    dispatcher_->stopExcept(kept, std::chrono::steady_clock::now() +
                                      std::chrono::milliseconds(config_.hub.shutdownTimeoutMs));
    plugins_->stop(); // processors wait here for their last commits
    writer_->sync();  // and the old lanes' last delivery results are committed

    // Switch. The new lanes read what is pending in the journal; the kept ones carry on. Rows
    // committed from the swap on go to the new dispatcher; before it, to the old one, whose
    // kept lanes are the same.
    std::vector<config::OutputSpec> changed;
    std::copy_if(next.outputs.begin(), next.outputs.end(), std::back_inserter(changed),
                 [&](const config::OutputSpec& o) { return !kept.contains(o.name); });
    // The new lanes mask with the new declarations.
    masker_ = std::make_shared<const privacy::Masker>(privacy::declarationsOf(next.personalData));
    auto fresh = makeDispatcher(changed, *nextPlugins);
    std::unique_ptr<delivery::Dispatcher> old;
    {
        std::lock_guard lock(dispatchMu_);
        fresh->adopt(dispatcher_->release(kept));
        old = std::move(dispatcher_);
        dispatcher_ = std::move(fresh);
    }
    old.reset(); // the drained lanes, before the plugin instances they used
    // Routing uses the new table from the next transaction on; only then can rows of outputs
    // that are gone be dead-lettered without one slipping in behind.
    writer_->replaceRoutes(routes);
    config_.plugins = std::move(next.plugins);
    config_.outputs = std::move(next.outputs);
    config_.routes = std::move(next.routes);
    config_.inputs = std::move(next.inputs);
    config_.files = std::move(next.files);
    config_.digest = std::move(next.digest);
    config_.personalData = std::move(next.personalData);
    plugins_ = std::move(nextPlugins); // the old instances go; their libraries with them
    {
        std::lock_guard lock(readerMu_);
        deadLetterOrphans(*reader_);
    }
    dispatcher_->start(); // the kept lanes run already
    plugins_->startTimers();
    startSources();
    writer_->auditAction(audit::operatorAction(
        "reload", {{"config_sha256", config_.digest}, {"result", "applied"}}));
    Log::info("hub", "configuration reloaded",
              {{"outputs", config_.outputs.size()},
               {"outputs_kept_running", kept.size()},
               {"routes", config_.routes.size()},
               {"plugins", config_.plugins.size()}});
    return {};
}

std::string Hub::refuseReload(const config::HubConfig& next, std::string why) {
    recordRefusedReload(next.digest, why);
    return why;
}

void Hub::recordRefusedReload(const std::string& configDigest, const std::string& why) {
    if (!writer_) return;
    nlohmann::json r = {{"result", "refused"}, {"reason", why}};
    if (!configDigest.empty()) r["config_sha256"] = configDigest;
    writer_->auditAction(audit::operatorAction("reload", std::move(r)));
}

audit::AuditLog::Settings Hub::auditSettings() const {
    const auto& a = config_.hub.audit;
    audit::AuditLog::Settings s;
    s.hash = audit::hashAlgorithmNamed(a.hash).value_or(audit::HashAlgorithm::Sha256);
    s.checkpointEvery = a.checkpointEvery;
    s.checkpointIntervalMs = static_cast<std::int64_t>(a.checkpointIntervalS) * 1000;
    if (!a.signingKeyFile.empty()) {
        std::string why;
        s.key = audit::SigningKey::load(a.signingKeyFile, false, why);
        if (!s.key)
            throw std::runtime_error("hub.audit.signing_key_file '" + a.signingKeyFile +
                                     "': " + why);
    }
    return s;
}

void Hub::stop() {
    if (stopped_) return;
    stopped_ = true;
    ready_ = false;
    auto deadline = std::chrono::milliseconds(config_.hub.shutdownTimeoutMs);
    // One deadline for requests and deliveries in flight: the outputs deliver meanwhile.
    const auto until = std::chrono::steady_clock::now() + deadline;
    if (server_) server_->stop(deadline);
    for (auto& in : mqttInputs_)
        in->stop();
    // Sources first among the rest: what they emit needs the journal writer, stopped below.
    for (auto& in : sourceInputs_)
        in->stop(std::chrono::milliseconds(5000));
    if (dispatcher_) dispatcher_->stop(until);
    if (plugins_) plugins_->stop();
    for (auto& [_, conn] : brokers_)
        conn->stop(std::chrono::milliseconds(2000));
    if (writer_) {
        writer_->auditAction(audit::operatorAction(
            "stop", {{"version", OW_VERSION}, {"config_sha256", config_.digest}}));
        writer_->stop(); // its last transaction signs the audit trail's final checkpoint
    }
    if (checkpointer_) checkpointer_->stop();
    writer_.reset();
    checkpointer_.reset();
    dispatcher_.reset();
    journal_.reset();
}

std::uint16_t Hub::port() const {
    return server_ ? server_->port() : 0;
}

Response Hub::admin(const Request& req) {
    Response r;
    if (req.path == "/healthz") {
        r.headers.emplace_back("Content-Type", "application/json");
        r.body = R"({"status":"ok"})";
    } else if (req.path == "/readyz") {
        // Ready means "takes events durably": that depends on the journal only. A broker that
        // is down does not make the hub unready (HTTP events are still journaled and wait in
        // the outbox), but the body names it so operators and probes can see it.
        const bool damaged = damage_.damaged();
        bool ok = ready_ && writer_ && writer_->healthy() && !damaged;
        nlohmann::json body;
        nlohmann::json brokers = nlohmann::json::object();
        bool allConnected = true;
        for (const auto& [name, conn] : brokers_) {
            bool up = conn->connected();
            allConnected = allConnected && up;
            brokers[name] = up ? "connected" : "disconnected";
        }
        // Likewise a source whose system does not answer: what it would read waits there.
        nlohmann::json sources = nlohmann::json::object();
        {
            std::lock_guard lock(sourcesMu_);
            for (const auto& in : sourceInputs_) {
                const bool up = in->state().up;
                allConnected = allConnected && up;
                sources[in->name()] = up ? "up" : "down";
            }
        }
        body["status"] = !ok ? "not ready" : allConnected ? "ready" : "degraded";
        if (!ok)
            body["reason"] = damaged ? "journal damaged: " + damage_.firstReport()
                                     : "journal unavailable or starting";
        if (!brokers.empty()) body["brokers"] = std::move(brokers);
        if (!sources.empty()) body["sources"] = std::move(sources);
        r.status = ok ? 200 : 503;
        r.headers.emplace_back("Content-Type", "application/json");
        r.body = body.dump();
    } else {
        r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4");
        r.body = metrics_.render();
    }
    return r;
}

namespace {
bool isAdminPath(const std::string& path) {
    return path == "/healthz" || path == "/readyz" || path == "/metrics";
}
} // namespace

std::optional<Response> Hub::checkHead(const Request& head) {
    if (isAdminPath(head.path)) return std::nullopt;
    for (auto& q : queries_)
        if (q->serves(head.path)) return std::nullopt;
    auto it = inputs_.find(head.path);
    if (it == inputs_.end()) return handle(head); // the 404
    if (head.method != "POST") {
        auto r = problem(405, "method-not-allowed", "Method Not Allowed",
                         head.method + " is not allowed on " + head.path +
                             "; events are sent with POST");
        r.headers.emplace_back("Allow", "POST");
        return r;
    }
    return it->second->refuseBeforeBody(head);
}

bool Hub::handleEvents(const Request& req, transport::http::Reply reply) {
    if (isAdminPath(req.path)) return false;
    for (auto& q : queries_)
        if (q->serves(req.path)) return false;
    auto it = inputs_.find(req.path);
    if (it == inputs_.end()) return false; // handle() answers 404
    if (req.method != "POST") {
        auto r =
            problem(405, "method-not-allowed", "Method Not Allowed",
                    req.method + " is not allowed on " + req.path + "; events are sent with POST");
        r.headers.emplace_back("Allow", "POST");
        reply(std::move(r));
        return true;
    }
    it->second->handleAsync(req, std::move(reply));
    return true;
}

Response Hub::handle(const Request& req) {
    if (isAdminPath(req.path)) {
        if (req.method != "GET" && req.method != "HEAD") {
            auto r = problem(405, "method-not-allowed", "Method Not Allowed",
                             req.method + " is not allowed on " + req.path);
            r.headers.emplace_back("Allow", "GET, HEAD");
            return r;
        }
        return admin(req);
    }
    for (auto& q : queries_)
        if (q->serves(req.path)) return q->handle(req);
    // Every request to an input was taken by handleEvents().
    return problem(404, "not-found", "Not Found", "no input is configured at " + req.path);
}

} // namespace ow::app
