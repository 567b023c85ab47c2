#include "core/delivery/MqttOutputClient.h"

#include "core/event/CloudEventCodec.h"
#include "core/routing/RouteTable.h"

namespace ow::delivery {

MqttOutputClient::MqttOutputClient(const config::OutputSpec& spec,
                                   std::shared_ptr<transport::mqtt::MqttConnection> connection)
    : spec_(spec), connection_(std::move(connection)) {}

std::variant<MqttOutputClient::Prepared, DeliveryResult>
MqttOutputClient::prepare(const store::OutboxRow& row) const {
    using Outcome = DeliveryResult::Outcome;
    const bool binary =
        spec_.mode == config::OutputSpec::Mode::Binary && connection_->mqttVersion() == 5;
    // A fixed topic in structured mode sends the journaled text as it is: no parse per delivery.
    const bool needsEvent = binary || spec_.mqtt.topic.find('{') != std::string::npos;
    event::Event ev;
    std::string topic = spec_.mqtt.topic;
    if (needsEvent) {
        try {
            ev = event::fromJson(nlohmann::json::parse(*row.body));
        } catch (const std::exception& e) {
            return DeliveryResult{Outcome::Reject, 0, std::nullopt,
                                  std::string("journaled event unreadable: ") + e.what()};
        }
        std::string error;
        if (!routing::RouteTable::expand(spec_.mqtt.topic, ev, topic, error))
            return DeliveryResult{Outcome::Reject, 0, std::nullopt, error};
    }
    if (topic.empty() || topic.find_first_of("+#") != std::string::npos ||
        topic.find('\0') != std::string::npos)
        return DeliveryResult{Outcome::Reject, 0, std::nullopt,
                              "topic '" + topic + "' built from the event is not publishable"};

    Prepared out;
    out.topic = std::move(topic);
    auto& props = out.props;
    auto& payload = out.payload;
    if (binary) {
        auto bin = event::toBinary(ev);
        payload = std::move(bin.body);
        for (const auto& [name, value] : bin.headers)
            if (name == "content-type") props.contentType = value;
        // The MQTT binding carries each attribute as a user property named like the attribute,
        // with its plain UTF-8 value (no percent-encoding as in HTTP headers).
        for (const auto& [name, value] : ev.json.items()) {
            if (name == "data" || name == "data_base64" || name == "datacontenttype") continue;
            props.userProperties.emplace_back(name, value.is_string() ? value.get<std::string>()
                                                                      : value.dump());
        }
    } else {
        payload = *row.body;
        props.contentType = "application/cloudevents+json";
    }
    return out;
}

DeliveryResult MqttOutputClient::deliver(const store::OutboxRow& row) {
    auto prepared = prepare(row);
    if (auto* refused = std::get_if<DeliveryResult>(&prepared)) return *refused;
    auto& m = std::get<Prepared>(prepared);
    auto failure = connection_->publish(m.topic, m.payload, spec_.mqtt.qos, spec_.mqtt.retain,
                                        m.props, std::chrono::milliseconds(spec_.readTimeoutMs));
    if (failure) return {DeliveryResult::Outcome::Retry, 0, std::nullopt, *failure};
    return {DeliveryResult::Outcome::Delivered, 0, std::nullopt, ""};
}

void MqttOutputClient::deliverAsync(const store::OutboxRow& row, DeliveryCompletion done) {
    auto prepared = prepare(row);
    if (auto* refused = std::get_if<DeliveryResult>(&prepared)) {
        done(*refused);
        return;
    }
    auto& m = std::get<Prepared>(prepared);
    connection_->publishAsync(
        m.topic, m.payload, spec_.mqtt.qos, spec_.mqtt.retain, m.props,
        [done = std::move(done)](std::optional<std::string> failure) {
            if (failure)
                done({DeliveryResult::Outcome::Retry, 0, std::nullopt, *failure});
            else
                done({DeliveryResult::Outcome::Delivered, 0, std::nullopt, ""});
        });
}

} // namespace ow::delivery
