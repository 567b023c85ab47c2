// One keep-alive HTTP/1.1 client connection, plain or TLS, written for the dispatcher's hot
// path: the request goes out in one send, the response is parsed from one buffer. (Poco's
// HTTPClientSession costs about as much CPU per request as the whole accept path: header maps,
// stream buffers, several syscalls per message.)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <Poco/Net/Context.h>
#include <Poco/Net/StreamSocket.h>

#include "core/transport/http/HttpMessage.h"

namespace ow::transport::http {

struct ClientResponse {
    int status = 0;
    std::string reason;
    HeaderList headers; ///< names lower-cased
    std::string body;   ///< at most `maxBodyKept` bytes; the rest is read and dropped
    bool keepAlive = true;

    [[nodiscard]] const std::string* header(std::string_view lowerName) const {
        for (const auto& [n, v] : headers)
            if (n == lowerName) return &v;
        return nullptr;
    }
};

class HttpClientConnection {
public:
    /// `tls` null: plain HTTP. Timeouts bound connecting, and each wait for response bytes.
    HttpClientConnection(std::string host, std::uint16_t port, Poco::Net::Context::Ptr tls,
                         std::int64_t connectTimeoutMs, std::int64_t readTimeoutMs,
                         std::size_t maxBodyKept = 4096);
    ~HttpClientConnection();

    /// Sends one request and reads its response. Connects (or reconnects) as needed; a kept-
    /// alive connection the peer closed meanwhile is reopened once. Throws Poco::Exception on
    /// network errors (Poco::TimeoutException when the peer is too slow) and
    /// std::runtime_error on a malformed response; the connection is closed then.
    ClientResponse request(std::string_view method, std::string_view target,
                           const HeaderList& headers, std::string_view body);

    void close() noexcept;

private:
    void connect();
    bool exchange(const std::string& head, std::string_view body, ClientResponse& out, bool reused);
    std::size_t fill(); // reads more bytes into buf_, returns how many (0 = peer closed)

    std::string host_;
    std::uint16_t port_;
    Poco::Net::Context::Ptr tls_;
    std::int64_t connectTimeoutMs_;
    std::int64_t readTimeoutMs_;
    std::size_t maxBodyKept_;
    std::unique_ptr<Poco::Net::StreamSocket> socket_;
    std::string buf_;
    std::size_t pos_ = 0;
};

} // namespace ow::transport::http
