// Plugin sinks inside the running hub: an output names `sink: plugin/component`; a sink that
// rejects, throws or hangs sends the event at hand to retry and the dead-letter queue with the
// plugin's message, and never delays another route; bad plugins and bad sink configs are
// refused at start and by `onewindow check` with file:line:column messages.
#include "tests/integration/JournalPeek.h"

#include <filesystem>

#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/Version.h>

#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string config(const std::string& plugins, const std::string& rxUrl,
                   const std::string& pickyConfig = "{ mode: strict }",
                   const std::string& file = "ow_test_plugin_good.so") {
    return R"(
hub: { plugin_dirs: [ ")" +
           plugins + R"(" ] }
inputs:
  - { name: events, path: /v1/events }
plugins:
  - { name: test-good, file: )" +
           file + R"( }
outputs:
  - name: picky
    sink: test-good/picky
    config: )" +
           pickyConfig + R"(
    read_timeout_ms: 2000
    retry: { initial_delay_ms: 20, max_delay_ms: 50, max_attempts: 3 }
  - name: sleepy
    sink: test-good/sleepy
    read_timeout_ms: 200
    retry: { initial_delay_ms: 20, max_delay_ms: 50, max_attempts: 2 }
    circuit: { failure_threshold: 100 }
  - { name: rx, url: ")" +
           rxUrl + R"(" }
routes:
  - { name: to-picky, match: { type: "test.*" }, to: [ picky ] }
  - { name: to-sleepy, match: { type: "test.hang" }, to: [ sleepy ] }
  - { name: all, to: [ rx ] }
)";
}

nlohmann::json deadLetters(itest::Hub& hub) {
    auto [code, out] = hub.cli({"dlq", "list", "--json"});
    REQUIRE(code == 0);
    return nlohmann::json::parse(out);
}

std::string reasonFor(const nlohmann::json& dead, const std::string& output,
                      const std::string& id) {
    for (const auto& d : dead)
        if (d["output"] == output && d["event_id"] == id) return d["last_error"];
    return "";
}

} // namespace

TEST_CASE("Plugin sinks: rejects, throws and hangs are contained to their own output",
          "[integration][plugin]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, config(itest::pluginDir(dir, {"ow_test_plugin_good"}), rx.url("/events")));
    hub.start();

    // The hanging event first: while its sink is stuck, everything else must still flow.
    REQUIRE(testkit::postCloudEvent(hub.url(), itest::event("hang-1", "test.hang")).status == 202);
    for (int i = 0; i < 5; ++i)
        REQUIRE(
            testkit::postCloudEvent(hub.url(), itest::event("ok-" + std::to_string(i), "test.ok"))
                .status == 202);
    REQUIRE(testkit::postCloudEvent(hub.url(), itest::event("rej-1", "test.reject")).status == 202);
    REQUIRE(testkit::postCloudEvent(hub.url(), itest::event("throw-1", "test.throw")).status ==
            202);

    // Every event reaches the HTTP route, hang or no hang.
    REQUIRE(rx.waitForDelivered(8, 20s));
    // The picky sink delivered the six it accepts (5 ok + the hang event).
    REQUIRE(testkit::waitUntil(
        [&] {
            return hub.metric(
                       "onewindow_deliveries_total{output=\"picky\",outcome=\"delivered\"}") == 6;
        },
        20s));
    nlohmann::json dead;
    REQUIRE(testkit::waitUntil(
        [&] {
            dead = deadLetters(hub);
            return dead.size() == 3;
        },
        30s));
    CHECK(reasonFor(dead, "picky", "rej-1") == "sink test-good/picky: type test.reject is refused");
    CHECK_THAT(reasonFor(dead, "picky", "throw-1"),
               Catch::Contains("gave up after 3 attempts") &&
                   Catch::Contains("threw: sink asked to throw"));
    auto hang = reasonFor(dead, "sleepy", "hang-1");
    CHECK_THAT(hang, Catch::Contains("gave up after 2 attempts"));
    CHECK((hang.find("did not return within 200 ms") != std::string::npos ||
           hang.find("is stuck") != std::string::npos));
    CHECK(hub.metric("onewindow_plugin_stuck{plugin=\"test-good\",instance=\"sleepy\"}") == 1);
    CHECK(hub.running());
    // A clean stop does not wait for the stuck call.
    auto exit = hub.terminate();
    CHECK(exit.exited);
    CHECK(exit.code == 0);
}

TEST_CASE("Plugin sinks: a bad sink config or a wrong-ABI plugin is refused with its position",
          "[integration][plugin]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    auto plugins = itest::pluginDir(dir, {"ow_test_plugin_good", "ow_test_plugin_bad_abi"});

    itest::Hub bad(dir, config(plugins, rx.url("/events"), "{ mode: strct, colour: red }"), "bad");
    auto [code, out] = bad.cli({"check"});
    CHECK(code == 1);
    CHECK_THAT(out, Catch::Contains("bad.yaml:10:28: unknown key 'colour' in 'config' of output "
                                    "'picky' (sink test-good/picky)"));
    CHECK_THAT(out, Catch::Contains("bad.yaml:10:21: 'mode' must be one of strict, lenient, got "
                                    "\"strct\" (did you mean 'strict'?)"));

    itest::Hub abi(dir, config(plugins, rx.url("/events"), "{}", "ow_test_plugin_bad_abi.so"),
                   "abi");
    auto [code2, out2] = abi.cli({"check"});
    CHECK(code2 == 1);
    CHECK_THAT(out2,
               Catch::Contains("was built for plugin ABI 999 (SDK 9.9.9); this hub speaks ABI " +
                               std::to_string(onewindow::sdk::AbiVersion) +
                               ": rebuild the plugin against OneWindow SDK"));

    itest::Hub good(dir, config(plugins, rx.url("/events")), "good");
    auto [code3, out3] = good.cli({"check"});
    INFO(out3);
    CHECK(code3 == 0);
}

TEST_CASE("Plugin sources: emitted events are journaled and routed, a failing run() is run again",
          "[integration][plugin]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, R"(
hub: { plugin_dirs: [ ")" + itest::pluginDir(dir, {"ow_test_plugin_good"}) +
                            R"(" ] }
plugins:
  - { name: test-good, file: ow_test_plugin_good.so }
inputs:
  - name: ticker
    source: test-good/ticker
    config: { count: 25, prefix: t, fail_first_run: true }
outputs:
  - { name: rx, url: ")" + rx.url("/events") +
                            R"(" }
routes:
  - { name: all, to: [ rx ] }
)");
    hub.start();
    REQUIRE(rx.waitForDelivered(25, 30s));
    for (int i = 0; i < 25; ++i)
        CHECK(rx.multiplicity("t-" + std::to_string(i)) == 1);
    CHECK(hub.metric("onewindow_events_accepted_total{input=\"ticker\"}") == 25);
    CHECK_THAT(hub.log(), Catch::Contains("run() threw: first run fails on purpose"));
    // Down after the throw, up again once it emitted: what it read came from its system.
    CHECK_THAT(hub.log(), Catch::Contains("available again"));
    CHECK(hub.metric("onewindow_source_up{input=\"ticker\"}") == 1);
    CHECK(hub.metric("onewindow_source_consecutive_failures{input=\"ticker\"}") == 0);
    const auto ready = nlohmann::json::parse(testkit::httpRequest("GET", hub.url("/readyz")).body);
    CHECK(ready["sources"]["ticker"] == "up");
    // The source is idle in run(); a clean stop asks it to return and exits 0.
    auto exit = hub.terminate();
    CHECK(exit.exited);
    CHECK(exit.code == 0);

    // Restarted, it emits the same ids again: duplicates, not new events.
    hub.restart();
    REQUIRE(testkit::waitUntil(
        [&] { return hub.metric("onewindow_events_duplicate_total{input=\"ticker\"}") == 25; },
        30s));
    CHECK(hub.metric("onewindow_events_accepted_total{input=\"ticker\"}") == 0);
    CHECK(rx.deliveredCount() == 25);
}
