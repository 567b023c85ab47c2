// One keep-alive HTTP/1.1 client connection, plain or TLS, written for the dispatcher's hot
// path: the request goes out in one send, the response is parsed from one buffer. (Poco's
// HTTPClientSession costs about as much CPU per request as the whole accept path: header maps,
// stream buffers, several syscalls per message.)
//
// The peer is not trusted to be reasonable: one exchange ends by a deadline however slowly
// the answer trickles in, and the answer is never buffered whole. Only its head (64 KiB at
// most), `maxBodyKept` bytes of its body and a further 64 KiB read to keep the connection
// are taken; a longer body is cut off by closing the connection. So one exchange holds about
// 150 KiB at most (plus `maxBodyKept`), whatever the peer sends.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
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
    std::string body;   ///< at most `maxBodyKept` bytes; the rest is dropped or cut off
    bool keepAlive = true;

    [[nodiscard]] const std::string* header(std::string_view lowerName) const {
        for (const auto& [n, v] : headers)
            if (n == lowerName) return &v;
        return nullptr;
    }
};

class HttpClientConnection {
public:
    /// Bytes of a body read past `maxBodyKept` and dropped so the connection can be kept;
    /// a longer body is cut off by closing the connection instead.
    static constexpr std::size_t kMaxBodyDropped = 64 * 1024;
    /// Longest response head (status line and fields, or the trailer section).
    static constexpr std::size_t kMaxHeadBytes = 64 * 1024;

    /// `tls` null: plain HTTP. Connecting may take `connectTimeoutMs`; sending the request and
    /// reading the answer together `readTimeoutMs`, however the peer paces its bytes.
    HttpClientConnection(std::string host, std::uint16_t port, Poco::Net::Context::Ptr tls,
                         std::int64_t connectTimeoutMs, std::int64_t readTimeoutMs,
                         std::size_t maxBodyKept = 4096);
    ~HttpClientConnection();

    /// Sends one request and reads its response. Connects (or reconnects) as needed; a kept-
    /// alive connection the peer closed meanwhile is reopened once. The whole call takes at
    /// most connectTimeoutMs + readTimeoutMs (plus 100 ms). Throws Poco::Exception on network
    /// errors (Poco::TimeoutException when the peer is too slow) and std::runtime_error on a
    /// malformed response; the connection is closed then.
    ClientResponse request(std::string_view method, std::string_view target,
                           const HeaderList& headers, std::string_view body);

    void close() noexcept;

    /// From any thread: the exchange in progress fails at once (its socket is shut down) and
    /// every later request() fails too. For a hub that stops and cannot wait for a receiver.
    void abort() noexcept;
    /// Whether abort() was called.
    [[nodiscard]] bool aborted() noexcept;

private:
    using Clock = std::chrono::steady_clock;

    void connect();
    bool exchange(const std::string& head, std::string_view body, ClientResponse& out, bool reused);
    void send(std::string_view bytes);
    std::size_t fill(); // reads more bytes into buf_, returns how many (0 = peer closed)
    /// Before each blocking socket call: throws once the deadline has passed, and shortens the
    /// socket's timeouts when less time is left than they allow.
    void arm();

    std::string host_;
    std::uint16_t port_;
    Poco::Net::Context::Ptr tls_;
    std::int64_t connectTimeoutMs_;
    std::int64_t readTimeoutMs_;
    std::size_t maxBodyKept_;
    std::unique_ptr<Poco::Net::StreamSocket> socket_;
    std::string buf_;
    std::size_t pos_ = 0;
    Clock::time_point deadline_;
    std::int64_t armedMs_ = 0; // the socket's current send/receive timeout
    // abort() may come from another thread while socket_ is being replaced: the descriptor it
    // shuts down is published under this lock.
    std::mutex abortMu_;
    int liveFd_ = -1;
    bool aborted_ = false;
};

} // namespace ow::transport::http
