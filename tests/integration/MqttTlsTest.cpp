// MQTT over TLS: the hub connects to a mosquitto that requires mutual TLS (ssl://, CA, client
// certificate), publishes and subscribes through it; a hub whose certificate the broker does
// not trust stays disconnected, says so in /readyz and metrics, and keeps what it accepted.
#include "tests/integration/HubFixture.h"

#include <mqtt/async_client.h>
#include <nlohmann/json.hpp>

#include "tests/support/Mosquitto.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

testkit::Mosquitto::Options mutualTls(const testkit::TempDir& dir) {
    testkit::Mosquitto::Options o;
    o.tls.caFile = dir.file("ca.crt");
    o.tls.certFile = dir.file("server.crt");
    o.tls.keyFile = dir.file("server.key");
    o.tls.requireClientCert = true;
    return o;
}

// The test's own MQTT 5 client over mutual TLS, with the CA-issued client certificate.
std::unique_ptr<mqtt::async_client> tlsClient(const testkit::TempDir& dir, const std::string& url,
                                              const std::string& id) {
    auto c = std::make_unique<mqtt::async_client>(url, id, mqtt::create_options(MQTTVERSION_5));
    auto ssl = mqtt::ssl_options_builder()
                   .trust_store(dir.file("ca.crt"))
                   .key_store(dir.file("client.crt"))
                   .private_key(dir.file("client.key"))
                   .finalize();
    auto opts = mqtt::connect_options_builder()
                    .mqtt_version(MQTTVERSION_5)
                    .clean_start(true)
                    .connect_timeout(5s)
                    .ssl(ssl)
                    .finalize();
    REQUIRE(c->connect(opts)->wait_for(10s));
    return c;
}

std::string hubConfig(const std::string& brokerUrl, const testkit::TempDir& dir,
                      const std::string& cert) {
    return R"(
inputs:
  - { name: http, path: /v1/events }
  - name: counters
    mqtt: { broker: hall, topics: [ "hall/in/#" ], qos: 1 }
brokers:
  - name: hall
    url: ")" +
           brokerUrl + R"("
    client_id: hub-tls
    mqtt_version: 5
    tls: { ca_file: ")" +
           dir.file("ca.crt") + R"(", cert_file: ")" + dir.file(cert + ".crt") +
           R"(", key_file: ")" + dir.file(cert + ".key") + R"(" }
outputs:
  - name: wall
    mqtt: { broker: hall, topic: "hall/out/{type}", qos: 1 }
routes:
  - { name: http-to-mqtt, match: { type: "gov.case.*" }, to: [ wall ] }
)";
}

} // namespace

TEST_CASE("MQTT over mutual TLS carries events both ways", "[integration][mqtt][tls]") {
    testkit::TempDir dir;
    itest::makeCertificates(dir, "onewindow-hub");
    testkit::Mosquitto broker(dir, mutualTls(dir));
    broker.start();
    REQUIRE(broker.url().rfind("ssl://", 0) == 0);

    itest::Hub hub(dir, hubConfig(broker.url(), dir, "client"));
    hub.start();
    REQUIRE(testkit::waitUntil([&] { return hub.brokerConnected("hall"); }, 15s));
    auto ready = testkit::httpRequest("GET", hub.url("/readyz"));
    CHECK(ready.status == 200);
    CHECK(nlohmann::json::parse(ready.body)["brokers"]["hall"] == "connected");

    auto client = tlsClient(dir, broker.url(), "test-tls");
    client->start_consuming();
    REQUIRE(client->subscribe("hall/out/#", 1)->wait_for(5s));

    // HTTP in -> MQTT out over TLS.
    auto r = testkit::postCloudEvent(hub.url(), itest::event("tls-1", "gov.case.submitted"));
    REQUIRE(r.status == 202);
    mqtt::const_message_ptr msg;
    REQUIRE(client->try_consume_message_for(&msg, 10s));
    REQUIRE(msg);
    CHECK(msg->get_topic() == "hall/out/gov.case.submitted");
    CHECK(nlohmann::json::parse(msg->to_string())["id"] == "tls-1");

    // MQTT in over TLS -> journal -> MQTT out.
    auto in = itest::event("tls-2", "gov.case.accepted");
    REQUIRE(client->publish(mqtt::make_message("hall/in/window-3", in, 1, false))->wait_for(5s));
    REQUIRE(client->try_consume_message_for(&msg, 10s));
    REQUIRE(msg);
    CHECK(msg->get_topic() == "hall/out/gov.case.accepted");
    CHECK(nlohmann::json::parse(msg->to_string())["id"] == "tls-2");
    CHECK(hub.metric("onewindow_events_accepted_total{input=\"counters\"}") == 1);
}

TEST_CASE("A hub whose client certificate the broker does not trust stays disconnected and keeps "
          "what it accepted",
          "[integration][mqtt][tls]") {
    testkit::TempDir dir;
    itest::makeCertificates(dir, "onewindow-hub");
    testkit::Mosquitto broker(dir, mutualTls(dir));
    broker.start();

    // "rogue" is self-signed: the broker's CA never issued it.
    itest::Hub hub(dir, hubConfig(broker.url(), dir, "rogue"));
    hub.start();
    auto r = testkit::postCloudEvent(hub.url(), itest::event("kept-1", "gov.case.submitted"));
    REQUIRE(r.status == 202);
    // Wait for the first connection attempt to have failed and been logged.
    REQUIRE(testkit::waitUntil(
        [&] { return hub.log().find("mqtt connection failed") != std::string::npos; }, 15s));
    CHECK_FALSE(hub.brokerConnected("hall"));
    auto ready = testkit::httpRequest("GET", hub.url("/readyz"));
    CHECK(ready.status == 200); // the journal still takes events
    auto body = nlohmann::json::parse(ready.body);
    CHECK(body["status"] == "degraded");
    CHECK(body["brokers"]["hall"] == "disconnected");
    CHECK(hub.metric("onewindow_outbox_depth{output=\"wall\"}") == 1);
    CHECK(hub.metric("onewindow_dead_letters") <= 0);
}
