// Delivers events by publishing them to an MQTT broker (CloudEvents MQTT binding): structured
// mode puts the JSON event in the payload; binary mode (MQTT 5 only) puts the data in the
// payload and the attributes in user properties. A row counts as delivered only once the
// broker acknowledged it (PUBACK / PUBCOMP).
#pragma once

#include <memory>
#include <variant>

#include "core/config/HubConfig.h"
#include "core/delivery/OutputClient.h"
#include "core/transport/mqtt/MqttConnection.h"

namespace ow::delivery {

class MqttOutputClient final : public OutputClient {
public:
    MqttOutputClient(const config::OutputSpec& spec,
                     std::shared_ptr<transport::mqtt::MqttConnection> connection);
    DeliveryResult deliver(const store::OutboxRow& row) override;
    [[nodiscard]] bool asynchronous() const override { return true; }
    void deliverAsync(const store::OutboxRow& row, DeliveryCompletion done) override;
    /// Paho's publish may be called from its own callbacks.
    [[nodiscard]] bool startsFromCompletions() const override { return true; }

private:
    struct Prepared {
        std::string topic;
        std::string payload;
        transport::mqtt::PublishProperties props;
    };
    /// The message for a row, or why the row can never be published (a Reject).
    std::variant<Prepared, DeliveryResult> prepare(const store::OutboxRow& row) const;

    const config::OutputSpec spec_; // a copy, as HttpOutputClient's
    std::shared_ptr<transport::mqtt::MqttConnection> connection_;
};

} // namespace ow::delivery
