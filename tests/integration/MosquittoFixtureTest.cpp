// The broker fixture and the Paho C++ client work together in both protocol versions and
// across a broker restart on the same port: the ground the MQTT input and output stand on.
#include <catch2/catch.hpp>

#include <mqtt/async_client.h>

#include "tests/support/Mosquitto.h"
#include "tests/support/Wait.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<mqtt::async_client> client(const std::string& url, const std::string& id,
                                           int version) {
    if (version == 5)
        return std::make_unique<mqtt::async_client>(url, id, mqtt::create_options(MQTTVERSION_5));
    return std::make_unique<mqtt::async_client>(url, id);
}

mqtt::connect_options options(int version) {
    auto b = mqtt::connect_options_builder().connect_timeout(5s);
    if (version == 5)
        b.mqtt_version(MQTTVERSION_5).clean_start(true);
    else
        b.mqtt_version(MQTTVERSION_3_1_1).clean_session(true);
    return b.finalize();
}

} // namespace

TEST_CASE("Mosquitto fixture: QoS 1 round trips with Paho in MQTT 3.1.1 and 5, and a restart",
          "[integration][mqtt]") {
    testkit::TempDir dir;
    testkit::Mosquitto broker(dir);
    broker.start();
    CHECK(broker.port() != 1883);

    for (int version : {4, 5}) {
        INFO("MQTT version " << version);
        auto sub = client(broker.url(), "sub-" + std::to_string(version), version);
        auto pub = client(broker.url(), "pub-" + std::to_string(version), version);
        sub->start_consuming();
        // Connect both first, then wait: Paho C 1.3.11 serialises sequential connects (~2 s each).
        auto t1 = sub->connect(options(version));
        auto t2 = pub->connect(options(version));
        REQUIRE(t1->wait_for(10s));
        REQUIRE(t2->wait_for(10s));
        REQUIRE(sub->subscribe("hall/led/+", 1)->wait_for(5s));

        auto msg = mqtt::make_message("hall/led/window-3", "SS-2026-000123 ready", 1, false);
        if (version == 5)
            msg->set_properties(mqtt::properties{{mqtt::property::USER_PROPERTY, "ce_id", "A-1"}});
        REQUIRE(pub->publish(msg)->wait_for(5s)); // QoS 1: returns after the broker's PUBACK
        mqtt::const_message_ptr got;
        REQUIRE(sub->try_consume_message_for(&got, 5s));
        REQUIRE(got);
        CHECK(got->get_topic() == "hall/led/window-3");
        CHECK(got->to_string() == "SS-2026-000123 ready");
        CHECK(got->get_qos() == 1);
        if (version == 5) {
            auto prop =
                mqtt::get<mqtt::string_pair>(got->get_properties(), mqtt::property::USER_PROPERTY);
            CHECK(std::get<0>(prop) == "ce_id");
            CHECK(std::get<1>(prop) == "A-1");
        }
        pub->disconnect()->wait_for(5s);
        sub->disconnect()->wait_for(5s);
    }

    // Killed and restarted on the same port: a client connects again.
    auto port = broker.port();
    broker.kill();
    CHECK_FALSE(broker.running());
    broker.start();
    CHECK(broker.port() == port);
    auto again = client(broker.url(), "after-restart", 4);
    REQUIRE(again->connect(options(4))->wait_for(10s));
    CHECK(again->is_connected());
    again->disconnect()->wait_for(5s);
    broker.stop();
    CHECK_FALSE(broker.running());
}
