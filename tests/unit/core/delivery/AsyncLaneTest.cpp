// A lane whose client delivers asynchronously (as MQTT publishes waiting for PUBACK do): one
// thread keeps up to `concurrency` deliveries in flight, answers arrive on other threads, a
// delivery without an answer in time is retried and its late answer ignored, and answers that
// come after stop() never touch the stopped lane.
#include <catch2/catch.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/delivery/Dispatcher.h"
#include "tests/support/Wait.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

using Outcome = delivery::DeliveryResult::Outcome;

// Holds every started delivery until the test answers it, from the test's own thread (as
// Paho answers from its receive thread).
struct Broker {
    struct Pending {
        store::OutboxRow row;
        delivery::DeliveryCompletion done;
    };
    std::mutex mu;
    std::deque<Pending> pending;
    std::map<std::int64_t, int> starts;
    std::vector<std::thread::id> startedOn; // the thread of each start, in order
    std::size_t maxInFlight = 0;

    void add(const store::OutboxRow& r, delivery::DeliveryCompletion done) {
        std::lock_guard l(mu);
        pending.push_back({r, std::move(done)});
        ++starts[r.id];
        startedOn.push_back(std::this_thread::get_id());
        maxInFlight = std::max(maxInFlight, pending.size());
    }
    std::size_t inFlight() {
        std::lock_guard l(mu);
        return pending.size();
    }
    // Answers the oldest pending delivery; false if none.
    bool answerOne(Outcome outcome = Outcome::Delivered) {
        Pending p;
        {
            std::lock_guard l(mu);
            if (pending.empty()) return false;
            p = std::move(pending.front());
            pending.pop_front();
        }
        p.done({outcome, 0, std::nullopt, outcome == Outcome::Delivered ? "" : "nack"});
        return true;
    }
    // Takes the pending deliveries without answering them (yet).
    std::deque<Pending> takeAll() {
        std::lock_guard l(mu);
        return std::exchange(pending, {});
    }
};

struct AsyncClient : delivery::OutputClient {
    Broker* broker;
    bool chains = false;       // may be started from a completion (as the MQTT client)
    bool failFirstTry = false; // every row's first start fails at once, on the caller's thread
    std::mutex triedMu;        // starts come from the lane's thread and from completions
    std::set<std::int64_t> tried;
    delivery::DeliveryResult deliver(const store::OutboxRow&) override {
        FAIL("an asynchronous client's lane must not call deliver()");
        return {};
    }
    bool asynchronous() const override { return true; }
    bool startsFromCompletions() const override { return chains; }
    void deliverAsync(const store::OutboxRow& r, delivery::DeliveryCompletion done) override {
        bool first = false;
        if (failFirstTry) {
            std::lock_guard l(triedMu);
            first = tried.insert(r.id).second;
        }
        if (first) {
            done({Outcome::Retry, 0, std::nullopt, "not connected"});
            return;
        }
        broker->add(r, std::move(done));
    }
};

delivery::OutputClientFactory clientsOf(Broker& broker, bool chains = false,
                                        bool failFirstTry = false) {
    return [&broker, chains, failFirstTry] {
        auto c = std::make_unique<AsyncClient>();
        c->broker = &broker;
        c->chains = chains;
        c->failFirstTry = failFirstTry;
        return c;
    };
}

struct Results {
    std::mutex mu;
    std::vector<std::int64_t> delivered;
    int retries = 0;
    delivery::ResultSink sink() {
        return {[this](std::int64_t id) {
                    std::lock_guard l(mu);
                    delivered.push_back(id);
                },
                [this](std::int64_t, int, std::int64_t, const std::string&) {
                    std::lock_guard l(mu);
                    ++retries;
                },
                [](std::int64_t, int, const std::string&) {}};
    }
    std::size_t count() {
        std::lock_guard l(mu);
        return delivered.size();
    }
};

config::OutputSpec spec(int window, std::int64_t timeoutMs = 10000) {
    config::OutputSpec o;
    o.name = "mqtt";
    o.concurrency = window;
    o.readTimeoutMs = timeoutMs;
    o.retry.initialDelayMs = 5;
    o.retry.maxDelayMs = 20;
    o.retry.maxAttempts = 100;
    o.circuit.failureThreshold = 1000;
    return o;
}

store::OutboxRow row(std::int64_t id, const std::string& key) {
    store::OutboxRow r;
    r.id = id;
    r.eventSeq = id;
    r.output = "mqtt";
    r.orderingKey = key;
    r.body = std::make_shared<const std::string>("{}");
    return r;
}

} // namespace

TEST_CASE("Async lane keeps at most `concurrency` deliveries in flight and per-key order",
          "[delivery]") {
    Broker broker;
    Results results;
    util::SystemClock clock;
    observability::Metrics metrics;
    delivery::OutputLane lane(spec(8), clientsOf(broker), results.sink(), {}, clock, metrics);
    lane.start();
    for (int i = 1; i <= 400; ++i)
        lane.submit(row(i, "case-" + std::to_string(i % 20)));
    // The test plays the broker: it answers whatever is in flight until all is delivered;
    // every fifth answer is a failure, which must be retried in order.
    int answered = 0;
    REQUIRE(testkit::waitUntil(
        [&] {
            while (broker.answerOne(++answered % 5 == 0 ? Outcome::Retry : Outcome::Delivered)) {
            }
            return results.count() == 400;
        },
        20s, 1ms));
    lane.stop();
    CHECK(broker.maxInFlight <= 8);
    CHECK(broker.maxInFlight >= 2); // several in flight: the point of the asynchronous path
    CHECK(results.retries > 0);
    std::map<int, std::vector<std::int64_t>> perKey;
    for (auto id : results.delivered)
        perKey[static_cast<int>(id % 20)].push_back(id);
    for (auto& [key, ids] : perKey)
        CHECK(std::is_sorted(ids.begin(), ids.end()));
    CHECK(lane.depth() == 0);
}

TEST_CASE("Async lane retries a delivery that is not answered in time and ignores the late answer",
          "[delivery]") {
    Broker broker;
    Results results;
    util::SystemClock clock;
    observability::Metrics metrics;
    delivery::OutputLane lane(spec(4, /*timeoutMs=*/50), clientsOf(broker), results.sink(), {},
                              clock, metrics);
    lane.start();
    lane.submit(row(1, "k"));
    REQUIRE(testkit::waitUntil([&] { return broker.inFlight() == 1; }, 5s));
    auto first = broker.takeAll(); // never answered within 50 ms
    REQUIRE(testkit::waitUntil([&] { return broker.inFlight() == 1; }, 5s)); // the retry
    CHECK(results.retries >= 1);
    first.front().done({Outcome::Delivered, 0, std::nullopt, ""}); // late: ignored
    CHECK(results.count() == 0);
    REQUIRE(broker.answerOne());
    REQUIRE(testkit::waitUntil([&] { return results.count() == 1; }, 5s));
    lane.stop();
    CHECK(results.delivered == std::vector<std::int64_t>{1});
}

TEST_CASE("Async lane: answers that arrive after stop() are dropped, the rows stay pending",
          "[delivery]") {
    Broker broker;
    Results results;
    util::SystemClock clock;
    observability::Metrics metrics;
    std::deque<Broker::Pending> unanswered;
    {
        delivery::OutputLane lane(spec(4, /*timeoutMs=*/100), clientsOf(broker), results.sink(), {},
                                  clock, metrics);
        lane.start();
        for (int i = 1; i <= 3; ++i)
            lane.submit(row(i, ""));
        REQUIRE(testkit::waitUntil([&] { return broker.inFlight() == 3; }, 5s));
        unanswered = broker.takeAll();
        lane.stop(); // waits up to the timeout for answers, then closes the gate
    }                // the lane is gone
    for (auto& p : unanswered)
        p.done({Outcome::Delivered, 0, std::nullopt, ""}); // must not touch the dead lane
    CHECK(results.count() == 0);
}

TEST_CASE("Async lane reads a backlog larger than its memory bound without waiting for a timer",
          "[delivery]") {
    // 600 pending rows in the "journal", 8 in memory at most, a window of 64: the lane must
    // read the next rows as soon as landings bring it down to half its bound. The broker
    // answers all but the newest delivery, so no landing ever empties the window; without
    // that wake the pump slept until its next timer (a second) for every few rows.
    Broker broker;
    Results results;
    util::SystemClock clock;
    observability::Metrics metrics;
    std::vector<store::OutboxRow> journal;
    for (int i = 1; i <= 600; ++i)
        journal.push_back(row(i, ""));
    delivery::OutboxReader reader;
    reader.load = [&journal](const std::string&, std::int64_t afterId, int limit) {
        std::vector<store::OutboxRow> out;
        for (const auto& r : journal)
            if (r.id > afterId && static_cast<int>(out.size()) < limit) out.push_back(r);
        return out;
    };
    reader.countPending = [&journal](const std::string&) {
        return static_cast<std::int64_t>(journal.size());
    };
    delivery::OutputLane lane(spec(64), clientsOf(broker), results.sink(), reader, clock, metrics,
                              /*maxRowsInMemory=*/8);
    lane.start();
    REQUIRE(testkit::waitUntil(
        [&] {
            while (broker.inFlight() > 1)
                broker.answerOne();
            if (results.count() == journal.size() - 1) broker.answerOne();
            return results.count() == journal.size();
        },
        20s, 1ms));
    lane.stop();
    CHECK(broker.maxInFlight <= 8);
    std::vector<std::int64_t> ids(results.delivered);
    std::sort(ids.begin(), ids.end());
    CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end()); // none twice
}

TEST_CASE("Async lane starts the next delivery on the thread of the completion when the client "
          "allows it",
          "[delivery]") {
    Broker broker;
    Results results;
    util::SystemClock clock;
    observability::Metrics metrics;
    delivery::OutputLane lane(spec(1), clientsOf(broker, /*chains=*/true), results.sink(), {},
                              clock, metrics);
    lane.start();
    for (int i = 1; i <= 3; ++i)
        lane.submit(row(i, "k" + std::to_string(i)));
    REQUIRE(testkit::waitUntil([&] { return broker.inFlight() == 1; }, 5s));
    // Each answer starts the next row before it returns, here on the test's thread (Paho's
    // receive thread in the hub): no wake-up of the lane's thread per message.
    REQUIRE(broker.answerOne());
    CHECK(broker.inFlight() == 1);
    REQUIRE(broker.answerOne());
    CHECK(broker.inFlight() == 1);
    REQUIRE(broker.answerOne());
    REQUIRE(testkit::waitUntil([&] { return results.count() == 3; }, 5s));
    lane.stop();
    std::lock_guard l(broker.mu);
    REQUIRE(broker.startedOn.size() == 3);
    CHECK(broker.startedOn[0] != std::this_thread::get_id()); // the lane's own thread
    CHECK(broker.startedOn[1] == std::this_thread::get_id());
    CHECK(broker.startedOn[2] == std::this_thread::get_id());
}

TEST_CASE("Async lane: a delivery started from a completion that fails at once is retried, "
          "without recursion",
          "[delivery]") {
    Broker broker;
    Results results;
    util::SystemClock clock;
    observability::Metrics metrics;
    delivery::OutputLane lane(spec(2), clientsOf(broker, /*chains=*/true, /*failFirstTry=*/true),
                              results.sink(), {}, clock, metrics);
    lane.start();
    for (int i = 1; i <= 50; ++i)
        lane.submit(row(i, "k" + std::to_string(i)));
    REQUIRE(testkit::waitUntil(
        [&] {
            while (broker.answerOne()) {
            }
            return results.count() == 50;
        },
        20s, 1ms));
    lane.stop();
    CHECK(results.retries == 50); // every first try failed, and was retried
    CHECK(lane.depth() == 0);
}
