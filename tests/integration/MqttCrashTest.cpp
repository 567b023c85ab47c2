// The hub SIGKILLed during MQTT streams, with a persistent session: what each mode loses or
// duplicates is measured and printed. Plain QoS 1 can lose what Paho acknowledged before the
// hub journaled it; the response-topic mode (publish again until the hub answers after its
// commit) must lose nothing.
#include "tests/integration/HubFixture.h"

#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>

#include <mqtt/async_client.h>
#include <nlohmann/json.hpp>

#include "tests/support/Mosquitto.h"
#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<mqtt::async_client> client5(const std::string& url, const std::string& id) {
    auto c = std::make_unique<mqtt::async_client>(url, id, mqtt::create_options(MQTTVERSION_5));
    auto opts = mqtt::connect_options_builder()
                    .mqtt_version(MQTTVERSION_5)
                    .clean_start(true)
                    .connect_timeout(5s)
                    .finalize();
    REQUIRE(c->connect(opts)->wait_for(10s));
    return c;
}

} // namespace

TEST_CASE("MQTT crash test: the hub killed during streams, measured per mode",
          "[integration][mqtt][crash]") {
    constexpr int PlainEvents = 1000;
    constexpr int AckEvents = 300;
    constexpr int Kills = 3;
    testkit::TempDir dir;
    testkit::Mosquitto broker(dir);
    broker.start();
    testkit::Receiver rx;
    itest::Hub hub(dir, R"(
hub: { log_level: warn }
inputs:
  - name: plain
    mqtt: { broker: hall, topics: [ "kill/plain" ], qos: 1 }
  - name: ack
    mqtt: { broker: hall, topics: [ "kill/ack" ], qos: 1 }
brokers:
  - { name: hall, url: ")" + broker.url() +
                            R"(", client_id: hub-killed, mqtt_version: 5,
      clean_start: false, session_expiry_s: 600 }
outputs:
  - { name: rx, url: ")" + rx.url("/events") +
                            R"(", retry: { initial_delay_ms: 20, max_delay_ms: 200 } }
routes:
  - { name: all, to: [ rx ] }
)");
    hub.start();
    REQUIRE(testkit::waitUntil([&] { return hub.brokerConnected("hall"); }, 15s));

    // Plain QoS 1 publisher, paced at about 250 messages/s so the kills land inside the stream.
    std::atomic<int> plainPublished{0};
    std::thread plain([&] {
        auto c = client5(broker.url(), "plain-publisher");
        auto next = std::chrono::steady_clock::now();
        for (int i = 0; i < PlainEvents; ++i) {
            next += 4ms;
            std::this_thread::sleep_until(next); // pacing the load, not waiting for a result
            c->publish(mqtt::make_message(
                           "kill/plain",
                           itest::event("plain-" + std::to_string(i), "gov.case.x", "P"), 1, false))
                ->wait_for(5s);
            ++plainPublished;
        }
        c->disconnect()->wait_for(5s);
    });

    // Response-topic publisher: each event is published again until the hub's answer arrives.
    std::atomic<int> answered{0}, republished{0};
    std::thread acked([&] {
        auto c = client5(broker.url(), "ack-publisher");
        c->start_consuming();
        c->subscribe("ack-publisher/answers", 1)->wait_for(5s);
        auto next = std::chrono::steady_clock::now();
        for (int i = 0; i < AckEvents; ++i) {
            next += 15ms;
            std::this_thread::sleep_until(next); // pacing: this stream must overlap the kills
            std::string id = "ack-" + std::to_string(i);
            auto deadline = std::chrono::steady_clock::now() + 90s;
            bool done = false;
            while (!done && std::chrono::steady_clock::now() < deadline) {
                auto msg =
                    mqtt::make_message("kill/ack", itest::event(id, "gov.fee.paid", "A"), 1, false);
                msg->set_properties({{mqtt::property::RESPONSE_TOPIC, "ack-publisher/answers"},
                                     {mqtt::property::CORRELATION_DATA, mqtt::binary(id)}});
                c->publish(msg)->wait_for(5s);
                mqtt::const_message_ptr answer;
                // Answers to earlier copies may still come in; only this id's answer counts.
                auto until = std::chrono::steady_clock::now() + 1500ms;
                while (!done && c->try_consume_message_until(&answer, until))
                    done = answer &&
                           mqtt::get<std::string>(answer->get_properties(),
                                                  mqtt::property::CORRELATION_DATA) == id &&
                           nlohmann::json::parse(answer->to_string()).value("status", "") !=
                               "unavailable";
                if (!done) ++republished;
            }
            if (done) ++answered;
        }
        c->disconnect()->wait_for(5s);
    });

    int kills = 0;
    for (int k = 1; k <= Kills; ++k) {
        bool progressed = testkit::waitUntil(
            [&] {
                return rx.deliveredCount() >=
                       static_cast<std::size_t>(k * (PlainEvents + AckEvents) / (Kills + 2));
            },
            60s);
        if (!progressed) break;
        hub.kill();
        ++kills;
        hub.restart();
    }
    plain.join();
    acked.join();
    REQUIRE(kills == Kills);

    // A last plain message with the same ordering key: once it is delivered, every earlier
    // plain message the hub journaled has been delivered too.
    {
        auto c = client5(broker.url(), "marker-publisher");
        c->publish(mqtt::make_message("kill/plain", itest::event("plain-marker", "gov.case.x", "P"),
                                      1, false))
            ->wait_for(5s);
        c->disconnect()->wait_for(5s);
    }
    REQUIRE(testkit::waitUntil([&] { return rx.multiplicity("plain-marker") >= 1; }, 60s));
    REQUIRE(testkit::waitUntil(
        [&] {
            for (int i = 0; i < AckEvents; ++i)
                if (rx.multiplicity("ack-" + std::to_string(i)) == 0) return false;
            return true;
        },
        60s));

    auto measure = [&](const std::string& prefix, int n, int& lost, int& dups) {
        lost = dups = 0;
        for (int i = 0; i < n; ++i) {
            int m = rx.multiplicity(prefix + std::to_string(i));
            if (m == 0) ++lost;
            if (m > 1) dups += m - 1;
        }
    };
    int plainLost, plainDups, ackLost, ackDups;
    measure("plain-", PlainEvents, plainLost, plainDups);
    measure("ack-", AckEvents, ackLost, ackDups);
    std::cout << "mqtt-crash-test: kills=" << kills << " | qos1-plain published=" << plainPublished
              << " delivered_unique=" << PlainEvents - plainLost << " lost=" << plainLost
              << " duplicates=" << plainDups << " | response-topic published=" << AckEvents
              << " answered=" << answered << " republished=" << republished
              << " delivered_unique=" << AckEvents - ackLost << " lost=" << ackLost
              << " duplicates=" << ackDups << std::endl;
    CHECK(answered == AckEvents);
    CHECK(ackLost == 0);
    CHECK(plainPublished == PlainEvents);
    CHECK(hub.terminate().success());
}
