// Delivers outbox rows. One lane per output, each with its own worker threads, queues,
// backoff timers and circuit breaker, so a dead department never slows the others. Within a
// lane, rows with the same ordering key go out one at a time in journal order; rows without
// a key go out in parallel.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/config/HubConfig.h"
#include "core/delivery/CircuitBreaker.h"
#include "core/delivery/OutputClient.h"
#include "core/observability/Availability.h"
#include "core/observability/Metrics.h"
#include "core/store/Records.h"
#include "core/util/Clock.h"

namespace ow::delivery {

/// Where results go (the journal writer in the hub; a recorder in tests).
struct ResultSink {
    std::function<void(std::int64_t rowId)> delivered;
    std::function<void(std::int64_t rowId, int attempts, std::int64_t nextAtMs,
                       const std::string& error)>
        retry;
    std::function<void(std::int64_t rowId, int attempts, const std::string& error)> dead;
};

/// Reads an output's backlog back from the journal (rows are committed before they reach a
/// lane, so the journal always has them).
struct OutboxReader {
    /// Pending rows of `output` with id > afterId, oldest first, at most `limit`.
    std::function<std::vector<store::OutboxRow>(const std::string& output, std::int64_t afterId,
                                                int limit)>
        load;
    std::function<std::int64_t(const std::string& output)> countPending;
};

/// Rows one lane keeps in memory at most; the rest of a backlog waits in the journal.
constexpr int DefaultMaxRowsInMemory = 10000;

class OutputLane {
public:
    /// Without a reader (`reader.load` empty) every submitted row is kept in memory. While the
    /// receiver fails (circuit threshold failures in a row) the log reminds of it at most every
    /// `outageReminderMs`.
    OutputLane(config::OutputSpec spec, OutputClientFactory factory, ResultSink sink,
               OutboxReader reader, const util::Clock& clock, observability::Metrics& metrics,
               int maxRowsInMemory = DefaultMaxRowsInMemory,
               std::int64_t outageReminderMs = observability::DefaultOutageReminderMs);
    ~OutputLane();

    using Deadline = std::chrono::steady_clock::time_point;
    /// No deadline: wait for every delivery in flight to end by itself (each has its own).
    static Deadline unbounded() {
        return std::chrono::steady_clock::now() + std::chrono::hours(24);
    }

    /// Idempotent (a lane handed to the next dispatcher by a reload is running already).
    void start();
    /// Stops taking rows; deliveries in flight go on. stop() waits for them.
    void beginStop();
    /// Lets deliveries in flight finish until `until`, then cuts off those still waiting for
    /// their receiver (OutputClient::abort; their rows stay pending and are retried), and joins
    /// the workers. Idempotent.
    void stop(Deadline until = unbounded());
    /// A committed row for this output. While the lane is over its memory bound (or still
    /// reading its backlog), the row is left in the journal and read back in id order later,
    /// which keeps per-key order; replayed dead letters are always taken at once.
    void submit(store::OutboxRow row);
    /// Committed rows for this output, in id order: one lock and one wake-up for all of them.
    void submit(std::vector<store::OutboxRow> rows);

    /// Deliveries pending for this output: in memory and in the journal.
    [[nodiscard]] std::int64_t depth() const { return pending_.load(); }
    [[nodiscard]] std::int64_t inMemory() const;
    [[nodiscard]] CircuitBreaker::State circuitState() const;
    [[nodiscard]] const std::string& name() const { return spec_.name; }

private:
    struct KeyQueue {
        std::deque<store::OutboxRow> rows;
        bool scheduled = false; // in ready_, in delayed_, or in flight
    };
    void schedule(const std::string& key, std::int64_t dueMs, std::int64_t nowMs);
    void enqueue(store::OutboxRow row, std::int64_t nowMs);
    void refill(std::int64_t nowMs);
    /// Moves due retries to ready_ and, over the memory bound, reads the backlog; returns when
    /// the next retry falls due.
    std::int64_t collectDue(std::int64_t nowMs);
    /// Waits for the circuit if it is open; false when the caller must loop again.
    bool circuitAllows(std::unique_lock<std::mutex>& lock, std::int64_t nowMs,
                       std::int64_t wakeAtMs);
    /// Runs `body` on a new worker thread, counted in running_.
    template <class Body> void spawn(Body body);
    void work(std::unique_ptr<OutputClient> client);
    // Asynchronous clients: one thread keeps up to `concurrency` deliveries in flight.
    void pump(std::shared_ptr<OutputClient> client);
    /// Under mu_: takes the next ready row into the window; false when none may go now.
    bool takeFlight(std::int64_t nowMs, std::uint64_t& id, store::OutboxRow& row);
    /// Without mu_: starts the delivery taken by takeFlight().
    void launch(OutputClient& client, std::uint64_t id, const store::OutboxRow& row);
    void completed(std::uint64_t flight, const DeliveryResult& r);
    void finish(const std::string& key, const store::OutboxRow& row, const DeliveryResult& r,
                std::int64_t nowMs);

    config::OutputSpec spec_;
    OutputClientFactory factory_;
    ResultSink sink_;
    OutboxReader reader_;
    const util::Clock& clock_;
    observability::Metrics& metrics_;
    int maxRowsInMemory_;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::unordered_map<std::string, KeyQueue> keys_;
    std::deque<std::string> ready_;
    using Timer = std::pair<std::int64_t, std::string>;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> delayed_;
    CircuitBreaker breaker_;
    observability::Availability availability_; // what the operator hears of the receiver
    std::mt19937_64 rng_;
    std::int64_t depth_ = 0;      // rows in memory
    bool spilled_ = false;        // rows with id > loadedUpTo_ may be in the journal only
    std::int64_t loadedUpTo_ = 0; // highest row id taken into memory in order
    std::atomic<std::int64_t> pending_{0};
    bool started_ = false;
    bool stopping_ = false;
    bool stopped_ = false;
    std::vector<std::thread> workers_;
    int running_ = 0;                    // workers that have not returned yet
    std::vector<OutputClient*> clients_; // the synchronous workers' clients, for abort()

    struct Flight {
        std::string key;
        store::OutboxRow row;
        std::int64_t deadlineMs;
        std::chrono::steady_clock::time_point started;
    };
    std::unordered_map<std::uint64_t, Flight> flights_; // asynchronous deliveries in flight
    std::uint64_t nextFlight_ = 0;
    // Set when the client starts deliveries from completions: each landing then starts the
    // next row itself. Waking the pump for every PUBACK was a thread switch per message.
    std::shared_ptr<OutputClient> chainClient_;
    // Completions arrive on the client's threads, possibly after the lane stopped: they reach
    // the lane only through this gate, which stop() closes.
    struct Gate {
        // Recursive: a delivery started from a completion may fail at once, and its completion
        // then runs on the same thread, inside the first one.
        std::recursive_mutex mu;
        OutputLane* lane = nullptr;
    };
    std::shared_ptr<Gate> gate_ = std::make_shared<Gate>();

    observability::Counter& delivered_;
    observability::Counter& retried_;
    observability::Counter& dead_;
    observability::Histogram& latency_;
    observability::Histogram& endToEnd_;
};

class Dispatcher {
public:
    using FactoryMaker = std::function<OutputClientFactory(const config::OutputSpec&)>;

    Dispatcher(const std::vector<config::OutputSpec>& outputs, const FactoryMaker& makeFactory,
               ResultSink sink, const util::Clock& clock, observability::Metrics& metrics,
               OutboxReader reader = {}, int maxRowsInMemory = DefaultMaxRowsInMemory,
               std::int64_t outageReminderMs = observability::DefaultOutageReminderMs);
    ~Dispatcher();

    void start();
    /// Stops every lane; deliveries in flight get until `until` (see OutputLane::stop).
    void stop(OutputLane::Deadline until = OutputLane::unbounded());
    /// For a reload: stops the lanes of the outputs not in `keep`, which stay here until the
    /// dispatcher goes, so that rows handed to them meanwhile are still counted in
    /// onewindow_outbox_depth (they wait in the journal for the next dispatcher).
    void stopExcept(const std::set<std::string>& keep, OutputLane::Deadline until);
    /// For a reload: hands the running lanes of `names` over to the next dispatcher.
    std::map<std::string, std::unique_ptr<OutputLane>> release(const std::set<std::string>& names);
    void adopt(std::map<std::string, std::unique_ptr<OutputLane>> lanes);
    /// Rows for unknown outputs are dead-lettered (cannot happen after a valid config load,
    /// but a journal written under an older configuration may name removed outputs).
    void submit(std::vector<store::OutboxRow> rows);
    [[nodiscard]] std::int64_t depth() const;

private:
    std::map<std::string, std::unique_ptr<OutputLane>> lanes_;
    ResultSink sink_;
};

} // namespace ow::delivery
