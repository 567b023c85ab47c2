#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "core/delivery/Backoff.h"
#include "core/delivery/CircuitBreaker.h"
#include "core/delivery/Dispatcher.h"
#include "core/store/Journal.h"
#include "tests/support/TempDir.h"
#include "tests/support/Wait.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

// Records results the way the journal writer would receive them.
struct Results {
    std::mutex mu;
    std::vector<std::int64_t> delivered;
    std::map<std::int64_t, int> retries;
    std::map<std::int64_t, std::string> dead;
    delivery::ResultSink sink() {
        return {[this](std::int64_t id) {
                    std::lock_guard l(mu);
                    delivered.push_back(id);
                },
                [this](std::int64_t id, int, std::int64_t, const std::string&) {
                    std::lock_guard l(mu);
                    ++retries[id];
                },
                [this](std::int64_t id, int, const std::string& e) {
                    std::lock_guard l(mu);
                    dead[id] = e;
                }};
    }
    std::size_t deliveredCount() {
        std::lock_guard l(mu);
        return delivered.size();
    }
    std::size_t deadCount() {
        std::lock_guard l(mu);
        return dead.size();
    }
};

// A destination whose answer for each attempt is chosen by the test.
using Script = std::function<delivery::DeliveryResult(const store::OutboxRow&, int attempt)>;

struct FakeClient : delivery::OutputClient {
    Script script;
    std::mutex* mu;
    std::map<std::int64_t, int>* attempts;
    std::vector<std::int64_t>* order;
    delivery::DeliveryResult deliver(const store::OutboxRow& row) override {
        int n;
        {
            std::lock_guard l(*mu);
            n = ++(*attempts)[row.id];
            order->push_back(row.id);
        }
        return script(row, n);
    }
};

struct FakeOutput {
    Script script;
    std::mutex mu;
    std::map<std::int64_t, int> attempts;
    std::vector<std::int64_t> order;
    delivery::OutputClientFactory factory() {
        return [this] {
            auto c = std::make_unique<FakeClient>();
            c->script = [this](const store::OutboxRow& r, int n) { return script(r, n); };
            c->mu = &mu;
            c->attempts = &attempts;
            c->order = &order;
            return c;
        };
    }
};

delivery::DeliveryResult ok() {
    return {delivery::DeliveryResult::Outcome::Delivered, 200, {}, ""};
}
delivery::DeliveryResult transient() {
    return {delivery::DeliveryResult::Outcome::Retry, 503, {}, "HTTP 503"};
}

config::OutputSpec output(const std::string& name, int concurrency = 4) {
    config::OutputSpec o;
    o.name = name;
    o.concurrency = concurrency;
    o.retry.initialDelayMs = 5;
    o.retry.maxDelayMs = 20;
    o.retry.maxAttempts = 5;
    o.circuit.failureThreshold = 1000;
    return o;
}

store::OutboxRow row(std::int64_t id, const std::string& out, const std::string& key) {
    store::OutboxRow r;
    r.id = id;
    r.eventSeq = id;
    r.output = out;
    r.orderingKey = key;
    r.body = std::make_shared<const std::string>("{}");
    return r;
}

} // namespace

TEST_CASE("Dispatcher keeps per-key order through retries while keys proceed in parallel",
          "[delivery]") {
    FakeOutput fake;
    // Every third row fails twice before it goes through.
    fake.script = [](const store::OutboxRow& r, int n) {
        return (r.id % 3 == 0 && n <= 2) ? transient() : ok();
    };
    Results results;
    util::SystemClock clock;
    observability::Metrics metrics;
    delivery::Dispatcher d(
        {output("o")}, [&](const config::OutputSpec&) { return fake.factory(); }, results.sink(),
        clock, metrics);
    d.start();
    std::vector<store::OutboxRow> rows;
    for (int i = 1; i <= 300; ++i)
        rows.push_back(row(i, "o", "case-" + std::to_string(i % 10)));
    d.submit(rows);
    REQUIRE(testkit::waitUntil([&] { return results.deliveredCount() == 300; }, 20s));
    d.stop();

    // For each key, the successful deliveries happened in id order.
    std::map<std::int64_t, std::vector<std::int64_t>> perKey;
    for (auto id : results.delivered)
        perKey[id % 10].push_back(id);
    for (auto& [key, ids] : perKey)
        CHECK(std::is_sorted(ids.begin(), ids.end()));
    CHECK(results.retries.size() == 100);
    CHECK(results.deadCount() == 0);
    CHECK(d.depth() == 0);
}

TEST_CASE("Dispatcher dead-letters permanent refusals and rows out of attempts", "[delivery]") {
    FakeOutput fake;
    fake.script = [](const store::OutboxRow& r, int) {
        if (r.id == 1)
            return delivery::DeliveryResult{
                delivery::DeliveryResult::Outcome::Reject, 400, {}, "HTTP 400 bad"};
        if (r.id == 2) return transient();
        return ok();
    };
    Results results;
    util::SystemClock clock;
    observability::Metrics metrics;
    delivery::Dispatcher d(
        {output("o")}, [&](const config::OutputSpec&) { return fake.factory(); }, results.sink(),
        clock, metrics);
    d.start();
    // Row 3 shares row 1's key: the refusal of 1 must not hold 3 back.
    d.submit({row(1, "o", "k"), row(2, "o", "k2"), row(3, "o", "k"), row(4, "missing", "")});
    REQUIRE(testkit::waitUntil(
        [&] { return results.deadCount() == 3 && results.deliveredCount() == 1; }, 10s));
    d.stop();
    CHECK(results.dead[1] == "HTTP 400 bad");
    CHECK_THAT(results.dead[2], Catch::Contains("gave up after 5 attempts"));
    CHECK_THAT(results.dead[4], Catch::Contains("not defined"));
    CHECK(fake.attempts[1] == 1);
    CHECK(fake.attempts[2] == 5);
    CHECK(results.delivered == std::vector<std::int64_t>{3});
}

TEST_CASE("Dispatcher: a hanging output does not delay another output", "[delivery]") {
    std::atomic<bool> release{false};
    FakeOutput stuck, healthy;
    stuck.script = [&](const store::OutboxRow&, int) {
        testkit::waitUntil([&] { return release.load(); }, 30s);
        return ok();
    };
    healthy.script = [](const store::OutboxRow&, int) { return ok(); };
    Results results;
    util::SystemClock clock;
    observability::Metrics metrics;
    delivery::Dispatcher d(
        {output("stuck", 2), output("healthy", 2)},
        [&](const config::OutputSpec& o) {
            return o.name == "stuck" ? stuck.factory() : healthy.factory();
        },
        results.sink(), clock, metrics);
    d.start();
    std::vector<store::OutboxRow> rows;
    for (int i = 1; i <= 200; ++i)
        rows.push_back(row(i, i % 2 ? "stuck" : "healthy", ""));
    d.submit(rows);
    REQUIRE(testkit::waitUntil([&] { return results.deliveredCount() == 100; }, 10s));
    {
        std::lock_guard l(results.mu);
        for (auto id : results.delivered)
            CHECK(id % 2 == 0);
    }
    release = true;
    REQUIRE(testkit::waitUntil([&] { return results.deliveredCount() == 200; }, 10s));
    d.stop();
}

TEST_CASE("Backoff grows exponentially, caps, and jitters within bounds", "[delivery]") {
    config::RetryPolicy p;
    p.initialDelayMs = 100;
    p.multiplier = 2;
    p.maxDelayMs = 1000;
    p.jitter = 0;
    std::mt19937_64 rng(1);
    CHECK(delivery::backoffDelayMs(p, 1, rng) == 100);
    CHECK(delivery::backoffDelayMs(p, 2, rng) == 200);
    CHECK(delivery::backoffDelayMs(p, 4, rng) == 800);
    CHECK(delivery::backoffDelayMs(p, 5, rng) == 1000);
    CHECK(delivery::backoffDelayMs(p, 60, rng) == 1000);
    p.jitter = 0.2;
    std::set<std::int64_t> seen;
    for (int i = 0; i < 200; ++i) {
        auto d = delivery::backoffDelayMs(p, 3, rng);
        CHECK(d >= 320);
        CHECK(d <= 480);
        seen.insert(d);
    }
    CHECK(seen.size() > 10); // really spread
}

TEST_CASE("CircuitBreaker opens after consecutive failures and lets one probe through",
          "[delivery]") {
    delivery::CircuitBreaker b({3, 1000});
    CHECK(b.tryAcquire(0));
    b.onFailure(0);
    b.onFailure(0);
    CHECK(b.state() == delivery::CircuitBreaker::State::Closed);
    b.onSuccess(); // success resets the count
    b.onFailure(10);
    b.onFailure(10);
    b.onFailure(10);
    CHECK(b.state() == delivery::CircuitBreaker::State::Open);
    CHECK_FALSE(b.tryAcquire(500));
    CHECK(b.tryAcquire(1010)); // the probe
    CHECK(b.state() == delivery::CircuitBreaker::State::HalfOpen);
    CHECK_FALSE(b.tryAcquire(1010)); // only one
    b.onFailure(1020);               // probe failed: open again
    CHECK(b.state() == delivery::CircuitBreaker::State::Open);
    CHECK_FALSE(b.tryAcquire(1500));
    CHECK(b.tryAcquire(2020));
    b.onSuccess();
    CHECK(b.state() == delivery::CircuitBreaker::State::Closed);
    CHECK(b.tryAcquire(2021));
}

TEST_CASE("Dispatcher waits at least Retry-After before the next attempt", "[delivery]") {
    FakeOutput fake;
    std::mutex tm;
    std::vector<std::chrono::steady_clock::time_point> times;
    fake.script = [&](const store::OutboxRow&, int n) {
        {
            std::lock_guard l(tm);
            times.push_back(std::chrono::steady_clock::now());
        }
        if (n == 1)
            return delivery::DeliveryResult{delivery::DeliveryResult::Outcome::Retry, 429, 300,
                                            "HTTP 429"};
        return ok();
    };
    Results results;
    util::SystemClock clock;
    observability::Metrics metrics;
    delivery::Dispatcher d(
        {output("o", 1)}, [&](const config::OutputSpec&) { return fake.factory(); }, results.sink(),
        clock, metrics);
    d.start();
    d.submit({row(1, "o", "")});
    REQUIRE(testkit::waitUntil([&] { return results.deliveredCount() == 1; }, 10s));
    d.stop();
    std::lock_guard l(tm);
    REQUIRE(times.size() == 2);
    CHECK(times[1] - times[0] >= std::chrono::milliseconds(290)); // backoff alone would be ~5 ms
}

TEST_CASE(
    "OutputLane keeps a bounded window in memory and reads the backlog from the journal in order",
    "[delivery]") {
    testkit::TempDir dir;
    store::Journal journal(dir.path(), "full");
    std::mutex jm;
    // 30 rows pending from "before the restart", then 270 more arriving while it runs.
    auto addRows = [&](int from, int to) {
        std::vector<store::OutboxRow> rows;
        std::lock_guard l(jm);
        journal.begin();
        for (int i = from; i < to; ++i) {
            auto seq = journal.insertEvent("/s", "e" + std::to_string(i), "t", "i", "c", 1, "{}");
            store::OutboxRow r;
            r.eventSeq = seq;
            r.output = "o";
            r.orderingKey = "case-" + std::to_string(i % 4);
            r.nextAtMs = 0;
            r.id = journal.insertOutbox(r, 0, 1);
            r.body = std::make_shared<const std::string>("{}");
            rows.push_back(r);
        }
        journal.commit();
        return rows;
    };
    addRows(0, 30);
    delivery::OutboxReader reader{[&](const std::string& out, std::int64_t after, int limit) {
                                      std::lock_guard l(jm);
                                      return journal.pendingOutboxFor(out, after, limit);
                                  },
                                  [&](const std::string& out) {
                                      std::lock_guard l(jm);
                                      return journal.countPending(out);
                                  }};

    constexpr int Bound = 8;
    std::atomic<std::int64_t> maxInMemory{0};
    delivery::OutputLane* lanePtr = nullptr;
    FakeOutput fake;
    fake.script = [&](const store::OutboxRow& r, int n) {
        auto m = lanePtr->inMemory();
        for (auto cur = maxInMemory.load();
             m > cur && !maxInMemory.compare_exchange_weak(cur, m);) {
        }
        return (r.id % 5 == 0 && n == 1) ? transient() : ok();
    };
    Results results;
    util::SystemClock clock;
    observability::Metrics metrics;
    delivery::OutputLane lane(output("o", 3), fake.factory(), results.sink(), reader, clock,
                              metrics, Bound);
    lanePtr = &lane;
    CHECK(lane.depth() == 30);
    lane.start();
    for (int batch = 0; batch < 9; ++batch)
        for (auto& r : addRows(30 + batch * 30, 60 + batch * 30))
            lane.submit(r);
    REQUIRE(testkit::waitUntil([&] { return results.deliveredCount() == 300; }, 20s));
    lane.stop();
    CHECK(lane.depth() == 0);
    CHECK(maxInMemory.load() <= Bound + 1); // +1: a row may be counted while being finished
    std::map<std::int64_t, std::vector<std::int64_t>> perKey;
    std::set<std::int64_t> unique;
    {
        std::lock_guard l(results.mu);
        for (auto id : results.delivered) {
            perKey[id % 4].push_back(id);
            unique.insert(id);
        }
    }
    CHECK(unique.size() == 300);
    for (auto& [k, ids] : perKey)
        CHECK(std::is_sorted(ids.begin(), ids.end()));
}

namespace {

// A destination that never answers: deliver() returns only once abort() is called.
struct HangingClient : delivery::OutputClient {
    std::mutex mu;
    std::condition_variable cv;
    bool aborted = false;
    std::atomic<int>* started;
    delivery::DeliveryResult deliver(const store::OutboxRow&) override {
        ++*started;
        std::unique_lock l(mu);
        cv.wait(l, [&] { return aborted; });
        return {delivery::DeliveryResult::Outcome::Retry, 0, {}, "cut off"};
    }
    void abort() noexcept override {
        {
            std::lock_guard l(mu);
            aborted = true;
        }
        cv.notify_all();
    }
};

} // namespace

TEST_CASE("Dispatcher stop cuts off deliveries still waiting at its deadline, and their rows are "
          "retried",
          "[delivery]") {
    std::atomic<int> started{0};
    Results results;
    util::SystemClock clock;
    observability::Metrics metrics;
    delivery::Dispatcher d(
        {output("o", 2)},
        [&](const config::OutputSpec&) {
            return [&]() -> std::unique_ptr<delivery::OutputClient> {
                auto c = std::make_unique<HangingClient>();
                c->started = &started;
                return c;
            };
        },
        results.sink(), clock, metrics);
    d.start();
    d.submit({row(1, "o", "a"), row(2, "o", "b")});
    REQUIRE(testkit::waitUntil([&] { return started.load() == 2; }, 10s));
    const auto begin = std::chrono::steady_clock::now();
    d.stop(begin + 200ms);
    CHECK(std::chrono::steady_clock::now() - begin < 5s);
    std::lock_guard l(results.mu);
    CHECK(results.retries.size() == 2);
    CHECK(results.delivered.empty());
}

TEST_CASE("Dispatcher hands running lanes to its successor and stops the others", "[delivery]") {
    FakeOutput kept, replaced;
    kept.script = [](const store::OutboxRow&, int) { return ok(); };
    replaced.script = kept.script;
    Results results;
    util::SystemClock clock;
    observability::Metrics metrics;
    auto factories = [&](const config::OutputSpec& o) {
        return o.name == "kept" ? kept.factory() : replaced.factory();
    };
    auto first = std::make_unique<delivery::Dispatcher>(
        std::vector<config::OutputSpec>{output("kept"), output("replaced")}, factories,
        results.sink(), clock, metrics);
    first->start();
    first->stopExcept({"kept"}, std::chrono::steady_clock::now() + 1s);
    // Stopped lanes stay in place and count what is handed to them meanwhile.
    first->submit({row(1, "kept", "k"), row(2, "replaced", "r")});
    REQUIRE(testkit::waitUntil([&] { return results.deliveredCount() == 1; }, 10s));
    CHECK(first->depth() == 1);

    auto second =
        std::make_unique<delivery::Dispatcher>(std::vector<config::OutputSpec>{output("replaced")},
                                               factories, results.sink(), clock, metrics);
    second->adopt(first->release({"kept"}));
    first.reset();
    second->start();
    second->submit({row(3, "kept", "k"), row(4, "replaced", "r")});
    REQUIRE(testkit::waitUntil([&] { return results.deliveredCount() == 3; }, 10s));
    CHECK(metrics.render().find("onewindow_outbox_depth{output=\"replaced\"}") !=
          std::string::npos);
    second->stop();
    CHECK(results.deadCount() == 0);
}
