// One client connection to one MQTT broker (Eclipse Paho C++), shared by every output that
// publishes there. Paho C 1.3.11 takes about 2 s for each additional client connected one
// after another (STACK-NOTES), so the hub keeps one per broker and reconnects it in place.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/config/HubConfig.h"
#include "core/observability/Availability.h"
#include "core/util/Clock.h"

namespace mqtt {
class async_client;
class connect_options;
} // namespace mqtt

namespace ow::transport::mqtt {

/// What a publish needs besides topic and payload (MQTT 5 properties; ignored on 3.1.1).
struct PublishProperties {
    std::string contentType;
    std::string correlationData;
    std::vector<std::pair<std::string, std::string>> userProperties;
};

/// A received message, copied out of Paho's types.
struct InboundMessage {
    std::string topic;
    std::string payload;
    int qos = 0;
    bool duplicate = false;
    std::string contentType;     ///< MQTT 5
    std::string responseTopic;   ///< MQTT 5: where the publisher wants its answer
    std::string correlationData; ///< MQTT 5: echoed in the answer
    std::vector<std::pair<std::string, std::string>> userProperties;
};

using MessageHandler = std::function<void(InboundMessage)>;

/// MQTT topic filter match (`+` one level, `#` the rest); a `$share/GROUP/` prefix is ignored.
bool topicMatches(std::string_view filter, std::string_view topic);

class MqttConnection {
public:
    /// A broker that cannot be reached is logged once with the cause, then at most every
    /// `outageReminderMs`, and once when it is back.
    explicit MqttConnection(config::BrokerSpec spec,
                            std::int64_t outageReminderMs = observability::DefaultOutageReminderMs);
    ~MqttConnection();
    MqttConnection(const MqttConnection&) = delete;
    MqttConnection& operator=(const MqttConnection&) = delete;

    /// Starts connecting in the background (the hub does not wait for a broker that is down or
    /// refuses it): a failed first connection is logged with its cause and tried again with
    /// backoff (1 s .. 30 s) until it succeeds; after that, Paho reconnects with the same
    /// backoff whenever the connection drops.
    void start();
    /// Disconnects, waiting up to `timeout` for publishes in flight. Idempotent.
    void stop(std::chrono::milliseconds timeout);

    /// Publishes and waits for the broker's acknowledgement (PUBACK for QoS 1, PUBCOMP for
    /// QoS 2; none for QoS 0) up to `timeout`. nullopt when acknowledged, else why not.
    std::optional<std::string> publish(const std::string& topic, const std::string& payload,
                                       int qos, bool retain, const PublishProperties& props,
                                       std::chrono::milliseconds timeout);

    /// Starts a publish and returns at once; `done` runs on Paho's thread with nullopt once the
    /// broker acknowledged it (at once for QoS 0 after sending), or with why it failed. Called
    /// exactly once, unless the connection is destroyed with the publish still in flight.
    void publishAsync(const std::string& topic, const std::string& payload, int qos, bool retain,
                      const PublishProperties& props,
                      std::function<void(std::optional<std::string>)> done);

    /// Subscribes now if connected, and again after every reconnect. `handler` runs on Paho's
    /// callback thread for each message matching one of `filters`: it must return quickly.
    void subscribe(std::vector<std::string> filters, int qos, MessageHandler handler);

    /// Stops receiving for these filters (before an input shuts down, so nothing more arrives
    /// that it could not journal). Waits up to `timeout`.
    void unsubscribe(const std::vector<std::string>& filters, std::chrono::milliseconds timeout);

    [[nodiscard]] bool connected() const;
    [[nodiscard]] int mqttVersion() const { return spec_.mqttVersion; }
    [[nodiscard]] const std::string& name() const { return spec_.name; }

private:
    class Callback;
    class ConnectListener;
    [[nodiscard]] ::mqtt::connect_options connectOptions() const;
    void connectNow();
    void onConnectFailed(const std::string& why);
    void onConnected();
    void retryLoop();

    config::BrokerSpec spec_;
    util::SystemClock clock_;
    observability::Availability availability_;
    std::unique_ptr<ConnectListener> connectListener_;
    std::mutex retryMu_;
    std::condition_variable retryCv_;
    std::optional<std::chrono::steady_clock::time_point> retryAt_;
    std::chrono::milliseconds retryDelay_{1000};
    bool everConnected_ = false; // from then on Paho's automatic reconnect takes over
    std::thread retryThread_;
    std::unique_ptr<::mqtt::async_client> client_;
    std::unique_ptr<Callback> callback_;
    struct Subscription {
        std::vector<std::string> filters;
        int qos;
        MessageHandler handler;
    };
    std::mutex subsMu_;
    std::vector<Subscription> subs_;
    void resubscribe();
    void dispatch(InboundMessage m);
    std::atomic<bool> stopped_{false};
};

} // namespace ow::transport::mqtt
