// Incremental, socket-free HTTP/1.1 request parser (RFC 9112). Kept apart from the server so it
// can be unit-tested byte by byte and fuzzed. It is deliberately strict: anything ambiguous about
// message framing is an error, because a lenient reading that differs from a proxy's reading is
// how request smuggling starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/transport/http/HttpMessage.h"

namespace ow::transport::http {

struct ParseLimits {
    /// Request line + fields (+ CRLFs); more: 431. Trailers get the same allowance.
    std::int64_t maxHeaderBytes = std::int64_t{16} * 1024;
    /// More fields: 431 (trailer fields are counted apart).
    int maxHeaderCount = 100;
    /// Declared or de-chunked body; more: 413.
    std::int64_t maxBodyBytes = std::int64_t{1} << 20;
    /// Request-target; longer: 414.
    std::int64_t maxTargetBytes = std::int64_t{8} * 1024;
};

/// Why a request was refused. `type` is the problem slug for problem().
struct ParseError {
    int status = 0;
    std::string type;
    std::string detail;
};

class RequestParser {
public:
    enum class Result {
        NeedMore,     ///< everything usable was consumed; feed again with more bytes
        HeadComplete, ///< head parsed, a body follows (time to send 100 Continue if asked)
        Complete,     ///< request() is ready; bytes after it belong to the next request
        Error,        ///< error() says why; the connection must be answered and closed
    };

    enum class Phase { Idle, Head, Body, Done, Failed };

    /// Longest chunk-size line (size + extensions) accepted; extensions are ignored anyway.
    static constexpr std::size_t kMaxChunkLineBytes = 4096;

    explicit RequestParser(ParseLimits limits = {});

    /// Parses as much of `data` as possible and sets `used` to the bytes consumed. The caller
    /// must pass the unconsumed bytes again, unchanged, at the start of the next call's `data`
    /// (the parser remembers how far it already scanned them). After Complete, call reset()
    /// before feeding the next request; after Error, stop.
    Result feed(std::string_view data, std::size_t& used);

    /// Prepares for the next request on the same connection, keeping buffer capacity.
    void reset();

    [[nodiscard]] Phase phase() const { return phase_; }
    [[nodiscard]] Request& request() { return req_; }
    [[nodiscard]] const ParseError& error() const { return error_; }

    /// After the head: whether the connection may stay open (HTTP version + Connection).
    [[nodiscard]] bool keepAlive() const { return keepAlive_; }
    /// After the head: HTTP/1.1 "Expect: 100-continue" with a body to come.
    [[nodiscard]] bool expectContinue() const { return expectContinue_; }
    /// After the request line: 0 for HTTP/1.0, 1 for HTTP/1.1.
    [[nodiscard]] int minorVersion() const { return minor_; }

private:
    enum class State {
        RequestLine,
        Headers,
        Body,
        ChunkSize,
        ChunkData,
        ChunkEnd,
        Trailers,
        Done,
        Failed
    };
    enum class LineResult { Incomplete, Line, Bad };

    LineResult nextLine(std::string_view data, std::size_t pos, std::string_view& line,
                        std::size_t& next);
    Result fail(int status, const char* type, std::string detail);
    bool targetTooLong(std::string_view requestLine) const;
    std::string targetDetail() const;
    Result checkPartialHead(std::string_view partial);
    Result parseRequestLine(std::string_view line);
    Result parseField(std::string_view line, bool trailer);
    Result finishHead();
    Result parseChunkSize(std::string_view line);

    ParseLimits limits_;
    State state_ = State::RequestLine;
    Phase phase_ = Phase::Idle;
    Request req_;
    ParseError error_;
    std::size_t scanned_ = 0;    // bytes after the last consumed one already searched for LF
    std::int64_t headBytes_ = 0; // head bytes consumed so far (also reused for trailers)
    int fieldCount_ = 0;
    std::int64_t remaining_ = 0; // of the Content-Length body or of the current chunk
    int minor_ = 1;
    bool keepAlive_ = true;
    bool expectContinue_ = false;
};

} // namespace ow::transport::http
