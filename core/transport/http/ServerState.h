// What the HTTP server's parts share: the handlers, the limits, and the stop and connection
// bookkeeping that stop() waits on. Internal to the server.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/transport/http/HttpServer.h"
#include "core/transport/http/RequestParser.h"

namespace ow::transport::http {

struct ServerState {
    Handler handler;
    FastHandler fast;
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
