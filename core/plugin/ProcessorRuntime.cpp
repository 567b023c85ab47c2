#include "core/plugin/ProcessorRuntime.h"

#include <deque>
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
constexpr int TimersPerPage = 200;
constexpr int TimersPerJob = 2000;
constexpr std::int64_t TimerRetryMs = 1000; // after a Retry from onTimer without a hint
} // namespace

// Collects the effects of one call. The call runs on the worker thread and the context lives
// on that thread's stack until the call returns, however late (the SDK's contract: references
// handed to a call are valid only during it).
//
// The context takes the instance's generation when the call starts, before its first read:
// should a commit be refused while the call runs, the overlay it read from may hold writes
// that never happen, and its own commit must be refused with the rest of that generation.
// (Taking it at submission instead let such a commit through with the new generation, and a
// count built on a refused write was committed: a double count, seen once in CI.)
class ProcessorRuntime::Context final : public sdk::ProcessContext {
public:
    explicit Context(ProcessorRuntime& rt) : rt_(rt) {
        std::lock_guard lock(rt.overlayMu_);
        commit_.generation = rt.generation_;
    }
    [[nodiscard]] std::uint64_t generation() const { return commit_.generation; }

    std::optional<std::string> get(const std::string& key) override {
        auto own = commit_.state.find(key);
        return own != commit_.state.end() ? own->second : rt_.read(key);
    }
    void put(const std::string& key, const std::string& value) override {
        commit_.state.insert_or_assign(key, value);
    }
    void erase(const std::string& key) override {
        commit_.state.insert_or_assign(key, std::nullopt);
    }
    void emit(sdk::Event e) override { events_.push_back(std::move(e)); }
    void setTimer(const std::string& name, std::int64_t atMs, std::string payload) override {
        commit_.timers.insert_or_assign(name, ProcessorCommit::TimerOp{atMs, std::move(payload)});
    }
    void cancelTimer(const std::string& name) override {
        commit_.timers.insert_or_assign(name, ProcessorCommit::TimerOp{});
    }

    /// Ends the call: returns the effects, with emitted events validated. An invalid event
    /// is a permanent error (no retry can fix it): the returned string says which and why.
    std::pair<ProcessorCommit, std::string> close(const std::string& idPrefix, std::int64_t nowMs) {
        for (std::size_t i = 0; i < events_.size(); ++i) {
            auto& e = events_[i];
            // Ids that are the same each time the call is repeated: a repeat is a duplicate.
            if (e.id.empty()) e.id = idPrefix + "-" + std::to_string(i);
            if (e.source.empty()) e.source = rt_.defaultSource_;
            try {
                commit_.emitted.push_back(toAcceptItem(e, nowMs, rt_.s_.limits, rt_.principal_));
            } catch (const std::exception& ex) {
                return {ProcessorCommit{}, "emitted event " + std::to_string(i) + " (id " + e.id +
                                               ") is invalid: " + ex.what()};
            }
        }
        return {std::move(commit_), std::string()};
    }

private:
    ProcessorRuntime& rt_;
    ProcessorCommit commit_;
    std::vector<sdk::Event> events_;
};

// A lane's completion. The watchdog may answer for a call that overran while the call still
// runs; whichever answers first is the answer.
class ProcessorRuntime::Answer {
public:
    explicit Answer(delivery::DeliveryCompletion done) : done_(std::move(done)) {}
    void give(DeliveryResult r) {
        if (!given_.exchange(true)) done_(std::move(r));
    }

private:
    delivery::DeliveryCompletion done_;
    std::atomic<bool> given_{false};
};

// An event to process, or (without an answer) a request to fire due timers. The job holds the
// runtime, so a runtime is never destroyed under a call into its plugin.
struct ProcessorRuntime::Job {
    std::shared_ptr<ProcessorRuntime> rt;
    store::OutboxRow row;
    std::shared_ptr<Answer> answer; // null: fire timers
};

// What the worker thread shares with the runtime. The thread holds it by shared_ptr: a thread
// left behind in a call that never returns keeps what it touches alive.
struct ProcessorRuntime::Worker {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Job> jobs;
    bool timersQueued = false;
    bool stopping = false;
    bool exited = false;
    std::condition_variable exitedCv;
    std::thread::id thread;
    // The call under way, for the watchdog.
    std::optional<std::chrono::steady_clock::time_point> callStarted;
    std::shared_ptr<Answer> current;
    bool overran = false;
};

void ProcessorRuntime::runWorker(const std::shared_ptr<Worker>& w) {
    std::unique_lock lock(w->mu);
    while (true) {
        w->cv.wait(lock, [&] { return w->stopping || !w->jobs.empty(); });
        if (w->jobs.empty()) break; // stopping, with nothing left
        Job job = std::move(w->jobs.front());
        w->jobs.pop_front();
        w->current = job.answer;
        w->callStarted = std::chrono::steady_clock::now();
        lock.unlock();
        job.rt->runJob(job);
        lock.lock();
        w->current.reset();
        w->callStarted.reset();
        w->overran = false;
        // The job may hold the last reference to the runtime; its destructor must not run
        // with the lock held (it stops the worker).
        lock.unlock();
        job = {};
        lock.lock();
    }
    w->exited = true;
    w->exitedCv.notify_all();
}

ProcessorRuntime::ProcessorRuntime(Settings s, std::unique_ptr<HostServices> services,
                                   std::shared_ptr<sdk::Processor> processor,
                                   observability::Metrics& metrics, const util::Clock& clock)
    : s_(std::move(s)), services_(std::move(services)), processor_(std::move(processor)),
      clock_(clock), who_("processor " + s_.plugin + "/" + s_.component),
      defaultSource_("onewindow://processor/" + s_.output),
      principal_{"processor:" + s_.output, security::AuthMethod::Processor,
                 "processor:" + s_.output},
      calls_(who_), lifecycle_("processor", who_, s_.plugin, s_.output),
      worker_(std::make_shared<Worker>()), generation_(++lastGeneration),
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
    submit_ = std::move(submit);
}

void ProcessorRuntime::ensureWorker() {
    if (workerThread_.joinable() || worker_->stopping) return;
    workerThread_ = std::thread([w = worker_, name = "ow-proc-" + s_.output] {
        util::nameThisThread(name);
        runWorker(w);
    });
    worker_->thread = workerThread_.get_id();
}

bool ProcessorRuntime::stuck() const {
    std::lock_guard lock(worker_->mu);
    return worker_->overran;
}

void ProcessorRuntime::callStarting() {
    std::lock_guard lock(worker_->mu);
    worker_->callStarted = std::chrono::steady_clock::now();
}

void ProcessorRuntime::watch() {
    std::shared_ptr<Answer> late;
    std::deque<Job> refused;
    {
        std::lock_guard lock(worker_->mu);
        auto& w = *worker_;
        if (!w.callStarted || w.overran ||
            std::chrono::steady_clock::now() - *w.callStarted <= s_.callDeadline)
            return;
        w.overran = true;
        late = w.current;
        refused.swap(w.jobs);
        w.timersQueued = false;
    }
    Log::warn("plugin",
              who_ + ": a call overran its deadline; the instance is stuck until it returns",
              {{"plugin", s_.plugin},
               {"output", s_.output},
               {"deadline_ms", static_cast<std::int64_t>(s_.callDeadline.count())}});
    if (late)
        late->give(
            {DeliveryResult::Outcome::Retry, 0, std::nullopt,
             who_ + " did not return within " + std::to_string(s_.callDeadline.count()) + " ms"});
    for (auto& j : refused)
        if (j.answer)
            j.answer->give({DeliveryResult::Outcome::Retry, 0, std::nullopt,
                            who_ + " is stuck: an earlier call has not returned"});
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
        // commit.generation is the one the call started in (Context); see there. A commit of
        // a generation the instance has left will be refused: its writes must not reach the
        // overlay, where later calls would read them as if they were on their way.
        if (commit.generation == generation_) {
            for (const auto& [key, value] : commit.state)
                stateOverlay_[key] = {value, seq};
            for (const auto& [name, _] : commit.timers)
                timersPending_[name] = seq;
            if (commit.fired) timersPending_[commit.fired->name] = seq;
        }
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
                if (outcome == CommitOutcome::Committed) rt->emitted_.inc(emitted);
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
    auto answer = std::make_shared<Answer>(done);
    if (auto failed = ensureStarted()) {
        answer->give(*failed);
        return;
    }
    std::string refusal;
    {
        std::lock_guard lock(worker_->mu);
        if (worker_->overran)
            refusal = who_ + " is stuck: an earlier call has not returned";
        else if (worker_->stopping)
            refusal = "the processor is stopping";
        else {
            ensureWorker();
            worker_->jobs.push_back({shared_from_this(), row, answer});
        }
    }
    if (!refusal.empty()) {
        answer->give({DeliveryResult::Outcome::Retry, 0, std::nullopt, refusal});
        return;
    }
    worker_->cv.notify_one();
}

void ProcessorRuntime::runJob(Job& job) {
    if (job.answer)
        processRow(job.row, job.answer);
    else
        try {
            fireDue();
        } catch (const std::exception& e) {
            // A seam: a store error here must not end timers for good; the next poll retries.
            Log::error("plugin", "firing timers failed",
                       {{"plugin", s_.plugin}, {"output", s_.output}, {"error", e.what()}});
        }
}

void ProcessorRuntime::processRow(const store::OutboxRow& row,
                                  const std::shared_ptr<Answer>& answer) {
    sdk::Event ev;
    try {
        ev = toSdkEvent(*row.body, row.from);
    } catch (const std::exception& e) {
        answer->give({DeliveryResult::Outcome::Reject, 0, std::nullopt,
                      std::string("journaled event unreadable: ") + e.what()});
        return;
    }
    Context ctx(*this);
    auto r = guarded([&] { return processor_->process(ev, ctx); }, who_);
    if (r.kind != sdk::Result::Kind::Ok) {
        answer->give(toDelivery(r, who_));
        return;
    }
    auto [commit, invalid] =
        ctx.close(s_.output + "-" + std::to_string(row.eventSeq), clock_.nowMs());
    if (!invalid.empty()) {
        answer->give(toDelivery(sdk::Result::reject(invalid), who_));
        return;
    }
    // Submitted even when the watchdog answered already: the work is done, and should the
    // lane hand the row over again, the writer sees it handled (AlreadyHandled).
    commit.rowId = row.id;
    submit(std::move(commit), [answer](CommitOutcome outcome, const std::string& error) {
        if (outcome == CommitOutcome::Failed)
            answer->give({DeliveryResult::Outcome::Retry, 0, std::nullopt, error});
        else
            answer->give(
                {DeliveryResult::Outcome::Delivered, 0, std::nullopt, {}, /*recorded=*/true});
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
        watch();
        requestTimers();
        lock.lock();
        timerCv_.wait_for(lock, s_.timerPoll, [this] { return timersStopping_; });
    }
}

void ProcessorRuntime::requestTimers() {
    // The worker fires due timers between events; one request waits at a time.
    auto self = weak_from_this().lock();
    if (!self) return;
    {
        std::lock_guard w(worker_->mu);
        if (worker_->timersQueued || worker_->overran || worker_->stopping) return;
        worker_->timersQueued = true;
        ensureWorker();
        worker_->jobs.push_back({std::move(self), {}, nullptr});
    }
    worker_->cv.notify_one();
}

void ProcessorRuntime::fireDue() {
    {
        std::lock_guard w(worker_->mu);
        worker_->timersQueued = false;
    }
    // A sweep takes the due timers page by page in (due, name) order. One job fires at most
    // TimersPerJob of them and queues the next job at once, which goes on from where this one
    // stopped: a hundred thousand cases due at the same close of business are all fired in
    // one go, with events interleaved, not a page per poll.
    const std::int64_t now = clock_.nowMs();
    int fired = 0;
    while (true) {
        std::vector<store::DueTimer> due;
        {
            std::lock_guard lock(readerMu_);
            due = reader().due(s_.output, now, TimersPerPage, sweepCursor_);
        }
        if (due.empty() || ensureStarted()) {
            sweepCursor_.reset();
            return;
        }
        fireTimers(due, now);
        fired += static_cast<int>(due.size());
        {
            std::lock_guard lock(timerMu_);
            if (timersStopping_) return;
        }
        if (due.size() < static_cast<std::size_t>(TimersPerPage)) {
            sweepCursor_.reset();
            return;
        }
        sweepCursor_ = store::TimerKey{due.back().dueMs, due.back().name};
        if (fired >= TimersPerJob) {
            requestTimers();
            return;
        }
    }
}

void ProcessorRuntime::fireTimers(const std::vector<store::DueTimer>& due, std::int64_t now) {
    for (const auto& t : due) {
        {
            std::lock_guard lock(timerMu_);
            if (timersStopping_) return;
            auto nb = timerNotBefore_.find(t.name);
            if (nb != timerNotBefore_.end() && nb->second > now) continue;
        }
        {
            // Set, cancelled or fired by a call whose commit is not in yet: what the journal
            // said may be stale; look again at the next poll.
            std::lock_guard o(overlayMu_);
            if (timersPending_.count(t.name)) continue;
        }
        Context ctx(*this);
        callStarting();
        auto r = guarded([&] { return processor_->onTimer(t.name, t.payload, ctx); }, who_);
        ProcessorCommit commit;
        commit.generation = ctx.generation();
        if (r.kind == sdk::Result::Kind::Retry) {
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
            Log::error("plugin", "timer refused by the processor; dropped",
                       {{"plugin", s_.plugin},
                        {"output", s_.output},
                        {"timer", t.name},
                        {"reason", r.reason}});
        } else {
            auto [c, invalid] =
                ctx.close(s_.output + "-timer-" + t.name + "-" + std::to_string(t.dueMs), now);
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

    // The worker: what is queued is refused (its rows stay pending in the journal), the call
    // under way may finish, within a bound.
    std::deque<Job> left;
    bool exited = true;
    {
        std::unique_lock lock(worker_->mu);
        worker_->stopping = true;
        left.swap(worker_->jobs);
        worker_->cv.notify_all();
        if (workerThread_.joinable() && worker_->thread != std::this_thread::get_id())
            exited = worker_->exitedCv.wait_for(lock, std::chrono::seconds(10),
                                                [this] { return worker_->exited; });
        else if (workerThread_.joinable())
            exited = false; // the worker itself drops the runtime: it is between calls
    }
    for (auto& j : left)
        if (j.answer)
            j.answer->give(
                {DeliveryResult::Outcome::Retry, 0, std::nullopt, "the processor is stopping"});
    left.clear();
    const bool selfStop = worker_->thread == std::this_thread::get_id();
    if (workerThread_.joinable()) {
        if (exited)
            workerThread_.join();
        else
            workerThread_.detach(); // stuck in plugin code; it holds what it uses
    }
    if (!exited && !selfStop) {
        Log::warn("plugin", who_ + ": a call is still running at stop; stop() is not called",
                  {{"plugin", s_.plugin}, {"output", s_.output}});
        return;
    }
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
