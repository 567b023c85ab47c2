#include "core/ingest/SourceIngress.h"
#include "core/util/ThreadName.h"

#include <random>

#include <nlohmann/json.hpp>

#include "core/delivery/Backoff.h"
#include "core/observability/Log.h"
#include "core/plugin/EventBridge.h"
#include "core/util/Clock.h"

namespace ow::ingest {
namespace sdk = onewindow::sdk;
using observability::Log;

struct SourceIngress::Shared {
    std::mutex mu;
    std::condition_variable cv;
    bool stopping = false;
    bool finished = false;
    // Cleared by stop(): a source thread left running can no longer reach the journal.
    pipeline::JournalWriter* writer = nullptr;
    std::mutex writerMu;
    event::JsonLimits limits;
    std::string inputName, client;
    security::Principal principal; // stamped on every event: "source:<input>"
    config::AllowSpec allow;       // the input's allow list
    const util::Clock* clock = nullptr;
    std::unique_ptr<InputCounters> counters;
    std::unique_ptr<observability::Availability> availability;
    config::RetryPolicy backoff;
    std::mt19937_64 rng{std::random_device{}()}; // under mu

    /// How long to wait after the latest failure: the backoff for the failures in a row so
    /// far, at least what the system asked for.
    std::int64_t delayMs(std::optional<std::int64_t> retryAfterMs) {
        const int failures = std::max(1, availability->state().consecutiveFailures);
        std::lock_guard lock(mu);
        const std::int64_t d = delivery::backoffDelayMs(backoff, failures, rng);
        return retryAfterMs ? std::max(d, *retryAfterMs) : d;
    }
};

class SourceIngress::Context final : public sdk::SourceContext {
public:
    explicit Context(std::shared_ptr<Shared> s) : s_(std::move(s)) {}

    bool emit(const std::vector<sdk::Event>& events) override {
        if (events.empty()) return true;
        std::vector<pipeline::AcceptItem> items;
        for (const auto& e : events) {
            try {
                items.push_back(plugin::toAcceptItem(e, s_->clock->nowMs(), s_->limits,
                                                     s_->principal, &s_->allow));
            } catch (const std::exception& ex) {
                // Retrying an invalid event cannot help: say so loudly, store nothing.
                s_->counters->rejected("invalid-event").inc();
                Log::error("source", "emitted event is invalid; nothing of this batch was stored",
                           {{"input", s_->inputName}, {"id", e.id}, {"reason", ex.what()}});
                return false;
            }
        }
        std::lock_guard lock(s_->writerMu);
        if (!s_->writer) return false; // the hub is stopping
        auto r = s_->writer->accept(std::move(items), s_->inputName, s_->client);
        if (!r.ok) {
            Log::warn("source", "events could not be journaled; the source should emit them again",
                      {{"input", s_->inputName}, {"error", r.error}});
            return false;
        }
        for (const auto& o : r.outcomes)
            (o.status == store::AcceptOutcome::Status::Accepted ? s_->counters->accepted
                                                                : s_->counters->duplicates)
                .inc();
        // Events read from the system: it answered, whether or not the source said so.
        s_->availability->succeeded();
        return true;
    }
    bool stopping() const override {
        std::lock_guard lock(s_->mu);
        return s_->stopping;
    }
    void waitFor(std::int64_t ms) override {
        std::unique_lock lock(s_->mu);
        s_->cv.wait_for(lock, std::chrono::milliseconds(std::max<std::int64_t>(0, ms)),
                        [&] { return s_->stopping; });
    }
    void unavailable(const std::string& reason, std::optional<std::int64_t> retryAfterMs) override {
        s_->availability->failed(reason);
        waitFor(s_->delayMs(retryAfterMs));
    }
    void available() override { s_->availability->succeeded(); }

private:
    std::shared_ptr<Shared> s_;
};

SourceIngress::SourceIngress(config::InputSpec spec, const config::Limits& limits,
                             pipeline::JournalWriter& writer,
                             std::shared_ptr<plugin::SourceInstance> inst,
                             observability::Metrics& metrics, const util::Clock& clock,
                             const config::OutageSettings& outages)
    : spec_(std::move(spec)), metrics_(metrics), inst_(std::move(inst)),
      shared_(std::make_shared<Shared>()) {
    shared_->writer = &writer;
    shared_->limits = {static_cast<std::size_t>(limits.maxJsonDepth),
                       static_cast<std::size_t>(limits.maxJsonKeys)};
    shared_->inputName = spec_.name;
    shared_->client = "source:" + spec_.name;
    shared_->principal = {spec_.name, security::AuthMethod::Source, shared_->client};
    shared_->allow = spec_.allow;
    shared_->clock = &clock;
    shared_->counters = std::make_unique<InputCounters>(metrics, spec_.name);
    shared_->availability = std::make_unique<observability::Availability>(
        "source", nlohmann::json{{"input", spec_.name}, {"source", spec_.source}}, clock,
        outages.reminderMs);
    shared_->backoff.initialDelayMs = outages.sourceInitialDelayMs;
    shared_->backoff.maxDelayMs = outages.sourceMaxDelayMs;
    shared_->backoff.multiplier = outages.sourceMultiplier;
    shared_->backoff.jitter = outages.sourceJitter;
    // The gauges hold the shared state, not this object: a source thread left running after a
    // stop() that timed out may still report.
    const observability::Labels labels{{"input", spec_.name}};
    auto s = shared_;
    metrics.gaugeFunction(
        "onewindow_source_up", "1 while the source's system answers, 0 while it is unavailable",
        [s] { return s->availability->state().up ? 1.0 : 0.0; }, labels);
    metrics.gaugeFunction(
        "onewindow_source_state_since_seconds",
        "Unix time the source went down (its first failed attempt) or came back up",
        [s] { return static_cast<double>(s->availability->state().sinceMs) / 1000.0; }, labels);
    metrics.gaugeFunction(
        "onewindow_source_consecutive_failures",
        "Attempts in a row that could not read the source's system",
        [s] { return static_cast<double>(s->availability->state().consecutiveFailures); }, labels);
}

SourceIngress::~SourceIngress() {
    stop(std::chrono::milliseconds(5000));
    // A reload makes a new ingress of the same name: /metrics must show that one.
    for (const char* g : {"onewindow_source_up", "onewindow_source_state_since_seconds",
                          "onewindow_source_consecutive_failures"})
        metrics_.removeGaugeFunction(g, {{"input", spec_.name}});
}

observability::Availability::State SourceIngress::state() const {
    return shared_->availability->state();
}

void SourceIngress::start() {
    // The thread gets copies of all it uses: after a stop() that timed out it may outlive us.
    thread_ = std::thread(&SourceIngress::run, spec_.name, inst_, shared_);
}

void SourceIngress::run(const std::string input, std::shared_ptr<plugin::SourceInstance> inst,
                        std::shared_ptr<Shared> shared) {
    util::nameThisThread("ow-src-" + input);
    Context ctx(shared);
    // A failing start() or run() is the system being unavailable too: the same backoff, the
    // same few lines in the log.
    while (!ctx.stopping()) {
        auto source = inst->source;
        auto r = inst->calls->call([source] { return source->start(); },
                                   std::chrono::milliseconds(5000));
        if (r.kind == sdk::Result::Kind::Ok) break;
        ctx.unavailable("start() failed: " + r.reason, r.retryAfterMs);
    }
    bool started = !ctx.stopping();
    while (started && !ctx.stopping()) {
        sdk::Result r;
        try {
            r = inst->source->run(ctx);
        } catch (const std::exception& e) {
            r = sdk::Result::retry(std::string("run() threw: ") + e.what());
        } catch (...) {
            r = sdk::Result::retry("run() threw an unknown exception");
        }
        if (ctx.stopping()) break;
        ctx.unavailable(r.kind == sdk::Result::Kind::Ok ? "run() returned before the hub stopped it"
                                                        : r.reason,
                        r.retryAfterMs);
    }
    if (started) {
        auto source = inst->source;
        auto r = inst->calls->call(
            [source] {
                source->stop();
                return sdk::Result::ok();
            },
            std::chrono::milliseconds(5000));
        if (r.kind != sdk::Result::Kind::Ok)
            Log::warn("source", "source did not stop cleanly",
                      {{"input", input}, {"reason", r.reason}});
    }
    std::lock_guard lock(shared->mu);
    shared->finished = true;
    shared->cv.notify_all();
}

void SourceIngress::stop(std::chrono::milliseconds deadline) {
    {
        std::lock_guard lock(shared_->mu);
        shared_->stopping = true;
    }
    shared_->cv.notify_all();
    if (!thread_.joinable()) return;
    bool finished;
    {
        std::unique_lock lock(shared_->mu);
        finished = shared_->cv.wait_for(lock, deadline, [&] { return shared_->finished; });
    }
    {
        // Whatever the source does from now on, it cannot reach the journal.
        std::lock_guard lock(shared_->writerMu);
        shared_->writer = nullptr;
    }
    if (finished) {
        thread_.join();
    } else {
        Log::warn("source", "source did not return from run() in time; left to finish alone",
                  {{"input", spec_.name}});
        thread_.detach();
    }
}

} // namespace ow::ingest
