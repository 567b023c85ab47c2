// A strict HTTP/1.1 server. Written for the hub instead of using Poco::Net::HTTPServer because
// the hub needs what that one cannot give: 431 for large heads, whole-request deadlines against
// slow clients (not per-read timeouts), strict framing (RFC 9112 §6.3), a shutdown that closes
// idle keep-alive connections, and answers that finish on another thread without a thread
// waiting for each. Plain connections are served by one epoll loop (ConnectionLoop); TLS
// connections by a thread each on Poco::Net::TCPServer, because Poco's TLS sockets cannot be
// driven without blocking.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/ThreadPool.h>

#include "core/transport/http/HttpMessage.h"
#include "core/transport/http/Reply.h"

namespace ow::transport::http {

struct ServerState;
class ConnectionLoop;

struct ServerLimits {
    std::int64_t maxHeaderBytes = 16 * 1024; ///< request line + headers; more: 431
    int maxHeaderCount = 100;                ///< more fields: 431
    std::int64_t maxBodyBytes =
        1 << 20; ///< more: 413 (checked on Content-Length and while de-chunking)
    std::int64_t maxTargetBytes = 8 * 1024; ///< longer request-target: 414
    std::int64_t headerTimeoutMs =
        10000; ///< whole head within this from its first byte: else 408 + close
    std::int64_t bodyTimeoutMs = 30000; ///< whole body within this: else 408 + close
    std::int64_t idleTimeoutMs = 60000; ///< keep-alive idle: close silently
    /// Open at once; also blocking handlers. When they are all taken, a new connection takes
    /// the slot of the oldest one that has not sent a whole request head (silent, slow, or
    /// idle between requests); when none has, it gets one of the reserve, else a 503.
    int maxConnections = 256;
    /// Plain HTTP: connections beyond maxConnections that may ask for `reservedPaths` only
    /// (anything else is answered 503), so health checks and metrics get through a flood.
    int reserveConnections = 16;
    std::vector<std::string> reservedPaths;
    int maxQueued = 256; ///< TLS only: accepted but waiting for a thread
};

/// Called once per complete request that the FastHandler did not take, on a thread of its own
/// (a pool's, or the TLS connection's), so it may block. Exceptions escaping it are answered
/// 500 with a problem body and reported through `onError`.
using Handler = std::function<Response(const Request&)>;

/// Offered every request first, on the thread that read it: for plain HTTP the event loop that
/// serves every connection, so it must never block. Returns false to leave the request to the
/// Handler, true when it took it and answers through `reply`, once, from any thread (a reply
/// dropped unanswered answers 500). Exceptions are answered 500 like the Handler's.
using FastHandler = std::function<bool(const Request&, Reply reply)>;

/// Called on a request's head when the client waits for 100 Continue before sending its body:
/// a Response refuses the request at once (the body is never read and the connection is
/// closed), nothing lets the body come. On the thread that read the head: must not block.
using HeadCheck = std::function<std::optional<Response>(const Request& head)>;

/// Told about requests the server refused itself (status 400/408/411/413/414/431/501/505), about
/// handler exceptions (status 500), about connections refused with 503 because every slot is
/// taken, and with status 0 about connection-level events that have no HTTP answer (TLS
/// handshake, socket errors, a silent connection closed), with a human-readable reason. Called from
/// connection threads concurrently, so it must be thread-safe; exceptions from it are swallowed.
using ErrorObserver = std::function<void(int status, const std::string& reason)>;

class HttpServer {
public:
    /// `socket` is bound and listening (a SecureServerSocket for TLS). Does not start serving.
    HttpServer(Poco::Net::ServerSocket socket, Handler handler, ServerLimits limits,
               ErrorObserver onError = {}, FastHandler fast = {}, HeadCheck headCheck = {});
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    void start();

    /// Stops accepting, lets requests being handled finish and answer (with Connection: close),
    /// closes idle keep-alive connections, and returns when every connection thread is done or
    /// `deadline` has passed (then remaining sockets are shut down). Idempotent.
    void stop(std::chrono::milliseconds deadline);

    /// The port actually bound (useful after binding port 0).
    [[nodiscard]] std::uint16_t port() const;

    /// Connections currently open.
    [[nodiscard]] int activeConnections() const;

    /// True once stop() has begun (responses then carry Connection: close).
    [[nodiscard]] bool stopping() const;

private:
    std::shared_ptr<ServerState> shared_;
    Poco::Net::ServerSocket listener_;
    std::unique_ptr<ConnectionLoop> loop_; // plain HTTP
    // TLS. A pool of our own: Poco's default pool holds only 16 threads. Declared before
    // server_ so the server (which uses it) is destroyed first.
    std::unique_ptr<Poco::ThreadPool> pool_;
    std::unique_ptr<Poco::Net::TCPServer> server_;
    std::uint16_t port_ = 0;
};

} // namespace ow::transport::http
