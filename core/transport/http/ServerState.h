// What the HTTP server's parts share: the handlers, the limits, and the stop and connection
// bookkeeping that stop() waits on. Internal to the server.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/transport/http/HttpServer.h"
#include "core/transport/http/RequestParser.h"
#include "core/transport/http/ResponseFormat.h"

namespace ow::transport::http {

// Bytes read per receive call; a connection's buffer holds a whole head plus two of these.
constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
// After answering with Connection: close, unread client bytes are drained for this long so the
// kernel does not answer them with a RST that could destroy our response in flight.
constexpr int kLingerMs = 500;
constexpr std::size_t kLingerBytes = std::size_t{256} * 1024;

struct ServerState {
    Handler handler;
    FastHandler fast;
    HeadCheck headCheck;
    ServerLimits limits;
    ParseLimits parseLimits;
    ErrorObserver onError;
    std::atomic<bool> stopping{false};
    std::atomic<int> active{0};
    std::mutex mutex;
    std::condition_variable drained;
    std::unordered_map<const void*, int> sockets; // TLS connection -> fd, shut down at deadline
    bool started = false;
    bool stopCalled = false;

    void report(int status, const std::string& reason) noexcept {
        if (!onError) return;
        try {
            onError(status, reason);
        } catch (...) {
            // An observer failing must not take the connection down with it.
        }
    }

    /// A connection's read buffer: the largest head (or chunk-size line) and room to read.
    [[nodiscard]] std::size_t readBufferBytes() const {
        return static_cast<std::size_t>(std::max<std::int64_t>(limits.maxHeaderBytes,
                                                               RequestParser::kMaxChunkLineBytes)) +
               2 * kReadChunk;
    }

    /// Whether a connection of the reserve may ask for `path`.
    [[nodiscard]] bool reserved(const std::string& path) const {
        return std::find(limits.reservedPaths.begin(), limits.reservedPaths.end(), path) !=
               limits.reservedPaths.end();
    }

    /// What to answer before the body when the client expects 100 Continue: a refusal, or
    /// nothing (then 100 Continue). A check that throws refuses with 500.
    std::optional<Response> checkHead(const Request& head) noexcept {
        if (!headCheck) return std::nullopt;
        try {
            return headCheck(head);
        } catch (...) {
            return handlerFailed(head.method + " " + head.path, std::current_exception());
        }
    }

    /// The 408's detail when the head (or else the body) did not arrive in time.
    [[nodiscard]] std::string timeoutDetail(bool head) const {
        return std::string(head ? "request head" : "request body") + " not received within " +
               std::to_string(head ? limits.headerTimeoutMs : limits.bodyTimeoutMs) + " ms";
    }

    /// Call from a catch block around a handler on `label` ("POST /v1/events"): reports what
    /// it threw and gives the 500 to answer instead.
    Response handlerFailed(const std::string& label, const std::exception_ptr& error) noexcept {
        std::string why = "unknown exception";
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            why = e.what();
        } catch (...) {
            // not an std::exception: "unknown exception"
        }
        report(500, "handler failed on " + label + ": " + why);
        return internalError();
    }

    /// `r`, or a 500 when it cannot be written (response splitting, impossible status).
    Response sendable(Response r, const std::string& label) noexcept {
        if (std::string why = invalidResponse(r); !why.empty()) {
            report(500, "handler response to " + label + " cannot be sent: " + why);
            return internalError();
        }
        return r;
    }

    void opened() {
        std::lock_guard lock(mutex);
        active.fetch_add(1);
    }
    void closed() {
        std::lock_guard lock(mutex);
        active.fetch_sub(1);
        drained.notify_all();
    }
};

} // namespace ow::transport::http
