// A TCP peer on loopback that speaks HTTP only as far as a test scripts it: a receiver that
// never answers, trickles its answer a byte at a time, or answers with an endless body; or a
// client that opens a connection and sends nothing. Each accepted connection runs the test's
// session on a thread of its own; stopping the peer shuts every connection down.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ow::testkit {

class RawPeer;

/// One accepted connection, handed to the session.
class RawConnection {
public:
    RawConnection(RawPeer& peer, int fd, int number) : peer_(peer), fd_(fd), number_(number) {}

    /// 1 for the first connection the peer accepted, 2 for the next...
    [[nodiscard]] int number() const { return number_; }
    /// Reads one request (head, and a Content-Length body); false if the connection ended or
    /// the peer is stopping first. `head` ends with the blank line.
    bool readRequest(std::string& head, std::string& body);
    /// Sends everything; false once the other side is gone (or the peer is stopping).
    bool send(std::string_view bytes);
    /// Waits `pause` or until the peer stops; false when it stops.
    bool pace(std::chrono::milliseconds pause);

private:
    RawPeer& peer_;
    int fd_;
    int number_;
    std::string buffered_;
};

class RawPeer {
public:
    using Session = std::function<void(RawConnection&)>;

    /// Listens on 127.0.0.1, a port of its choosing, and serves at once.
    explicit RawPeer(Session session);
    ~RawPeer();
    RawPeer(const RawPeer&) = delete;
    RawPeer& operator=(const RawPeer&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::string url(const std::string& path = "/events") const;
    /// Connections accepted so far.
    [[nodiscard]] int connections() const { return accepted_.load(); }
    /// Requests read by readRequest() so far, over all connections.
    [[nodiscard]] int requests() const { return requests_.load(); }

    /// Closes the listener and every connection; joins the sessions. Idempotent.
    void stop();

private:
    friend class RawConnection;
    void acceptLoop();
    bool stopping() const { return stopping_.load(); }

    Session session_;
    int listenFd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> accepted_{0};
    std::atomic<int> requests_{0};
    std::mutex mu_;
    std::condition_variable stopped_;
    std::vector<int> fds_;
    std::vector<std::thread> sessions_;
    std::thread acceptor_;
};

/// A client connection to 127.0.0.1:`port` that sends exactly the bytes a test gives it,
/// from `fromAddress` (any 127.x.y.z: loopback is a /8, so one test can be many clients).
class RawClient {
public:
    explicit RawClient(std::uint16_t port, const std::string& fromAddress = "");
    ~RawClient();
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    bool send(std::string_view bytes);
    /// Reads until `what` has arrived, the other side closes, or `deadline` passes; returns
    /// everything read so far (also what was read by earlier calls and not yet returned).
    std::string readUntil(std::string_view what, std::chrono::milliseconds deadline);
    /// Reads until the other side closes or `deadline` passes.
    std::string readToClose(std::chrono::milliseconds deadline);
    [[nodiscard]] bool closedByPeer() const { return closed_; }

private:
    int fd_ = -1;
    bool closed_ = false;
    std::string pending_;
};

/// One request on a fresh connection from `fromAddress`; the answer as read until the server
/// closes (send `Connection: close`) or `deadline`.
std::string rawRequest(std::uint16_t port, const std::string& request,
                       const std::string& fromAddress = "",
                       std::chrono::milliseconds deadline = std::chrono::seconds(5));

/// The status code of a raw HTTP answer; 0 when there is none.
int statusOf(const std::string& answer);

/// Opens `count` TCP connections to 127.0.0.1:`port` that send nothing (held until the
/// object goes); a connection the other side closes is noticed by stillOpen().
class SilentConnections {
public:
    SilentConnections(std::uint16_t port, int count);
    ~SilentConnections();
    SilentConnections(const SilentConnections&) = delete;
    SilentConnections& operator=(const SilentConnections&) = delete;
    /// How many of them the other side has not closed yet.
    [[nodiscard]] int stillOpen() const;
    [[nodiscard]] int opened() const { return static_cast<int>(fds_.size()); }

private:
    std::vector<int> fds_;
};

} // namespace ow::testkit
