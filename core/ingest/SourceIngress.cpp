#include "core/ingest/SourceIngress.h"
#include "core/util/ThreadName.h"

#include <nlohmann/json.hpp>

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

private:
    std::shared_ptr<Shared> s_;
};

SourceIngress::SourceIngress(config::InputSpec spec, const config::Limits& limits,
                             pipeline::JournalWriter& writer,
                             std::shared_ptr<plugin::SourceInstance> inst,
                             observability::Metrics& metrics, const util::Clock& clock)
    : spec_(std::move(spec)), inst_(std::move(inst)), shared_(std::make_shared<Shared>()) {
    shared_->writer = &writer;
    shared_->limits = {static_cast<std::size_t>(limits.maxJsonDepth),
                       static_cast<std::size_t>(limits.maxJsonKeys)};
    shared_->inputName = spec_.name;
    shared_->client = "source:" + spec_.name;
    shared_->principal = {spec_.name, security::AuthMethod::Source, shared_->client};
    shared_->allow = spec_.allow;
    shared_->clock = &clock;
    shared_->counters = std::make_unique<InputCounters>(metrics, spec_.name);
}

SourceIngress::~SourceIngress() {
    stop(std::chrono::milliseconds(5000));
}

void SourceIngress::start() {
    // The thread gets copies of all it uses: after a stop() that timed out it may outlive us.
    thread_ = std::thread(&SourceIngress::run, spec_.name, inst_, shared_);
}

void SourceIngress::run(const std::string input, std::shared_ptr<plugin::SourceInstance> inst,
                        std::shared_ptr<Shared> shared) {
    util::nameThisThread("ow-src-" + input);
    Context ctx(shared);
    std::chrono::milliseconds backoff(1000);
    const auto maxBackoff = std::chrono::milliseconds(30000);
    auto pause = [&] {
        ctx.waitFor(backoff.count());
        backoff = std::min(backoff * 2, maxBackoff);
    };
    // start() until it succeeds.
    while (!ctx.stopping()) {
        auto source = inst->source;
        auto r = inst->calls->call([source] { return source->start(); },
                                   std::chrono::milliseconds(5000));
        if (r.kind == sdk::Result::Kind::Ok) break;
        Log::warn("source", "source failed to start; will retry",
                  {{"input", input}, {"reason", r.reason}, {"retry_in_ms", backoff.count()}});
        pause();
    }
    backoff = std::chrono::milliseconds(1000);
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
        Log::warn("source", "source run() ended before the hub stopped it; running it again",
                  {{"input", input},
                   {"result", r.kind == sdk::Result::Kind::Ok ? "ok" : r.reason},
                   {"retry_in_ms", backoff.count()}});
        pause();
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
