// What clients that hold connections can do to the hub: sockets that send nothing, or send a
// byte now and then, must not lock out health checks, metrics or other clients; connections
// beyond every slot get a 503 they can act on instead of a silent close.
#include "tests/integration/HubFixture.h"

#include <memory>

#include "tests/support/RawPeer.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

std::string config(const std::string& hubExtra) {
    return R"(
hub:
  log_level: info
)" + hubExtra +
           R"(
inputs:
  - { name: events, path: /v1/events }
)";
}

std::string get(const std::string& path) {
    return "GET " + path + " HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n";
}

} // namespace

TEST_CASE("A connection that sends nothing is closed header_timeout_ms after the accept",
          "[integration][http][hostile]") {
    testkit::TempDir dir;
    // The idle timeout (60 s) is for kept-alive connections between requests, not for this.
    itest::Hub hub(dir, config("  limits: { header_timeout_ms: 500, idle_timeout_ms: 60000 }"));
    hub.start();
    testkit::SilentConnections silent(hub.port(), 3);
    REQUIRE(silent.stillOpen() == 3);
    CHECK(testkit::waitUntil([&] { return silent.stillOpen() == 0; }, 10s));
}

TEST_CASE("Health checks and metrics answer while silent and slow connections hold every slot",
          "[integration][http][hostile]") {
    testkit::TempDir dir;
    itest::Hub hub(dir, config("  max_connections: 20\n  limits: { header_timeout_ms: 60000 }"));
    hub.start();
    // More than every slot and the reserve (16): silent sockets, and slowloris heads that never
    // end.
    testkit::SilentConnections silent(hub.port(), 40);
    std::vector<std::unique_ptr<testkit::RawClient>> slow;
    for (int i = 0; i < 10; ++i) {
        slow.push_back(std::make_unique<testkit::RawClient>(hub.port()));
        slow.back()->send("GET /healthz HTTP/1.1\r\nHost: h\r\nX-Slow: a");
    }
    for (int round = 0; round < 12; ++round)
        for (const char* path : {"/healthz", "/readyz", "/metrics"}) {
            INFO(path << " round " << round);
            CHECK(testkit::statusOf(testkit::rawRequest(hub.port(), get(path))) == 200);
        }
    // The connections that made room were the ones waiting longest; the hub still serves.
    CHECK(silent.stillOpen() < 40);
    CHECK(testkit::postCloudEvent(hub.url(), itest::event("after-flood")).status == 202);
}

TEST_CASE("With every slot busy with a request, other requests get 503 with Retry-After and "
          "health checks still answer",
          "[integration][http][hostile]") {
    testkit::TempDir dir;
    itest::Hub hub(dir, config("  max_connections: 8\n  limits: { body_timeout_ms: 60000 }"));
    hub.start();
    // Eight uploads that never finish hold every slot; they are requests in progress, not
    // idle connections, so none of them is closed to make room.
    std::vector<std::unique_ptr<testkit::RawClient>> uploads;
    for (int i = 0; i < 8; ++i) {
        uploads.push_back(std::make_unique<testkit::RawClient>(hub.port()));
        uploads.back()->send("POST /v1/events HTTP/1.1\r\nHost: h\r\nContent-Type: "
                             "application/cloudevents+json\r\nContent-Length: 1000\r\n\r\n{");
    }
    // Wait until the hub holds all of them (the /metrics request itself takes a reserve slot).
    REQUIRE(testkit::waitUntil(
        [&] { return testkit::statusOf(testkit::rawRequest(hub.port(), get("/healthz"))) == 200; },
        10s));
    const std::string busy = testkit::rawRequest(
        hub.port(), "POST /v1/events HTTP/1.1\r\nHost: h\r\nContent-Type: "
                    "application/cloudevents+json\r\nContent-Length: 2\r\nConnection: "
                    "close\r\n\r\n{}");
    CHECK(testkit::statusOf(busy) == 503);
    CHECK_THAT(busy, Catch::Contains("Retry-After: 1"));
    CHECK(testkit::statusOf(testkit::rawRequest(hub.port(), get("/readyz"))) == 200);
    uploads.clear();
    CHECK(testkit::waitUntil(
        [&] { return testkit::postCloudEvent(hub.url(), itest::event("later")).status == 202; },
        10s));
    CHECK(hub.metric("onewindow_http_errors_total{status=\"503\"}") >= 1);
}
