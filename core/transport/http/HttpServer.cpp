#include "core/transport/http/HttpServer.h"
#include "core/util/ThreadName.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <future>
#include <mutex>
#include <stdexcept>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureServerSocketImpl.h>
#include <Poco/Net/SecureStreamSocketImpl.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/TCPServerParams.h>
#include <Poco/Net/X509Certificate.h>

#include "core/transport/http/ConnectionLoop.h"
#include "core/transport/http/Problem.h"
#include "core/transport/http/RequestParser.h"
#include "core/transport/http/ResponseFormat.h"
#include "core/transport/http/ServerState.h"

namespace ow::transport::http {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Blocking waits are cut into slices this long so that stop() is noticed promptly.
constexpr int kWakeMs = 200;
// Bodies above this are sent with a second write (TLS) instead of being copied behind the head.
constexpr std::size_t kCopyBodyLimit = std::size_t{16} * 1024;

class Connection final : public Poco::Net::TCPServerConnection {
public:
    Connection(const Poco::Net::StreamSocket& socket, std::shared_ptr<ServerState> state)
        : Poco::Net::TCPServerConnection(socket), state_(std::move(state)) {}

    void run() override {
        util::nameThisThread("ow-http");
        ServerState& st = *state_;
        fd_ = socket().impl()->sockfd();
        {
            std::lock_guard lock(st.mutex);
            st.sockets.emplace(this, fd_);
            st.active.fetch_add(1);
        }
        // Registered before looking at `stopping`, so stop() either sees us or we see it.
        if (!st.stopping.load()) {
            try {
                serve();
            } catch (const Poco::Net::ConnectionResetException&) {
                // The peer went away; nothing to answer and nothing worth reporting.
            } catch (const Poco::Exception& e) {
                st.report(0, "connection " + peer_ + ": " + e.displayText());
            } catch (const std::exception& e) {
                st.report(0, "connection " + peer_ + ": " + e.what());
            } catch (...) {
                st.report(0, "connection " + peer_ + ": unknown exception");
            }
        }
        std::lock_guard lock(st.mutex);
        st.sockets.erase(this);
        st.active.fetch_sub(1);
        st.drained.notify_all();
    }

private:
    enum : long { kNothingYet = -1, kFailed = -2 };

    void serve() {
        ServerState& st = *state_;
        tls_ = dynamic_cast<Poco::Net::SecureStreamSocketImpl*>(socket().impl());
        try {
            peer_ = socket().peerAddress().toString();
        } catch (const Poco::Exception&) {
            return; // disconnected while queued: nobody to answer
        }
        if (tls_ != nullptr && !handshake()) return;

        const ServerLimits& lim = st.limits;
        buffer_.resize(st.readBufferBytes());
        out_.reserve(512);
        RequestParser parser(st.parseLimits);
        std::size_t begin = 0;
        std::size_t end = 0;
        Clock::time_point idleSince = Clock::now();
        Clock::time_point headStart = idleSince;
        Clock::time_point bodyStart = idleSince;
        bool fresh = false;    // bytes arrived since the parser last looked
        bool answered = false; // the first request's head is due from the accept

        for (;;) {
            while (fresh) {
                std::size_t used = 0;
                auto r = parser.feed(std::string_view(buffer_.data() + begin, end - begin), used);
                begin += used;
                switch (r) {
                case RequestParser::Result::NeedMore:
                    fresh = false;
                    break;
                case RequestParser::Result::Error: {
                    const ParseError& e = parser.error();
                    refuse(e.status, e.type, e.detail);
                    return;
                }
                case RequestParser::Result::HeadComplete:
                    bodyStart = Clock::now();
                    // RFC 9110 §10.1.1: no need once the client has started sending anyway.
                    // A client waiting for it learns first whether its body would be refused.
                    if (parser.expectContinue() && begin == end) {
                        Request& head = parser.request();
                        head.peerAddress = peer_;
                        head.clientCertSubject = subject_;
                        if (auto refusal = st.checkHead(head)) {
                            Response r =
                                st.sendable(std::move(*refusal), head.method + " " + head.path);
                            if (writeResponse(r, head.method == "HEAD", true,
                                              parser.minorVersion()))
                                lingeringClose();
                            return;
                        }
                        if (!sendAll("HTTP/1.1 100 Continue\r\n\r\n", {})) return;
                    }
                    break;
                case RequestParser::Result::Complete:
                    if (!respond(parser)) return;
                    answered = true;
                    parser.reset();
                    headStart = idleSince = Clock::now();
                    fresh = begin < end; // a pipelined request may already be here
                    break;
                }
            }

            auto phase = parser.phase();
            bool idle = phase == RequestParser::Phase::Idle;
            if (idle && st.stopping.load()) return;
            Clock::time_point now = Clock::now();
            Clock::time_point deadline =
                idle ? (answered ? idleSince + milliseconds(lim.idleTimeoutMs)
                                 : headStart + milliseconds(lim.headerTimeoutMs))
                : phase == RequestParser::Phase::Head
                    ? headStart + milliseconds(lim.headerTimeoutMs)
                    : bodyStart + milliseconds(lim.bodyTimeoutMs);
            if (now >= deadline) {
                if (idle) return; // keep-alive connection unused for too long: close silently
                bool head = phase == RequestParser::Phase::Head;
                refuse(408, "request-timeout", st.timeoutDetail(head));
                return;
            }

            if (begin == end) {
                begin = end = 0;
            } else if (buffer_.size() - end < kReadChunk) {
                std::memmove(buffer_.data(), buffer_.data() + begin, end - begin);
                end -= begin;
                begin = 0;
            }
            auto waitMs = std::chrono::duration_cast<milliseconds>(deadline - now).count() + 1;
            long n = receive(buffer_.data() + end, buffer_.size() - end,
                             static_cast<int>(std::min<long long>(waitMs, kWakeMs)));
            if (n == kNothingYet) continue;
            if (n <= 0) return; // EOF or error: the client left, even mid-request
            // A kept-alive connection's next head is due from its first byte.
            if (idle && answered) headStart = Clock::now();
            end += static_cast<std::size_t>(n);
            fresh = true;
        }
    }

    bool handshake() {
        ServerState& st = *state_;
        // Poco waits for each handshake flight for the receive timeout; bound it by the head
        // deadline so a silent TLS client cannot hold a thread forever.
        socket().setReceiveTimeout(Poco::Timespan(st.limits.headerTimeoutMs * 1000));
        socket().setSendTimeout(Poco::Timespan(st.limits.headerTimeoutMs * 1000));
        try {
            tls_->completeHandshake();
            // The Context's verification mode makes OpenSSL refuse the handshake for a
            // certificate that does not verify, so a certificate here is a verified one.
            if (tls_->havePeerCertificate()) subject_ = tls_->peerCertificate().subjectName();
        } catch (const Poco::Exception& e) {
            st.report(0, "TLS handshake with " + peer_ + " failed: " + e.displayText());
            return false;
        }
        // Reads then wait in short slices (see receive()); writes get the body timeout.
        socket().setReceiveTimeout(Poco::Timespan(Poco::Timespan::TimeDiff{kWakeMs} * 1000));
        socket().setSendTimeout(Poco::Timespan(st.limits.bodyTimeoutMs * 1000));
        return true;
    }

    bool waitFor(short events, int timeoutMs) {
        pollfd p{fd_, events, 0};
        int rc = ::poll(&p, 1, timeoutMs);
        return rc > 0; // includes POLLHUP/POLLERR: the next call reports them
    }

    // Bytes read, 0 at EOF, kNothingYet when nothing arrived within timeoutMs, kFailed on error.
    long receive(char* data, std::size_t size, int timeoutMs) {
        if (tls_ != nullptr) {
            // Decrypted bytes may wait inside OpenSSL where poll() cannot see them.
            if (tls_->available() <= 0 && !waitFor(POLLIN, timeoutMs)) return kNothingYet;
            try {
                return tls_->receiveBytes(data, static_cast<int>(std::min(size, kReadChunk)));
            } catch (const Poco::TimeoutException&) {
                return kNothingYet; // only part of a TLS record arrived so far
            } catch (const Poco::Exception&) {
                return kFailed;
            }
        }
        if (!waitFor(POLLIN, timeoutMs)) return kNothingYet;
        ssize_t n = ::recv(fd_, data, size, 0);
        if (n < 0) return (errno == EINTR || errno == EAGAIN) ? kNothingYet : kFailed;
        return static_cast<long>(n);
    }

    // Writes head and body, bounded by the body timeout so a client that stops reading cannot
    // hold the thread.
    bool sendAll(std::string_view head, std::string_view body) {
        ServerState& st = *state_;
        if (tls_ != nullptr) {
            try {
                for (std::string_view part : {head, body}) {
                    while (!part.empty()) {
                        int n = tls_->sendBytes(part.data(), static_cast<int>(part.size()));
                        if (n <= 0) return false;
                        part.remove_prefix(static_cast<std::size_t>(n));
                    }
                }
                return true;
            } catch (const Poco::Exception&) {
                return false;
            }
        }
        iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                        {const_cast<char*>(body.data()), body.size()}};
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = body.empty() ? 1 : 2;
        Clock::time_point deadline = Clock::now() + milliseconds(st.limits.bodyTimeoutMs);
        while (msg.msg_iovlen > 0) {
            ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
                auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
                if (left.count() <= 0) {
                    st.report(0, "writing the response to " + peer_ + " timed out");
                    return false;
                }
                waitFor(POLLOUT, static_cast<int>(std::min<long long>(left.count(), kWakeMs)));
                continue;
            }
            auto sent = static_cast<std::size_t>(n);
            while (msg.msg_iovlen > 0 && sent >= msg.msg_iov->iov_len) {
                sent -= msg.msg_iov->iov_len;
                ++msg.msg_iov;
                --msg.msg_iovlen;
            }
            if (msg.msg_iovlen > 0) {
                msg.msg_iov->iov_base = static_cast<char*>(msg.msg_iov->iov_base) + sent;
                msg.msg_iov->iov_len -= sent;
            }
        }
        return true;
    }

    bool writeResponse(const Response& r, bool headOnly, bool close, int minor) {
        out_.clear();
        std::string_view body = formatResponse(out_, r, headOnly, close, minor);
        if (tls_ != nullptr && !body.empty() && body.size() <= kCopyBodyLimit) {
            out_ += body; // one TLS record instead of two
            body = {};
        }
        return sendAll(out_, body);
    }

    // Runs the handler and answers; false when the connection must now be closed.
    bool respond(RequestParser& parser) {
        ServerState& st = *state_;
        Request& req = parser.request();
        req.peerAddress = peer_;
        req.clientCertSubject = subject_;
        const std::string label = req.method + " " + req.path;
        Response resp;
        try {
            resp = handle(req);
        } catch (...) {
            resp = st.handlerFailed(label, std::current_exception());
        }
        resp = st.sendable(std::move(resp), label);
        // Checked after the handler: a stop() that began meanwhile still closes this one.
        bool close = !parser.keepAlive() || resp.close || st.stopping.load();
        bool ok = writeResponse(resp, req.method == "HEAD", close, parser.minorVersion());
        if (ok && close) lingeringClose();
        return ok && !close;
    }

    // The fast handler may answer on another thread: this connection's thread waits for it.
    Response handle(const Request& req) {
        ServerState& st = *state_;
        if (st.fast) {
            // Shared: the reply may outlive this frame if the handler throws after taking it.
            auto answer = std::make_shared<std::promise<Response>>();
            auto fut = answer->get_future();
            if (st.fast(req, Reply([answer](Response r) { answer->set_value(std::move(r)); })))
                return fut.get();
        }
        return st.handler(req);
    }

    void refuse(int status, const std::string& type, const std::string& detail) {
        state_->report(status, detail + " (from " + peer_ + ")");
        Response r = problem(status, type, reasonPhrase(status), detail);
        if (writeResponse(r, false, true, 1)) lingeringClose();
    }

    void lingeringClose() {
        if (tls_ != nullptr) {
            try {
                socket().shutdown(); // sends close_notify, then shuts the TCP connection
            } catch (const Poco::Exception&) {
                // Already gone.
            }
            return;
        }
        ::shutdown(fd_, SHUT_WR);
        char sink[4096];
        std::size_t drained = 0;
        Clock::time_point until = Clock::now() + milliseconds(kLingerMs);
        while (drained < kLingerBytes && !state_->stopping.load()) {
            auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
            if (left <= 0 || !waitFor(POLLIN, static_cast<int>(std::min<long long>(left, kWakeMs))))
                return;
            ssize_t n = ::recv(fd_, sink, sizeof sink, 0);
            if (n <= 0) return;
            drained += static_cast<std::size_t>(n);
        }
    }

    std::shared_ptr<ServerState> state_;
    Poco::Net::SecureStreamSocketImpl* tls_ = nullptr;
    int fd_ = -1;
    std::string peer_;
    std::string subject_;
    std::vector<char> buffer_;
    std::string out_;
};

class ConnectionFactory final : public Poco::Net::TCPServerConnectionFactory {
public:
    explicit ConnectionFactory(std::shared_ptr<ServerState> state) : state_(std::move(state)) {}
    Poco::Net::TCPServerConnection*
    createConnection(const Poco::Net::StreamSocket& socket) override {
        return new Connection(socket, state_);
    }

private:
    std::shared_ptr<ServerState> state_;
};

void requirePositive(std::int64_t value, const char* name) {
    if (value <= 0)
        throw std::invalid_argument(std::string("HttpServer: ServerLimits::") + name +
                                    " must be positive, got " + std::to_string(value));
}

} // namespace

HttpServer::HttpServer(Poco::Net::ServerSocket socket, Handler handler, ServerLimits limits,
                       ErrorObserver onError, FastHandler fast, HeadCheck headCheck)
    : shared_(std::make_shared<ServerState>()), listener_(socket) {
    requirePositive(limits.maxHeaderBytes, "maxHeaderBytes");
    requirePositive(limits.maxHeaderCount, "maxHeaderCount");
    requirePositive(limits.maxBodyBytes, "maxBodyBytes");
    requirePositive(limits.maxTargetBytes, "maxTargetBytes");
    requirePositive(limits.headerTimeoutMs, "headerTimeoutMs");
    requirePositive(limits.bodyTimeoutMs, "bodyTimeoutMs");
    requirePositive(limits.idleTimeoutMs, "idleTimeoutMs");
    requirePositive(limits.maxConnections, "maxConnections");
    if (limits.reserveConnections < 0)
        throw std::invalid_argument("HttpServer: ServerLimits::reserveConnections must not be "
                                    "negative, got " +
                                    std::to_string(limits.reserveConnections));
    requirePositive(limits.maxQueued, "maxQueued");
    if (!handler) throw std::invalid_argument("HttpServer: handler is empty");

    shared_->handler = std::move(handler);
    shared_->fast = std::move(fast);
    shared_->headCheck = std::move(headCheck);
    shared_->limits = limits;
    shared_->parseLimits = ParseLimits{limits.maxHeaderBytes, limits.maxHeaderCount,
                                       limits.maxBodyBytes, limits.maxTargetBytes};
    shared_->onError = std::move(onError);
    port_ = socket.address().port();

    if (dynamic_cast<Poco::Net::SecureServerSocketImpl*>(socket.impl()) == nullptr) {
        loop_ = std::make_unique<ConnectionLoop>(socket.impl()->sockfd(), shared_);
        return;
    }
    pool_ = std::make_unique<Poco::ThreadPool>(1, limits.maxConnections, 60);
    Poco::Net::TCPServerParams::Ptr params = new Poco::Net::TCPServerParams;
    params->setMaxThreads(limits.maxConnections);
    params->setMaxQueued(limits.maxQueued);
    server_ = std::make_unique<Poco::Net::TCPServer>(new ConnectionFactory(shared_), *pool_, socket,
                                                     params);
}

HttpServer::~HttpServer() {
    try {
        stop(milliseconds(500));
    } catch (...) {
        // Destructors must not throw; stop() only fails if Poco does.
    }
    loop_.reset(); // joins the handlers still running
    // server_ then pool_: the pool joins the connection threads.
    server_.reset();
    pool_.reset();
}

void HttpServer::start() {
    std::lock_guard lock(shared_->mutex);
    if (shared_->stopCalled) throw std::logic_error("HttpServer: start() after stop()");
    if (shared_->started) return;
    // TLS writes go through OpenSSL's socket BIO, which cannot pass MSG_NOSIGNAL; a peer that
    // closes early would otherwise kill the process with SIGPIPE. Respect a handler set by the
    // application.
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
        std::signal(SIGPIPE, SIG_IGN);
    if (loop_)
        loop_->start();
    else
        server_->start();
    shared_->started = true;
}

void HttpServer::stop(std::chrono::milliseconds deadline) {
    Clock::time_point until = Clock::now() + deadline;
    bool first = false;
    {
        std::lock_guard lock(shared_->mutex);
        first = !shared_->stopCalled;
        shared_->stopCalled = true;
    }
    shared_->stopping.store(true);
    if (first) {
        if (loop_)
            loop_->releaseListener(until);
        else
            server_->stop(); // returns once the acceptor thread has ended (it polls every 250 ms)
        // Refuse new connections at once instead of letting them sit in the backlog.
        try {
            listener_.close();
        } catch (const Poco::Exception&) {
            // Already closed by the owner.
        }
    }
    {
        std::unique_lock lock(shared_->mutex);
        shared_->drained.wait_until(lock, until, [&] { return shared_->active.load() == 0; });
        // Wakes TLS connections blocked in poll/recv/send; they see the error and end.
        for (const auto& [conn, fd] : shared_->sockets)
            ::shutdown(fd, SHUT_RDWR);
    }
    if (loop_) loop_->closeAll(); // what is still open at the deadline
}

std::uint16_t HttpServer::port() const {
    return port_;
}

int HttpServer::activeConnections() const {
    return shared_->active.load();
}

bool HttpServer::stopping() const {
    return shared_->stopping.load();
}

} // namespace ow::transport::http
