#include "core/ingest/MqttIngress.h"
#include "core/util/ThreadName.h"

#include "core/event/Encoding.h"
#include "core/observability/Log.h"
#include "core/security/AllowList.h"
#include "core/security/TokenAuth.h"

namespace ow::ingest {

using observability::Log;
using transport::mqtt::InboundMessage;

namespace {
constexpr std::size_t BatchMax = 256;
} // namespace

MqttIngress::MqttIngress(config::InputSpec spec, const config::Limits& limits,
                         pipeline::JournalWriter& writer,
                         std::shared_ptr<transport::mqtt::MqttConnection> connection,
                         observability::Metrics& metrics)
    : spec_(std::move(spec)), jsonLimits_{static_cast<std::size_t>(limits.maxJsonDepth),
                                          static_cast<std::size_t>(limits.maxJsonKeys)},
      maxBytes_(static_cast<std::size_t>(limits.maxBodyBytes)), writer_(writer),
      connection_(std::move(connection)),
      counters_(metrics, spec_.name), principal_{spec_.name, security::AuthMethod::Mqtt,
                                                 "mqtt:" + spec_.mqtt.broker},
      allow_(std::make_shared<const config::AllowSpec>(spec_.allow)) {}

void MqttIngress::reconfigure(const config::InputSpec& spec) {
    std::lock_guard lock(allowMu_);
    allow_ = std::make_shared<const config::AllowSpec>(spec.allow);
}

std::shared_ptr<const config::AllowSpec> MqttIngress::allow() const {
    std::lock_guard lock(allowMu_);
    return allow_;
}

MqttIngress::~MqttIngress() {
    stop();
}

void MqttIngress::start() {
    thread_ = std::thread([this] {
        util::nameThisThread("ow-in-" + spec_.name);
        work();
    });
    connection_->subscribe(spec_.mqtt.topics, spec_.mqtt.qos, [this](InboundMessage m) {
        {
            std::lock_guard lock(mu_);
            if (stopping_) return;
            queue_.push_back(std::move(m));
        }
        cv_.notify_one();
    });
}

void MqttIngress::stop() {
    if (thread_.joinable())
        connection_->unsubscribe(spec_.mqtt.topics, std::chrono::milliseconds(2000));
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::optional<event::Event> MqttIngress::toEvent(const InboundMessage& m,
                                                 std::string& error) const {
    if (m.payload.size() > maxBytes_) {
        error = "payload of " + std::to_string(m.payload.size()) + " bytes exceeds max_body_bytes";
        return std::nullopt;
    }
    try {
        if (spec_.mqtt.format == config::MqttSubscribeSettings::Format::Json) {
            nlohmann::json data = nlohmann::json::parse(m.payload);
            if (data.is_discarded()) throw std::runtime_error("not JSON");
            // The id must be the same when the broker delivers the message again (QoS 1
            // duplicates), so it is derived from what was received.
            nlohmann::json ev = {
                {"specversion", "1.0"},
                {"id", security::sha256Hex(m.topic + "\n" + m.payload).substr(0, 32)},
                {"source", spec_.mqtt.source.empty() ? "mqtt://" + spec_.mqtt.broker + "/" + m.topic
                                                     : spec_.mqtt.source},
                {"type", spec_.mqtt.type},
                {"datacontenttype", "application/json"},
                {"data", std::move(data)}};
            if (spec_.mqtt.subjectSegment >= 0) {
                std::size_t start = 0;
                for (int i = 0; i < spec_.mqtt.subjectSegment && start != std::string::npos; ++i) {
                    start = m.topic.find('/', start);
                    if (start != std::string::npos) ++start;
                }
                if (start == std::string::npos || start > m.topic.size()) {
                    error = "topic '" + m.topic + "' has no segment " +
                            std::to_string(spec_.mqtt.subjectSegment);
                    return std::nullopt;
                }
                auto end = m.topic.find('/', start);
                ev["subject"] = m.topic.substr(start, end == std::string::npos ? std::string::npos
                                                                               : end - start);
            }
            // Re-parse under the limits: the payload was untrusted.
            return event::parseStructured(ev.dump(), jsonLimits_);
        }
        bool binary = false;
        for (const auto& [k, v] : m.userProperties)
            binary = binary || k == "specversion";
        if (binary) {
            event::HeaderList headers;
            for (const auto& [k, v] : m.userProperties)
                headers.emplace_back("ce-" + k, event::percentEncode(v));
            if (!m.contentType.empty()) headers.emplace_back("content-type", m.contentType);
            return event::parseBinary(headers, m.payload, jsonLimits_);
        }
        return event::parseStructured(m.payload, jsonLimits_);
    } catch (const event::EventError& e) {
        error = (e.attribute.empty() ? "" : "attribute '" + e.attribute + "': ") +
                std::string(e.what());
    } catch (const std::exception& e) {
        error = std::string("payload is not valid JSON: ") + e.what();
    }
    return std::nullopt;
}

void MqttIngress::answer(const InboundMessage& m, const std::string& status, const event::Event* e,
                         std::int64_t seq, const std::string& detail) {
    if (m.responseTopic.empty()) return;
    nlohmann::json body = {{"status", status}};
    if (e) {
        body["id"] = e->id;
        body["source"] = e->source;
    }
    if (seq > 0) body["seq"] = seq;
    if (!detail.empty()) body["detail"] = detail;
    transport::mqtt::PublishProperties props;
    props.contentType = "application/json";
    props.correlationData = m.correlationData;
    auto failure = connection_->publish(
        m.responseTopic, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 1,
        false, props, std::chrono::milliseconds(5000));
    if (failure)
        Log::warn("mqtt", "cannot publish the answer",
                  {{"input", spec_.name}, {"error", *failure}});
}

void MqttIngress::work() {
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() && stopping_) return;
        std::vector<InboundMessage> batch;
        while (!queue_.empty() && batch.size() < BatchMax) {
            batch.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
        lock.unlock();

        std::vector<pipeline::AcceptItem> items;
        std::vector<std::size_t> itemOf; // batch index of each item
        for (std::size_t i = 0; i < batch.size(); ++i) {
            std::string error;
            auto ev = toEvent(batch[i], error);
            if (!ev) {
                counters_.rejected("invalid-message").inc();
                Log::debug("mqtt", "message refused",
                           {{"input", spec_.name}, {"topic", batch[i].topic}, {"reason", error}});
                answer(batch[i], "rejected", nullptr, 0, error);
                continue;
            }
            if (auto refusal = security::screen(*ev, principal_, *allow(), nullptr)) {
                counters_.rejected(refusal->reason).inc();
                counters_.refused(principal_.id, refusal->reason).inc();
                Log::warn("mqtt", "message refused",
                          {{"input", spec_.name},
                           {"topic", batch[i].topic},
                           {"reason", refusal->detail}});
                answer(batch[i], "rejected", nullptr, 0, refusal->detail);
                continue;
            }
            std::string body = event::toStructured(*ev); // stored as sent
            security::stamp(*ev, principal_);
            items.push_back(
                {std::make_shared<const event::Event>(std::move(*ev)), std::move(body)});
            itemOf.push_back(i);
        }
        if (!items.empty()) {
            std::vector<std::shared_ptr<const event::Event>> events;
            for (const auto& it : items)
                events.push_back(it.event);
            auto result = writer_.accept(std::move(items), spec_.name, principal_.id);
            for (std::size_t k = 0; k < events.size(); ++k) {
                const auto& msg = batch[itemOf[k]];
                if (!result.ok) {
                    answer(msg, "unavailable", events[k].get(), 0,
                           "the event could not be stored; publish it again");
                    continue;
                }
                bool fresh = result.outcomes[k].status == store::AcceptOutcome::Status::Accepted;
                (fresh ? counters_.accepted : counters_.duplicates).inc();
                answer(msg, fresh ? "accepted" : "duplicate", events[k].get(),
                       result.outcomes[k].seq, "");
            }
            if (!result.ok)
                Log::error(
                    "mqtt", "messages could not be journaled",
                    {{"input", spec_.name}, {"count", events.size()}, {"error", result.error}});
        }
        lock.lock();
    }
}

} // namespace ow::ingest
