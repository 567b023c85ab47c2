#include "core/transport/http/RequestParser.h"

#include <array>
#include <cstring>
#include <limits>

namespace ow::transport::http {

namespace {

constexpr std::array<bool, 256> makeTcharTable() {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c)
        t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c)
        t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c)
        t[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~"))
        t[static_cast<unsigned char>(c)] = true;
    return t;
}

constexpr std::array<bool, 256> kTchar = makeTcharTable();

bool isTchar(char c) {
    return kTchar[static_cast<unsigned char>(c)];
}
bool isOws(char c) {
    return c == ' ' || c == '\t';
}

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::string_view trimOws(std::string_view s) {
    while (!s.empty() && isOws(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && isOws(s.back()))
        s.remove_suffix(1);
    return s;
}

// Calls f(element) for each comma-separated, OWS-trimmed element; stops when f returns false.
template <typename F> bool forEachListElement(std::string_view list, F&& f) {
    for (;;) {
        std::size_t comma = list.find(',');
        if (!f(trimOws(list.substr(0, comma)))) return false;
        if (comma == std::string_view::npos) return true;
        list.remove_prefix(comma + 1);
    }
}

// Printable, bounded excerpt of client input for error details.
std::string excerpt(std::string_view s) {
    constexpr std::size_t kMax = 40;
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    }
    if (s.size() > kMax) out += "...";
    return out;
}

const char* describeByte(unsigned char c) {
    switch (c) {
    case 0:
        return "NUL";
    case '\r':
        return "CR";
    case '\n':
        return "LF";
    case 0x7f:
        return "DEL";
    default:
        return "control character";
    }
}

} // namespace

RequestParser::RequestParser(ParseLimits limits) : limits_(limits) {}

void RequestParser::reset() {
    state_ = State::RequestLine;
    phase_ = Phase::Idle;
    req_.method.clear();
    req_.target.clear();
    req_.path.clear();
    req_.query.clear();
    req_.headers.clear();
    req_.body.clear();
    error_ = ParseError{};
    scanned_ = 0;
    headBytes_ = 0;
    fieldCount_ = 0;
    remaining_ = 0;
    minor_ = 1;
    keepAlive_ = true;
    expectContinue_ = false;
}

RequestParser::Result RequestParser::fail(int status, const char* type, std::string detail) {
    state_ = State::Failed;
    phase_ = Phase::Failed;
    error_.status = status;
    error_.type = type;
    error_.detail = std::move(detail);
    return Result::Error;
}

RequestParser::LineResult RequestParser::nextLine(std::string_view data, std::size_t pos,
                                                  std::string_view& line, std::size_t& next) {
    std::size_t from = pos + scanned_;
    const void* lf =
        from < data.size() ? std::memchr(data.data() + from, '\n', data.size() - from) : nullptr;
    if (lf == nullptr) {
        scanned_ = data.size() - pos;
        return LineResult::Incomplete;
    }
    std::size_t at = static_cast<std::size_t>(static_cast<const char*>(lf) - data.data());
    scanned_ = 0;
    next = at + 1;
    if (at == pos || data[at - 1] != '\r') return LineResult::Bad;
    line = data.substr(pos, at - 1 - pos);
    return LineResult::Line;
}

bool RequestParser::targetTooLong(std::string_view requestLine) const {
    std::size_t sp1 = requestLine.find(' ');
    if (sp1 == std::string_view::npos) return false;
    std::size_t sp2 = requestLine.find(' ', sp1 + 1);
    std::size_t end = sp2 == std::string_view::npos ? requestLine.size() : sp2;
    return static_cast<std::int64_t>(end - sp1 - 1) > limits_.maxTargetBytes;
}

std::string RequestParser::targetDetail() const {
    return "request-target exceeds " + std::to_string(limits_.maxTargetBytes) + " bytes";
}

RequestParser::Result RequestParser::checkPartialHead(std::string_view partial) {
    // Decide 414/431 as soon as the limit is crossed rather than buffering up to the terminator.
    if (state_ == State::RequestLine && targetTooLong(partial))
        return fail(414, "target-too-long", targetDetail());
    if (headBytes_ + static_cast<std::int64_t>(partial.size()) > limits_.maxHeaderBytes) {
        return fail(431, "header-too-large",
                    std::string(state_ == State::Trailers ? "trailer section" : "request head") +
                        " exceeds " + std::to_string(limits_.maxHeaderBytes) + " bytes");
    }
    return Result::NeedMore;
}

RequestParser::Result RequestParser::parseRequestLine(std::string_view line) {
    std::size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0)
        return fail(400, "bad-request", "malformed request line: '" + excerpt(line) + "'");
    std::string_view method = line.substr(0, sp1);
    for (char c : method)
        if (!isTchar(c))
            return fail(400, "bad-request",
                        "invalid character in method '" + excerpt(method) + "'");
    std::string_view rest = line.substr(sp1 + 1);
    std::size_t sp2 = rest.find(' ');
    if (sp2 == std::string_view::npos)
        return fail(400, "bad-request", "request line has no HTTP version");
    std::string_view target = rest.substr(0, sp2);
    std::string_view version = rest.substr(sp2 + 1);
    if (static_cast<std::int64_t>(target.size()) > limits_.maxTargetBytes)
        return fail(414, "target-too-long", targetDetail());
    if (target.empty()) return fail(400, "bad-request", "request line must use single spaces");

    if (version == "HTTP/1.1") {
        minor_ = 1;
    } else if (version == "HTTP/1.0") {
        minor_ = 0;
    } else if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[5] >= '0' &&
               version[5] <= '9' && version[6] == '.' && version[7] >= '0' && version[7] <= '9') {
        return fail(505, "version-not-supported",
                    "HTTP version " + std::string(version.substr(5)) + " is not supported");
    } else {
        return fail(400, "bad-request", "malformed HTTP version '" + excerpt(version) + "'");
    }

    for (char ch : target) {
        auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f || c == '#')
            return fail(400, "bad-request", "invalid character in request-target");
    }
    // RFC 9112 §3.2.2: a server must accept the absolute-form (what a client talking to a
    // proxy sends); its path and query are what the origin-form would have carried.
    std::string_view origin = target;
    if (target == "*") {
        if (method != "OPTIONS")
            return fail(400, "bad-request", "asterisk-form is only allowed with OPTIONS");
    } else if (target.front() != '/') {
        const std::size_t schemeEnd = target.find("://");
        const std::string_view scheme =
            target.substr(0, schemeEnd == std::string_view::npos ? 0 : schemeEnd);
        if (!iequals(scheme, "http") && !iequals(scheme, "https"))
            return fail(400, "bad-request",
                        "the request-target must be a path or an http(s) URI (got '" +
                            excerpt(target) + "')");
        const std::size_t authority = schemeEnd + 3;
        const std::size_t pathAt = target.find_first_of("/?", authority);
        if (pathAt == authority)
            return fail(400, "bad-request", "absolute-form request-target without a host");
        origin = pathAt == std::string_view::npos ? std::string_view() : target.substr(pathAt);
    }

    req_.method.assign(method);
    req_.target.assign(target);
    std::size_t q = origin.find('?');
    req_.path.assign(origin.substr(0, q));
    if (req_.path.empty()) req_.path = "/";
    if (q != std::string_view::npos) req_.query.assign(origin.substr(q + 1));
    return Result::NeedMore;
}

RequestParser::Result RequestParser::parseField(std::string_view line, bool trailer) {
    if (isOws(line.front()))
        return fail(400, "bad-request", "obsolete line folding (line starting with whitespace)");
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos)
        return fail(400, "bad-request", "header line without ':': '" + excerpt(line) + "'");
    std::string_view name = line.substr(0, colon);
    if (name.empty()) return fail(400, "bad-request", "empty header field name");
    if (isOws(name.back()))
        return fail(400, "bad-request",
                    "whitespace between header field name and colon in '" + excerpt(name) + "'");
    for (char c : name)
        if (!isTchar(c))
            return fail(400, "bad-request",
                        "invalid character in header field name '" + excerpt(name) + "'");
    std::string_view value = trimOws(line.substr(colon + 1));
    for (char ch : value) {
        auto c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(400, "bad-request",
                        std::string(describeByte(c)) + " in value of header field '" +
                            excerpt(name) + "'");
    }
    if (++fieldCount_ > limits_.maxHeaderCount)
        return fail(431, "header-too-large",
                    "more than " + std::to_string(limits_.maxHeaderCount) +
                        (trailer ? " trailer fields" : " header fields"));
    if (trailer) return Result::NeedMore; // parsed for validity only, then discarded

    req_.headers.emplace_back();
    auto& [n, v] = req_.headers.back();
    n.resize(name.size());
    for (std::size_t i = 0; i < name.size(); ++i)
        n[i] = lower(name[i]);
    v.assign(value);
    return Result::NeedMore;
}

RequestParser::Result RequestParser::finishHead() {
    int hosts = 0;
    int authorizations = 0;
    bool close = false;
    bool keepAliveToken = false;
    bool hasTe = false;
    bool hasCl = false;
    std::int64_t contentLength = -1;
    const std::string* expect = nullptr;
    constexpr std::int64_t kClCap = std::numeric_limits<std::int64_t>::max() / 10 - 10;

    for (const auto& [name, value] : req_.headers) {
        if (name == "host") {
            ++hosts;
        } else if (name == "authorization") {
            ++authorizations;
        } else if (name == "connection") {
            forEachListElement(value, [&](std::string_view t) {
                if (iequals(t, "close"))
                    close = true;
                else if (iequals(t, "keep-alive"))
                    keepAliveToken = true;
                return true;
            });
        } else if (name == "transfer-encoding") {
            hasTe = true;
        } else if (name == "content-length") {
            hasCl = true;
            bool ok = forEachListElement(value, [&](std::string_view v) {
                if (v.empty()) return false;
                std::int64_t n = 0;
                for (char c : v) {
                    if (c < '0' || c > '9') return false;
                    // Saturate: any value this large is refused with 413 anyway.
                    n = n >= kClCap ? kClCap : n * 10 + (c - '0');
                }
                if (contentLength >= 0 && contentLength != n) {
                    contentLength = -2;
                    return false;
                }
                contentLength = n;
                return true;
            });
            if (!ok) {
                if (contentLength == -2)
                    return fail(400, "bad-request", "conflicting Content-Length values");
                return fail(400, "bad-request",
                            "invalid Content-Length '" + excerpt(value) + "' (must be digits)");
            }
        } else if (name == "expect") {
            expect = &value;
        }
    }

    if (minor_ == 1 && hosts == 0) return fail(400, "bad-request", "HTTP/1.1 request without Host");
    if (hosts > 1) return fail(400, "bad-request", "more than one Host header field");
    // A second one could be read by a proxy and the hub differently: which one counts is
    // exactly what must never be ambiguous about a credential.
    if (authorizations > 1)
        return fail(400, "bad-request", "more than one Authorization header field");
    keepAlive_ = minor_ == 1 ? !close : (keepAliveToken && !close);

    if (hasTe) {
        if (minor_ == 0)
            return fail(400, "bad-request", "Transfer-Encoding in an HTTP/1.0 request");
        if (hasCl)
            return fail(400, "bad-request",
                        "both Transfer-Encoding and Content-Length (ambiguous framing)");
        // All Transfer-Encoding fields form one list; only a single "chunked" is implemented.
        std::string_view last;
        int codings = 0;
        int chunkedCount = 0;
        std::string unsupported;
        bool wellFormed = true;
        for (const auto& [name, value] : req_.headers) {
            if (name != "transfer-encoding") continue;
            wellFormed = wellFormed && forEachListElement(value, [&](std::string_view c) {
                             if (c.empty()) return false;
                             ++codings;
                             last = c;
                             if (iequals(c, "chunked"))
                                 ++chunkedCount;
                             else if (unsupported.empty())
                                 unsupported = excerpt(c);
                             return true;
                         });
        }
        if (!wellFormed) return fail(400, "bad-request", "malformed Transfer-Encoding list");
        if (!iequals(last, "chunked"))
            return fail(400, "bad-request",
                        "final transfer coding is '" + excerpt(last) + "', not chunked");
        if (chunkedCount > 1)
            return fail(400, "bad-request", "chunked transfer coding applied more than once");
        if (codings > 1)
            return fail(501, "not-implemented",
                        "transfer coding '" + unsupported + "' is not supported");
        state_ = State::ChunkSize;
    } else if (hasCl) {
        if (contentLength > limits_.maxBodyBytes)
            return fail(413, "body-too-large",
                        "Content-Length exceeds " + std::to_string(limits_.maxBodyBytes) +
                            " bytes");
        remaining_ = contentLength;
        if (remaining_ == 0) {
            state_ = State::Done;
            phase_ = Phase::Done;
            return Result::Complete;
        }
        state_ = State::Body;
        req_.body.reserve(
            static_cast<std::size_t>(std::min<std::int64_t>(remaining_, std::int64_t{64} * 1024)));
    } else {
        const std::string& m = req_.method;
        if (m == "POST" || m == "PUT" || m == "PATCH")
            return fail(411, "length-required",
                        m + " requires Content-Length or chunked Transfer-Encoding");
        state_ = State::Done;
        phase_ = Phase::Done;
        return Result::Complete;
    }
    expectContinue_ = minor_ == 1 && expect != nullptr && iequals(*expect, "100-continue");
    phase_ = Phase::Body;
    return Result::HeadComplete;
}

RequestParser::Result RequestParser::parseChunkSize(std::string_view line) {
    std::size_t i = 0;
    std::int64_t size = 0;
    constexpr std::int64_t kLimit = std::numeric_limits<std::int64_t>::max() >> 4;
    for (; i < line.size(); ++i) {
        char c = line[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            break;
        if (size > kLimit) return fail(400, "bad-request", "chunk size overflows");
        size = size * 16 + d;
    }
    if (i == 0) return fail(400, "bad-request", "invalid chunk size '" + excerpt(line) + "'");
    std::string_view rest = line.substr(i);
    while (!rest.empty() && isOws(rest.front()))
        rest.remove_prefix(1);
    if (!rest.empty()) {
        if (rest.front() != ';')
            return fail(400, "bad-request", "invalid chunk size '" + excerpt(line) + "'");
        for (char ch : rest) {
            auto c = static_cast<unsigned char>(ch);
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return fail(400, "bad-request",
                            std::string(describeByte(c)) + " in chunk extension");
        }
    }
    if (size > limits_.maxBodyBytes - static_cast<std::int64_t>(req_.body.size()))
        return fail(413, "body-too-large",
                    "chunked body exceeds " + std::to_string(limits_.maxBodyBytes) + " bytes");
    if (size == 0) {
        state_ = State::Trailers;
        headBytes_ = 0;
        fieldCount_ = 0;
    } else {
        remaining_ = size;
        state_ = State::ChunkData;
    }
    return Result::NeedMore;
}

RequestParser::Result RequestParser::feed(std::string_view data, std::size_t& used) {
    std::size_t pos = 0;
    used = 0;
    for (;;) {
        switch (state_) {
        case State::Done:
            return Result::Complete;
        case State::Failed:
            return Result::Error;

        case State::RequestLine:
        case State::Headers:
        case State::Trailers: {
            if (pos < data.size() && phase_ == Phase::Idle) phase_ = Phase::Head;
            std::string_view line;
            std::size_t next = 0;
            LineResult lr = nextLine(data, pos, line, next);
            if (lr == LineResult::Incomplete) {
                Result r = checkPartialHead(data.substr(pos));
                used = pos;
                return r;
            }
            if (lr == LineResult::Bad)
                return fail(400, "bad-request", "line terminated by bare LF (CRLF required)");
            headBytes_ += static_cast<std::int64_t>(next - pos);
            pos = next;
            if (state_ == State::RequestLine) {
                if (headBytes_ > limits_.maxHeaderBytes)
                    return targetTooLong(line)
                               ? fail(414, "target-too-long", targetDetail())
                               : fail(431, "header-too-large",
                                      "request head exceeds " +
                                          std::to_string(limits_.maxHeaderBytes) + " bytes");
                if (line.empty()) continue; // RFC 9112 §2.2: ignore CRLF before request-line
                if (parseRequestLine(line) == Result::Error) return Result::Error;
                state_ = State::Headers;
                continue;
            }
            if (headBytes_ > limits_.maxHeaderBytes)
                return fail(
                    431, "header-too-large",
                    std::string(state_ == State::Trailers ? "trailer section" : "request head") +
                        " exceeds " + std::to_string(limits_.maxHeaderBytes) + " bytes");
            bool trailer = state_ == State::Trailers;
            if (line.empty()) {
                if (trailer) {
                    state_ = State::Done;
                    phase_ = Phase::Done;
                    used = pos;
                    return Result::Complete;
                }
                Result r = finishHead();
                if (r != Result::Error) used = pos;
                return r;
            }
            if (parseField(line, trailer) == Result::Error) return Result::Error;
            continue;
        }

        case State::ChunkSize: {
            std::string_view line;
            std::size_t next = 0;
            LineResult lr = nextLine(data, pos, line, next);
            if (lr == LineResult::Incomplete) {
                if (data.size() - pos > kMaxChunkLineBytes)
                    return fail(400, "bad-request", "chunk size line too long");
                used = pos;
                return Result::NeedMore;
            }
            if (lr == LineResult::Bad)
                return fail(400, "bad-request", "chunk size line terminated by bare LF");
            if (next - pos > kMaxChunkLineBytes)
                return fail(400, "bad-request", "chunk size line too long");
            pos = next;
            if (parseChunkSize(line) == Result::Error) return Result::Error;
            continue;
        }

        case State::Body:
        case State::ChunkData: {
            auto avail = static_cast<std::int64_t>(data.size() - pos);
            auto take = static_cast<std::size_t>(std::min(avail, remaining_));
            req_.body.append(data.data() + pos, take);
            pos += take;
            remaining_ -= static_cast<std::int64_t>(take);
            if (remaining_ > 0) {
                used = pos;
                return Result::NeedMore;
            }
            if (state_ == State::ChunkData) {
                state_ = State::ChunkEnd;
                continue;
            }
            state_ = State::Done;
            phase_ = Phase::Done;
            used = pos;
            return Result::Complete;
        }

        case State::ChunkEnd: {
            if (data.size() - pos < 2) {
                if (pos < data.size() && data[pos] != '\r')
                    return fail(400, "bad-request", "chunk data not followed by CRLF");
                used = pos;
                return Result::NeedMore;
            }
            if (data[pos] != '\r' || data[pos + 1] != '\n')
                return fail(400, "bad-request", "chunk data not followed by CRLF");
            pos += 2;
            state_ = State::ChunkSize;
            continue;
        }
        }
    }
}

} // namespace ow::transport::http
