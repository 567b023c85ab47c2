// An MQTT input: subscribes through the broker's shared connection, turns messages into
// CloudEvents (the MQTT binding, or plain JSON wrapped by configuration), journals them in
// batches, and - for MQTT 5 publishers that ask with a response topic - answers after the
// commit: accepted, duplicate, rejected (with the reason) or unavailable.
//
// Paho C acknowledges a QoS 1 message (PUBACK) before the application sees it, so a hub crash
// between that and the commit loses a message the publisher thinks delivered. The response
// topic closes that gap for publishers that wait for the answer and retry without one.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/config/HubConfig.h"
#include "core/event/CloudEventCodec.h"
#include "core/ingest/InputCounters.h"
#include "core/observability/Metrics.h"
#include "core/pipeline/JournalWriter.h"
#include "core/security/Principal.h"
#include "core/transport/mqtt/MqttConnection.h"

namespace ow::ingest {

class MqttIngress {
public:
    MqttIngress(config::InputSpec spec, const config::Limits& limits,
                pipeline::JournalWriter& writer,
                std::shared_ptr<transport::mqtt::MqttConnection> connection,
                observability::Metrics& metrics);
    ~MqttIngress();

    void start();
    /// Journals what was received, then stops. Idempotent.
    void stop();

    [[nodiscard]] const std::string& name() const { return spec_.name; }
    /// A reloaded configuration of this input: its allow list applies from the next message.
    void reconfigure(const config::InputSpec& spec);

    /// The event a message stands for, or nullopt with `error` set (exposed for tests).
    std::optional<event::Event> toEvent(const transport::mqtt::InboundMessage& m,
                                        std::string& error) const;

private:
    void work();
    void answer(const transport::mqtt::InboundMessage& m, const std::string& status,
                const event::Event* e, std::int64_t seq, const std::string& detail);

    config::InputSpec spec_;
    event::JsonLimits jsonLimits_;
    std::size_t maxBytes_;
    pipeline::JournalWriter& writer_;
    std::shared_ptr<transport::mqtt::MqttConnection> connection_;

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<transport::mqtt::InboundMessage> queue_;
    bool stopping_ = false;
    std::thread thread_;

    InputCounters counters_;
    const security::Principal principal_; // every message: "mqtt:<broker>"
    mutable std::mutex allowMu_;
    std::shared_ptr<const config::AllowSpec> allow_;
    [[nodiscard]] std::shared_ptr<const config::AllowSpec> allow() const;
};

} // namespace ow::ingest
