// Runs one processor instance inside the durable pipeline. Each event (an outbox row of the
// processor's output) is handed to process() with a context that collects its effects; on
// Ok the effects go to the journal writer, which commits them in one transaction with the
// row's removal. A crash before that commit leaves the row pending and the effects absent, so
// the event is processed again and its effects exist once.
//
// Calls run on one worker thread of the instance, fed by a queue: the lane hands over rows
// without waiting, and the worker takes every queued row in one wake-up, so a busy stream
// costs no thread switch per event. A call cannot be cancelled; a watchdog notices one that
// overruns its deadline, answers its event with Retry, refuses what waits behind it, and
// shows the instance as stuck until the call returns.
//
// The lane does not wait for a commit before handing over the next event (commits are
// grouped, as accepts are). Reads must still see the effects of earlier events, so what is
// submitted but not yet committed is kept in an overlay that reads consult first. Should a
// commit fail, the overlay is dropped and every later commit of the instance that may have
// read it is refused by the writer (generations, see ProcessorCommit) and handled again.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/delivery/OutputClient.h"
#include "core/event/CloudEventCodec.h"
#include "core/observability/Metrics.h"
#include "core/pipeline/ProcessorCommit.h"
#include "core/plugin/ComponentLifecycle.h"
#include "core/plugin/DeadlineCaller.h"
#include "core/plugin/HostServices.h"
#include "core/security/Principal.h"
#include "core/store/PluginState.h"
#include "core/util/Clock.h"

namespace ow::plugin {

/// Hands a commit to the journal writer (JournalWriter::processed).
using CommitSubmitter = std::function<void(pipeline::ProcessorCommit, pipeline::CommitCallback)>;

class ProcessorRuntime : public std::enable_shared_from_this<ProcessorRuntime> {
public:
    struct Settings {
        std::string plugin, component, output;
        std::string journalFile;  ///< state and timers are read from here
        event::JsonLimits limits; ///< for emitted events, as for any input
        std::chrono::milliseconds callDeadline{10000};
        std::chrono::milliseconds timerPoll{200};
    };
    ProcessorRuntime(Settings s, std::unique_ptr<HostServices> services,
                     std::shared_ptr<onewindow::sdk::Processor> processor,
                     observability::Metrics& metrics, const util::Clock& clock);
    ~ProcessorRuntime();

    /// Before the first event or timer.
    void setCommitter(CommitSubmitter submit);
    /// Queues the row's event for process(); `done` gets the outcome (exactly once) when the
    /// effects are committed, when the processor did not answer Ok, or at once when the
    /// instance is stuck or stopping.
    void handle(const store::OutboxRow& row, const delivery::DeliveryCompletion& done);
    /// Starts the thread that fires due timers and watches call deadlines.
    void startTimers();
    /// Stops timers and the worker (refusing what is queued), waits for outstanding commits,
    /// then calls the processor's stop(), all bounded. Idempotent.
    void stop();
    /// True while a call overruns its deadline.
    [[nodiscard]] bool stuck() const;
    [[nodiscard]] const Settings& settings() const { return s_; }

    class Context; // the sdk::ProcessContext of one call

private:
    class Answer;  // a lane's completion, given once
    struct Job;    // an event to process, or a request to fire timers
    struct Worker; // the worker thread's queue and call under way (shared with the thread)
    static void runWorker(const std::shared_ptr<Worker>& w);
    void runJob(Job& job);
    std::optional<delivery::DeliveryResult> ensureStarted();
    /// Starts the worker thread if it is not running; call with worker_->mu held.
    void ensureWorker();
    /// On the worker thread: one event, from parsing to the submission of its effects.
    void processRow(const store::OutboxRow& row, const std::shared_ptr<Answer>& answer);
    /// Marks the start of a call into the plugin for the watchdog.
    void callStarting();
    /// The watchdog: answers a call that overran its deadline and refuses what is queued.
    void watch();
    /// The read-only connection to the journal, opened at first use; call with readerMu_ held.
    store::PluginState& reader();
    /// Reads a state value: this instance's uncommitted writes first, then the journal.
    std::optional<std::string> read(const std::string& key);
    /// Records the context's effects as uncommitted and hands them to the writer; called on
    /// the worker thread only, so submissions keep the order of the calls.
    void submit(pipeline::ProcessorCommit commit,
                std::function<void(pipeline::CommitOutcome, const std::string&)> after);
    void committed(std::uint64_t seq, std::uint64_t generation, pipeline::CommitOutcome outcome);
    void timerLoop();
    /// Queues a request to fire due timers for the worker, unless one is queued.
    void requestTimers();
    /// On the worker thread: fires the timers that are due.
    void fireDue();
    void fireTimers(const std::vector<store::DueTimer>& due, std::int64_t now);

    Settings s_;
    std::unique_ptr<HostServices> services_; // outlives processor_
    std::shared_ptr<onewindow::sdk::Processor> processor_;
    const util::Clock& clock_;
    const std::string who_;               // "processor plugin/component", for reasons and logs
    const std::string defaultSource_;     // of emitted events without a source
    const security::Principal principal_; // of every event it emits
    DeadlineCaller calls_; // start() and stop(); process() and onTimer() run on the worker
    ComponentLifecycle lifecycle_;
    CommitSubmitter submit_;

    std::shared_ptr<Worker> worker_;
    std::thread workerThread_;

    std::mutex overlayMu_;
    std::condition_variable idleCv_;
    std::int64_t outstanding_ = 0; // submitted, outcome not known yet
    std::uint64_t generation_;
    std::uint64_t nextSeq_ = 0;
    std::map<std::string, std::pair<std::optional<std::string>, std::uint64_t>> stateOverlay_;
    std::map<std::string, std::uint64_t> timersPending_; // timer name -> submission

    std::mutex readerMu_;
    std::unique_ptr<store::Database> readerDb_;
    std::unique_ptr<store::PluginState> reader_;

    std::mutex timerMu_;
    std::condition_variable timerCv_;
    bool timersStopping_ = false;
    std::map<std::string, std::int64_t> timerNotBefore_; // after a Retry from onTimer
    std::optional<store::TimerKey> sweepCursor_;         // worker thread only
    std::thread timerThread_;

    observability::Counter& emitted_;
    observability::Counter& timersFired_;
    observability::Counter& refusedCommits_;
};

/// The lane's client for a processor output: hands each row to the runtime.
std::unique_ptr<delivery::OutputClient> makeProcessorClient(std::shared_ptr<ProcessorRuntime> rt);

} // namespace ow::plugin
