#include "core/transport/mqtt/MqttConnection.h"
#include "core/util/ThreadName.h"

#include <mqtt/async_client.h>

#include "core/observability/Log.h"

namespace ow::transport::mqtt {

using observability::Log;

bool topicMatches(std::string_view filter, std::string_view topic) {
    if (filter.rfind("$share/", 0) == 0) {
        auto slash = filter.find('/', 7);
        if (slash == std::string_view::npos) return false;
        filter = filter.substr(slash + 1);
    }
    // Topics starting with '$' are never matched by wildcards at the first level (MQTT 4.7.2).
    if (!topic.empty() && topic[0] == '$' && !filter.empty() &&
        (filter[0] == '+' || filter[0] == '#'))
        return false;
    std::size_t f = 0, t = 0;
    while (true) {
        auto fe = filter.find('/', f);
        auto te = topic.find('/', t);
        std::string_view fl =
            filter.substr(f, fe == std::string_view::npos ? std::string_view::npos : fe - f);
        if (fl == "#") return true;
        if (t > topic.size()) return false;
        std::string_view tl =
            topic.substr(t, te == std::string_view::npos ? std::string_view::npos : te - t);
        if (fl != "+" && fl != tl) return false;
        bool fEnd = fe == std::string_view::npos, tEnd = te == std::string_view::npos;
        if (fEnd && tEnd) return true;
        if (tEnd) {
            // "a/#" also matches "a"
            return !fEnd && filter.substr(fe + 1) == "#";
        }
        if (fEnd) return false;
        f = fe + 1;
        t = te + 1;
    }
}

// Logs connection changes and hands messages over; Paho calls it on its own thread.
class MqttConnection::Callback : public ::mqtt::callback {
public:
    Callback(MqttConnection& owner, std::string broker)
        : owner_(owner), broker_(std::move(broker)) {}
    void connected(const std::string&) override {
        // After an outage the return is logged by the availability, with the downtime.
        if (owner_.availability_.state().up) Log::info("mqtt", "connected", {{"broker", broker_}});
        owner_.availability_.succeeded();
        owner_.onConnected();
        owner_.resubscribe();
    }
    void connection_lost(const std::string& cause) override {
        owner_.availability_.failed("the connection was lost" +
                                    (cause.empty() ? std::string() : ": " + cause));
    }
    void message_arrived(::mqtt::const_message_ptr msg) override {
        InboundMessage m;
        m.topic = msg->get_topic();
        m.payload = msg->to_string();
        m.qos = msg->get_qos();
        m.duplicate = msg->is_duplicate();
        const auto& props = msg->get_properties();
        try {
            if (props.contains(::mqtt::property::CONTENT_TYPE))
                m.contentType = ::mqtt::get<std::string>(props, ::mqtt::property::CONTENT_TYPE);
            if (props.contains(::mqtt::property::RESPONSE_TOPIC))
                m.responseTopic = ::mqtt::get<std::string>(props, ::mqtt::property::RESPONSE_TOPIC);
            if (props.contains(::mqtt::property::CORRELATION_DATA))
                m.correlationData =
                    ::mqtt::get<std::string>(props, ::mqtt::property::CORRELATION_DATA);
            for (std::size_t i = 0; i < props.count(::mqtt::property::USER_PROPERTY); ++i) {
                auto p =
                    ::mqtt::get<::mqtt::string_pair>(props, ::mqtt::property::USER_PROPERTY, i);
                m.userProperties.emplace_back(std::get<0>(p), std::get<1>(p));
            }
        } catch (const std::exception& e) {
            Log::warn("mqtt", "unreadable message properties",
                      {{"broker", broker_}, {"error", e.what()}});
        }
        owner_.dispatch(std::move(m));
    }

private:
    MqttConnection& owner_;
    std::string broker_;
};

// Hears how a connect() attempt we started ended. Paho reconnects by itself only after a
// connection that once succeeded drops; a first connection that fails (broker down, TLS
// refused, bad credentials) ends here, and we log why and try again.
class MqttConnection::ConnectListener : public ::mqtt::iaction_listener {
public:
    explicit ConnectListener(MqttConnection& owner) : owner_(owner) {}
    void on_success(const ::mqtt::token&) override {}
    void on_failure(const ::mqtt::token& tok) override {
        std::string why = ::mqtt::exception::error_str(tok.get_return_code());
        if (tok.get_reason_code() != ::mqtt::ReasonCode::SUCCESS)
            why += " (" + ::mqtt::exception::reason_code_str(tok.get_reason_code()) + ")";
        owner_.onConnectFailed(why);
    }

private:
    MqttConnection& owner_;
};

MqttConnection::MqttConnection(config::BrokerSpec spec, std::int64_t outageReminderMs)
    : spec_(std::move(spec)), availability_("mqtt", {{"broker", spec_.name}, {"url", spec_.url}},
                                            clock_, outageReminderMs) {
    std::string url = spec_.url;
    // Paho spells the schemes tcp:// and ssl://; mqtt:// and mqtts:// are common aliases.
    if (url.rfind("mqtts://", 0) == 0) url = "ssl://" + url.substr(8);
    if (url.rfind("mqtt://", 0) == 0) url = "tcp://" + url.substr(7);
    // MQTT 5 must be chosen when the client is created, not only when connecting.
    ::mqtt::create_options create(spec_.mqttVersion == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
    client_ = std::make_unique<::mqtt::async_client>(url, spec_.clientId, create);
    callback_ = std::make_unique<Callback>(*this, spec_.name);
    client_->set_callback(*callback_);
}

MqttConnection::~MqttConnection() {
    stop(std::chrono::milliseconds(2000));
}

// Built anew for every connect(): a copied connect_options keeps pointers into the original
// (its MQTT 5 properties), and Paho reads them again when connecting.
::mqtt::connect_options MqttConnection::connectOptions() const {
    auto b = ::mqtt::connect_options_builder()
                 .keep_alive_interval(std::chrono::seconds(spec_.keepAliveS))
                 .connect_timeout(std::chrono::seconds(10))
                 .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(30));
    if (spec_.mqttVersion == 5) {
        b.mqtt_version(MQTTVERSION_5).clean_start(spec_.cleanStart);
        b.properties(::mqtt::properties{
            {::mqtt::property::SESSION_EXPIRY_INTERVAL, static_cast<int>(spec_.sessionExpiryS)}});
    } else {
        b.mqtt_version(MQTTVERSION_3_1_1).clean_session(spec_.cleanStart);
    }
    if (!spec_.username.empty()) b.user_name(spec_.username);
    if (!spec_.password.empty()) b.password(spec_.password);
    if (spec_.url.rfind("ssl://", 0) == 0 || spec_.url.rfind("mqtts://", 0) == 0) {
        ::mqtt::ssl_options ssl;
        if (!spec_.tls.caFile.empty()) ssl.set_trust_store(spec_.tls.caFile);
        if (!spec_.tls.certFile.empty()) ssl.set_key_store(spec_.tls.certFile);
        if (!spec_.tls.keyFile.empty()) ssl.set_private_key(spec_.tls.keyFile);
        ssl.set_enable_server_cert_auth(spec_.tls.verify);
        ssl.set_verify(spec_.tls.verify);
        b.ssl(std::move(ssl));
    }
    return b.finalize();
}

void MqttConnection::start() {
    connectListener_ = std::make_unique<ConnectListener>(*this);
    retryThread_ = std::thread([this] {
        util::nameThisThread("ow-mqtt-retry");
        retryLoop();
    });
    // Not waited for: a broker that is down must not keep the hub from starting. Until it is
    // up, publishes fail and the dispatcher retries them.
    connectNow();
}

void MqttConnection::connectNow() {
    try {
        client_->connect(connectOptions(), nullptr, *connectListener_);
    } catch (const ::mqtt::exception& e) {
        onConnectFailed(e.what());
    }
}

void MqttConnection::onConnectFailed(const std::string& why) {
    std::lock_guard lock(retryMu_);
    if (stopped_) return;
    availability_.failed("mqtt connection failed: " + why);
    // Paho's automatic reconnect reuses this listener for its own attempts. It keeps trying by
    // itself; a connect() of ours beside it would free the token it is using.
    if (everConnected_) return;
    retryAt_ = std::chrono::steady_clock::now() + retryDelay_;
    retryDelay_ = std::min(retryDelay_ * 2, std::chrono::milliseconds(30000));
    retryCv_.notify_all();
}

void MqttConnection::onConnected() {
    std::lock_guard lock(retryMu_);
    everConnected_ = true;
    retryDelay_ = std::chrono::milliseconds(1000);
    retryAt_.reset();
}

void MqttConnection::retryLoop() {
    std::unique_lock lock(retryMu_);
    while (!stopped_) {
        if (!retryAt_) {
            retryCv_.wait(lock);
            continue;
        }
        if (retryCv_.wait_until(lock, *retryAt_) == std::cv_status::no_timeout) continue;
        retryAt_.reset();
        // connect() may call back into onConnectFailed() on this thread when it fails at once.
        lock.unlock();
        connectNow();
        lock.lock();
    }
}

void MqttConnection::stop(std::chrono::milliseconds timeout) {
    {
        std::lock_guard lock(retryMu_);
        if (stopped_.exchange(true) || !client_) return;
    }
    retryCv_.notify_all();
    if (retryThread_.joinable()) retryThread_.join();
    try {
        if (client_->is_connected())
            client_->disconnect(static_cast<int>(timeout.count()))->wait_for(timeout);
    } catch (const ::mqtt::exception&) {
        // Disconnecting from a broker that is gone fails; the connection is gone either way.
    }
}

void MqttConnection::subscribe(std::vector<std::string> filters, int qos, MessageHandler handler) {
    {
        std::lock_guard lock(subsMu_);
        subs_.push_back({std::move(filters), qos, std::move(handler)});
    }
    if (connected()) resubscribe();
}

void MqttConnection::unsubscribe(const std::vector<std::string>& filters,
                                 std::chrono::milliseconds timeout) {
    {
        std::lock_guard lock(subsMu_);
        for (auto it = subs_.begin(); it != subs_.end();)
            it = it->filters == filters ? subs_.erase(it) : std::next(it);
    }
    if (!connected()) return;
    for (const auto& f : filters) {
        try {
            client_->unsubscribe(f)->wait_for(timeout);
        } catch (const ::mqtt::exception&) {
            // Gone with the connection: nothing more arrives either way.
        }
    }
}

void MqttConnection::resubscribe() {
    std::lock_guard lock(subsMu_);
    for (const auto& s : subs_)
        for (const auto& f : s.filters) {
            try {
                client_->subscribe(f, s.qos);
            } catch (const ::mqtt::exception& e) {
                Log::error("mqtt", "cannot subscribe",
                           {{"broker", spec_.name}, {"filter", f}, {"error", e.what()}});
            }
        }
}

void MqttConnection::dispatch(InboundMessage m) {
    std::lock_guard lock(subsMu_);
    for (const auto& s : subs_)
        for (const auto& f : s.filters)
            if (topicMatches(f, m.topic)) {
                s.handler(m);
                break;
            }
}

bool MqttConnection::connected() const {
    return client_ && client_->is_connected();
}

namespace {

// Owns itself: Paho calls exactly one of the two, then it is gone.
class PublishListener final : public ::mqtt::iaction_listener {
public:
    PublishListener(std::string broker, std::function<void(std::optional<std::string>)> done)
        : broker_(std::move(broker)), done_(std::move(done)) {}
    void on_success(const ::mqtt::token&) override { finish(std::nullopt); }
    void on_failure(const ::mqtt::token& tok) override {
        std::string why = "publish to broker '" + broker_ +
                          "' failed: " + ::mqtt::exception::error_str(tok.get_return_code());
        if (tok.get_reason_code() != ::mqtt::ReasonCode::SUCCESS)
            why += " (" + ::mqtt::exception::reason_code_str(tok.get_reason_code()) + ")";
        finish(why);
    }
    void finish(std::optional<std::string> why) {
        auto done = std::move(done_);
        delete this;
        done(std::move(why));
    }

private:
    std::string broker_;
    std::function<void(std::optional<std::string>)> done_;
};

::mqtt::message_ptr makeMessage(int mqttVersion, const std::string& topic,
                                const std::string& payload, int qos, bool retain,
                                const PublishProperties& props) {
    auto msg = ::mqtt::make_message(topic, payload, qos, retain);
    if (mqttVersion == 5) {
        ::mqtt::properties p;
        if (!props.contentType.empty()) p.add({::mqtt::property::CONTENT_TYPE, props.contentType});
        if (!props.correlationData.empty())
            p.add({::mqtt::property::CORRELATION_DATA, ::mqtt::binary(props.correlationData)});
        for (const auto& [k, v] : props.userProperties)
            p.add({::mqtt::property::USER_PROPERTY, k, v});
        msg->set_properties(p);
    }
    return msg;
}

} // namespace

std::optional<std::string> MqttConnection::publish(const std::string& topic,
                                                   const std::string& payload, int qos, bool retain,
                                                   const PublishProperties& props,
                                                   std::chrono::milliseconds timeout) {
    if (!client_->is_connected()) return "not connected to broker '" + spec_.name + "'";
    try {
        auto token =
            client_->publish(makeMessage(spec_.mqttVersion, topic, payload, qos, retain, props));
        if (!token->wait_for(timeout))
            return "no acknowledgement from broker '" + spec_.name + "' within " +
                   std::to_string(timeout.count()) + " ms";
        return std::nullopt;
    } catch (const ::mqtt::exception& e) {
        return "publish to broker '" + spec_.name + "' failed: " + e.what();
    }
}

void MqttConnection::publishAsync(const std::string& topic, const std::string& payload, int qos,
                                  bool retain, const PublishProperties& props,
                                  std::function<void(std::optional<std::string>)> done) {
    // No is_connected() first: this runs in Paho's own callbacks too (an output lane starts
    // its next publish from the last one's PUBACK), where Paho holds its client mutex, and
    // is_connected() locks that mutex again: Paho's error-checking mutex refuses the second
    // lock, and its unlock then releases the callback's hold on the client. Paho's publish
    // refuses a disconnected client by itself, without that lock.
    auto* listener = new PublishListener(spec_.name, std::move(done));
    try {
        client_->publish(makeMessage(spec_.mqttVersion, topic, payload, qos, retain, props),
                         nullptr, *listener);
    } catch (const ::mqtt::exception& e) {
        // Refused before Paho took it: the listener will never be called.
        listener->finish(e.get_return_code() == MQTTASYNC_DISCONNECTED
                             ? "not connected to broker '" + spec_.name + "'"
                             : std::string("publish to broker '") + spec_.name +
                                   "' failed: " + e.what());
    }
}

} // namespace ow::transport::mqtt
