// Serves every plain-HTTP connection of the server on one thread with epoll. A thread per
// connection cost two sleeps and wake-ups per request (waiting for the request, then for the
// journal's commit), which on two cores was a third of the hub's CPU; here one wake-up of the
// loop serves whatever is ready, and answers that finish on other threads (the journal
// writer's) come back in batches through one eventfd. Handlers that may block run on a task
// pool, never on the loop. TLS connections keep their threads (see HttpServer).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

#include "core/transport/http/ServerState.h"
#include "core/util/TaskPool.h"

namespace ow::transport::http {

class ConnectionLoop {
public:
    /// `listenFd`: bound and listening; the loop makes it non-blocking and accepts on it until
    /// the server stops, but never closes it (its owner does, after releaseListener()).
    ConnectionLoop(int listenFd, std::shared_ptr<ServerState> state);
    ~ConnectionLoop();
    ConnectionLoop(const ConnectionLoop&) = delete;
    ConnectionLoop& operator=(const ConnectionLoop&) = delete;

    void start();

    /// After `state->stopping` is set: returns once the loop no longer accepts (or `until`
    /// passed), so the listening socket may be closed. Idle connections are closed then; the
    /// others finish their request and are closed after its answer.
    void releaseListener(std::chrono::steady_clock::time_point until);

    /// Closes every connection still open and ends the loop; handlers still running finish on
    /// their threads and their answers are dropped. Joins the loop thread.
    void closeAll();

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
    std::thread thread_;
};

} // namespace ow::transport::http
