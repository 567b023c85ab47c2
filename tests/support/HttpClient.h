// A plain HTTP client for tests: send one request, get status, headers and body back.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace Poco::Net {
class HTTPClientSession;
}

namespace ow::testkit {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpReply {
    int status = 0;
    std::string body;
    Headers headers;

    /// First value of header `name` (case-insensitive), "" if absent.
    [[nodiscard]] std::string header(const std::string& name) const;
};

/// Files for https:// URLs. Empty caFile: certificates are not verified (tests use
/// self-signed ones); certFile/keyFile: a client certificate for mutual TLS.
struct TlsFiles {
    std::string caFile;
    std::string certFile;
    std::string keyFile;
};

/// One request on a fresh connection. `url` is http://host:port/path?query (or https://).
/// A Content-Type in `headers` is sent as given; without one, a non-empty body goes as
/// application/octet-stream. Throws (a Poco::Exception) when the connection fails, is reset,
/// or times out; any HTTP status, including 5xx, is returned.
HttpReply httpRequest(const std::string& method, const std::string& url,
                      const std::string& body = "", const Headers& headers = {},
                      std::chrono::milliseconds timeout = std::chrono::seconds(5),
                      const TlsFiles& tls = {});

/// Posts a structured-mode CloudEvent (Content-Type application/cloudevents+json).
HttpReply postCloudEvent(const std::string& url, const std::string& json,
                         const Headers& extraHeaders = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// Many requests over one keep-alive connection (plain HTTP), as a busy client would send
/// them. Not thread-safe: one per thread. After a failure the next request reconnects.
class KeepAliveClient {
public:
    KeepAliveClient(const std::string& host, std::uint16_t port,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5));
    ~KeepAliveClient();
    KeepAliveClient(const KeepAliveClient&) = delete;
    KeepAliveClient& operator=(const KeepAliveClient&) = delete;

    /// Throws like httpRequest(); the connection is then dropped and re-opened next time.
    HttpReply request(const std::string& method, const std::string& pathAndQuery,
                      const std::string& body = "", const Headers& headers = {});

    HttpReply post(const std::string& pathAndQuery, const std::string& body,
                   const std::string& contentType = "application/cloudevents+json",
                   const Headers& headers = {});

    /// Connections opened so far (1 if every request reused the first one).
    [[nodiscard]] int connectionsOpened() const { return connections_; }

private:
    std::unique_ptr<Poco::Net::HTTPClientSession> session_;
    int connections_ = 0;
};

} // namespace ow::testkit
