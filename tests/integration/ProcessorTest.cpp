// Processor plugins inside the running hub: an output names `processor: plugin/component`;
// the processor's state writes, timers and emitted events are committed in one transaction
// with "event handled", so after SIGKILLs its counts equal the events accepted; a processor
// that throws, rejects or emits an invalid event affects only its own output.
#include "tests/integration/JournalPeek.h"

#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

std::size_t countType(const testkit::Receiver& rx, const std::string& type) {
    return rx.countFor([&](const testkit::ReceivedRequest& q) {
        return q.status == 200 && q.body.find("\"type\":\"" + type + "\"") != std::string::npos;
    });
}

/// A hub with the test plugin loaded and one HTTP input; `rest` adds outputs and routes.
std::string withTestPlugin(const testkit::TempDir& dir, const std::string& rest,
                           const std::string& logLevel = "info") {
    return R"(
hub:
  plugin_dirs: [ ")" +
           itest::pluginDir(dir, {"ow_test_plugin_good"}) + R"(" ]
  log_level: )" +
           logLevel + R"(
inputs:
  - { name: events, path: /v1/events }
plugins:
  - { name: test-good, file: ow_test_plugin_good.so }
)" + rest;
}

} // namespace

TEST_CASE("Processors: state, timers and emitted events are committed with the event",
          "[integration][plugin][processor]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, withTestPlugin(dir, R"(
outputs:
  - name: ledger
    processor: test-good/counter
    config: { emit_type: test.counted, timer_ms: 150 }
  - { name: rx, url: ")" + rx.url("/events") +
                                                R"(" }
routes:
  - { name: cases, match: { type: "gov.case.*" }, to: [ ledger ] }
  - { name: counted, match: { type: "test.counted*" }, to: [ rx ] }
)"));
    hub.start();
    constexpr int N = 20;
    for (int i = 0; i < N; ++i)
        REQUIRE(testkit::postCloudEvent(hub.url(),
                                        itest::event("c-" + std::to_string(i), "gov.case.submitted",
                                                     "SS-" + std::to_string(i % 4)))
                    .status == 202);
    // A repeat of an accepted event is a duplicate at the door: not processed again.
    REQUIRE(testkit::postCloudEvent(hub.url(), itest::event("c-0")).status == 200);

    // One emitted event per event, and one more per timer, all routed onwards.
    REQUIRE(testkit::waitUntil(
        [&] {
            return countType(rx, "test.counted") == N && countType(rx, "test.counted.timer") == N;
        },
        30s));
    CHECK(itest::pluginNumber(hub, "ledger", "count") == N);
    CHECK(itest::pluginNumber(hub, "ledger", "timers") == N);
    CHECK(itest::pluginNumber(hub, "ledger", "dups") == 0);
    CHECK(itest::eventsFrom(hub, "processor:ledger") == 2 * N);
    // The emitted events carry the hub's defaults: source, and ids that repeat on a replay.
    auto snap = rx.snapshot();
    REQUIRE(!snap.empty());
    auto first = nlohmann::json::parse(snap.front().body);
    CHECK(first["source"] == "onewindow://processor/ledger");
    CHECK_THAT(first["id"].get<std::string>(), Catch::StartsWith("ledger-"));
    CHECK(hub.metric("onewindow_processor_timers_fired_total{plugin=\"test-good\",instance="
                     "\"ledger\"}") == N);
    CHECK(hub.metric("onewindow_processor_emitted_events_total{plugin=\"test-good\",instance="
                     "\"ledger\"}") == 2 * N);
    auto exit = hub.terminate();
    CHECK(exit.code == 0);
}

TEST_CASE("Processors: a throw, a reject or an invalid emitted event stays in its own output",
          "[integration][plugin][processor]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, withTestPlugin(dir, R"(
outputs:
  - name: ledger
    processor: test-good/counter
    retry: { initial_delay_ms: 20, max_delay_ms: 50, max_attempts: 3 }
  - { name: rx, url: ")" + rx.url("/events") +
                                                R"(" }
routes:
  - { name: all-to-ledger, to: [ ledger ] }
  - { name: all-to-rx, to: [ rx ] }
)"));
    hub.start();
    for (const auto& [id, type] :
         std::vector<std::pair<std::string, std::string>>{{"t-1", "test.throw"},
                                                          {"r-1", "test.reject"},
                                                          {"i-1", "test.invalid-emit"},
                                                          {"ok-1", "test.ok"},
                                                          {"ok-2", "test.ok"}})
        REQUIRE(testkit::postCloudEvent(hub.url(), itest::event(id, type)).status == 202);

    REQUIRE(rx.waitForDelivered(5, 20s));
    nlohmann::json dead;
    REQUIRE(testkit::waitUntil(
        [&] {
            auto [code, out] = hub.cli({"dlq", "list", "--json"});
            dead = code == 0 ? nlohmann::json::parse(out) : nlohmann::json::array();
            return dead.size() == 3;
        },
        30s));
    std::map<std::string, std::string> why;
    for (const auto& d : dead)
        why[d["event_id"]] = d["last_error"];
    CHECK_THAT(why["t-1"], Catch::Contains("gave up after 3 attempts") &&
                               Catch::Contains("processor asked to throw"));
    CHECK(why["r-1"] == "processor test-good/counter: type test.reject is refused");
    CHECK_THAT(why["i-1"], Catch::Contains("emitted event 0") && Catch::Contains("is invalid"));
    // Nothing of the refused calls was committed: only the two good events count.
    REQUIRE(
        testkit::waitUntil([&] { return itest::pluginNumber(hub, "ledger", "count") == 2; }, 20s));
    CHECK(itest::pluginState(hub, "ledger", "count") == std::optional<std::string>("2"));
    CHECK(itest::eventsFrom(hub, "processor:ledger") == 0);
    CHECK(hub.running());
}

TEST_CASE("Processors: a call past its deadline is answered, and nothing is lost or counted twice",
          "[integration][plugin][processor]") {
    constexpr int N = 20;
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, withTestPlugin(dir, R"(
outputs:
  - name: ledger
    processor: test-good/counter
    config: { hang_ms: 2500 }
    read_timeout_ms: 300
    retry: { initial_delay_ms: 20, max_delay_ms: 100, max_attempts: 1000 }
    circuit: { open_ms: 200 }
  - { name: rx, url: ")" + rx.url("/events") +
                                                R"(" }
routes:
  - { name: all-to-ledger, to: [ ledger ] }
  - { name: all-to-rx, to: [ rx ] }
)"));
    hub.start();
    const std::string stuck = "onewindow_plugin_stuck{plugin=\"test-good\",instance=\"ledger\"}";
    REQUIRE(testkit::postCloudEvent(hub.url(), itest::event("hang-1", "test.hang")).status == 202);
    REQUIRE(testkit::waitUntil([&] { return hub.metric(stuck) == 1; }, 10s));
    // While the processor is stuck, the events behind it are refused and retried, and the
    // other route flows.
    for (int i = 0; i < N; ++i)
        REQUIRE(
            testkit::postCloudEvent(hub.url(), itest::event("ok-" + std::to_string(i), "test.ok",
                                                            "SS-" + std::to_string(i)))
                .status == 202);
    REQUIRE(rx.waitForDelivered(N + 1, 20s));
    CHECK(hub.metric(stuck) == 1);

    // Once the call returns, everything is processed exactly once.
    REQUIRE(testkit::waitUntil([&] { return itest::pluginNumber(hub, "ledger", "count") == N + 1; },
                               30s));
    REQUIRE(testkit::waitUntil([&] { return hub.metric(stuck) == 0; }, 10s));
    REQUIRE(testkit::waitUntil(
        [&] { return hub.metric("onewindow_outbox_depth{output=\"ledger\"}") == 0; }, 30s));
    CHECK(itest::pluginNumber(hub, "ledger", "dups") == 0);
    CHECK_THAT(hub.log(), Catch::Contains("overran its deadline"));
    auto [code, out] = hub.cli({"dlq", "list", "--json"});
    CHECK(code == 0);
    CHECK(nlohmann::json::parse(out).empty());
    const double refused = hub.metric(
        "onewindow_processor_commits_refused_total{plugin=\"test-good\",instance=\"ledger\"}");
    const double retried =
        hub.metric("onewindow_deliveries_total{output=\"ledger\",outcome=\"retry\"}");
    auto exit = hub.terminate();
    CHECK(exit.code == 0);
    const long count = itest::pluginNumber(hub, "ledger", "count");
    // For the record (a double count was seen once in CI and not reproduced since).
    std::cout << "processor-hang-test: events=" << N + 1 << " counted=" << count
              << " dups=" << itest::pluginNumber(hub, "ledger", "dups")
              << " commits_refused=" << refused << " retries=" << retried << std::endl;
    CHECK(count == N + 1);
}

TEST_CASE("Processors: counts equal accepted events across SIGKILLs during processing",
          "[integration][plugin][processor][crash]") {
    constexpr int Events = 3000;
    constexpr int Kills = 3;
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, withTestPlugin(dir,
                                       R"(
outputs:
  - name: ledger
    processor: test-good/counter
    config: { emit_type: test.counted }
  - { name: rx, url: ")" + rx.url("/events") +
                                           R"(", concurrency: 8 }
routes:
  - { name: cases, match: { type: "gov.case.*" }, to: [ ledger ] }
  - { name: counted, match: { type: "test.counted" }, to: [ rx ] }
)",
                                       "warn"));
    hub.start();
    std::string acked = dir.file("acked.txt");
    auto load = testkit::Process::spawn({itest::tool("loadgen"),
                                         "--url",
                                         hub.url(),
                                         "--events",
                                         std::to_string(Events),
                                         "--rate",
                                         "600",
                                         "--concurrency",
                                         "8",
                                         "--id-prefix",
                                         "ev",
                                         "--acked-file",
                                         acked,
                                         "--retry-until-ms",
                                         "120000",
                                         "--timeout-ms",
                                         "3000",
                                         "--subjects",
                                         "50",
                                         "--type",
                                         "gov.case.submitted"},
                                        {}, dir.file("loadgen.out"), dir.file("loadgen.err"));
    auto ackedCount = [&] {
        std::ifstream in(acked);
        return static_cast<long>(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
    };
    int kills = 0;
    for (long last = 0; kills < Kills; ++kills) {
        // Kill while events are flowing and the processor is busy with them.
        bool flowing = testkit::waitUntil(
            [&] { return ackedCount() >= last + Events / (2 * Kills) || !load.running(); }, 60s);
        if (!flowing || !load.running()) break;
        last = ackedCount();
        hub.kill();
        hub.restart();
    }
    CHECK(kills == Kills);
    auto loadExit = load.waitExit(120s);
    REQUIRE(loadExit);
    CHECK(loadExit->code == 0);

    // Every accepted event is processed once, and its emitted event delivered.
    const long accepted = itest::eventsFrom(hub, "events");
    CHECK(accepted >= ackedCount());
    REQUIRE(testkit::waitUntil(
        [&] { return itest::pluginNumber(hub, "ledger", "count") >= accepted; }, 60s));
    REQUIRE(rx.waitForDelivered(static_cast<std::size_t>(accepted), 60s));
    auto exit = hub.terminate();
    CHECK(exit.code == 0);
    const long count = itest::pluginNumber(hub, "ledger", "count");
    const long dups = itest::pluginNumber(hub, "ledger", "dups");
    std::cout << "processor-crash-test: kills=" << kills << " acked=" << ackedCount()
              << " accepted=" << accepted << " counted=" << count << " processed_twice=" << dups
              << " emitted=" << itest::eventsFrom(hub, "processor:ledger") << std::endl;
    CHECK(count == accepted);
    CHECK(dups == 0);
    CHECK(itest::eventsFrom(hub, "processor:ledger") == accepted);
}
