// HTTP in, MQTT out: events accepted over HTTP are published to a real mosquitto in both
// protocol versions, structured and binary, with topics built from the event; a broker that
// restarts during a stream loses nothing the hub accepted.
#include "tests/integration/HubFixture.h"

#include <iostream>
#include <map>
#include <mutex>
#include <set>

#include <mqtt/async_client.h>
#include <nlohmann/json.hpp>

#include "tests/support/Mosquitto.h"
#include "tests/support/MqttSubscriber.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

using Subscriber = testkit::MqttSubscriber;

std::string hubConfig(const testkit::Mosquitto& broker) {
    return R"(
hub: { log_level: info }
inputs:
  - { name: events, path: /v1/events }
brokers:
  - { name: hall5, url: ")" +
           broker.url() + R"(", client_id: hub-v5, mqtt_version: 5 }
  - { name: hall3, url: ")" +
           broker.url() + R"(", client_id: hub-v3, mqtt_version: "3.1.1" }
outputs:
  - name: led
    mqtt: { broker: hall5, topic: "hall/status/{subject}", qos: 1, retain: true }
    read_timeout_ms: 2000
    retry: { initial_delay_ms: 50, max_delay_ms: 500, max_attempts: 1000 }
    circuit: { failure_threshold: 1000, open_ms: 100 }
  - name: led-binary
    mode: binary
    mqtt: { broker: hall5, topic: "hall/binary/{subject}", qos: 1 }
  - name: alerts
    mqtt: { broker: hall3, topic: "supervision/alerts/{department}", qos: 2 }
routes:
  - { name: cases, match: { type: "gov.case.*" }, to: [ led ] }
  - { name: binary, match: { type: "gov.case.binary" }, to: [ led-binary ] }
  - { name: alerts, match: { type: "gov.supervision.*" }, to: [ alerts ] }
)";
}

} // namespace

TEST_CASE("MQTT output publishes structured and binary events in MQTT 5 and 3.1.1",
          "[integration][mqtt]") {
    testkit::TempDir dir;
    testkit::Mosquitto broker(dir);
    broker.start();
    Subscriber sub(broker.url(), "#");
    itest::Hub hub(dir, hubConfig(broker));
    hub.start();

    REQUIRE(testkit::postCloudEvent(hub.url(), itest::event("m-1", "gov.case.accepted", "SS-1"))
                .status == 202);
    REQUIRE(testkit::postCloudEvent(
                hub.url(),
                R"({"specversion":"1.0","id":"m-2","source":"/s","type":"gov.supervision.alert.red",
        "department":"land","datacontenttype":"application/json","data":{"level":"red"}})")
                .status == 202);
    REQUIRE(
        testkit::postCloudEvent(
            hub.url(), R"({"specversion":"1.0","id":"m-3","source":"/s","type":"gov.case.binary",
        "subject":"SS-3","datacontenttype":"application/json","data":{"step":2}})")
            .status == 202);
    // m-3 also matches "cases": led gets it as well.
    REQUIRE(testkit::waitUntil([&] { return sub.count() >= 4; }, 20s));
    std::map<std::string, mqtt::const_message_ptr> byTopic;
    for (const auto& m : sub.messages())
        byTopic[m->get_topic()] = m;
    REQUIRE(byTopic.count("hall/status/SS-1"));
    auto led = nlohmann::json::parse(byTopic["hall/status/SS-1"]->to_string());
    CHECK(led["id"] == "m-1");
    CHECK(byTopic["hall/status/SS-1"]->get_qos() == 1);

    REQUIRE(byTopic.count("supervision/alerts/land"));
    CHECK(nlohmann::json::parse(byTopic["supervision/alerts/land"]->to_string())["data"]["level"] ==
          "red");

    REQUIRE(byTopic.count("hall/binary/SS-3"));
    const auto& bin = byTopic["hall/binary/SS-3"];
    CHECK(nlohmann::json::parse(bin->to_string()) == nlohmann::json{{"step", 2}});
    std::map<std::string, std::string> props;
    for (std::size_t i = 0; i < bin->get_properties().count(mqtt::property::USER_PROPERTY); ++i) {
        auto p =
            mqtt::get<mqtt::string_pair>(bin->get_properties(), mqtt::property::USER_PROPERTY, i);
        props[std::get<0>(p)] = std::get<1>(p);
    }
    CHECK(props["id"] == "m-3");
    CHECK(props["specversion"] == "1.0");
    CHECK(props["subject"] == "SS-3");
    CHECK(mqtt::get<std::string>(bin->get_properties(), mqtt::property::CONTENT_TYPE) ==
          "application/json");

    auto metrics = testkit::httpRequest("GET", hub.url("/metrics")).body;
    CHECK_THAT(metrics, Catch::Contains("onewindow_mqtt_connected{broker=\"hall5\"} 1"));
    CHECK(hub.terminate().success());
}

TEST_CASE(
    "MQTT output: a broker restarted three times during a stream loses nothing the hub accepted",
    "[integration][mqtt]") {
    testkit::TempDir dir;
    testkit::Mosquitto broker(dir, {.persistence = true, .tls = {}});
    broker.start();
    Subscriber sub(broker.url(), "hall/status/#");
    itest::Hub hub(dir, hubConfig(broker));
    hub.start();

    constexpr int Events = 300;
    int restarts = 0;
    for (int i = 0; i < Events; ++i) {
        // A clean stop (SIGTERM) saves the broker's state, so what it acknowledged survives;
        // what it loses on SIGKILL is the broker's loss, not the hub's (README, MQTT).
        if (i == 60 || i == 140 || i == 220) {
            broker.stop();
            broker.start();
            ++restarts;
        }
        REQUIRE(testkit::postCloudEvent(hub.url(),
                                        itest::event("s-" + std::to_string(i), "gov.case.step",
                                                     "SS-" + std::to_string(i)))
                    .status == 202);
    }
    std::set<std::string> seen;
    REQUIRE(testkit::waitUntil(
        [&] {
            for (const auto& m : sub.messages())
                seen.insert(m->get_topic());
            return seen.size() >= static_cast<std::size_t>(Events);
        },
        60s, 50ms));
    CHECK(restarts == 3);
    for (int i = 0; i < Events; ++i)
        CHECK(seen.count("hall/status/SS-" + std::to_string(i)) == 1);
    CHECK(hub.terminate().success());
}

TEST_CASE(
    "MQTT output: broker SIGKILLed three times, hub-side loss zero, broker-side loss reported",
    "[integration][mqtt]") {
    testkit::TempDir dir;
    testkit::Mosquitto broker(dir); // no persistence: a SIGKILL loses what the broker held
    broker.start();
    Subscriber sub(broker.url(), "hall/status/#");
    itest::Hub hub(dir, hubConfig(broker));
    hub.start();
    constexpr int Events = 300;
    for (int i = 0; i < Events; ++i) {
        if (i == 60 || i == 140 || i == 220) {
            broker.kill();
            broker.start();
        }
        REQUIRE(testkit::postCloudEvent(hub.url(),
                                        itest::event("k-" + std::to_string(i), "gov.case.step",
                                                     "SS-" + std::to_string(i)))
                    .status == 202);
    }
    // Hub side: every accepted event was acknowledged by the broker (outbox empty, all delivered).
    REQUIRE(testkit::waitUntil(
        [&] {
            return hub.metric("onewindow_deliveries_total{output=\"led\",outcome=\"delivered\"}") >=
                       Events &&
                   hub.metric("onewindow_outbox_depth{output=\"led\"}") == 0;
        },
        60s, 50ms));
    CHECK(hub.metric("onewindow_outbox_depth{output=\"led\"}") == 0);
    CHECK(hub.metric("onewindow_dead_letters") == 0); // so every row ended acknowledged
    // Broker side: what the subscriber got, after it had time to reconnect.
    std::set<std::string> seen;
    testkit::waitUntil(
        [&] {
            for (const auto& m : sub.messages())
                seen.insert(m->get_topic());
            return seen.size() >= static_cast<std::size_t>(Events);
        },
        10s, 50ms);
    std::cout << "mqtt-broker-kill: kills=3 accepted=" << Events
              << " acknowledged_by_broker=" << Events
              << " hub_side_lost=0 received_by_subscriber=" << seen.size()
              << " broker_side_lost=" << Events - static_cast<int>(seen.size()) << std::endl;
    CHECK(hub.terminate().success());
}

TEST_CASE("MQTT output: a broker that is down when the hub starts is connected to once it is up",
          "[integration][mqtt]") {
    testkit::TempDir dir;
    testkit::Mosquitto broker(dir);
    broker.start(); // takes a port for the URL in the config
    broker.stop();
    itest::Hub hub(dir, hubConfig(broker));
    hub.start(); // ready without its broker: events are journaled meanwhile
    REQUIRE(testkit::postCloudEvent(hub.url(), itest::event("early-1", "gov.case.step", "SS-9"))
                .status == 202);
    REQUIRE(testkit::waitUntil(
        [&] { return hub.log().find("mqtt connection failed: ") != std::string::npos; }, 15s));
    CHECK_FALSE(hub.brokerConnected("hall5"));

    broker.start();
    Subscriber sub(broker.url(), "hall/status/#");
    REQUIRE(testkit::waitUntil([&] { return hub.brokerConnected("hall5"); }, 30s));
    // The retained status published after the broker came up reaches a late subscriber too.
    REQUIRE(testkit::waitUntil([&] { return sub.count() >= 1; }, 30s));
    CHECK(sub.messages().front()->get_topic() == "hall/status/SS-9");
    CHECK(hub.metric("onewindow_outbox_depth{output=\"led\"}") == 0);
}
