// A department system on loopback, for tests of components that call services.http: an
// HTTP/1.1 server on 127.0.0.1, port 0 (the kernel picks a free one, so tests never collide),
// serving on a thread of its own. It records every request and answers as the test programs it:
// a status and body, a dropped connection, or no answer at all (to test timeouts).
//
//   testkit::FakeHttpPeer peer;
//   peer.queueReply(testkit::PeerReply::answer(503, "busy", {{"Retry-After", "30"}}));
//   peer.setDefaultReply(testkit::PeerReply::answer(200, R"({"code":"200"})"));
//   ... component posts to peer.url("/api/cases") ...
//   auto reqs = peer.requests();   // method, path, headers, body of each
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "onewindow/sdk/testkit/HttpWire.h"

namespace onewindow::sdk::testkit {

struct RecordedRequest {
    std::string method;
    std::string target; ///< as sent: path and query
    std::string path;   ///< target without the query
    std::string version;
    HttpHeaders headers;
    std::string body;

    /// First value of header `name` (case-insensitive), "" if absent.
    [[nodiscard]] std::string header(std::string_view name) const {
        return detail::findHeader(headers, name).value_or("");
    }
};

/// How the peer answers one request.
struct PeerReply {
    enum class Action {
        Answer, ///< send status, headers and body
        Drop,   ///< close the connection without an answer (a crashed or reset system)
        Hold,   ///< never answer; the client's timeout fires (a hung system)
    };
    Action action = Action::Answer;
    int status = 200;
    HttpHeaders headers;
    std::string body;

    static PeerReply answer(int status, std::string body = {}, HttpHeaders headers = {}) {
        PeerReply r;
        r.status = status;
        r.body = std::move(body);
        r.headers = std::move(headers);
        return r;
    }
    static PeerReply drop() {
        PeerReply r;
        r.action = Action::Drop;
        return r;
    }
    static PeerReply hold() {
        PeerReply r;
        r.action = Action::Hold;
        return r;
    }
};

class FakeHttpPeer {
public:
    /// Listens on 127.0.0.1:0 and starts serving; throws std::system_error if it cannot.
    FakeHttpPeer() {
        try {
            listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            if (listenFd_ < 0) fail("socket");
            sockaddr_in addr{};
            addr.sin_family = AF_INET;
            addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            addr.sin_port = 0;
            if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
                fail("bind 127.0.0.1:0");
            if (::listen(listenFd_, 64) != 0) fail("listen");
            socklen_t len = sizeof addr;
            if (::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
                fail("getsockname");
            port_ = ntohs(addr.sin_port);
            // The serving thread sleeps in poll(); a byte on this pipe wakes it to stop.
            if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) fail("pipe2");
            thread_ = std::thread([this] { run(); });
        } catch (...) {
            closeFds();
            throw;
        }
    }
    ~FakeHttpPeer() { stop(); }
    FakeHttpPeer(const FakeHttpPeer&) = delete;
    FakeHttpPeer& operator=(const FakeHttpPeer&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    /// "http://127.0.0.1:<port>" followed by `path`.
    [[nodiscard]] std::string url(std::string_view path = "") const {
        return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }

    /// The answer to every request not answered by a queued reply or a handler (200, empty).
    void setDefaultReply(PeerReply reply) {
        std::lock_guard<std::mutex> lock(mutex_);
        default_ = std::move(reply);
    }
    /// Answers the next request with `reply`; queued replies are used once each, in order.
    void queueReply(PeerReply reply) {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(reply));
    }
    /// Computes every answer (queued and default replies are then unused). Runs on the peer's
    /// thread; an exception it throws is answered 500 with its message.
    void setHandler(std::function<PeerReply(const RecordedRequest&)> handler) {
        std::lock_guard<std::mutex> lock(mutex_);
        handler_ = std::move(handler);
    }

    /// Every complete request so far, in arrival order (recorded before it is answered, so a
    /// request whose answer the client saw is always here).
    [[nodiscard]] std::vector<RecordedRequest> requests() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return requests_;
    }
    [[nodiscard]] std::size_t requestCount() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return requests_.size();
    }
    /// Waits until `n` requests have arrived or `deadline` passed (for a component that calls
    /// from its own thread); true if they arrived.
    bool waitForRequests(std::size_t n, std::chrono::milliseconds deadline) const {
        std::unique_lock<std::mutex> lock(mutex_);
        return arrived_.wait_for(lock, deadline, [&] { return requests_.size() >= n; });
    }

    /// Stops serving and closes every connection (held ones too). Idempotent.
    void stop() {
        if (thread_.joinable()) {
            const char byte = 1;
            const ssize_t written = ::write(wake_[1], &byte, 1); // the pipe is empty: cannot block
            (void)written;
            thread_.join();
        }
        closeFds();
    }

private:
    static constexpr std::size_t MaxHead = 64 * 1024;
    static constexpr std::size_t MaxBody = 16 * 1024 * 1024;

    struct Conn {
        int fd = -1;
        std::string in;
        bool held = false;      ///< answered with Hold: ignore it until the client gives up
        bool continued = false; ///< "100 Continue" sent for the request being read
    };

    [[noreturn]] static void fail(const char* what) {
        throw std::system_error(errno, std::generic_category(),
                                std::string("FakeHttpPeer: ") + what);
    }
    void closeFds() {
        for (int* fd : {&listenFd_, &wake_[0], &wake_[1]})
            if (*fd >= 0) {
                ::close(*fd);
                *fd = -1;
            }
    }

    // One thread, one poll() over the listener and all connections: no per-connection threads
    // to join, and a held connection costs nothing.
    void run() {
        std::vector<Conn> conns;
        while (true) {
            std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listenFd_, POLLIN, 0}};
            for (const auto& c : conns)
                fds.push_back({c.fd, POLLIN, 0});
            if (::poll(fds.data(), fds.size(), -1) < 0) {
                if (errno == EINTR) continue;
                break;
            }
            if (fds[0].revents != 0) break;
            for (std::size_t i = conns.size(); i-- > 0;)
                if (fds[i + 2].revents != 0 && !readFrom(conns[i])) {
                    ::close(conns[i].fd);
                    conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
                }
            if (fds[1].revents & POLLIN)
                for (int fd; (fd = ::accept4(listenFd_, nullptr, nullptr,
                                             SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0;)
                    conns.push_back(Conn{fd, {}, false, false});
        }
        for (const auto& c : conns)
            ::close(c.fd);
    }

    // False when the connection is to be closed.
    bool readFrom(Conn& c) {
        char buf[16384];
        const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
        if (n <= 0) return false;
        if (c.held) return true;
        c.in.append(buf, static_cast<std::size_t>(n));
        return serveBuffered(c);
    }

    bool serveBuffered(Conn& c) {
        while (true) {
            const auto head = detail::parseHead(c.in);
            if (!head) {
                if (c.in.size() > MaxHead) return refuse(c, 431, "request head too large");
                return true;
            }
            RecordedRequest r;
            {
                const std::string& line = head->startLine;
                const auto sp1 = line.find(' ');
                if (sp1 == std::string::npos) return refuse(c, 400, "bad request line");
                const auto sp2 = line.find(' ', sp1 + 1);
                if (sp2 == std::string::npos) return refuse(c, 400, "bad request line");
                r.method = line.substr(0, sp1);
                r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
                r.version = line.substr(sp2 + 1);
                r.path = r.target.substr(0, r.target.find('?'));
                r.headers = head->headers;
            }
            const std::string_view rest = std::string_view(c.in).substr(head->headEnd);
            std::size_t used = 0;
            const auto te = detail::findHeader(r.headers, "Transfer-Encoding");
            if (te && detail::iequals(*te, "chunked")) {
                auto chunked = detail::decodeChunked(rest);
                if (chunked.state == detail::Chunked::State::Bad)
                    return refuse(c, 400, "bad chunked body");
                if (chunked.state == detail::Chunked::State::Incomplete) {
                    if (rest.size() > MaxBody) return refuse(c, 413, "request body too large");
                    return true;
                }
                r.body = std::move(chunked.body);
                used = chunked.used;
            } else {
                std::size_t length = 0;
                if (const auto cl = detail::findHeader(r.headers, "Content-Length")) {
                    char* end = nullptr;
                    const unsigned long long v = std::strtoull(cl->c_str(), &end, 10);
                    if (cl->empty() || *end != '\0') return refuse(c, 400, "bad Content-Length");
                    if (v > MaxBody) return refuse(c, 413, "request body too large");
                    length = static_cast<std::size_t>(v);
                }
                if (rest.size() < length) {
                    // curl and others wait for this before they send a large body.
                    const auto expect = detail::findHeader(r.headers, "Expect");
                    if (expect && detail::iequals(*expect, "100-continue") && !c.continued) {
                        c.continued = true;
                        if (!detail::sendAll(c.fd, "HTTP/1.1 100 Continue\r\n\r\n", deadline()))
                            return false;
                    }
                    return true;
                }
                r.body = std::string(rest.substr(0, length));
                used = length;
            }
            c.in.erase(0, head->headEnd + used);
            c.continued = false;
            const auto connection = detail::findHeader(r.headers, "Connection").value_or("");
            const bool close = r.version == "HTTP/1.0" ? !detail::iequals(connection, "keep-alive")
                                                       : detail::iequals(connection, "close");
            PeerReply reply = record(std::move(r));
            if (reply.action == PeerReply::Action::Drop) return false;
            if (reply.action == PeerReply::Action::Hold) {
                c.held = true;
                c.in.clear();
                return true;
            }
            std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                              detail::reasonPhrase(reply.status) + "\r\n";
            for (const auto& [k, v] : reply.headers)
                out += k + ": " + v + "\r\n";
            if (!detail::findHeader(reply.headers, "Content-Length"))
                out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
            if (close) out += "Connection: close\r\n";
            out += "\r\n" + reply.body;
            if (!detail::sendAll(c.fd, out, deadline()) || close) return false;
        }
    }

    // Records the request, wakes waiters, and decides the answer.
    PeerReply record(RecordedRequest r) {
        std::function<PeerReply(const RecordedRequest&)> handler;
        PeerReply reply;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            requests_.push_back(r);
            handler = handler_;
            if (!handler) {
                if (!queue_.empty()) {
                    reply = std::move(queue_.front());
                    queue_.pop_front();
                } else {
                    reply = default_;
                }
            }
        }
        arrived_.notify_all();
        if (!handler) return reply;
        try {
            return handler(r); // outside the lock: the handler may call requests()
        } catch (const std::exception& e) {
            return PeerReply::answer(500, e.what());
        } catch (...) {
            return PeerReply::answer(500, "handler threw");
        }
    }

    // Answers a request the peer cannot read and closes the connection (returns false for that).
    static bool refuse(Conn& c, int status, const std::string& body) {
        const std::string out = "HTTP/1.1 " + std::to_string(status) + " " +
                                detail::reasonPhrase(status) +
                                "\r\nContent-Length: " + std::to_string(body.size()) +
                                "\r\nConnection: close\r\n\r\n" + body;
        detail::sendAll(c.fd, out, deadline());
        return false;
    }

    // A client that stops reading must not hang the peer's thread forever.
    static std::chrono::steady_clock::time_point deadline() {
        return std::chrono::steady_clock::now() + std::chrono::seconds(5);
    }

    int listenFd_ = -1;
    int wake_[2] = {-1, -1};
    std::uint16_t port_ = 0;
    std::thread thread_;

    mutable std::mutex mutex_;
    mutable std::condition_variable arrived_;
    std::vector<RecordedRequest> requests_;
    std::deque<PeerReply> queue_;
    PeerReply default_;
    std::function<PeerReply(const RecordedRequest&)> handler_;
};

} // namespace onewindow::sdk::testkit
