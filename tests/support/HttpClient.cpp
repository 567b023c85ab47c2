#include "tests/support/HttpClient.h"

#include <strings.h>

#include <istream>
#include <iterator>
#include <ostream>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

namespace ow::testkit {

namespace {

Poco::Timespan toTimespan(std::chrono::milliseconds ms) {
    return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

bool hasHeader(const Headers& headers, const char* name) {
    for (const auto& [key, value] : headers) {
        if (::strcasecmp(key.c_str(), name) == 0) {
            return true;
        }
    }
    return false;
}

HttpReply exchange(Poco::Net::HTTPClientSession& session, const std::string& method,
                   const std::string& target, const std::string& body, const Headers& headers) {
    Poco::Net::HTTPRequest request(method, target.empty() ? "/" : target,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [name, value] : headers) {
        request.add(name, value);
    }
    if (!body.empty() && !hasHeader(headers, "Content-Type")) {
        request.setContentType("application/octet-stream");
    }
    // Bodiless POST/PUT still need Content-Length: 0, or a strict server waits for a body.
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
        request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    std::ostream& out = session.sendRequest(request);
    out.write(body.data(), static_cast<std::streamsize>(body.size()));

    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    HttpReply reply;
    reply.status = static_cast<int>(response.getStatus());
    for (const auto& [name, value] : response) {
        reply.headers.emplace_back(name, value);
    }
    reply.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return reply;
}

} // namespace

std::string HttpReply::header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
        if (::strcasecmp(key.c_str(), name.c_str()) == 0) {
            return value;
        }
    }
    return "";
}

HttpReply httpRequest(const std::string& method, const std::string& url, const std::string& body,
                      const Headers& headers, std::chrono::milliseconds timeout,
                      const TlsFiles& tls) {
    const Poco::URI uri(url);
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (uri.getScheme() == "https") {
        const auto verification = tls.caFile.empty() ? Poco::Net::Context::VERIFY_NONE
                                                     : Poco::Net::Context::VERIFY_RELAXED;
        Poco::Net::Context::Ptr context =
            new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, tls.keyFile, tls.certFile,
                                   tls.caFile, verification, 9, false);
        session =
            std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), context);
    } else {
        session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    }
    session->setTimeout(toTimespan(timeout));
    session->setKeepAlive(false);
    return exchange(*session, method, uri.getPathAndQuery(), body, headers);
}

HttpReply postCloudEvent(const std::string& url, const std::string& json,
                         const Headers& extraHeaders, std::chrono::milliseconds timeout) {
    Headers headers = extraHeaders;
    headers.emplace_back("Content-Type", "application/cloudevents+json");
    return httpRequest("POST", url, json, headers, timeout);
}

KeepAliveClient::KeepAliveClient(const std::string& host, std::uint16_t port,
                                 std::chrono::milliseconds timeout)
    : session_(std::make_unique<Poco::Net::HTTPClientSession>(host, port)) {
    session_->setTimeout(toTimespan(timeout));
    session_->setKeepAlive(true);
}

KeepAliveClient::~KeepAliveClient() = default;

HttpReply KeepAliveClient::request(const std::string& method, const std::string& pathAndQuery,
                                   const std::string& body, const Headers& headers) {
    if (!session_->connected()) {
        ++connections_;
    }
    try {
        return exchange(*session_, method, pathAndQuery, body, headers);
    } catch (...) {
        // The stream state is unknown after a failure; a new connection is the only safe start.
        session_->reset();
        throw;
    }
}

HttpReply KeepAliveClient::post(const std::string& pathAndQuery, const std::string& body,
                                const std::string& contentType, const Headers& headers) {
    Headers all = headers;
    all.emplace_back("Content-Type", contentType);
    return request("POST", pathAndQuery, body, all);
}

} // namespace ow::testkit
