// Delivers outbox rows. One lane per output, each with its own worker threads, queues,
// backoff timers and circuit breaker, so a dead department never slows the others. Within a
// lane, rows with the same ordering key go out one at a time in journal order; rows without
// a key go out in parallel.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/config/HubConfig.h"
#include "core/delivery/CircuitBreaker.h"
#include "core/delivery/OutputClient.h"
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

class OutputLane {
public:
    OutputLane(config::OutputSpec spec, OutputClientFactory factory, ResultSink sink,
               const util::Clock& clock, observability::Metrics& metrics);
    ~OutputLane();

    void start();
    /// Lets deliveries in flight finish, then joins the workers. Idempotent.
    void stop();
    void submit(store::OutboxRow row);

    [[nodiscard]] std::int64_t depth() const;
    [[nodiscard]] CircuitBreaker::State circuitState() const;
    [[nodiscard]] const std::string& name() const { return spec_.name; }

private:
    struct KeyQueue {
        std::deque<store::OutboxRow> rows;
        bool scheduled = false; // in ready_, in delayed_, or in flight
    };
    void schedule(const std::string& key, std::int64_t dueMs, std::int64_t nowMs);
    void work();
    void finish(const std::string& key, const store::OutboxRow& row, const DeliveryResult& r,
                std::int64_t nowMs);

    config::OutputSpec spec_;
    OutputClientFactory factory_;
    ResultSink sink_;
    const util::Clock& clock_;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::unordered_map<std::string, KeyQueue> keys_;
    std::deque<std::string> ready_;
    using Timer = std::pair<std::int64_t, std::string>;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> delayed_;
    CircuitBreaker breaker_;
    std::mt19937_64 rng_;
    std::int64_t depth_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> workers_;

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
               ResultSink sink, const util::Clock& clock, observability::Metrics& metrics);
    ~Dispatcher();

    void start();
    void stop();
    /// Rows for unknown outputs are dead-lettered (cannot happen after a valid config load,
    /// but a journal written under an older configuration may name removed outputs).
    void submit(std::vector<store::OutboxRow> rows);
    [[nodiscard]] std::int64_t depth() const;

private:
    std::map<std::string, std::unique_ptr<OutputLane>> lanes_;
    ResultSink sink_;
};

} // namespace ow::delivery
