// What clients that hold connections can do to the hub: sockets that send nothing, or send a
// byte now and then, must not lock out health checks, metrics or other clients; connections
// beyond every slot get a 503 they can act on instead of a silent close.
#include "tests/integration/HubFixture.h"

#include <memory>

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Timespan.h>

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

TEST_CASE("Beyond every slot and the reserve a connection gets 503 with Retry-After, not a "
          "silent close",
          "[integration][http][hostile]") {
    testkit::TempDir dir;
    itest::Hub hub(dir, config("  max_connections: 4\n  reserve_connections: 2\n"
                               "  limits: { body_timeout_ms: 60000 }"));
    hub.start();
    // Six requests in progress (heads complete, bodies that never come) hold the four slots and
    // the two reserve ones: none is idle, so none gives its slot up. They ask for /metrics,
    // which the reserve serves too, so it does not matter which of them lands where.
    std::vector<std::unique_ptr<testkit::RawClient>> held;
    for (int i = 0; i < 6; ++i) {
        held.push_back(std::make_unique<testkit::RawClient>(hub.port()));
        held.back()->send("GET /metrics HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n{");
    }
    // Even a health check gets the 503 then (within the reserve it would be served).
    std::string answer;
    CHECK(testkit::waitUntil(
        [&] {
            answer = testkit::rawRequest(hub.port(), get("/healthz"));
            return testkit::statusOf(answer) == 503;
        },
        10s));
    CHECK_THAT(answer, Catch::Contains("Retry-After: 1"));
    held.clear();
    CHECK(testkit::waitUntil(
        [&] { return testkit::statusOf(testkit::rawRequest(hub.port(), get("/healthz"))) == 200; },
        10s));
}

TEST_CASE("A TLS connection that sends nothing is closed header_timeout_ms after the accept",
          "[integration][http][hostile][tls]") {
    testkit::TempDir dir;
    itest::makeCertificates(dir, "client");
    itest::Hub hub(dir,
                   config("  tls: { enabled: true, cert_file: server.crt, key_file: server.key }\n"
                          "  limits: { header_timeout_ms: 500, idle_timeout_ms: 60000 }"));
    hub.tls = {dir.file("ca.crt"), "", ""};
    hub.start();
    SECTION("without a handshake") {
        testkit::SilentConnections silent(hub.port(), 3);
        REQUIRE(silent.stillOpen() == 3);
        CHECK(testkit::waitUntil([&] { return silent.stillOpen() == 0; }, 10s));
    }
    SECTION("after the handshake, without a request") {
        // The head's deadline runs from the accept, as for plain HTTP, not the idle timeout
        // of a kept-alive connection (60 s here).
        Poco::Net::Context::Ptr context =
            new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", dir.file("ca.crt"),
                                   Poco::Net::Context::VERIFY_RELAXED);
        Poco::Net::SecureStreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", hub.port()),
                                             context);
        socket.completeHandshake();
        socket.setReceiveTimeout(Poco::Timespan(10, 0));
        bool closedByHub = false;
        try {
            char byte = 0;
            closedByHub = socket.receiveBytes(&byte, 1) <= 0;
        } catch (const Poco::TimeoutException&) {
            closedByHub = false; // still open after 10 s
        } catch (const Poco::Exception&) {
            closedByHub = true; // the hub ended the TLS session
        }
        CHECK(closedByHub);
    }
}
