#include "core/delivery/Dispatcher.h"
#include "core/util/ThreadName.h"

#include <chrono>

#include "core/delivery/Backoff.h"
#include "core/observability/Log.h"

namespace ow::delivery {

using observability::Log;

OutputLane::OutputLane(config::OutputSpec spec, OutputClientFactory factory, ResultSink sink,
                       OutboxReader reader, const util::Clock& clock,
                       observability::Metrics& metrics, int maxRowsInMemory,
                       std::int64_t outageReminderMs)
    : spec_(std::move(spec)), factory_(std::move(factory)), sink_(std::move(sink)),
      reader_(std::move(reader)), clock_(clock), metrics_(metrics),
      maxRowsInMemory_(std::max(2, maxRowsInMemory)), breaker_(spec_.circuit),
      // Down when the circuit opens: as many failures in a row as open it.
      availability_("dispatcher", {{"output", spec_.name}}, clock, outageReminderMs,
                    spec_.circuit.failureThreshold),
      rng_(std::random_device{}()),
      delivered_(metrics.counter("onewindow_deliveries_total",
                                 "Delivery attempts by output and outcome",
                                 {{"output", spec_.name}, {"outcome", "delivered"}})),
      retried_(metrics.counter("onewindow_deliveries_total",
                               "Delivery attempts by output and outcome",
                               {{"output", spec_.name}, {"outcome", "retry"}})),
      dead_(metrics.counter("onewindow_deliveries_total", "Delivery attempts by output and outcome",
                            {{"output", spec_.name}, {"outcome", "dead_letter"}})),
      latency_(metrics.histogram("onewindow_delivery_seconds", "Duration of one delivery attempt",
                                 observability::Metrics::latencyBuckets(),
                                 {{"output", spec_.name}})),
      endToEnd_(
          metrics.histogram("onewindow_delivery_lag_seconds",
                            "From a delivery being due (routed, or its retry time) to its success",
                            observability::Metrics::latencyBuckets(), {{"output", spec_.name}})) {
    metrics.gaugeFunction(
        "onewindow_outbox_depth", "Deliveries waiting or in flight (in memory and in the journal)",
        [this] { return static_cast<double>(depth()); }, {{"output", spec_.name}}, this);
    metrics.gaugeFunction(
        "onewindow_outbox_in_memory", "Deliveries of the output held in memory",
        [this] { return static_cast<double>(inMemory()); }, {{"output", spec_.name}}, this);
    if (reader_.load) {
        // Start from the journal: whatever was pending when the hub stopped is read back in
        // windows by refill(), in id order.
        spilled_ = true;
        pending_ = reader_.countPending ? reader_.countPending(spec_.name) : 0;
    }
    metrics.gaugeFunction(
        "onewindow_circuit_open", "1 when the output's circuit is open or probing",
        [this] { return circuitState() == CircuitBreaker::State::Closed ? 0.0 : 1.0; },
        {{"output", spec_.name}}, this);
}

OutputLane::~OutputLane() {
    stop();
    // The gauges read this lane: a reload replaces lanes, and /metrics must not reach a gone
    // one (nor lose the gauges of the lane that replaced it).
    for (const char* g :
         {"onewindow_outbox_depth", "onewindow_outbox_in_memory", "onewindow_circuit_open"})
        metrics_.removeGaugeFunction(g, {{"output", spec_.name}}, this);
}

template <class Body> void OutputLane::spawn(Body body) {
    {
        std::lock_guard lock(mu_);
        ++running_;
    }
    workers_.emplace_back([this, body = std::move(body)]() mutable {
        util::nameThisThread("ow-out-" + spec_.name);
        try {
            body();
        } catch (const std::exception& e) {
            Log::error("dispatcher", "cannot create output client",
                       {{"output", spec_.name}, {"error", e.what()}});
        }
        std::lock_guard lock(mu_);
        --running_;
        cv_.notify_all();
    });
}

void OutputLane::start() {
    if (started_) return;
    started_ = true;
    std::unique_ptr<OutputClient> first;
    try {
        first = factory_();
    } catch (const std::exception& e) {
        Log::error("dispatcher", "cannot create output client",
                   {{"output", spec_.name}, {"error", e.what()}});
        return;
    }
    if (first->asynchronous()) {
        gate_->lane = this;
        std::shared_ptr<OutputClient> client = std::move(first);
        if (client->startsFromCompletions()) {
            std::lock_guard lock(mu_);
            chainClient_ = client;
        }
        spawn([this, c = std::move(client)]() mutable { pump(std::move(c)); });
        return;
    }
    spawn([this, c = std::move(first)]() mutable { work(std::move(c)); });
    for (int i = 1; i < spec_.concurrency; ++i)
        spawn([this] { work(factory_()); });
}

void OutputLane::beginStop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
}

void OutputLane::stop(Deadline until) {
    if (stopped_) return;
    beginStop();
    {
        std::unique_lock lock(mu_);
        if (!cv_.wait_until(lock, until, [&] { return running_ == 0; })) {
            // Receivers that have not answered by now are not waited for: their deliveries end
            // as retries, and their rows stay pending in the journal.
            Log::warn("dispatcher", "deliveries still in flight are cut off",
                      {{"output", spec_.name}, {"in_flight", static_cast<int>(clients_.size())}});
            for (auto* c : clients_)
                c->abort();
        }
    }
    for (auto& t : workers_)
        if (t.joinable()) t.join();
    workers_.clear();
    // Give asynchronous deliveries in flight their time to be acknowledged; what is still
    // unanswered then stays pending in the journal and goes out again after a restart.
    {
        std::unique_lock lock(mu_);
        const auto ackWait =
            std::chrono::steady_clock::now() +
            std::chrono::milliseconds(std::min<std::int64_t>(spec_.readTimeoutMs, 5000));
        cv_.wait_until(lock, std::min(until, ackWait), [&] { return flights_.empty(); });
    }
    {
        std::lock_guard gate(gate_->mu);
        gate_->lane = nullptr;
    }
    std::lock_guard lock(mu_);
    chainClient_.reset();
    stopped_ = true;
}

void OutputLane::schedule(const std::string& key, std::int64_t dueMs, std::int64_t nowMs) {
    keys_[key].scheduled = true;
    if (dueMs <= nowMs)
        ready_.push_back(key);
    else
        delayed_.emplace(dueMs, key);
}

void OutputLane::enqueue(store::OutboxRow row, std::int64_t nowMs) {
    // Unordered rows get a key of their own, so they never wait behind each other.
    // Built with append: GCC 12's -Wrestrict misfires on "literal" + std::string at -O3.
    std::string key(1, row.orderingKey.empty() ? '\x01' : 'k');
    key += row.orderingKey.empty() ? std::to_string(row.id) : row.orderingKey;
    auto& kq = keys_[key];
    kq.rows.push_back(std::move(row));
    ++depth_;
    if (!kq.scheduled) schedule(key, kq.rows.front().nextAtMs, nowMs);
}

void OutputLane::submit(store::OutboxRow row) {
    std::vector<store::OutboxRow> one;
    one.push_back(std::move(row));
    submit(std::move(one));
}

void OutputLane::submit(std::vector<store::OutboxRow> rows) {
    if (rows.empty()) return;
    std::int64_t now = clock_.nowMs();
    pending_.fetch_add(static_cast<std::int64_t>(rows.size()));
    {
        std::lock_guard lock(mu_);
        for (auto& row : rows) {
            if (!row.replayed && reader_.load) {
                // Committed before a refill() read it from the journal: it is here already.
                if (row.id <= loadedUpTo_) continue;
                if (!spilled_ && depth_ >= maxRowsInMemory_) spilled_ = true;
                // Already committed: refill() reads it back after the rows before it.
                if (spilled_) continue;
                loadedUpTo_ = std::max(loadedUpTo_, row.id);
            }
            enqueue(std::move(row), now);
        }
    }
    // One wake-up per transaction's rows, not one per row: the writer (the pipeline's serial
    // stage) calls this, and a wake per row kept waking the lane into the lock it held. With
    // several rows, every worker of a synchronous lane may have one to take.
    if (rows.size() == 1)
        cv_.notify_one();
    else
        cv_.notify_all();
}

void OutputLane::refill(std::int64_t nowMs) {
    // Runs under mu_, so submit() cannot slip a newer row into memory while older ones are
    // still being read: that is what keeps per-key order across the memory bound.
    int want = maxRowsInMemory_ - static_cast<int>(depth_);
    std::vector<store::OutboxRow> rows;
    try {
        rows = reader_.load(spec_.name, loadedUpTo_, want);
    } catch (const std::exception& e) {
        Log::error("dispatcher", "cannot read pending deliveries from the journal; will retry",
                   {{"output", spec_.name}, {"error", e.what()}});
        return;
    }
    if (static_cast<int>(rows.size()) < want) spilled_ = false;
    for (auto& r : rows) {
        loadedUpTo_ = std::max(loadedUpTo_, r.id);
        enqueue(std::move(r), nowMs);
    }
}

std::int64_t OutputLane::inMemory() const {
    std::lock_guard lock(mu_);
    return depth_;
}

CircuitBreaker::State OutputLane::circuitState() const {
    std::lock_guard lock(mu_);
    return breaker_.state();
}

std::int64_t OutputLane::collectDue(std::int64_t now) {
    if (spilled_ && depth_ <= maxRowsInMemory_ / 2) refill(now);
    while (!delayed_.empty() && delayed_.top().first <= now) {
        ready_.push_back(delayed_.top().second);
        delayed_.pop();
    }
    return delayed_.empty() ? now + 1000 : delayed_.top().first;
}

bool OutputLane::circuitAllows(std::unique_lock<std::mutex>& lock, std::int64_t now,
                               std::int64_t wakeAt) {
    if (breaker_.tryAcquire(now)) return true;
    std::int64_t until =
        breaker_.state() == CircuitBreaker::State::Open ? breaker_.reopenAtMs() : now + 1000;
    cv_.wait_for(
        lock, std::chrono::milliseconds(std::max<std::int64_t>(1, std::min(until, wakeAt) - now)));
    return false;
}

void OutputLane::work(std::unique_ptr<OutputClient> client) {
    std::unique_lock lock(mu_);
    clients_.push_back(client.get());
    while (!stopping_) {
        std::int64_t now = clock_.nowMs();
        std::int64_t wakeAt = collectDue(now);
        if (ready_.empty()) {
            cv_.wait_for(lock, std::chrono::milliseconds(std::max<std::int64_t>(1, wakeAt - now)));
            continue;
        }
        if (!circuitAllows(lock, now, wakeAt)) continue;
        std::string key = std::move(ready_.front());
        ready_.pop_front();
        store::OutboxRow row = keys_[key].rows.front(); // copy: the queue may grow meanwhile

        lock.unlock();
        auto started = std::chrono::steady_clock::now();
        DeliveryResult result;
        try {
            result = client->deliver(row);
        } catch (const std::exception& e) {
            result = {DeliveryResult::Outcome::Retry, 0, std::nullopt,
                      std::string("delivery failed: ") + e.what()};
        }
        latency_.observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        lock.lock();
        finish(key, row, result, clock_.nowMs());
    }
    std::erase(clients_, client.get());
}

void OutputLane::pump(std::shared_ptr<OutputClient> client) {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        std::int64_t now = clock_.nowMs();
        // A delivery without an answer in time is retried; its late answer is ignored.
        std::int64_t wakeAt = collectDue(now);
        for (auto it = flights_.begin(); it != flights_.end();) {
            if (it->second.deadlineMs > now) {
                wakeAt = std::min(wakeAt, it->second.deadlineMs);
                ++it;
                continue;
            }
            Flight f = std::move(it->second);
            it = flights_.erase(it);
            finish(f.key, f.row,
                   {DeliveryResult::Outcome::Retry, 0, std::nullopt,
                    "no acknowledgement within " + std::to_string(spec_.readTimeoutMs) + " ms"},
                   now);
        }
        if (ready_.empty() || static_cast<int>(flights_.size()) >= spec_.concurrency) {
            cv_.wait_for(lock, std::chrono::milliseconds(std::max<std::int64_t>(1, wakeAt - now)));
            continue;
        }
        if (!circuitAllows(lock, now, wakeAt)) continue;
        std::uint64_t id = 0;
        store::OutboxRow row;
        takeFlight(now, id, row);
        lock.unlock();
        launch(*client, id, row);
        lock.lock();
    }
}

bool OutputLane::takeFlight(std::int64_t now, std::uint64_t& id, store::OutboxRow& row) {
    if (ready_.empty() || static_cast<int>(flights_.size()) >= spec_.concurrency) return false;
    std::string key = std::move(ready_.front());
    ready_.pop_front();
    id = ++nextFlight_;
    auto& f = flights_[id];
    f = {key, keys_[key].rows.front(), now + spec_.readTimeoutMs, std::chrono::steady_clock::now()};
    row = f.row;
    return true;
}

void OutputLane::launch(OutputClient& client, std::uint64_t id, const store::OutboxRow& row) {
    auto done = [gate = gate_, id](DeliveryResult r) {
        std::lock_guard g(gate->mu);
        if (gate->lane) gate->lane->completed(id, r);
    };
    try {
        client.deliverAsync(row, done);
    } catch (const std::exception& e) {
        done({DeliveryResult::Outcome::Retry, 0, std::nullopt,
              std::string("delivery failed: ") + e.what()});
    }
}

void OutputLane::completed(std::uint64_t flight, const DeliveryResult& r) {
    // Set while this thread starts a delivery from a completion: a delivery that fails at once
    // completes on this thread again, and must then leave the next one to the pump instead of
    // recursing through the whole backlog.
    thread_local int chaining = 0;
    std::unique_lock lock(mu_);
    auto it = flights_.find(flight);
    if (it == flights_.end()) return; // timed out already, and retried
    Flight f = std::move(it->second);
    flights_.erase(it);
    latency_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - f.started).count());
    const std::int64_t now = clock_.nowMs();
    finish(f.key, f.row, r, now);
    const bool refillDue = spilled_ && depth_ <= maxRowsInMemory_ / 2;
    if (chainClient_ && chaining == 0 && !stopping_ && !refillDue && !ready_.empty() &&
        breaker_.tryAcquire(now)) {
        std::shared_ptr<OutputClient> client = chainClient_;
        std::uint64_t id = 0;
        store::OutboxRow row;
        if (takeFlight(now, id, row)) {
            lock.unlock();
            ++chaining;
            launch(*client, id, row);
            --chaining;
            return;
        }
    }
    // Wake the pump only when the landing gives it something to do: rows ready for the freed
    // slot, a refill from the journal now due, or the last flight landed (stop() waits for
    // that). A wake per landing switched the pump in for nothing most of the time: a
    // processor's commits land in batches while its window is far from full, and those
    // switches were most of the processor lane thread's time at 10,000 events/s.
    if (!ready_.empty() || flights_.empty() || stopping_ || refillDue) cv_.notify_all();
}

void OutputLane::finish(const std::string& key, const store::OutboxRow& row,
                        const DeliveryResult& r, std::int64_t nowMs) {
    auto& kq = keys_[key];
    bool popped = true;
    switch (r.outcome) {
    case DeliveryResult::Outcome::Delivered:
        breaker_.onSuccess();
        availability_.succeeded();
        delivered_.inc();
        endToEnd_.observe(static_cast<double>(std::max<std::int64_t>(0, nowMs - row.nextAtMs)) /
                          1000.0);
        if (!r.recorded) sink_.delivered(row.id);
        break;
    case DeliveryResult::Outcome::Reject:
        // The receiver answered, so it is up: a permanent refusal does not open the circuit.
        breaker_.onSuccess();
        availability_.succeeded();
        dead_.inc();
        Log::warn(
            "dispatcher", "delivery refused permanently; dead-lettered",
            {{"output", spec_.name}, {"row", row.id}, {"status", r.status}, {"reason", r.detail}});
        sink_.dead(row.id, row.attempts + 1, r.detail);
        break;
    case DeliveryResult::Outcome::Retry: {
        breaker_.onFailure(nowMs);
        availability_.failed(r.detail);
        int attempts = row.attempts + 1;
        if (attempts >= spec_.retry.maxAttempts) {
            dead_.inc();
            std::string why =
                "gave up after " + std::to_string(attempts) + " attempts: " + r.detail;
            Log::warn("dispatcher", "delivery dead-lettered",
                      {{"output", spec_.name}, {"row", row.id}, {"reason", why}});
            sink_.dead(row.id, attempts, why);
            break;
        }
        retried_.inc();
        std::int64_t delay = backoffDelayMs(spec_.retry, attempts, rng_);
        if (r.retryAfterMs) delay = std::max(delay, *r.retryAfterMs);
        auto& head = kq.rows.front();
        head.attempts = attempts;
        head.nextAtMs = nowMs + delay;
        head.lastError = r.detail;
        Log::debug("dispatcher", "delivery failed; will retry",
                   {{"output", spec_.name},
                    {"row", row.id},
                    {"attempt", attempts},
                    {"delay_ms", delay},
                    {"reason", r.detail}});
        sink_.retry(row.id, attempts, head.nextAtMs, r.detail);
        popped = false;
        break;
    }
    }
    if (popped) {
        kq.rows.pop_front();
        --depth_;
        pending_.fetch_sub(1);
    }
    if (kq.rows.empty()) {
        keys_.erase(key);
    } else {
        kq.scheduled = false;
        schedule(key, kq.rows.front().nextAtMs, nowMs);
        cv_.notify_one();
    }
}

Dispatcher::Dispatcher(const std::vector<config::OutputSpec>& outputs,
                       const FactoryMaker& makeFactory, ResultSink sink, const util::Clock& clock,
                       observability::Metrics& metrics, OutboxReader reader, int maxRowsInMemory,
                       std::int64_t outageReminderMs)
    : sink_(sink) {
    for (const auto& o : outputs)
        lanes_.emplace(o.name,
                       std::make_unique<OutputLane>(o, makeFactory(o), sink, reader, clock, metrics,
                                                    maxRowsInMemory, outageReminderMs));
}

Dispatcher::~Dispatcher() {
    stop();
}

void Dispatcher::start() {
    for (auto& [_, lane] : lanes_)
        lane->start();
}

void Dispatcher::stop(OutputLane::Deadline until) {
    stopExcept({}, until);
}

void Dispatcher::stopExcept(const std::set<std::string>& keep, OutputLane::Deadline until) {
    // All of them told first, so that they drain side by side within the one deadline.
    for (auto& [name, lane] : lanes_)
        if (!keep.contains(name)) lane->beginStop();
    for (auto& [name, lane] : lanes_)
        if (!keep.contains(name)) lane->stop(until);
}

std::map<std::string, std::unique_ptr<OutputLane>>
Dispatcher::release(const std::set<std::string>& names) {
    std::map<std::string, std::unique_ptr<OutputLane>> out;
    for (const auto& name : names)
        if (auto node = lanes_.extract(name)) out.insert(std::move(node));
    return out;
}

void Dispatcher::adopt(std::map<std::string, std::unique_ptr<OutputLane>> lanes) {
    lanes_.merge(lanes);
}

void Dispatcher::submit(std::vector<store::OutboxRow> rows) {
    // Grouped per lane, in the order given (which is id order within an output), so each lane
    // is locked and woken once.
    std::map<OutputLane*, std::vector<store::OutboxRow>> perLane;
    for (auto& r : rows) {
        auto it = lanes_.find(r.output);
        if (it == lanes_.end()) {
            sink_.dead(r.id, r.attempts,
                       "output '" + r.output + "' is not defined in the current configuration");
            continue;
        }
        perLane[it->second.get()].push_back(std::move(r));
    }
    for (auto& [lane, laneRows] : perLane)
        lane->submit(std::move(laneRows));
}

std::int64_t Dispatcher::depth() const {
    std::int64_t n = 0;
    for (const auto& [_, lane] : lanes_)
        n += lane->depth();
    return n;
}

} // namespace ow::delivery
