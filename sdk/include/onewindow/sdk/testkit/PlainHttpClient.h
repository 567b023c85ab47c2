// A minimal blocking sdk::HttpClient for plain http:// URLs, so a component that calls
// services.http can be tested against a FakeHttpPeer without a hub. One request per call on a
// fresh connection (Connection: close), the request's timeoutMs bounding the whole call, and
// failures reported as the hub's client reports them: status 0 and `error` (refused, timed
// out, closed without an answer). No TLS, no proxies, no redirects: the hub's client does
// those; this one only has to reach a test's loopback peer.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "onewindow/sdk/Components.h"
#include "onewindow/sdk/testkit/HttpWire.h"

namespace onewindow::sdk::testkit {

class PlainHttpClient final : public HttpClient {
public:
    HttpResponse send(const HttpRequest& request) override {
        HttpResponse out;
        Url url;
        if (!parseUrl(request.url, url, out.error)) return out;
        const auto timeout =
            std::chrono::milliseconds(request.timeoutMs > 0 ? request.timeoutMs : 10000);
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        const std::string where = url.host + ":" + url.port;

        Socket s;
        s.fd = connectTo(url, deadline, out.error);
        if (s.fd < 0) {
            out.error = "cannot connect to " + where + ": " + out.error;
            return out;
        }

        std::string head = request.method + " " + url.target + " HTTP/1.1\r\n";
        const bool defaultPort = url.port == "80";
        if (!detail::findHeader(request.headers, "Host"))
            head += "Host: " + url.hostHeader + (defaultPort ? "" : ":" + url.port) + "\r\n";
        for (const auto& [k, v] : request.headers)
            head += k + ": " + v + "\r\n";
        if (!detail::findHeader(request.headers, "Content-Length") &&
            !detail::findHeader(request.headers, "Transfer-Encoding") &&
            (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
             request.method == "PATCH"))
            head += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
        if (!detail::findHeader(request.headers, "Connection")) head += "Connection: close\r\n";
        head += "\r\n";
        if (!detail::sendAll(s.fd, head + request.body, deadline)) {
            out.error = (detail::msLeft(deadline) == 0 ? "timed out sending to " + where
                                                       : "connection lost sending to " + where);
            return out;
        }
        readResponse(s.fd, request.method == "HEAD", deadline, out);
        if (out.status == 0 && out.error.empty()) out.error = "no answer from " + where;
        if (out.status == 0 && detail::msLeft(deadline) == 0)
            out.error =
                "timed out after " + std::to_string(timeout.count()) + " ms waiting for " + where;
        return out;
    }

private:
    struct Url {
        std::string host;       ///< for getaddrinfo (IPv6 without brackets)
        std::string hostHeader; ///< as written (IPv6 with brackets)
        std::string port = "80";
        std::string target = "/";
    };
    struct Socket {
        int fd = -1;
        ~Socket() {
            if (fd >= 0) ::close(fd);
        }
    };

    static bool parseUrl(const std::string& text, Url& url, std::string& error) {
        constexpr std::string_view scheme = "http://";
        if (text.compare(0, scheme.size(), scheme) != 0) {
            error = text.compare(0, 8, "https://") == 0
                        ? "the test kit's PlainHttpClient speaks plain http:// only: " + text
                        : "not an http:// URL: " + text;
            return false;
        }
        std::string rest = text.substr(scheme.size());
        rest = rest.substr(0, rest.find('#'));
        const auto slash = rest.find_first_of("/?");
        std::string authority = rest.substr(0, slash);
        if (slash != std::string::npos)
            url.target = rest[slash] == '/' ? rest.substr(slash) : "/" + rest.substr(slash);
        if (authority.find('@') != std::string::npos) {
            error = "user info in URLs is not supported: " + text;
            return false;
        }
        std::string hostPart = authority;
        if (!authority.empty() && authority[0] == '[') { // [IPv6]:port
            const auto close = authority.find(']');
            if (close == std::string::npos) {
                error = "bad IPv6 host in " + text;
                return false;
            }
            url.host = authority.substr(1, close - 1);
            hostPart = authority.substr(0, close + 1);
            if (close + 1 < authority.size()) {
                if (authority[close + 1] != ':') {
                    error = "bad authority in " + text;
                    return false;
                }
                url.port = authority.substr(close + 2);
            }
        } else {
            const auto colon = authority.rfind(':');
            url.host = authority.substr(0, colon);
            hostPart = url.host;
            if (colon != std::string::npos) url.port = authority.substr(colon + 1);
        }
        url.hostHeader = hostPart;
        if (url.host.empty() || url.port.empty() || url.port.size() > 5 ||
            url.port.find_first_not_of("0123456789") != std::string::npos ||
            std::atoi(url.port.c_str()) > 65535) {
            error = "bad host or port in " + text;
            return false;
        }
        return true;
    }

    // A non-blocking connect, so the deadline holds even when nobody answers the SYN.
    static int connectTo(const Url& url, std::chrono::steady_clock::time_point deadline,
                         std::string& error) {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* found = nullptr;
        if (const int rc = ::getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found);
            rc != 0) {
            error = ::gai_strerror(rc);
            return -1;
        }
        int result = -1;
        for (addrinfo* a = found; a && result < 0; a = a->ai_next) {
            const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                                    a->ai_protocol);
            if (fd < 0) {
                error = std::strerror(errno);
                continue;
            }
            int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
            if (rc != 0 && errno == EINPROGRESS) {
                pollfd p{fd, POLLOUT, 0};
                const int ready = ::poll(&p, 1, detail::msLeft(deadline));
                int soError = 0;
                socklen_t len = sizeof soError;
                if (ready <= 0) {
                    soError = ETIMEDOUT;
                } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len) != 0) {
                    soError = errno;
                }
                rc = soError == 0 ? 0 : -1;
                errno = soError;
            }
            if (rc == 0) {
                result = fd;
            } else {
                error = std::strerror(errno);
                ::close(fd);
            }
        }
        ::freeaddrinfo(found);
        return result;
    }

    // Reads one response. The body ends at Content-Length, at the end of the chunked coding,
    // or (neither given) when the server closes, which Connection: close makes it do.
    static void readResponse(int fd, bool headRequest,
                             std::chrono::steady_clock::time_point deadline, HttpResponse& out) {
        std::string in;
        bool closed = false;
        auto readMore = [&]() {
            char buf[16384];
            while (true) {
                pollfd p{fd, POLLIN, 0};
                const int ready = ::poll(&p, 1, detail::msLeft(deadline));
                if (ready < 0 && errno == EINTR) continue;
                if (ready <= 0) return false; // timed out
                const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
                if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
                if (n <= 0) {
                    closed = true;
                    return false;
                }
                in.append(buf, static_cast<std::size_t>(n));
                return true;
            }
        };

        std::optional<detail::Head> head;
        int status = 0;
        while (true) {
            while (!(head = detail::parseHead(in)))
                if (!readMore()) {
                    if (closed && !in.empty()) out.error = "connection closed mid-answer";
                    return;
                }
            const std::string& line = head->startLine;
            if (line.compare(0, 5, "HTTP/") != 0 || line.size() < 12) {
                out.error = "not an HTTP answer: " + line.substr(0, 80);
                return;
            }
            status = std::atoi(line.c_str() + line.find(' ') + 1);
            if (status >= 200 || status == 101) break;
            in.erase(0, head->headEnd); // 1xx interim answer: the real one follows
        }

        std::string body;
        if (headRequest || status == 204 || status == 304) {
            // no body by definition
        } else if (const auto te = detail::findHeader(head->headers, "Transfer-Encoding");
                   te && detail::iequals(*te, "chunked")) {
            while (true) {
                auto chunked = detail::decodeChunked(std::string_view(in).substr(head->headEnd));
                if (chunked.state == detail::Chunked::State::Done) {
                    body = std::move(chunked.body);
                    break;
                }
                if (chunked.state == detail::Chunked::State::Bad) {
                    out.error = "bad chunked body";
                    return;
                }
                if (!readMore()) {
                    out.error = closed ? "connection closed mid-body" : "";
                    return;
                }
            }
        } else if (const auto cl = detail::findHeader(head->headers, "Content-Length")) {
            const std::size_t length = std::strtoull(cl->c_str(), nullptr, 10);
            while (in.size() - head->headEnd < length)
                if (!readMore()) {
                    out.error = closed ? "connection closed mid-body" : "";
                    return;
                }
            body = in.substr(head->headEnd, length);
        } else {
            while (readMore()) {
            }
            if (!closed) return; // timed out before the end
            body = in.substr(head->headEnd);
        }
        out.status = status;
        out.headers = head->headers;
        out.body = std::move(body);
    }
};

} // namespace onewindow::sdk::testkit
