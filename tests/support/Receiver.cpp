#include "tests/support/Receiver.h"

#include <strings.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <system_error>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>
#include <nlohmann/json.hpp>

#include "tests/support/Wait.h"

namespace ow::testkit {

namespace {

bool startsWithNoCase(const std::string& text, const char* prefix) {
    const std::size_t n = std::char_traits<char>::length(prefix);
    return text.size() >= n && ::strncasecmp(text.c_str(), prefix, n) == 0;
}

std::string stringMember(const nlohmann::json& object, const char* name) {
    const auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void addIdentity(ReceivedRequest& request, const nlohmann::json& event) {
    if (event.is_object() && event.contains("id")) {
        request.events.push_back({stringMember(event, "id"), stringMember(event, "source")});
    }
}

/// Finds the CloudEvents in the request. Lenient on purpose: a malformed delivery must still be
/// recorded (with no identity) so the test can see what the hub sent.
void parseEvents(ReceivedRequest& request, const std::string& contentType, const std::string& ceId,
                 const std::string& ceSource) {
    if (startsWithNoCase(contentType, "application/cloudevents-batch+json")) {
        const auto batch = nlohmann::json::parse(request.body, nullptr, false);
        if (batch.is_array()) {
            request.mode = ReceivedRequest::Mode::Batch;
            for (const auto& event : batch) {
                addIdentity(request, event);
            }
        }
        return;
    }
    if (!ceId.empty()) {
        request.mode = ReceivedRequest::Mode::Binary;
        request.events.push_back({ceId, ceSource});
        return;
    }
    const bool structured = startsWithNoCase(contentType, "application/cloudevents+json");
    if (structured || startsWithNoCase(contentType, "application/json")) {
        const auto event = nlohmann::json::parse(request.body, nullptr, false);
        if (event.is_object() && (structured || event.contains("specversion"))) {
            request.mode = ReceivedRequest::Mode::Structured;
            addIdentity(request, event);
        }
    }
}

// As a department's gateway would be: TLS 1.2+, and with a client CA, no client served
// without a certificate that CA issued.
Poco::Net::Context::Ptr serverContext(const ReceiverOptions& o) {
    Poco::Net::Context::Params p;
    p.certificateFile = o.tlsCertFile;
    p.privateKeyFile = o.tlsKeyFile;
    p.caLocation = o.tlsClientCaFile;
    p.loadDefaultCAs = false;
    p.verificationMode = o.tlsClientCaFile.empty() ? Poco::Net::Context::VERIFY_NONE
                                                   : Poco::Net::Context::VERIFY_STRICT;
    Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, p);
    ctx->disableProtocols(Poco::Net::Context::PROTO_SSLV2 | Poco::Net::Context::PROTO_SSLV3 |
                          Poco::Net::Context::PROTO_TLSV1 | Poco::Net::Context::PROTO_TLSV1_1);
    // Clients are known by their certificate, not by the address they connect from.
    ctx->enableExtendedCertificateVerification(false);
    return ctx;
}

bool is2xx(int status) {
    return status >= 200 && status < 300;
}

std::int64_t unixMs(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

} // namespace

class ReceiverRequestHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit ReceiverRequestHandler(Receiver& receiver) : receiver_(receiver) {}

    void handleRequest(Poco::Net::HTTPServerRequest& in,
                       Poco::Net::HTTPServerResponse& out) override {
        ReceivedRequest request;
        request.at = std::chrono::steady_clock::now();
        request.wallTime = std::chrono::system_clock::now();
        request.method = in.getMethod();
        request.path = in.getURI();
        if (receiver_.options_.keepRequests || receiver_.options_.keepHeaders) {
            for (const auto& [name, value] : in) {
                request.headers.emplace_back(name, value);
            }
        }
        Poco::StreamCopier::copyToString(in.stream(), request.body);
        if (receiver_.options_.parseEvents) {
            parseEvents(request, in.getContentType(), in.get("ce-id", ""), in.get("ce-source", ""));
        }

        Reply reply = receiver_.decide(request);
        if (reply.delay.count() > 0 && !receiver_.pause(reply.delay)) {
            reply.closeConnection = true;
        }
        if (reply.closeConnection) {
            receiver_.finish(std::move(request), reply);
            out.setKeepAlive(false);
            // No answer at all: the client sees the connection end, as when a system crashes,
            // or reset (closed at once with SO_LINGER 0: an RST), as when a proxy gives up.
            auto& socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(in).socket();
            if (reply.resetConnection) {
                socket.setLinger(true, 0);
                socket.close();
            } else {
                socket.shutdown();
            }
            return;
        }
        receiver_.finish(std::move(request), reply);

        out.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status));
        for (const auto& [name, value] : reply.headers) {
            out.set(name, value);
        }
        out.setContentLength(static_cast<std::streamsize>(reply.body.size()));
        std::ostream& body = out.send();
        body.write(reply.body.data(), static_cast<std::streamsize>(reply.body.size()));
    }

private:
    Receiver& receiver_;
};

namespace {

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit HandlerFactory(Receiver& receiver) : receiver_(receiver) {}
    Poco::Net::HTTPRequestHandler*
    createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new ReceiverRequestHandler(receiver_);
    }

private:
    Receiver& receiver_;
};

} // namespace

std::string ReceivedRequest::header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
        if (::strcasecmp(key.c_str(), name.c_str()) == 0) {
            return value;
        }
    }
    return "";
}

Receiver::Receiver(ReceiverOptions options) : options_(std::move(options)) {
    always(200);
    if (!options_.recordFile.empty()) {
        recordDeliveredTo(options_.recordFile);
    }
    Poco::Net::ServerSocket socket;
    if (!options_.tlsCertFile.empty())
        socket = Poco::Net::SecureServerSocket(serverContext(options_));
    // Reuse lets a test restart a receiver on the port of the one it just stopped.
    socket.bind(Poco::Net::SocketAddress("127.0.0.1", options_.port), true);
    socket.listen(1024);
    port_ = socket.address().port();

    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(options_.maxThreads);
    params->setMaxQueued(1024);
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(30, 0));
    params->setTimeout(Poco::Timespan(30, 0));
    pool_ = std::make_unique<Poco::ThreadPool>(2, options_.maxThreads, 60);
    server_ =
        std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(*this), *pool_, socket, params);
    server_->start();
}

Receiver::~Receiver() {
    stop();
    if (record_ != nullptr) {
        std::fclose(record_);
    }
}

void Receiver::stop() {
    {
        std::lock_guard lock(stopMutex_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
    }
    stopCv_.notify_all();
    if (server_) {
        server_->stopAll(true);
    }
    // Handlers use this object; they must all be done before its members go away.
    if (pool_) {
        pool_->joinAll();
    }
}

std::string Receiver::url(const std::string& path) const {
    return std::string(options_.tlsCertFile.empty() ? "http" : "https") +
           "://127.0.0.1:" + std::to_string(port_) + path;
}

void Receiver::setReply(ReplyFunction reply) {
    std::lock_guard lock(mutex_);
    reply_ = std::make_shared<const ReplyFunction>(std::move(reply));
}

void Receiver::always(int status) {
    setReply([status](const ReceivedRequest&, int) { return Reply{status, {}, {}, {}, false}; });
}

void Receiver::failFirstN(int n, int status) {
    setReply([n, status](const ReceivedRequest&, int seen) {
        return Reply{seen <= n ? status : 200, {}, {}, {}, false};
    });
}

void Receiver::failFirstRequests(int n, int status) {
    setReply([n, status](const ReceivedRequest& request, int) {
        return Reply{
            request.sequence < static_cast<std::uint64_t>(n) ? status : 200, {}, {}, {}, false};
    });
}

void Receiver::setDown(bool down, DownMode mode) {
    std::lock_guard lock(mutex_);
    down_ = down;
    downMode_ = mode;
}

void Receiver::addIdRule(const std::string& substring, int status) {
    std::lock_guard lock(mutex_);
    idRules_.push_back({substring, status});
}

void Receiver::clearIdRules() {
    std::lock_guard lock(mutex_);
    idRules_.clear();
}

void Receiver::recordDeliveredTo(const std::string& path) {
    std::FILE* file = std::fopen(path.c_str(), "a");
    if (file == nullptr) {
        throw std::system_error(errno, std::generic_category(), "open " + path);
    }
    std::lock_guard lock(mutex_);
    if (record_ != nullptr) {
        std::fclose(record_);
    }
    record_ = file;
}

Reply Receiver::decide(ReceivedRequest& request) {
    request.sequence = requests_.fetch_add(1);
    int seen = 0;
    bool down = false;
    DownMode downMode = DownMode::Status503;
    std::optional<int> ruleStatus;
    std::shared_ptr<const ReplyFunction> reply;
    {
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < request.events.size(); ++i) {
            const int count = ++ids_[request.events[i].id].seen;
            if (i == 0) {
                seen = count;
            }
        }
        down = down_;
        downMode = downMode_;
        for (const auto& rule : idRules_) {
            for (const auto& event : request.events) {
                if (!ruleStatus && event.id.find(rule.substring) != std::string::npos) {
                    ruleStatus = rule.status;
                }
            }
        }
        reply = reply_;
    }
    if (down) {
        if (downMode == DownMode::CloseConnection) {
            return Reply{0, {}, {}, {}, true};
        }
        return Reply{503, {{"Retry-After", "1"}}, {}, {}, false};
    }
    if (ruleStatus) {
        return Reply{*ruleStatus, {}, {}, {}, false};
    }
    return (*reply)(request, seen);
}

bool Receiver::pause(std::chrono::milliseconds delay) {
    std::unique_lock lock(stopMutex_);
    return !stopCv_.wait_for(lock, delay, [this] { return stopping_; });
}

void Receiver::finish(ReceivedRequest&& request, const Reply& reply) {
    request.status = reply.closeConnection ? 0 : reply.status;
    std::lock_guard lock(mutex_);
    ++stats_.requests;
    if (is2xx(request.status)) {
        ++stats_.answered2xx;
        const std::int64_t now = unixMs(std::chrono::system_clock::now());
        if (stats_.firstDeliveryUnixMs == 0) {
            stats_.firstDeliveryUnixMs = now;
        }
        stats_.lastDeliveryUnixMs = now;
        for (const auto& event : request.events) {
            ++stats_.eventsDelivered;
            if (++ids_[event.id].delivered == 1) {
                deliveredOrder_.push_back(event.id);
            }
            if (record_ != nullptr) {
                std::fputs(event.id.c_str(), record_);
                std::fputc('\n', record_);
            }
        }
        // Flushed per request: whoever reads the file (a benchmark, a crash test) must see
        // every delivery the receiver has acknowledged, even if it is killed next.
        if (record_ != nullptr && !request.events.empty()) {
            std::fflush(record_);
        }
    }
    if (options_.keepRequests) {
        log_.push_back(std::move(request));
    }
}

std::vector<std::string> Receiver::deliveredIds() const {
    std::lock_guard lock(mutex_);
    return deliveredOrder_;
}

std::size_t Receiver::deliveredCount() const {
    std::lock_guard lock(mutex_);
    return deliveredOrder_.size();
}

int Receiver::multiplicity(const std::string& id) const {
    std::lock_guard lock(mutex_);
    const auto it = ids_.find(id);
    return it == ids_.end() ? 0 : it->second.delivered;
}

int Receiver::attempts(const std::string& id) const {
    std::lock_guard lock(mutex_);
    const auto it = ids_.find(id);
    return it == ids_.end() ? 0 : it->second.seen;
}

std::size_t Receiver::countFor(const std::function<bool(const ReceivedRequest&)>& predicate) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(log_.begin(), log_.end(), predicate));
}

std::vector<ReceivedRequest> Receiver::snapshot() const {
    std::lock_guard lock(mutex_);
    return log_;
}

ReceiverStats Receiver::stats() const {
    std::lock_guard lock(mutex_);
    ReceiverStats result = stats_;
    result.distinctDelivered = deliveredOrder_.size();
    return result;
}

bool Receiver::waitForDelivered(std::size_t distinct, std::chrono::milliseconds deadline) const {
    return waitUntil([&] { return deliveredCount() >= distinct; }, deadline);
}

} // namespace ow::testkit
