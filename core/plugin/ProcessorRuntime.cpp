#include "core/plugin/ProcessorRuntime.h"

#include <future>

#include "core/observability/Log.h"
#include "core/plugin/EventBridge.h"
#include "core/util/ThreadName.h"

namespace ow::plugin {
namespace sdk = onewindow::sdk;
using delivery::DeliveryResult;
using observability::Log;
using pipeline::CommitOutcome;
using pipeline::ProcessorCommit;

namespace {
// Generations are unique across runtimes: after a reload, the new runtime of an instance
// must not be refused for what the writer remembers about the old one.
std::atomic<std::uint64_t> lastGeneration{0};
constexpr int TimersPerPoll = 100;
constexpr std::int64_t TimerRetryMs = 1000; // after a Retry from onTimer without a hint
} // namespace

// Collects the effects of one call. A call that overran its deadline may still be running on
// its abandoned thread and touch this context: it is closed then, and ignores everything.
class ProcessorRuntime::Context final : public sdk::ProcessContext {
public:
    explicit Context(ProcessorRuntime& rt) : rt_(rt) {}

    std::optional<std::string> get(const std::string& key) override {
        // Held through the read: once abandon() returns, no read of the runtime is under way
        // or can start, so an abandoned call never reaches a runtime that is gone.
        std::lock_guard lock(mu_);
        if (closed_) return std::nullopt;
        auto own = commit_.state.find(key);
        return own != commit_.state.end() ? own->second : rt_.read(key);
    }
    void put(const std::string& key, const std::string& value) override {
        std::lock_guard lock(mu_);
        if (!closed_) commit_.state.insert_or_assign(key, value);
    }
    void erase(const std::string& key) override {
        std::lock_guard lock(mu_);
        if (!closed_) commit_.state.insert_or_assign(key, std::nullopt);
    }
    void emit(sdk::Event e) override {
        std::lock_guard lock(mu_);
        if (!closed_) events_.push_back(std::move(e));
    }
    void setTimer(const std::string& name, std::int64_t atMs, std::string payload) override {
        std::lock_guard lock(mu_);
        if (!closed_)
            commit_.timers.insert_or_assign(name,
                                            ProcessorCommit::TimerOp{atMs, std::move(payload)});
    }
    void cancelTimer(const std::string& name) override {
        std::lock_guard lock(mu_);
        if (!closed_) commit_.timers.insert_or_assign(name, ProcessorCommit::TimerOp{});
    }

    /// Ends the call: returns the effects, with emitted events validated. An invalid event
    /// is a permanent error (no retry can fix it): the returned string says which and why.
    std::pair<ProcessorCommit, std::string> close(const std::string& idPrefix, std::int64_t nowMs) {
        std::lock_guard lock(mu_);
        closed_ = true;
        for (std::size_t i = 0; i < events_.size(); ++i) {
            auto& e = events_[i];
            // Ids that are the same each time the call is repeated: a repeat is a duplicate.
            if (e.id.empty()) e.id = idPrefix + "-" + std::to_string(i);
            if (e.source.empty()) e.source = rt_.defaultSource_;
            try {
                commit_.emitted.push_back(toAcceptItem(e, nowMs, rt_.s_.limits));
            } catch (const std::exception& ex) {
                return {ProcessorCommit{}, "emitted event " + std::to_string(i) + " (id " + e.id +
                                               ") is invalid: " + ex.what()};
            }
        }
        return {std::move(commit_), {}};
    }
    void abandon() {
        std::lock_guard lock(mu_);
        closed_ = true;
    }

private:
    ProcessorRuntime& rt_;
    std::mutex mu_;
    bool closed_ = false;
    ProcessorCommit commit_;
    std::vector<sdk::Event> events_;
};

ProcessorRuntime::ProcessorRuntime(Settings s, std::unique_ptr<HostServices> services,
                                   std::shared_ptr<sdk::Processor> processor,
                                   observability::Metrics& metrics, const util::Clock& clock)
    : s_(std::move(s)), services_(std::move(services)), processor_(std::move(processor)),
      clock_(clock), who_("processor " + s_.plugin + "/" + s_.component),
      defaultSource_("onewindow://processor/" + s_.output), calls_(who_),
      lifecycle_("processor", who_, s_.plugin, s_.output), generation_(++lastGeneration),
      emitted_(metrics.counter("onewindow_processor_emitted_events_total",
                               "Events emitted by processors and committed for routing",
                               {{"plugin", s_.plugin}, {"instance", s_.output}})),
      timersFired_(metrics.counter("onewindow_processor_timers_fired_total",
                                   "Timers whose onTimer() ended Ok",
                                   {{"plugin", s_.plugin}, {"instance", s_.output}})),
      refusedCommits_(metrics.counter(
          "onewindow_processor_commits_refused_total",
          "Processor commits not applied (failed transaction, or the row was handled already)",
          {{"plugin", s_.plugin}, {"instance", s_.output}})) {}

ProcessorRuntime::~ProcessorRuntime() {
    stop();
}

void ProcessorRuntime::setCommitter(CommitSubmitter submit) {
    std::lock_guard lock(callMu_);
    submit_ = std::move(submit);
}

std::optional<DeliveryResult> ProcessorRuntime::ensureStarted() {
    auto p = processor_;
    return lifecycle_.ensureStarted(calls_, [p] { return p->start(); });
}

store::PluginState& ProcessorRuntime::reader() {
    if (!reader_) {
        readerDb_ = std::make_unique<store::Database>(s_.journalFile, /*readOnly=*/true);
        reader_ = std::make_unique<store::PluginState>(*readerDb_);
    }
    return *reader_;
}

std::optional<std::string> ProcessorRuntime::read(const std::string& key) {
    {
        std::lock_guard lock(overlayMu_);
        auto it = stateOverlay_.find(key);
        if (it != stateOverlay_.end()) return it->second.first;
    }
    std::lock_guard lock(readerMu_);
    return reader().get(s_.output, key);
}

void ProcessorRuntime::submit(ProcessorCommit commit,
                              std::function<void(CommitOutcome, const std::string&)> after) {
    commit.instance = s_.output;
    std::uint64_t seq = 0;
    {
        std::lock_guard lock(overlayMu_);
        seq = ++nextSeq_;
        ++outstanding_;
        commit.generation = generation_;
        for (const auto& [key, value] : commit.state)
            stateOverlay_[key] = {value, seq};
        for (const auto& [name, _] : commit.timers)
            timersPending_[name] = seq;
        if (commit.fired) timersPending_[commit.fired->name] = seq;
    }
    const std::uint64_t generation = commit.generation;
    const std::size_t emitted = commit.emitted.size();
    // The callback keeps the runtime alive: a lane that gave up waiting (or was replaced at a
    // reload) does not wait for it.
    submit_(std::move(commit),
            [self = shared_from_this(), seq, generation, emitted,
             after = std::move(after)](CommitOutcome outcome, const std::string& error) {
                auto* rt = self.get();
                rt->committed(seq, generation, outcome);
                if (outcome == CommitOutcome::Committed)
                    rt->emitted_.inc(static_cast<double>(emitted));
                after(outcome, error);
                {
                    std::lock_guard lock(rt->overlayMu_);
                    --rt->outstanding_;
                }
                rt->idleCv_.notify_all();
            });
}

void ProcessorRuntime::committed(std::uint64_t seq, std::uint64_t generation,
                                 CommitOutcome outcome) {
    std::lock_guard lock(overlayMu_);
    if (outcome == CommitOutcome::Committed) {
        // What this commit wrote is now in the journal, unless a later call wrote it again.
        std::erase_if(stateOverlay_, [seq](const auto& kv) { return kv.second.second == seq; });
        std::erase_if(timersPending_, [seq](const auto& kv) { return kv.second == seq; });
        return;
    }
    refusedCommits_.inc();
    // Not applied: what later calls read from the overlay never existed. Start over from the
    // journal; the writer refuses the rest of this generation.
    if (generation == generation_) {
        generation_ = ++lastGeneration;
        stateOverlay_.clear();
        timersPending_.clear();
    }
}

void ProcessorRuntime::handle(const store::OutboxRow& row,
                              const delivery::DeliveryCompletion& done) {
    if (auto failed = ensureStarted()) {
        done(*failed);
        return;
    }
    sdk::Event ev;
    try {
        ev = toSdkEvent(*row.body);
    } catch (const std::exception& e) {
        done({DeliveryResult::Outcome::Reject, 0, std::nullopt,
              std::string("journaled event unreadable: ") + e.what()});
        return;
    }
    std::unique_lock lock(callMu_);
    auto ctx = std::make_shared<Context>(*this);
    auto p = processor_;
    // The event and context are owned by the call: one that overruns outlives this frame.
    auto r =
        calls_.call([p, ctx, ev = std::move(ev)] { return p->process(ev, *ctx); }, s_.callDeadline);
    if (r.kind != sdk::Result::Kind::Ok) {
        ctx->abandon();
        lock.unlock();
        done(toDelivery(r, who_));
        return;
    }
    auto [commit, invalid] =
        ctx->close(s_.output + "-" + std::to_string(row.eventSeq), clock_.nowMs());
    if (!invalid.empty()) {
        lock.unlock();
        done(toDelivery(sdk::Result::reject(invalid), who_));
        return;
    }
    commit.rowId = row.id;
    submit(std::move(commit), [done](CommitOutcome outcome, const std::string& error) {
        if (outcome == CommitOutcome::Failed)
            done({DeliveryResult::Outcome::Retry, 0, std::nullopt, error});
        else
            done({DeliveryResult::Outcome::Delivered, 0, std::nullopt, {}, /*recorded=*/true});
    });
}

void ProcessorRuntime::startTimers() {
    std::lock_guard lock(timerMu_);
    if (timerThread_.joinable() || timersStopping_) return;
    timerThread_ = std::thread([this] {
        util::nameThisThread("ow-timer-" + s_.output);
        timerLoop();
    });
}

void ProcessorRuntime::timerLoop() {
    std::unique_lock lock(timerMu_);
    while (!timersStopping_) {
        lock.unlock();
        try {
            fireDue();
        } catch (const std::exception& e) {
            // A seam: a store error here must not end timers for good; the next poll retries.
            Log::error("plugin", "firing timers failed",
                       {{"plugin", s_.plugin}, {"output", s_.output}, {"error", e.what()}});
        }
        lock.lock();
        timerCv_.wait_for(lock, s_.timerPoll, [this] { return timersStopping_; });
    }
}

void ProcessorRuntime::fireDue() {
    const std::int64_t now = clock_.nowMs();
    std::vector<store::DueTimer> due;
    {
        std::lock_guard lock(readerMu_);
        due = reader().due(s_.output, now, TimersPerPoll);
    }
    if (due.empty() || ensureStarted()) return;
    for (auto& t : due) {
        {
            std::lock_guard lock(timerMu_);
            if (timersStopping_) return;
            auto nb = timerNotBefore_.find(t.name);
            if (nb != timerNotBefore_.end() && nb->second > now) continue;
        }
        std::unique_lock lock(callMu_);
        {
            // Set, cancelled or fired by a call whose commit is not in yet: what the journal
            // said may be stale; look again at the next poll.
            std::lock_guard o(overlayMu_);
            if (timersPending_.count(t.name)) continue;
        }
        auto ctx = std::make_shared<Context>(*this);
        auto p = processor_;
        auto r = calls_.call([p, ctx, name = t.name,
                              payload = t.payload] { return p->onTimer(name, payload, *ctx); },
                             s_.callDeadline);
        ProcessorCommit commit;
        if (r.kind == sdk::Result::Kind::Retry) {
            ctx->abandon();
            std::lock_guard tl(timerMu_);
            timerNotBefore_[t.name] = now + r.retryAfterMs.value_or(TimerRetryMs);
            Log::warn("plugin", "timer will fire again",
                      {{"plugin", s_.plugin},
                       {"output", s_.output},
                       {"timer", t.name},
                       {"reason", r.reason}});
            continue;
        }
        if (r.kind == sdk::Result::Kind::Reject) {
            ctx->abandon();
            Log::error("plugin", "timer refused by the processor; dropped",
                       {{"plugin", s_.plugin},
                        {"output", s_.output},
                        {"timer", t.name},
                        {"reason", r.reason}});
        } else {
            auto [c, invalid] =
                ctx->close(s_.output + "-timer-" + t.name + "-" + std::to_string(t.dueMs), now);
            if (!invalid.empty()) {
                Log::error("plugin", "timer dropped: " + who_ + ": " + invalid,
                           {{"plugin", s_.plugin}, {"output", s_.output}, {"timer", t.name}});
            } else {
                commit = std::move(c);
            }
        }
        {
            std::lock_guard tl(timerMu_);
            timerNotBefore_.erase(t.name);
        }
        commit.fired = ProcessorCommit::Fired{t.name, t.dueMs};
        const bool ok = r.kind == sdk::Result::Kind::Ok;
        submit(std::move(commit), [this, ok](CommitOutcome outcome, const std::string&) {
            if (ok && outcome == CommitOutcome::Committed) timersFired_.inc();
        });
    }
}

void ProcessorRuntime::stop() {
    {
        std::lock_guard lock(timerMu_);
        timersStopping_ = true;
    }
    timerCv_.notify_all();
    if (timerThread_.joinable()) timerThread_.join();
    {
        // Commits on their way finish first (the writer is still running): a runtime that
        // replaces this one must read their effects from the journal.
        std::unique_lock lock(overlayMu_);
        if (!idleCv_.wait_for(lock, std::chrono::seconds(10), [this] { return outstanding_ == 0; }))
            Log::warn("plugin", "processor commits still outstanding at stop",
                      {{"plugin", s_.plugin}, {"output", s_.output}, {"commits", outstanding_}});
    }
    auto p = processor_;
    lifecycle_.stop(calls_, [p] { p->stop(); });
}

namespace {

class ProcessorOutputClient final : public delivery::OutputClient {
public:
    explicit ProcessorOutputClient(std::shared_ptr<ProcessorRuntime> rt) : rt_(std::move(rt)) {}
    [[nodiscard]] bool asynchronous() const override { return true; }
    void deliverAsync(const store::OutboxRow& row, delivery::DeliveryCompletion done) override {
        rt_->handle(row, done);
    }
    DeliveryResult deliver(const store::OutboxRow& row) override {
        auto promise = std::make_shared<std::promise<DeliveryResult>>();
        auto result = promise->get_future();
        rt_->handle(row, [promise](DeliveryResult r) { promise->set_value(std::move(r)); });
        return result.get();
    }

private:
    std::shared_ptr<ProcessorRuntime> rt_;
};

} // namespace

std::unique_ptr<delivery::OutputClient> makeProcessorClient(std::shared_ptr<ProcessorRuntime> rt) {
    return std::make_unique<ProcessorOutputClient>(std::move(rt));
}

} // namespace ow::plugin
