// One client connection to one MQTT broker (Eclipse Paho C++), shared by every output that
// publishes there. Paho C 1.3.11 takes about 2 s for each additional client connected one
// after another (STACK-NOTES), so the hub keeps one per broker and reconnects it in place.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/config/HubConfig.h"

namespace mqtt {
class async_client;
}

namespace ow::transport::mqtt {

/// What a publish needs besides topic and payload (MQTT 5 properties; ignored on 3.1.1).
struct PublishProperties {
    std::string contentType;
    std::vector<std::pair<std::string, std::string>> userProperties;
};

class MqttConnection {
public:
    explicit MqttConnection(config::BrokerSpec spec);
    ~MqttConnection();
    MqttConnection(const MqttConnection&) = delete;
    MqttConnection& operator=(const MqttConnection&) = delete;

    /// Starts connecting in the background (the hub does not wait for a broker that is down);
    /// reconnects with backoff (1 s .. 30 s) whenever the connection drops.
    void start();
    /// Disconnects, waiting up to `timeout` for publishes in flight. Idempotent.
    void stop(std::chrono::milliseconds timeout);

    /// Publishes and waits for the broker's acknowledgement (PUBACK for QoS 1, PUBCOMP for
    /// QoS 2; none for QoS 0) up to `timeout`. nullopt when acknowledged, else why not.
    std::optional<std::string> publish(const std::string& topic, const std::string& payload,
                                       int qos, bool retain, const PublishProperties& props,
                                       std::chrono::milliseconds timeout);

    [[nodiscard]] bool connected() const;
    [[nodiscard]] int mqttVersion() const { return spec_.mqttVersion; }
    [[nodiscard]] const std::string& name() const { return spec_.name; }

private:
    class Callback;
    config::BrokerSpec spec_;
    std::unique_ptr<::mqtt::async_client> client_;
    std::unique_ptr<Callback> callback_;
    std::atomic<bool> stopped_{false};
};

} // namespace ow::transport::mqtt
