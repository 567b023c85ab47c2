#include "core/delivery/HttpOutputClient.h"

#include <Poco/DateTimeParser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/Exception.h>
#include <Poco/Timespan.h>

#include "core/event/CloudEventCodec.h"
#include "core/util/Clock.h"

namespace ow::delivery {

using Poco::Net::Context;

Context::Ptr HttpOutputClient::makeClientContext(const config::TlsClientSettings& tls) {
    Context::Params p;
    p.verificationMode = tls.verify ? Context::VERIFY_RELAXED : Context::VERIFY_NONE;
    p.loadDefaultCAs = tls.caFile.empty();
    p.caLocation = tls.caFile;
    p.certificateFile = tls.certFile;
    p.privateKeyFile = tls.keyFile;
    p.cipherList = "HIGH:!aNULL:!MD5:!RC4";
    Context::Ptr ctx = new Context(Context::TLS_CLIENT_USE, p);
    ctx->disableProtocols(Context::PROTO_SSLV2 | Context::PROTO_SSLV3 | Context::PROTO_TLSV1 | Context::PROTO_TLSV1_1);
    return ctx;
}

HttpOutputClient::HttpOutputClient(const config::OutputSpec& spec, Context::Ptr tls)
    : spec_(spec), tls_(std::move(tls)), uri_(spec.url) {
    path_ = uri_.getPathEtc();
    if (path_.empty()) path_ = "/";
}

Poco::Net::HTTPClientSession& HttpOutputClient::session() {
    if (!session_) {
        if (uri_.getScheme() == "https")
            session_ = std::make_unique<Poco::Net::HTTPSClientSession>(uri_.getHost(), uri_.getPort(), tls_);
        else
            session_ = std::make_unique<Poco::Net::HTTPClientSession>(uri_.getHost(), uri_.getPort());
        session_->setKeepAlive(true);
        session_->setTimeout(Poco::Timespan(spec_.connectTimeoutMs * 1000), Poco::Timespan(spec_.readTimeoutMs * 1000),
                             Poco::Timespan(spec_.readTimeoutMs * 1000));
    }
    return *session_;
}

DeliveryResult::Outcome HttpOutputClient::classify(int status) {
    if (status >= 200 && status < 300) return DeliveryResult::Outcome::Delivered;
    if (status == 408 || status == 425 || status == 429 || status >= 500 || status < 200)
        return DeliveryResult::Outcome::Retry;
    return DeliveryResult::Outcome::Reject;  // other 4xx, and 3xx (redirects are not followed)
}

std::optional<std::int64_t> HttpOutputClient::parseRetryAfter(const std::string& value, std::int64_t nowMs) {
    if (value.empty()) return std::nullopt;
    if (value.find_first_not_of("0123456789") == std::string::npos) {
        if (value.size() > 9) return std::nullopt;
        return std::stoll(value) * 1000;
    }
    try {
        int tz = 0;
        Poco::DateTime dt = Poco::DateTimeParser::parse(value, tz);
        std::int64_t at = dt.timestamp().epochMicroseconds() / 1000 - static_cast<std::int64_t>(tz) * 1000;
        return std::max<std::int64_t>(0, at - nowMs);
    } catch (const Poco::Exception&) {
        return std::nullopt;
    }
}

DeliveryResult HttpOutputClient::deliver(const store::OutboxRow& row) {
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, path_, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setHost(uri_.getHost(), uri_.getPort());
    req.setKeepAlive(true);
    for (const auto& [name, value] : spec_.headers) req.set(name, value);
    const std::string* body = row.body.get();
    std::string binaryBody;
    if (spec_.mode == config::OutputSpec::Mode::Binary) {
        event::BinaryMessage msg;
        try {
            msg = event::toBinary(event::fromJson(nlohmann::json::parse(*row.body)));
        } catch (const std::exception& e) {
            return {DeliveryResult::Outcome::Reject, 0, std::nullopt,
                    std::string("cannot encode the event in binary mode: ") + e.what()};
        }
        for (const auto& [name, value] : msg.headers) req.set(name, value);
        binaryBody = std::move(msg.body);
        body = &binaryBody;
    } else {
        req.setContentType("application/cloudevents+json");
    }
    req.setContentLength(static_cast<std::streamsize>(body->size()));
    try {
        auto& s = session();
        s.sendRequest(req) << *body;
        Poco::Net::HTTPResponse resp;
        std::istream& in = s.receiveResponse(resp);
        // Read the whole answer so the connection can be reused; keep a little for the DLQ.
        std::string answer;
        char buf[4096];
        while (in.read(buf, sizeof buf) || in.gcount() > 0) {
            if (answer.size() < 512) answer.append(buf, static_cast<std::size_t>(in.gcount()));
        }
        int status = static_cast<int>(resp.getStatus());
        DeliveryResult r;
        r.status = status;
        r.outcome = classify(status);
        if (r.outcome != DeliveryResult::Outcome::Delivered) {
            if (answer.size() > 200) answer = answer.substr(0, 200) + "...";
            r.detail = "HTTP " + std::to_string(status) + " " + resp.getReason() + (answer.empty() ? "" : ": " + answer);
            if (resp.has("Retry-After"))
                r.retryAfterMs = parseRetryAfter(resp.get("Retry-After"), util::SystemClock().nowMs());
        }
        if (!resp.getKeepAlive()) session_.reset();
        return r;
    } catch (const Poco::TimeoutException&) {
        session_.reset();
        return {DeliveryResult::Outcome::Retry, 0, std::nullopt,
                "no answer from " + spec_.url + " within " + std::to_string(spec_.readTimeoutMs) + " ms"};
    } catch (const Poco::Exception& e) {
        session_.reset();
        return {DeliveryResult::Outcome::Retry, 0, std::nullopt, spec_.url + ": " + e.displayText()};
    } catch (const std::exception& e) {
        session_.reset();
        return {DeliveryResult::Outcome::Retry, 0, std::nullopt, e.what()};
    }
}

} // namespace ow::delivery
