// HTTP/1.1 message framing shared by the test kit's fake peer and plain client: just enough of
// RFC 9112 for tests (a head ended by an empty line, bodies framed by Content-Length or chunked
// transfer coding), and socket helpers that never raise SIGPIPE. Not a general HTTP library.
#pragma once

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>

namespace onewindow::sdk::testkit {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

namespace detail {

inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

/// First value of header `name` (names are case-insensitive), or nullopt.
inline std::optional<std::string> findHeader(const HttpHeaders& headers, std::string_view name) {
    for (const auto& [k, v] : headers)
        if (iequals(k, name)) return v;
    return std::nullopt;
}

/// A message head: the start line and the header fields. `headEnd` is where the body starts.
struct Head {
    std::string startLine;
    HttpHeaders headers;
    std::size_t headEnd = 0;
};

/// Parses the head at the start of `buf`; nullopt while the empty line has not arrived yet.
/// Field lines without a colon are skipped (obsolete line folding is not supported).
inline std::optional<Head> parseHead(std::string_view buf) {
    const auto end = buf.find("\r\n\r\n");
    if (end == std::string_view::npos) return std::nullopt;
    Head h;
    h.headEnd = end + 4;
    std::string_view rest = buf.substr(0, end + 2);
    bool first = true;
    while (!rest.empty()) {
        const auto eol = rest.find("\r\n");
        std::string_view line = rest.substr(0, eol);
        rest.remove_prefix(eol + 2);
        if (first) {
            h.startLine = std::string(line);
            first = false;
            continue;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        h.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                               std::string(trim(line.substr(colon + 1))));
    }
    return h;
}

/// Chunked transfer coding (RFC 9112 §7.1), decoded from the start of `in`.
struct Chunked {
    enum class State { Incomplete, Done, Bad } state = State::Incomplete;
    std::string body;
    std::size_t used = 0; ///< bytes of `in` the coded body took (Done only)
};

inline Chunked decodeChunked(std::string_view in) {
    Chunked out;
    std::size_t pos = 0;
    while (true) {
        const auto eol = in.find("\r\n", pos);
        if (eol == std::string_view::npos) return out;
        std::string size(in.substr(pos, eol - pos));
        size = size.substr(0, size.find(';')); // chunk extensions are ignored
        char* end = nullptr;
        errno = 0;
        const unsigned long long n = std::strtoull(size.c_str(), &end, 16);
        if (size.empty() || errno != 0 || (*end != '\0' && *end != ' ' && *end != '\t') ||
            n > (1ull << 32)) {
            out.state = Chunked::State::Bad;
            return out;
        }
        pos = eol + 2;
        if (n == 0) {
            // Trailer fields, then an empty line.
            while (true) {
                const auto tl = in.find("\r\n", pos);
                if (tl == std::string_view::npos) return out;
                const bool empty = tl == pos;
                pos = tl + 2;
                if (empty) {
                    out.state = Chunked::State::Done;
                    out.used = pos;
                    return out;
                }
            }
        }
        if (in.size() < pos + n + 2) return out;
        if (in.substr(pos + n, 2) != "\r\n") {
            out.state = Chunked::State::Bad;
            return out;
        }
        out.body.append(in.substr(pos, n));
        pos += n + 2;
    }
}

/// Milliseconds left until `deadline`, at least 0, for poll().
inline int msLeft(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
}

/// Writes all of `data` to a socket (blocking or not) before `deadline`. MSG_NOSIGNAL: a peer
/// that went away is an error to report, not a SIGPIPE that kills the test.
inline bool sendAll(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd, POLLOUT, 0};
            const int left = msLeft(deadline);
            if (left == 0 || ::poll(&p, 1, left) <= 0) return false;
            continue;
        }
        return false;
    }
    return true;
}

/// The reason phrase for common status codes (any text is valid; clients ignore it).
inline const char* reasonPhrase(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Status";
    }
}

} // namespace detail
} // namespace onewindow::sdk::testkit
