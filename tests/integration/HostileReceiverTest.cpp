// What a receiver can do to the hub by the way it answers: an endless body must not take the
// hub's memory, a trickled answer must not hold a delivery past its deadline, and a receiver
// that never answers must hold neither SIGTERM nor a reload, nor the outputs that are healthy.
#include "tests/integration/HubFixture.h"

#include <atomic>
#include <csignal>
#include <fstream>

#include "tests/support/RawPeer.h"
#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

/// The hub's peak resident memory so far (VmHWM), in KiB.
long peakRssKb(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

double sample(const itest::Hub& hub, const std::string& name, const std::string& output,
              const std::string& outcome = "") {
    std::string labels = "{output=\"" + output + "\"";
    if (!outcome.empty()) labels += ",outcome=\"" + outcome + "\"";
    return hub.metric(name + labels + "}");
}

// A receiver whose first connection never answers (it holds the request for as long as the
// hub lets it); later connections take every request.
void firstConnectionHangs(testkit::RawConnection& c) {
    std::string head, body;
    while (c.readRequest(head, body)) {
        if (c.number() == 1) {
            while (c.pace(1s)) {
            }
            return;
        }
        if (!c.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) return;
    }
}

std::string oneOutput(const std::string& url, const std::string& extra,
                      const std::string& hubExtra = "") {
    return R"(
hub:
  log_level: info
)" + hubExtra +
           R"(
inputs:
  - { name: events, path: /v1/events }
outputs:
  - name: rx
    url: ")" +
           url + R"("
)" + extra +
           R"(
routes:
  - { name: all, match: { type: "*" }, to: [ rx ] }
)";
}

} // namespace

TEST_CASE("A receiver answering 200 with one endless chunk does not take the hub's memory",
          "[integration][delivery][hostile]") {
    // 256 MiB announced in one chunk, sent as fast as the hub takes it. A hub that buffers a
    // whole chunk grows by that much; one that reads a bounded part of the answer closes the
    // connection after it.
    constexpr std::size_t kChunk = std::size_t{256} << 20;
    std::atomic<bool> answered{false}; // the chunk was sent, or the hub stopped taking it
    testkit::RawPeer peer([&](testkit::RawConnection& c) {
        std::string head, body;
        while (c.readRequest(head, body)) {
            if (c.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000\r\n")) {
                const std::string block(64 * 1024, 'x');
                for (std::size_t sent = 0; sent < kChunk; sent += block.size())
                    if (!c.send(block)) break;
            }
            answered = true;
        }
    });
    testkit::TempDir dir;
    itest::Hub hub(dir, oneOutput(peer.url(), "    read_timeout_ms: 20000"));
    hub.start();
    const long before = peakRssKb(hub.pid());
    REQUIRE(before > 0);

    REQUIRE(testkit::postCloudEvent(hub.url(), itest::event("big-1")).status == 202);
    REQUIRE(testkit::waitUntil([&] { return answered.load(); }, 60s));
    const long after = peakRssKb(hub.pid());
    INFO("peak RSS before " << before << " KiB, after " << after << " KiB");
    CHECK(after - before < 32 * 1024);
    // The status line is all the hub needs: the delivery counts, the rest was cut off.
    CHECK(testkit::waitUntil(
        [&] { return sample(hub, "onewindow_deliveries_total", "rx", "delivered") == 1; }, 30s));
    CHECK(sample(hub, "onewindow_outbox_depth", "rx") == 0);
}

TEST_CASE("A receiver trickling its answer a byte at a time is timed out, retried, and opens "
          "the circuit",
          "[integration][delivery][hostile]") {
    testkit::RawPeer peer([](testkit::RawConnection& c) {
        std::string head, body;
        if (!c.readRequest(head, body)) return;
        if (!c.send("HTTP/1.1 200 OK\r\nX-Slow: ")) return;
        // A byte every 100 ms: every read gets something, the answer never ends.
        while (c.pace(100ms) && c.send("x")) {
        }
    });
    testkit::TempDir dir;
    itest::Hub hub(dir, oneOutput(peer.url(), R"(    read_timeout_ms: 1000
    retry: { initial_delay_ms: 50, max_delay_ms: 100 }
    circuit: { failure_threshold: 2, open_ms: 60000 })"));
    hub.start();
    REQUIRE(testkit::postCloudEvent(hub.url(), itest::event("slow-1")).status == 202);

    // Two attempts, each cut at its deadline, open the circuit.
    REQUIRE(
        testkit::waitUntil([&] { return sample(hub, "onewindow_circuit_open", "rx") == 1; }, 20s));
    CHECK(peer.requests() == 2);
    CHECK(sample(hub, "onewindow_deliveries_total", "rx", "retry") == 2);
    CHECK(sample(hub, "onewindow_outbox_depth", "rx") == 1);
    // One line for the operator: the output is down, and why.
    CHECK_THAT(hub.log(), Catch::Contains("unavailable; trying again with backoff"));
    CHECK_THAT(hub.log(), Catch::Contains("no complete answer from " + peer.url()));
}

TEST_CASE("A receiver's status line with four digits is malformed, not a 200",
          "[integration][delivery][hostile]") {
    testkit::RawPeer peer([](testkit::RawConnection& c) {
        std::string head, body;
        while (c.readRequest(head, body))
            if (!c.send("HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n")) return;
    });
    testkit::TempDir dir;
    itest::Hub hub(dir, R"(
hub:
  log_level: debug
inputs:
  - { name: events, path: /v1/events }
outputs:
  - { name: rx, url: ")" + peer.url() +
                            R"(", retry: { initial_delay_ms: 50, max_delay_ms: 100 } }
routes:
  - { name: all, match: { type: "*" }, to: [ rx ] }
)");
    hub.start();
    REQUIRE(testkit::postCloudEvent(hub.url(), itest::event("st-1")).status == 202);
    REQUIRE(testkit::waitUntil(
        [&] {
            return hub.metric("onewindow_deliveries_total{output=\"rx\",outcome=\"retry\"}") >= 2;
        },
        20s));
    CHECK(hub.metric("onewindow_deliveries_total{output=\"rx\",outcome=\"delivered\"}") == 0);
    CHECK_THAT(hub.log(), Catch::Contains("bad status code"));
}

TEST_CASE("SIGTERM ends the hub within shutdown_timeout_ms while a receiver never answers, and "
          "the delivery is made after the restart",
          "[integration][delivery][hostile][shutdown]") {
    // The first connection never answers; later ones take the event.
    testkit::RawPeer peer(firstConnectionHangs);
    testkit::TempDir dir;
    itest::Hub hub(
        dir, oneOutput(peer.url(), "    read_timeout_ms: 120000", "  shutdown_timeout_ms: 1000"));
    hub.start();
    REQUIRE(testkit::postCloudEvent(hub.url(), itest::event("stuck-1")).status == 202);
    REQUIRE(testkit::waitUntil([&] { return peer.requests() == 1; }, 10s));

    REQUIRE(::kill(hub.pid(), SIGTERM) == 0);
    // shutdown_timeout_ms (1 s) plus the documented margin (5 s), with room for a busy machine;
    // far below the 120 s the receiver could hold a delivery that has no deadline.
    REQUIRE(testkit::waitUntil([&] { return !hub.running(); }, 10s));
    CHECK_THAT(hub.log(), Catch::Contains("deliveries still in flight are cut off"));

    // The row stayed pending: the next run delivers it.
    hub.restart();
    REQUIRE(testkit::waitUntil([&] { return peer.requests() >= 2; }, 20s));
    REQUIRE(
        testkit::waitUntil([&] { return sample(hub, "onewindow_outbox_depth", "rx") == 0; }, 20s));
}

TEST_CASE("A reload keeps healthy outputs delivering while a changed one drains, and counts "
          "what waits for it",
          "[integration][delivery][hostile][reload]") {
    testkit::RawPeer stuck(firstConnectionHangs);
    testkit::Receiver healthy;
    auto config = [&](const std::string& stuckHeader) {
        return R"(
hub:
  shutdown_timeout_ms: 6000
  log_level: info
inputs:
  - { name: events, path: /v1/events }
outputs:
  - { name: stuck, url: ")" +
               stuck.url() + R"(", read_timeout_ms: 120000, headers: { X-Build: ")" + stuckHeader +
               R"(" } }
  - { name: healthy, url: ")" +
               healthy.url() + R"(" }
routes:
  - { name: stuck, match: { type: "test.stuck" }, to: [ stuck ] }
  - { name: healthy, match: { type: "test.ok" }, to: [ healthy ] }
)";
    };
    testkit::TempDir dir;
    itest::Hub hub(dir, config("1"));
    hub.start();
    REQUIRE(testkit::postCloudEvent(hub.url(), itest::event("s-1", "test.stuck", "a")).status ==
            202);
    REQUIRE(testkit::waitUntil([&] { return stuck.requests() == 1; }, 10s));

    // The stuck output changes: the reload drains it, which takes the whole 6 s bound.
    dir.writeFile("hub.yaml", config("2"));
    REQUIRE(::kill(hub.pid(), SIGHUP) == 0);
    REQUIRE(testkit::waitUntil(
        [&] { return hub.log().find("reloading the configuration") != std::string::npos; }, 10s));
    for (const char* id : {"s-2", "s-3"})
        REQUIRE(testkit::postCloudEvent(hub.url(), itest::event(id, "test.stuck", "b")).status ==
                202);
    for (const char* id : {"ok-1", "ok-2", "ok-3"})
        REQUIRE(testkit::postCloudEvent(hub.url(), itest::event(id, "test.ok", id)).status == 202);

    // The healthy output delivers during the drain, and the depth counts what waits.
    REQUIRE(healthy.waitForDelivered(3, 4s));
    CHECK(sample(hub, "onewindow_outbox_depth", "stuck") == 3);
    CHECK(hub.log().find("configuration reloaded") == std::string::npos);

    // After the bound the stuck delivery is cut off; the new output delivers all three.
    REQUIRE(testkit::waitUntil(
        [&] { return hub.log().find("configuration reloaded") != std::string::npos; }, 20s));
    REQUIRE(testkit::waitUntil([&] { return sample(hub, "onewindow_outbox_depth", "stuck") == 0; },
                               20s));
    CHECK(stuck.requests() >= 4);
    CHECK(healthy.deliveredCount() == 3);
}
