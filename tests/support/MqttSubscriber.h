// A persistent MQTT 5 subscriber for tests: records every message it gets on `filter`, and
// subscribes again after the broker restarts (a broker without persistence forgets it).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <mqtt/async_client.h>

namespace ow::testkit {

class MqttSubscriber : public mqtt::callback {
public:
    MqttSubscriber(const std::string& url, const std::string& filter,
                   const std::string& clientId = "test-subscriber")
        : client_(url, clientId, mqtt::create_options(MQTTVERSION_5)), filter_(filter) {
        using namespace std::chrono_literals;
        client_.set_callback(*this);
        auto opts = mqtt::connect_options_builder()
                        .mqtt_version(MQTTVERSION_5)
                        .clean_start(false)
                        .properties({{mqtt::property::SESSION_EXPIRY_INTERVAL, 3600}})
                        .automatic_reconnect(100ms, 500ms)
                        .finalize();
        REQUIRE(client_.connect(opts)->wait_for(10s));
        REQUIRE(client_.subscribe(filter_, 1)->wait_for(5s));
    }
    ~MqttSubscriber() override {
        try {
            client_.disconnect()->wait_for(std::chrono::seconds(2));
        } catch (...) {
        }
    }
    MqttSubscriber(const MqttSubscriber&) = delete;
    MqttSubscriber& operator=(const MqttSubscriber&) = delete;

    void message_arrived(mqtt::const_message_ptr msg) override {
        std::lock_guard l(mu_);
        messages_.push_back(msg);
    }
    void connected(const std::string&) override {
        try {
            client_.subscribe(filter_, 1);
        } catch (...) {
        }
    }
    std::vector<mqtt::const_message_ptr> messages() {
        std::lock_guard l(mu_);
        return messages_;
    }
    std::size_t count() {
        std::lock_guard l(mu_);
        return messages_.size();
    }

private:
    mqtt::async_client client_;
    std::string filter_;
    std::mutex mu_;
    std::vector<mqtt::const_message_ptr> messages_;
};

} // namespace ow::testkit
