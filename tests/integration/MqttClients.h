// An MQTT client as a device in the hall connects (Paho C++, clean session), for tests.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

#include <mqtt/async_client.h>

namespace ow::itest {

/// Connected to `url` as `id` with MQTT 5 (`version` 5) or 3.1.1 (4); fails the test if not.
inline std::unique_ptr<mqtt::async_client> connectClient(const std::string& url,
                                                         const std::string& id, int version) {
    using namespace std::chrono_literals;
    auto c =
        version == 5
            ? std::make_unique<mqtt::async_client>(url, id, mqtt::create_options(MQTTVERSION_5))
            : std::make_unique<mqtt::async_client>(url, id);
    auto b = mqtt::connect_options_builder().connect_timeout(5s);
    if (version == 5)
        b.mqtt_version(MQTTVERSION_5).clean_start(true);
    else
        b.mqtt_version(MQTTVERSION_3_1_1).clean_session(true);
    REQUIRE(c->connect(b.finalize())->wait_for(10s));
    return c;
}

} // namespace ow::itest
