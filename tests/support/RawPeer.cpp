#include "tests/support/RawPeer.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace ow::testkit {

namespace {

constexpr int kPollMs = 50; // how often a blocked session looks whether the peer stops

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

} // namespace

bool RawConnection::readRequest(std::string& head, std::string& body) {
    for (;;) {
        auto end = buffered_.find("\r\n\r\n");
        if (end != std::string::npos) {
            head = buffered_.substr(0, end + 4);
            std::size_t length = 0;
            for (const char* name : {"Content-Length: ", "content-length: "})
                if (auto at = head.find(name); at != std::string::npos)
                    length = std::stoul(head.substr(at + std::strlen(name)));
            if (buffered_.size() >= end + 4 + length) {
                body = buffered_.substr(end + 4, length);
                buffered_.erase(0, end + 4 + length);
                peer_.requests_.fetch_add(1);
                return true;
            }
        }
        pollfd p{fd_, POLLIN, 0};
        int rc = ::poll(&p, 1, kPollMs);
        if (peer_.stopping()) return false;
        if (rc <= 0) continue;
        char buf[16384];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return false;
        buffered_.append(buf, static_cast<std::size_t>(n));
    }
}

bool RawConnection::send(std::string_view bytes) {
    while (!bytes.empty()) {
        if (peer_.stopping()) return false;
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, kPollMs) <= 0) continue;
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool RawConnection::pace(std::chrono::milliseconds pause) {
    std::unique_lock lock(peer_.mu_);
    return !peer_.stopped_.wait_for(lock, pause, [&] { return peer_.stopping(); });
}

RawPeer::RawPeer(Session session) : session_(std::move(session)) {
    listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listenFd_ < 0) throw std::system_error(errno, std::generic_category(), "RawPeer socket");
    int one = 1;
    ::setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listenFd_, 128) != 0 ||
        ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        int err = errno;
        ::close(listenFd_);
        throw std::system_error(err, std::generic_category(), "RawPeer bind");
    }
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { acceptLoop(); });
}

RawPeer::~RawPeer() {
    stop();
}

std::string RawPeer::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void RawPeer::acceptLoop() {
    while (!stopping()) {
        pollfd p{listenFd_, POLLIN, 0};
        if (::poll(&p, 1, kPollMs) <= 0) continue;
        int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        std::lock_guard lock(mu_);
        if (stopping()) {
            ::close(fd);
            return;
        }
        fds_.push_back(fd);
        int number = accepted_.fetch_add(1) + 1;
        sessions_.emplace_back([this, fd, number] {
            RawConnection c(*this, fd, number);
            try {
                session_(c);
            } catch (...) {
                // A session that fails ends its connection; the test sees what it did.
            }
            ::shutdown(fd, SHUT_RDWR);
        });
    }
}

void RawPeer::stop() {
    {
        std::lock_guard lock(mu_);
        if (stopping_.exchange(true)) return;
    }
    stopped_.notify_all();
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<std::thread> sessions;
    {
        std::lock_guard lock(mu_);
        for (int fd : fds_)
            ::shutdown(fd, SHUT_RDWR);
        sessions.swap(sessions_);
    }
    for (auto& t : sessions)
        t.join();
    for (int fd : fds_)
        ::close(fd);
    ::close(listenFd_);
}

RawClient::RawClient(std::uint16_t port, const std::string& fromAddress) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
    if (!fromAddress.empty()) {
        sockaddr_in from = loopback(0);
        if (::inet_pton(AF_INET, fromAddress.c_str(), &from.sin_addr) != 1 ||
            ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
            int err = errno;
            ::close(fd_);
            throw std::system_error(err, std::generic_category(), "bind " + fromAddress);
        }
    }
    sockaddr_in to = loopback(port);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        int err = errno;
        ::close(fd_);
        throw std::system_error(err, std::generic_category(), "connect");
    }
}

RawClient::~RawClient() {
    ::close(fd_);
}

bool RawClient::send(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::string RawClient::readUntil(std::string_view what, std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!closed_ && (what.empty() || pending_.find(what) == std::string::npos)) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        end - std::chrono::steady_clock::now())
                        .count();
        if (left <= 0) break;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        char buf[16384];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
            closed_ = true;
            break;
        }
        pending_.append(buf, static_cast<std::size_t>(n));
    }
    std::string out;
    out.swap(pending_);
    return out;
}

std::string RawClient::readToClose(std::chrono::milliseconds deadline) {
    return readUntil({}, deadline);
}

std::string rawRequest(std::uint16_t port, const std::string& request,
                       const std::string& fromAddress, std::chrono::milliseconds deadline) {
    RawClient c(port, fromAddress);
    c.send(request);
    return c.readToClose(deadline);
}

int statusOf(const std::string& answer) {
    if (answer.size() < 12 || answer.compare(0, 5, "HTTP/") != 0) return 0;
    return std::atoi(answer.substr(9, 3).c_str());
}

SilentConnections::SilentConnections(std::uint16_t port, int count) {
    for (int i = 0; i < count; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
        sockaddr_in a = loopback(port);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            int err = errno;
            ::close(fd);
            throw std::system_error(err, std::generic_category(), "connect");
        }
        fds_.push_back(fd);
    }
}

SilentConnections::~SilentConnections() {
    for (int fd : fds_)
        ::close(fd);
}

int SilentConnections::stillOpen() const {
    int open = 0;
    for (int fd : fds_) {
        // Closed by the other side: readable with EOF (or an answer followed by EOF).
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 0) == 0) {
            ++open;
            continue;
        }
        char buf[512];
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) ++open;
    }
    return open;
}

} // namespace ow::testkit
