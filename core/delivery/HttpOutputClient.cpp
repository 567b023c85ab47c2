#include "core/delivery/HttpOutputClient.h"

#include <Poco/DateTimeParser.h>
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
    ctx->disableProtocols(Context::PROTO_SSLV2 | Context::PROTO_SSLV3 | Context::PROTO_TLSV1 |
                          Context::PROTO_TLSV1_1);
    return ctx;
}

HttpOutputClient::HttpOutputClient(const config::OutputSpec& spec, Context::Ptr tls)
    : spec_(spec), uri_(spec.url), path_(uri_.getPathEtc()),
      connection_(uri_.getHost(), uri_.getPort(),
                  uri_.getScheme() == "https" ? std::move(tls) : nullptr, spec.connectTimeoutMs,
                  spec.readTimeoutMs) {
    if (path_.empty()) path_ = "/";
    for (const auto& h : spec.headers)
        fixedHeaders_.push_back(h);
}

DeliveryResult::Outcome HttpOutputClient::classify(int status) {
    if (status >= 200 && status < 300) return DeliveryResult::Outcome::Delivered;
    if (status == 408 || status == 429 || status >= 500 || status < 200)
        return DeliveryResult::Outcome::Retry;
    return DeliveryResult::Outcome::Reject; // other 4xx, and 3xx (redirects are not followed)
}

std::optional<std::int64_t> HttpOutputClient::parseRetryAfter(const std::string& value,
                                                              std::int64_t nowMs) {
    if (value.empty()) return std::nullopt;
    if (value.find_first_not_of("0123456789") == std::string::npos) {
        if (value.size() > 9) return std::nullopt;
        return std::stoll(value) * 1000;
    }
    try {
        int tz = 0;
        Poco::DateTime dt = Poco::DateTimeParser::parse(value, tz);
        std::int64_t at =
            dt.timestamp().epochMicroseconds() / 1000 - static_cast<std::int64_t>(tz) * 1000;
        return std::max<std::int64_t>(0, at - nowMs);
    } catch (const Poco::Exception&) {
        return std::nullopt;
    }
}

DeliveryResult HttpOutputClient::deliver(const store::OutboxRow& row) {
    transport::http::HeaderList headers = fixedHeaders_;
    std::string_view body = *row.body;
    event::BinaryMessage binary;
    if (spec_.mode == config::OutputSpec::Mode::Binary) {
        try {
            binary = event::toBinary(event::fromJson(nlohmann::json::parse(*row.body)));
        } catch (const std::exception& e) {
            return {DeliveryResult::Outcome::Reject, 0, std::nullopt,
                    std::string("cannot encode the event in binary mode: ") + e.what()};
        }
        for (auto& h : binary.headers)
            headers.push_back(std::move(h));
        body = binary.body;
    } else {
        headers.emplace_back("Content-Type", "application/cloudevents+json");
    }
    try {
        auto resp = connection_.request("POST", path_, headers, body);
        DeliveryResult r;
        r.status = resp.status;
        r.outcome = classify(resp.status);
        if (r.outcome != DeliveryResult::Outcome::Delivered) {
            std::string answer =
                resp.body.size() > 200 ? resp.body.substr(0, 200) + "..." : resp.body;
            r.detail = "HTTP " + std::to_string(resp.status) + " " + resp.reason +
                       (answer.empty() ? "" : ": " + answer);
            if (const auto* ra = resp.header("retry-after"))
                r.retryAfterMs = parseRetryAfter(*ra, util::SystemClock().nowMs());
        }
        return r;
    } catch (const Poco::TimeoutException&) {
        return {DeliveryResult::Outcome::Retry, 0, std::nullopt,
                "no complete answer from " + spec_.url + " within " +
                    std::to_string(spec_.readTimeoutMs) + " ms"};
    } catch (const Poco::Exception& e) {
        return failed(e.displayText());
    } catch (const std::exception& e) {
        return failed(e.what());
    }
}

DeliveryResult HttpOutputClient::failed(const std::string& why) {
    if (connection_.aborted())
        return {DeliveryResult::Outcome::Retry, 0, std::nullopt,
                "cut off: the hub stopped waiting for " + spec_.url +
                    " (stopping or reloading); the delivery will be retried"};
    return {DeliveryResult::Outcome::Retry, 0, std::nullopt, spec_.url + ": " + why};
}

} // namespace ow::delivery
