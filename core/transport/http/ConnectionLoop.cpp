#include "core/transport/http/ConnectionLoop.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/transport/http/Problem.h"
#include "core/transport/http/Reply.h"
#include "core/transport/http/ResponseFormat.h"
#include "core/util/ThreadName.h"

namespace ow::transport::http {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::uint64_t kListenerId = 0;
constexpr std::uint64_t kWakeId = 1;
constexpr int kMaxEvents = 128;
constexpr int kAcceptPauseMs = 100;

std::string peerName(const sockaddr_storage& addr) {
    char host[INET6_ADDRSTRLEN] = {};
    if (addr.ss_family == AF_INET) {
        const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
        inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
        return std::string(host) + ":" + std::to_string(ntohs(a.sin_port));
    }
    if (addr.ss_family == AF_INET6) {
        const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
        inet_ntop(AF_INET6, &a.sin6_addr, host, sizeof host);
        return "[" + std::string(host) + "]:" + std::to_string(ntohs(a.sin6_port));
    }
    return "unknown";
}

// Answers finished on other threads, taken by the loop in batches.
struct Inbox {
    std::mutex mu;
    std::vector<std::pair<std::uint64_t, Response>> items;
    std::thread::id loopThread;
    bool closed = false;
    int efd = -1;

    Inbox() {
        efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (efd < 0) throw std::system_error(errno, std::generic_category(), "HttpServer: eventfd");
    }
    ~Inbox() { ::close(efd); }
    Inbox(const Inbox&) = delete;
    Inbox& operator=(const Inbox&) = delete;

    void post(std::uint64_t conn, Response r) {
        bool wake = false;
        {
            std::lock_guard lock(mu);
            if (closed) return;
            // Only the first answer of a batch wakes the loop; the loop's own answers need no
            // wake-up: it takes the inbox before it sleeps.
            wake = items.empty() && std::this_thread::get_id() != loopThread;
            items.emplace_back(conn, std::move(r));
        }
        if (wake) signal();
    }

    void signal() const {
        std::uint64_t one = 1;
        (void)!::write(efd, &one, sizeof one);
    }
};

struct Conn {
    enum class State { Reading, Handling, Writing, Lingering };
    enum class Then { NextRequest, SameRequest, Close };

    Conn(std::uint64_t i, int f, std::string p, const ParseLimits& limits, std::size_t bufSize)
        : id(i), fd(f), peer(std::move(p)), parser(limits), buf(bufSize) {}

    std::uint64_t id;
    int fd;
    std::string peer;
    RequestParser parser;
    std::vector<char> buf;
    std::size_t begin = 0, end = 0;
    State state = State::Reading;
    Then then = Then::NextRequest;
    bool fresh = false;   // bytes arrived since the parser last looked
    bool readable = true; // edge-triggered: there may be unread bytes
    bool writable = true; // edge-triggered: the socket took everything so far
    bool dead = false;
    bool reserve = false;     // one of the reserve: may ask for the reserved paths only
    std::uint64_t served = 0; // requests read so far
    // idleSince: since when it waits for a request head (accepted, or answered the last one).
    Clock::time_point idleSince, headStart, bodyStart, writeDeadline, lingerUntil;
    std::string out;
    std::size_t sent = 0;
    std::size_t drained = 0;
    // The request being handled, for its answer and for error reports.
    bool keepAlive = true;
    bool headOnly = false;
    int minor = 1;
    std::string label; // "POST /v1/events"
};

} // namespace

struct ConnectionLoop::Impl {
    std::shared_ptr<ServerState> st;
    int listenFd;
    int epfd = -1;
    std::shared_ptr<Inbox> inbox = std::make_shared<Inbox>();
    util::TaskPool pool;
    std::unordered_map<std::uint64_t, std::unique_ptr<Conn>> conns;
    std::uint64_t nextId = 2;
    Clock::time_point nextSweep = Clock::time_point::max();
    std::size_t bufSize;
    bool accepting = true;
    Clock::time_point acceptPausedUntil = Clock::time_point::max(); // after accept() failed
    int reserveOpen = 0;   // connections of the reserve among `conns`
    std::string busyBytes; // the 503 for connections beyond every slot
    // Stop control, under st->mutex.
    bool listenerReleased = false;
    std::condition_variable released;
    std::atomic<bool> force{false};

    Impl(int fd, std::shared_ptr<ServerState> state)
        : st(std::move(state)), listenFd(fd),
          pool("ow-http-work",
               static_cast<std::size_t>(st->limits.maxConnections + st->limits.reserveConnections)),
          bufSize(st->readBufferBytes()) {
        epfd = ::epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0)
            throw std::system_error(errno, std::generic_category(), "HttpServer: epoll_create1");
        int flags = ::fcntl(listenFd, F_GETFL, 0);
        ::fcntl(listenFd, F_SETFL, flags | O_NONBLOCK);
        add(listenFd, EPOLLIN, kListenerId);
        add(inbox->efd, EPOLLIN, kWakeId);
        Response busy = busyResponse();
        formatResponse(busyBytes, busy, false, true, 1);
        busyBytes += busy.body;
    }

    static Response busyResponse() {
        Response r = problem(503, "busy", reasonPhrase(503),
                             "every connection slot of the server is taken; retry shortly");
        r.headers.emplace_back("Retry-After", "1");
        return r;
    }

    ~Impl() {
        for (auto& [id, c] : conns)
            if (!c->dead) ::close(c->fd);
        ::close(epfd);
    }

    void add(int fd, std::uint32_t events, std::uint64_t id) const {
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = id;
        if (::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
            throw std::system_error(errno, std::generic_category(), "HttpServer: epoll_ctl");
    }

    void arm(Clock::time_point t) { nextSweep = std::min(nextSweep, t); }

    // --- the loop ------------------------------------------------------------------------

    void run() {
        {
            std::lock_guard lock(inbox->mu);
            inbox->loopThread = std::this_thread::get_id();
        }
        epoll_event events[kMaxEvents];
        for (;;) {
            if (force.load()) break;
            if (stopRequested()) {
                if (accepting) stopAccepting();
                if (conns.empty()) break;
            }
            int timeout = -1;
            if (nextSweep != Clock::time_point::max()) {
                auto left = std::chrono::duration_cast<milliseconds>(nextSweep - Clock::now());
                timeout = static_cast<int>(std::clamp<long long>(left.count() + 1, 0, 60000));
            }
            int n = ::epoll_wait(epfd, events, kMaxEvents, timeout);
            if (n < 0 && errno != EINTR) {
                st->report(0, std::string("HTTP event loop: epoll_wait failed: ") +
                                  std::strerror(errno));
                break;
            }
            for (int i = 0; i < n; ++i) {
                std::uint64_t id = events[i].data.u64;
                if (id == kListenerId) {
                    acceptAll();
                } else if (id == kWakeId) {
                    std::uint64_t count = 0;
                    (void)!::read(inbox->efd, &count, sizeof count);
                } else if (auto it = conns.find(id); it != conns.end()) {
                    Conn& c = *it->second;
                    if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                        c.readable = true;
                    if (events[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) c.writable = true;
                    drive(c);
                    if (c.dead) conns.erase(it);
                }
            }
            takeAnswers();
            if (Clock::now() >= nextSweep) sweep();
        }
        {
            std::lock_guard lock(inbox->mu);
            inbox->closed = true;
            inbox->items.clear();
        }
        for (auto& [id, c] : conns)
            closeConn(*c);
        conns.clear();
        if (accepting) stopAccepting();
    }

    bool stopRequested() const { return st->stopping.load(); }

    void stopAccepting() {
        accepting = false;
        ::epoll_ctl(epfd, EPOLL_CTL_DEL, listenFd, nullptr); // fails harmlessly while paused
        {
            std::lock_guard lock(st->mutex);
            listenerReleased = true;
        }
        released.notify_all();
        // Connections waiting for their next request are closed now; the others after their
        // answer (which says Connection: close).
        for (auto it = conns.begin(); it != conns.end();) {
            Conn& c = *it->second;
            if (idleBetweenRequests(c)) closeConn(c);
            if (c.dead)
                it = conns.erase(it);
            else
                ++it;
        }
    }

    static bool idleBetweenRequests(const Conn& c) {
        return c.state == Conn::State::Reading && c.parser.phase() == RequestParser::Phase::Idle &&
               c.begin == c.end;
    }

    void acceptAll() {
        for (;;) {
            sockaddr_storage addr{};
            socklen_t len = sizeof addr;
            int fd = ::accept4(listenFd, reinterpret_cast<sockaddr*>(&addr), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED) continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK) {
                    // Out of file descriptors, say: the listener stays readable, so watching
                    // it would spin. Look again a little later.
                    st->report(0, std::string("accepting a connection failed: ") +
                                      std::strerror(errno) + "; retrying in " +
                                      std::to_string(kAcceptPauseMs) + " ms");
                    ::epoll_ctl(epfd, EPOLL_CTL_DEL, listenFd, nullptr);
                    acceptPausedUntil = Clock::now() + milliseconds(kAcceptPauseMs);
                    arm(acceptPausedUntil);
                }
                return;
            }
            std::string peer = peerName(addr);
            bool reserve = false;
            if (!makeRoom(peer, reserve)) {
                refuseBusy(fd, peer);
                continue;
            }
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            std::uint64_t id = nextId++;
            auto c = std::make_unique<Conn>(id, fd, std::move(peer), st->parseLimits, bufSize);
            // The first request's head is due header_timeout_ms after the accept, not after
            // its first byte: a connection that sends nothing holds a slot that long at most.
            c->idleSince = c->headStart = Clock::now();
            arm(c->headStart + milliseconds(st->limits.headerTimeoutMs));
            try {
                add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, id);
            } catch (const std::exception& e) {
                st->report(0, std::string("connection from ") + c->peer + ": " + e.what());
                ::close(fd);
                continue;
            }
            st->opened();
            c->reserve = reserve;
            if (reserve) ++reserveOpen;
            Conn& ref = *c;
            conns.emplace(id, std::move(c));
            drive(ref); // the request may be there already
            if (ref.dead) conns.erase(id);
        }
    }

    // Whether a new connection may be served, closing an idle one to make room if need be;
    // `reserve` says it gets a slot of the reserve.
    bool makeRoom(const std::string& peer, bool& reserve) {
        const std::size_t max = static_cast<std::size_t>(st->limits.maxConnections);
        if (conns.size() - static_cast<std::size_t>(reserveOpen) < max) return true;
        // A connection that has not sent a whole request head holds its slot for nothing: the
        // one waiting longest gives it up. So silent or slow clients cannot lock others out.
        if (evictOldestWaiting(false, peer)) return true;
        reserve = true;
        return reserveOpen < st->limits.reserveConnections || evictOldestWaiting(true, peer);
    }

    bool evictOldestWaiting(bool ofReserve, const std::string& newcomer) {
        Conn* oldest = nullptr;
        for (auto& [id, c] : conns) {
            if (c->reserve != ofReserve || c->state != Conn::State::Reading) continue;
            auto phase = c->parser.phase();
            if (phase != RequestParser::Phase::Idle && phase != RequestParser::Phase::Head)
                continue;
            if (!oldest || c->idleSince < oldest->idleSince) oldest = c.get();
        }
        if (!oldest) return false;
        const auto waited =
            std::chrono::duration_cast<milliseconds>(Clock::now() - oldest->idleSince).count();
        st->report(0, "closed the connection from " + oldest->peer + " (no whole request in " +
                          std::to_string(waited) + " ms) to serve " + newcomer +
                          ": every connection slot was taken");
        const std::uint64_t id = oldest->id;
        closeConn(*oldest);
        conns.erase(id);
        return true;
    }

    // Every slot is busy with a request: a 503 if the socket takes it at once, then closed.
    void refuseBusy(int fd, const std::string& peer) {
        (void)!::send(fd, busyBytes.data(), busyBytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::shutdown(fd, SHUT_WR);
        // What the client sent already is read away, so the close does not reset the answer.
        char sink[4096];
        for (int i = 0; i < 4 && ::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
        }
        ::close(fd);
        st->report(503, "connection from " + peer + " answered 503: all " +
                            std::to_string(st->limits.maxConnections) + " connection slots and " +
                            std::to_string(st->limits.reserveConnections) +
                            " of the reserve are busy with requests");
    }

    // --- one connection ------------------------------------------------------------------

    void closeConn(Conn& c) {
        if (c.dead) return;
        c.dead = true;
        if (c.reserve) --reserveOpen;
        ::close(c.fd); // also leaves the epoll set
        st->closed();
    }

    // Runs the connection as far as it can go without waiting.
    void drive(Conn& c) {
        while (!c.dead) {
            switch (c.state) {
            case Conn::State::Reading:
                if (c.fresh) {
                    parse(c);
                } else if (c.readable) {
                    if (!readMore(c)) return;
                } else {
                    return;
                }
                break;
            case Conn::State::Handling:
                return;
            case Conn::State::Writing:
                if (!c.writable || !flush(c)) return;
                afterWrite(c);
                break;
            case Conn::State::Lingering:
                if (!c.readable || !drain(c)) return;
                break;
            }
            if (stopRequested() && idleBetweenRequests(c)) closeConn(c);
        }
    }

    // Reads what the socket has; false when there is nothing more for now (or it closed).
    bool readMore(Conn& c) {
        if (c.begin == c.end) {
            c.begin = c.end = 0;
        } else if (c.buf.size() - c.end < kReadChunk) {
            std::memmove(c.buf.data(), c.buf.data() + c.begin, c.end - c.begin);
            c.end -= c.begin;
            c.begin = 0;
        }
        ssize_t n = ::recv(c.fd, c.buf.data() + c.end, c.buf.size() - c.end, 0);
        if (n < 0) {
            if (errno == EINTR) return true;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c.readable = false;
                return false;
            }
            closeConn(c);
            return false;
        }
        if (n == 0) { // the client left, even mid-request
            closeConn(c);
            return false;
        }
        if (c.parser.phase() == RequestParser::Phase::Idle && c.begin == c.end && c.served > 0) {
            // A kept-alive connection's next head is due from its first byte (the first
            // request's from the accept).
            c.headStart = Clock::now();
            arm(c.headStart + milliseconds(st->limits.headerTimeoutMs));
        }
        c.end += static_cast<std::size_t>(n);
        c.fresh = true;
        return true;
    }

    void parse(Conn& c) {
        std::size_t used = 0;
        auto r = c.parser.feed(std::string_view(c.buf.data() + c.begin, c.end - c.begin), used);
        c.begin += used;
        switch (r) {
        case RequestParser::Result::NeedMore:
            c.fresh = false;
            break;
        case RequestParser::Result::Error: {
            ParseError e = c.parser.error();
            refuse(c, e.status, e.type, e.detail);
            break;
        }
        case RequestParser::Result::HeadComplete:
            c.bodyStart = Clock::now();
            arm(c.bodyStart + milliseconds(st->limits.bodyTimeoutMs));
            // RFC 9110 §10.1.1: no need once the client has started sending anyway. A client
            // waiting for it learns first whether its body would be refused (path, token).
            if (c.parser.expectContinue() && c.begin == c.end) {
                Request& head = c.parser.request();
                head.peerAddress = c.peer;
                if (auto refusal = st->checkHead(head)) {
                    refusal->close = true; // the body was not read
                    c.keepAlive = false;
                    c.headOnly = head.method == "HEAD";
                    c.minor = c.parser.minorVersion();
                    c.label = head.method + " " + head.path;
                    c.state = Conn::State::Handling;
                    answer(c, std::move(*refusal));
                    c.parser.reset();
                    break;
                }
                write(c, "HTTP/1.1 100 Continue\r\n\r\n", Conn::Then::SameRequest);
            }
            break;
        case RequestParser::Result::Complete:
            c.fresh = c.begin < c.end; // a pipelined request may already be here
            dispatch(c);
            break;
        }
    }

    void dispatch(Conn& c) {
        Request& req = c.parser.request();
        req.peerAddress = c.peer;
        c.keepAlive = c.parser.keepAlive();
        c.minor = c.parser.minorVersion();
        c.headOnly = req.method == "HEAD";
        c.label = req.method + " " + req.path;
        c.state = Conn::State::Handling;
        ++c.served;
        if (c.reserve && !st->reserved(req.path)) {
            st->report(503, c.label + " from " + c.peer +
                                " answered 503: the connection has a slot of the reserve, kept "
                                "for health checks and metrics");
            Response busy = busyResponse();
            busy.close = true;
            answer(c, std::move(busy));
            c.parser.reset();
            return;
        }
        std::weak_ptr<Inbox> weak = inbox;
        Reply reply([weak, id = c.id](Response r) {
            if (auto in = weak.lock()) in->post(id, std::move(r));
        });
        bool taken = false;
        if (st->fast) {
            try {
                taken = st->fast(req, reply);
            } catch (...) {
                reply(st->handlerFailed(c.label, std::current_exception()));
                taken = true;
            }
        }
        if (!taken) {
            pool.submit([state = st, request = std::move(req), reply, label = c.label] {
                try {
                    reply(state->handler(request));
                } catch (...) {
                    reply(state->handlerFailed(label, std::current_exception()));
                }
            });
        }
        c.parser.reset();
    }

    void takeAnswers() {
        for (;;) {
            std::vector<std::pair<std::uint64_t, Response>> batch;
            {
                std::lock_guard lock(inbox->mu);
                if (inbox->items.empty()) return;
                batch.swap(inbox->items);
            }
            for (auto& [id, resp] : batch) {
                auto it = conns.find(id);
                if (it == conns.end()) continue; // closed meanwhile (stop's deadline)
                Conn& c = *it->second;
                answer(c, std::move(resp));
                drive(c);
                if (c.dead) conns.erase(it);
            }
        }
    }

    void answer(Conn& c, Response resp) {
        if (c.state != Conn::State::Handling) return; // cannot happen: one answer per request
        resp = st->sendable(std::move(resp), c.label);
        // Checked at the answer: a stop() that began meanwhile still closes this one.
        bool close = !c.keepAlive || resp.close || stopRequested();
        c.out.clear();
        std::string_view body = formatResponse(c.out, resp, c.headOnly, close, c.minor);
        c.out.append(body);
        write(c, {}, close ? Conn::Then::Close : Conn::Then::NextRequest);
    }

    void refuse(Conn& c, int status, const std::string& type, const std::string& detail) {
        st->report(status, detail + " (from " + c.peer + ")");
        Response r = problem(status, type, reasonPhrase(status), detail);
        c.out.clear();
        std::string_view body = formatResponse(c.out, r, false, true, 1);
        c.out.append(body);
        write(c, {}, Conn::Then::Close);
    }

    // Queues `extra` (if any) after c.out and starts writing, bounded by the body timeout so a
    // client that stops reading cannot keep the connection forever.
    void write(Conn& c, std::string_view extra, Conn::Then then) {
        if (!extra.empty()) {
            c.out.clear();
            c.out.append(extra);
        }
        c.sent = 0;
        c.then = then;
        c.state = Conn::State::Writing;
        c.writeDeadline = Clock::now() + milliseconds(st->limits.bodyTimeoutMs);
        arm(c.writeDeadline);
    }

    // Sends what is pending; false while the socket cannot take more (or it closed).
    bool flush(Conn& c) {
        while (c.sent < c.out.size()) {
            ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    c.writable = false;
                    return false;
                }
                closeConn(c);
                return false;
            }
            c.sent += static_cast<std::size_t>(n);
        }
        return true;
    }

    void afterWrite(Conn& c) {
        c.out.clear();
        c.sent = 0;
        switch (c.then) {
        case Conn::Then::SameRequest:
            c.state = Conn::State::Reading;
            break;
        case Conn::Then::NextRequest:
            c.state = Conn::State::Reading;
            c.idleSince = Clock::now();
            arm(c.idleSince + milliseconds(st->limits.idleTimeoutMs));
            break;
        case Conn::Then::Close:
            ::shutdown(c.fd, SHUT_WR);
            if (stopRequested()) {
                closeConn(c);
                return;
            }
            c.state = Conn::State::Lingering;
            c.drained = 0;
            c.lingerUntil = Clock::now() + milliseconds(kLingerMs);
            arm(c.lingerUntil);
            break;
        }
    }

    // Reads and drops what the client still sends after our last answer; false when there is
    // nothing more for now (or the connection closed).
    bool drain(Conn& c) {
        char sink[4096];
        ssize_t n = ::recv(c.fd, sink, sizeof sink, 0);
        if (n < 0) {
            if (errno == EINTR) return true;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c.readable = false;
                return false;
            }
        }
        if (n <= 0 || (c.drained += static_cast<std::size_t>(n)) >= kLingerBytes ||
            stopRequested()) {
            closeConn(c);
            return false;
        }
        return true;
    }

    // Deadlines: closes or refuses what is overdue, and finds the next one.
    void sweep() {
        const Clock::time_point now = Clock::now();
        nextSweep = Clock::time_point::max();
        if (acceptPausedUntil != Clock::time_point::max()) {
            if (now >= acceptPausedUntil) {
                acceptPausedUntil = Clock::time_point::max();
                if (accepting) add(listenFd, EPOLLIN, kListenerId);
            } else {
                nextSweep = acceptPausedUntil;
            }
        }
        const ServerLimits& lim = st->limits;
        for (auto it = conns.begin(); it != conns.end();) {
            Conn& c = *it->second;
            Clock::time_point due = Clock::time_point::max();
            switch (c.state) {
            case Conn::State::Reading: {
                auto phase = c.parser.phase();
                bool idle = phase == RequestParser::Phase::Idle && c.begin == c.end;
                bool head = phase == RequestParser::Phase::Head ||
                            (phase == RequestParser::Phase::Idle && !idle);
                bool silent = idle && c.served == 0; // accepted, nothing received yet
                due = silent ? c.headStart + milliseconds(lim.headerTimeoutMs)
                      : idle ? c.idleSince + milliseconds(lim.idleTimeoutMs)
                      : head ? c.headStart + milliseconds(lim.headerTimeoutMs)
                             : c.bodyStart + milliseconds(lim.bodyTimeoutMs);
                if (now < due) break;
                if (idle) {
                    // Nothing sent at all, or a keep-alive connection unused for too long:
                    // close silently.
                    closeConn(c);
                    break;
                }
                refuse(c, 408, "request-timeout", st->timeoutDetail(head));
                drive(c);
                due = c.writeDeadline;
                break;
            }
            case Conn::State::Writing:
                due = c.writeDeadline;
                if (now >= due) {
                    st->report(0, "writing the response to " + c.peer + " timed out");
                    closeConn(c);
                }
                break;
            case Conn::State::Lingering:
                due = c.lingerUntil;
                if (now >= due) closeConn(c);
                break;
            case Conn::State::Handling:
                break;
            }
            if (c.dead) {
                it = conns.erase(it);
                continue;
            }
            nextSweep = std::min(nextSweep, due);
            ++it;
        }
    }
};

ConnectionLoop::ConnectionLoop(int listenFd, std::shared_ptr<ServerState> state)
    : impl_(std::make_shared<Impl>(listenFd, std::move(state))) {}

ConnectionLoop::~ConnectionLoop() {
    closeAll();
}

void ConnectionLoop::start() {
    thread_ = std::thread([impl = impl_] {
        util::nameThisThread("ow-http");
        try {
            impl->run();
        } catch (const std::exception& e) {
            impl->st->report(0, std::string("HTTP event loop failed: ") + e.what());
        }
        {
            std::lock_guard lock(impl->st->mutex);
            impl->listenerReleased = true;
        }
        impl->released.notify_all();
    });
}

void ConnectionLoop::releaseListener(std::chrono::steady_clock::time_point until) {
    impl_->inbox->signal();
    std::unique_lock lock(impl_->st->mutex);
    if (!thread_.joinable()) return;
    impl_->released.wait_until(lock, until, [&] { return impl_->listenerReleased; });
}

void ConnectionLoop::closeAll() {
    impl_->force.store(true);
    impl_->inbox->signal();
    if (thread_.joinable()) thread_.join();
}

} // namespace ow::transport::http
