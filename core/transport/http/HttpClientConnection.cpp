#include "core/transport/http/HttpClientConnection.h"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Timespan.h>

namespace ow::transport::http {
namespace {

// The deadline is enforced by the socket's timeouts, which are shortened only when the time
// left falls this far below them: a fast exchange costs no system call for it, and a slow one
// overruns its deadline by this much at most.
constexpr std::int64_t kArmSlackMs = 100;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

[[noreturn]] void malformed(const std::string& what) {
    throw std::runtime_error("malformed HTTP response: " + what);
}

} // namespace

HttpClientConnection::HttpClientConnection(std::string host, std::uint16_t port,
                                           Poco::Net::Context::Ptr tls,
                                           std::int64_t connectTimeoutMs,
                                           std::int64_t readTimeoutMs, std::size_t maxBodyKept)
    : host_(std::move(host)), port_(port), tls_(std::move(tls)),
      connectTimeoutMs_(connectTimeoutMs), readTimeoutMs_(readTimeoutMs),
      maxBodyKept_(maxBodyKept) {}

HttpClientConnection::~HttpClientConnection() {
    close();
}

void HttpClientConnection::close() noexcept {
    if (!socket_) return;
    {
        std::lock_guard lock(abortMu_);
        liveFd_ = -1;
    }
    try {
        socket_->close();
    } catch (...) {
        // Closing a broken socket may fail; it is gone either way.
    }
    socket_.reset();
    buf_.clear();
    pos_ = 0;
}

void HttpClientConnection::abort() noexcept {
    std::lock_guard lock(abortMu_);
    aborted_ = true;
    if (liveFd_ >= 0) ::shutdown(liveFd_, SHUT_RDWR);
}

bool HttpClientConnection::aborted() noexcept {
    std::lock_guard lock(abortMu_);
    return aborted_;
}

void HttpClientConnection::connect() {
    {
        std::lock_guard lock(abortMu_);
        if (aborted_) throw Poco::IOException("the connection was aborted");
    }
    Poco::Net::SocketAddress addr(host_, port_);
    Poco::Timespan timeout(connectTimeoutMs_ * 1000);
    if (tls_) {
        auto s = std::make_unique<Poco::Net::SecureStreamSocket>(tls_);
        s->setPeerHostName(host_); // SNI and certificate name check
        s->connect(addr, timeout);
        socket_ = std::move(s);
    } else {
        socket_ = std::make_unique<Poco::Net::StreamSocket>();
        socket_->connect(addr, timeout);
    }
    {
        // A connect is bounded by its own timeout; abort() ends what follows it.
        std::lock_guard lock(abortMu_);
        if (aborted_) throw Poco::IOException("the connection was aborted");
        liveFd_ = socket_->impl()->sockfd();
    }
    socket_->setNoDelay(true);
    socket_->setReceiveTimeout(Poco::Timespan(readTimeoutMs_ * 1000));
    socket_->setSendTimeout(Poco::Timespan(readTimeoutMs_ * 1000));
    armedMs_ = readTimeoutMs_;
    buf_.clear();
    pos_ = 0;
}

void HttpClientConnection::arm() {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
    if (left <= 0)
        throw Poco::TimeoutException("the answer was not complete within " +
                                     std::to_string(readTimeoutMs_) + " ms");
    if (left < armedMs_ - kArmSlackMs) {
        socket_->setReceiveTimeout(Poco::Timespan(left * 1000));
        socket_->setSendTimeout(Poco::Timespan(left * 1000));
        armedMs_ = left;
    }
}

void HttpClientConnection::send(std::string_view bytes) {
    // In pieces, so that a peer reading slowly cannot stretch one blocking send past the
    // deadline (Poco's sendBytes loops until everything is sent).
    constexpr std::size_t kPiece = 64 * 1024;
    while (!bytes.empty()) {
        arm();
        const std::size_t n = std::min(bytes.size(), kPiece);
        int sent = socket_->sendBytes(bytes.data(), static_cast<int>(n));
        if (sent <= 0) throw Poco::IOException("the peer stopped taking the request");
        bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
}

std::size_t HttpClientConnection::fill() {
    // What was parsed is dropped first, so the buffer holds only what is still to be read.
    if (pos_ > 0) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    arm();
    char tmp[16384];
    int n = socket_->receiveBytes(tmp, sizeof tmp);
    if (n <= 0) return 0;
    buf_.append(tmp, static_cast<std::size_t>(n));
    return static_cast<std::size_t>(n);
}

ClientResponse HttpClientConnection::request(std::string_view method, std::string_view target,
                                             const HeaderList& headers, std::string_view body) {
    std::string head;
    head.reserve(256 + target.size());
    head.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(host_);
    if (!((tls_ && port_ == 443) || (!tls_ && port_ == 80)))
        head.append(":").append(std::to_string(port_));
    head.append("\r\nContent-Length: ").append(std::to_string(body.size())).append("\r\n");
    for (const auto& [name, value] : headers)
        head.append(name).append(": ").append(value).append("\r\n");
    head.append("\r\n");

    ClientResponse out;
    bool reused = socket_ != nullptr;
    try {
        if (!socket_) {
            connect();
        } else if (armedMs_ != readTimeoutMs_) {
            // The previous exchange was slow and shortened them.
            socket_->setReceiveTimeout(Poco::Timespan(readTimeoutMs_ * 1000));
            socket_->setSendTimeout(Poco::Timespan(readTimeoutMs_ * 1000));
            armedMs_ = readTimeoutMs_;
        }
        deadline_ = Clock::now() + std::chrono::milliseconds(readTimeoutMs_);
        if (exchange(head, body, out, reused)) return out;
        // The kept-alive connection was closed by the peer before it answered: the request
        // was not taken; open a fresh connection and send it once more.
        close();
        connect();
        if (exchange(head, body, out, false)) return out;
        malformed("connection closed before the status line");
    } catch (...) {
        close();
        throw;
    }
}

bool HttpClientConnection::exchange(const std::string& head, std::string_view body,
                                    ClientResponse& out, bool reused) {
    // Head and body in one send when small: one syscall, one segment.
    if (body.size() <= 64 * 1024) {
        std::string msg;
        msg.reserve(head.size() + body.size());
        msg.append(head).append(body);
        send(msg);
    } else {
        send(head);
        send(body);
    }

    // --- status line and headers
    std::size_t headEnd;
    for (;;) {
        headEnd = buf_.find("\r\n\r\n", pos_);
        if (headEnd != std::string::npos) break;
        if (buf_.size() - pos_ > kMaxHeadBytes) malformed("head larger than 64 KiB");
        std::size_t got;
        try {
            got = fill();
        } catch (const Poco::Net::ConnectionResetException&) {
            if (reused && buf_.size() == pos_) return false;
            throw;
        }
        if (got == 0) {
            if (reused && buf_.size() == pos_) return false;
            malformed("connection closed inside the response head");
        }
    }
    std::string_view headText(buf_.data() + pos_, headEnd - pos_);
    pos_ = headEnd + 4;

    auto lineEnd = headText.find("\r\n");
    std::string_view status = headText.substr(0, lineEnd);
    if (status.size() < 12 || status.substr(0, 7) != "HTTP/1." || status[8] != ' ')
        malformed("bad status line '" + std::string(status.substr(0, 40)) + "'");
    bool http10 = status[7] == '0';
    // Exactly three digits (RFC 9112 §4): "2000" is not a 200 followed by a reason.
    if (!std::isdigit(static_cast<unsigned char>(status[9])) ||
        !std::isdigit(static_cast<unsigned char>(status[10])) ||
        !std::isdigit(static_cast<unsigned char>(status[11])) ||
        (status.size() > 12 && status[12] != ' '))
        malformed("bad status code in '" + std::string(status.substr(0, 40)) + "'");
    out.status = (status[9] - '0') * 100 + (status[10] - '0') * 10 + (status[11] - '0');
    out.reason = std::string(trim(status.substr(12)));
    out.headers.clear();
    out.body.clear();
    out.keepAlive = !http10;

    std::optional<std::size_t> contentLength;
    bool chunked = false;
    std::size_t at = lineEnd == std::string_view::npos ? headText.size() : lineEnd + 2;
    while (at < headText.size()) {
        auto e = headText.find("\r\n", at);
        std::string_view line =
            headText.substr(at, e == std::string_view::npos ? std::string_view::npos : e - at);
        at = e == std::string_view::npos ? headText.size() : e + 2;
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) malformed("bad header line");
        std::string name = lower(line.substr(0, colon));
        std::string_view value = trim(line.substr(colon + 1));
        if (name == "content-length") {
            std::size_t v = 0;
            if (value.empty() || value.size() > 15) malformed("bad Content-Length");
            for (char c : value) {
                if (!std::isdigit(static_cast<unsigned char>(c))) malformed("bad Content-Length");
                v = v * 10 + static_cast<std::size_t>(c - '0');
            }
            if (contentLength && *contentLength != v) malformed("conflicting Content-Length");
            contentLength = v;
        } else if (name == "transfer-encoding") {
            chunked =
                iequals(trim(value.substr(
                            value.rfind(',') == std::string_view::npos ? 0 : value.rfind(',') + 1)),
                        "chunked");
        } else if (name == "connection") {
            if (iequals(value, "close")) out.keepAlive = false;
            if (iequals(value, "keep-alive")) out.keepAlive = true;
        }
        out.headers.emplace_back(std::move(name), std::string(value));
    }

    // --- body: `maxBodyKept_` bytes kept, up to kMaxBodyDropped more read and dropped (so the
    // connection can be kept), and the rest never read: the connection is closed instead.
    const std::size_t budget = maxBodyKept_ + kMaxBodyDropped;
    std::size_t taken = 0;
    auto consume = [&](std::size_t n) {
        if (out.body.size() < maxBodyKept_)
            out.body.append(
                std::string_view(buf_.data() + pos_, n).substr(0, maxBodyKept_ - out.body.size()));
        pos_ += n;
        taken += n;
    };
    auto available = [&] { return buf_.size() - pos_; };
    bool whole = true;
    bool noBody = out.status == 204 || out.status == 304 || (out.status >= 100 && out.status < 200);
    if (noBody) {
        // nothing to read
    } else if (chunked) {
        for (;;) {
            std::size_t le;
            while ((le = buf_.find("\r\n", pos_)) == std::string::npos) {
                if (available() > 1024) malformed("chunk size line too long");
                if (fill() == 0) malformed("connection closed inside a chunk");
            }
            std::string_view sizeText(buf_.data() + pos_, le - pos_);
            sizeText = sizeText.substr(0, sizeText.find(';'));
            std::size_t size = 0;
            if (trim(sizeText).empty()) malformed("empty chunk size");
            for (char c : trim(sizeText)) {
                int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                        : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                        : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                                    : -1;
                if (d < 0 || size > (std::size_t(1) << 40)) malformed("bad chunk size");
                size = size * 16 + static_cast<std::size_t>(d);
            }
            pos_ = le + 2;
            if (size == 0) {
                // Trailers end with an empty line.
                std::size_t trailerBytes = 0;
                for (;;) {
                    while ((le = buf_.find("\r\n", pos_)) == std::string::npos) {
                        if (available() > kMaxHeadBytes) malformed("trailers larger than 64 KiB");
                        if (fill() == 0) malformed("connection closed inside trailers");
                    }
                    trailerBytes += le + 2 - pos_;
                    if (trailerBytes > kMaxHeadBytes) malformed("trailers larger than 64 KiB");
                    bool empty = le == pos_;
                    pos_ = le + 2;
                    if (empty) break;
                }
                break;
            }
            // The chunk's data as it arrives, never buffered whole.
            while (size > 0 && taken < budget) {
                if (available() == 0 && fill() == 0) malformed("connection closed inside a chunk");
                std::size_t n = std::min({size, available(), budget - taken});
                consume(n);
                size -= n;
            }
            if (size > 0) {
                whole = false;
                break;
            }
            while (available() < 2)
                if (fill() == 0) malformed("connection closed inside a chunk");
            if (buf_[pos_] != '\r' || buf_[pos_ + 1] != '\n')
                malformed("chunk data not followed by CRLF");
            pos_ += 2;
        }
    } else if (contentLength) {
        std::size_t left = *contentLength;
        while (left > 0 && taken < budget) {
            if (available() == 0 && fill() == 0) malformed("connection closed inside the body");
            std::size_t n = std::min({left, available(), budget - taken});
            consume(n);
            left -= n;
        }
        whole = left == 0;
    } else {
        // Body runs to the end of the connection.
        out.keepAlive = false;
        for (;;) {
            consume(std::min(available(), budget - taken));
            if (taken >= budget) {
                whole = false;
                break;
            }
            if (fill() == 0) break;
        }
    }
    if (!whole) out.keepAlive = false; // the rest of the body is still on its way: cut it off
    if (pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    }
    if (!out.keepAlive) close();
    return true;
}

} // namespace ow::transport::http
