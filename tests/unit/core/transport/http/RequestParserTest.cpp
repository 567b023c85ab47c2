#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "core/transport/http/RequestParser.h"

using ow::transport::http::ParseLimits;
using ow::transport::http::Request;
using ow::transport::http::RequestParser;
using Result = RequestParser::Result;
using namespace std::string_literals;

namespace {

struct Outcome {
    Result result = Result::NeedMore;
    int status = 0;
    std::string detail;
    Request req;
    bool keepAlive = false;
    bool sawHeadComplete = false;
    bool expectContinue = false;
    std::size_t consumed = 0; // bytes of the input that belong to this request
};

// Feeds `input` in pieces of `step` bytes the way a connection would: unconsumed bytes are kept
// and passed again followed by the next piece.
Outcome parse(std::string_view input, ParseLimits limits = {}, std::size_t step = 0) {
    if (step == 0) step = input.size() == 0 ? 1 : input.size();
    RequestParser p(limits);
    Outcome out;
    std::string pending;
    std::size_t offered = 0;
    for (;;) {
        std::size_t used = 0;
        Result r = p.feed(pending, used);
        out.consumed += used;
        pending.erase(0, used);
        if (r == Result::HeadComplete) {
            out.sawHeadComplete = true;
            out.expectContinue = p.expectContinue();
            continue;
        }
        if (r == Result::Complete || r == Result::Error) {
            out.result = r;
            out.status = p.error().status;
            out.detail = p.error().detail;
            out.req = p.request();
            out.keepAlive = p.keepAlive();
            return out;
        }
        if (offered >= input.size()) {
            out.result = Result::NeedMore;
            return out;
        }
        std::size_t n = std::min(step, input.size() - offered);
        pending.append(input.substr(offered, n));
        offered += n;
    }
}

// Good requests must parse identically whole and byte by byte.
Outcome parseBoth(std::string_view input, ParseLimits limits = {}) {
    Outcome whole = parse(input, limits);
    Outcome bytewise = parse(input, limits, 1);
    REQUIRE(whole.result == bytewise.result);
    REQUIRE(whole.status == bytewise.status);
    REQUIRE(whole.req.body == bytewise.req.body);
    REQUIRE(whole.req.headers == bytewise.req.headers);
    if (whole.result != Result::Error) REQUIRE(whole.consumed == bytewise.consumed);
    return whole;
}

void requireError(std::string_view input, int status, std::string_view detailPart,
                  ParseLimits limits = {}) {
    INFO("input: " << std::string(input));
    Outcome o = parseBoth(input, limits);
    REQUIRE(o.result == Result::Error);
    REQUIRE(o.status == status);
    REQUIRE_THAT(o.detail, Catch::Contains(std::string(detailPart)));
}

std::string chunkedPost(std::string_view chunks) {
    return "POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
           std::string(chunks);
}

} // namespace

TEST_CASE("RequestParser parses a simple GET with query and lower-cased names") {
    Outcome o = parseBoth("GET /v1/events?x=1&y=2 HTTP/1.1\r\nHost: hub:8080\r\n"
                          "X-Trace-ID:  abc def \r\nAccept: */*\r\n\r\n");
    REQUIRE(o.result == Result::Complete);
    CHECK(o.req.method == "GET");
    CHECK(o.req.target == "/v1/events?x=1&y=2");
    CHECK(o.req.path == "/v1/events");
    CHECK(o.req.query == "x=1&y=2");
    REQUIRE(o.req.headers.size() == 3);
    CHECK(o.req.headers[1].first == "x-trace-id");
    CHECK(o.req.headers[1].second == "abc def");
    CHECK(*o.req.header("host") == "hub:8080");
    CHECK(o.req.body.empty());
    CHECK(o.keepAlive);
    CHECK_FALSE(o.sawHeadComplete);
}

TEST_CASE("RequestParser reads a Content-Length body") {
    Outcome o = parseBoth("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world");
    REQUIRE(o.result == Result::Complete);
    CHECK(o.req.body == "hello world");
    CHECK(o.sawHeadComplete);
    CHECK_FALSE(o.expectContinue);
}

TEST_CASE("RequestParser accepts OWS around Content-Length and equal repeated values") {
    CHECK(parseBoth("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: \t3 \r\n\r\nabc").req.body ==
          "abc");
    CHECK(parseBoth("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc").req.body ==
          "abc");
    CHECK(parseBoth("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 003\r\n"
                    "\r\nabc")
              .req.body == "abc");
}

TEST_CASE("RequestParser stops exactly at the end of each pipelined request") {
    std::string first = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok";
    std::string second = "GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    std::string both = first + second;
    RequestParser p;
    std::size_t used = 0;
    REQUIRE(p.feed(both, used) == Result::HeadComplete);
    std::size_t total = used;
    REQUIRE(p.feed(std::string_view(both).substr(total), used) == Result::Complete);
    total += used;
    CHECK(total == first.size());
    CHECK(p.request().body == "ok");
    CHECK(p.keepAlive());
    p.reset();
    REQUIRE(p.feed(std::string_view(both).substr(total), used) == Result::Complete);
    CHECK(used == second.size());
    CHECK(p.request().path == "/b");
    CHECK(p.request().body.empty());
    CHECK_FALSE(p.keepAlive());
}

TEST_CASE("RequestParser de-chunks with extensions and discards trailers") {
    Outcome o =
        parseBoth(chunkedPost("5;name=value\r\nhello\r\n6 ; x=\"y\"\r\n world\r\n"
                              "A\r\n0123456789\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"));
    REQUIRE(o.result == Result::Complete);
    CHECK(o.req.body == "hello world0123456789");
    CHECK(o.req.header("x-checksum") == nullptr);
    CHECK(o.req.header("transfer-encoding") != nullptr);
}

TEST_CASE("RequestParser parses a request pipelined after a chunked one") {
    std::string first = chunkedPost("3\r\nabc\r\n0\r\n\r\n");
    std::string input = first + "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    Outcome o = parse(input);
    REQUIRE(o.result == Result::Complete);
    CHECK(o.consumed == first.size());
    CHECK(o.req.body == "abc");
    Outcome next = parse(std::string_view(input).substr(o.consumed));
    REQUIRE(next.result == Result::Complete);
    CHECK(next.req.path == "/next");
}

TEST_CASE("RequestParser accepts chunked with OWS and any case") {
    Outcome o = parseBoth("POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  ChUnKeD \r\n\r\n"
                          "2\r\nab\r\n0\r\n\r\n");
    REQUIRE(o.result == Result::Complete);
    CHECK(o.req.body == "ab");
}

TEST_CASE("RequestParser applies HTTP/1.0 and Connection keep-alive rules") {
    Outcome a = parseBoth("GET / HTTP/1.0\r\n\r\n");
    REQUIRE(a.result == Result::Complete);
    CHECK_FALSE(a.keepAlive);
    Outcome b = parseBoth("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    REQUIRE(b.result == Result::Complete);
    CHECK(b.keepAlive);
    Outcome c = parseBoth("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade, close\r\n\r\n");
    REQUIRE(c.result == Result::Complete);
    CHECK_FALSE(c.keepAlive);
}

TEST_CASE("RequestParser handles OPTIONS *, HEAD and leading empty lines") {
    CHECK(parseBoth("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").result == Result::Complete);
    Outcome head = parseBoth("\r\n\r\nHEAD /x HTTP/1.1\r\nHost: h\r\n\r\n");
    REQUIRE(head.result == Result::Complete);
    CHECK(head.req.method == "HEAD");
    requireError("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400, "asterisk-form");
}

TEST_CASE("RequestParser accepts absolute-form targets (RFC 9112 3.2.2)") {
    Outcome a = parseBoth("POST http://hub.example:8080/v1/events?x=1 HTTP/1.1\r\nHost: h\r\n"
                          "Content-Length: 0\r\n\r\n");
    REQUIRE(a.result == Result::Complete);
    CHECK(a.req.path == "/v1/events");
    CHECK(a.req.query == "x=1");
    CHECK(a.req.target == "http://hub.example:8080/v1/events?x=1");
    Outcome b = parseBoth("GET HTTPS://hub.example HTTP/1.1\r\nHost: h\r\n\r\n");
    REQUIRE(b.result == Result::Complete);
    CHECK(b.req.path == "/");
    requireError("GET ftp://evil/x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http(s) URI");
    requireError("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "without a host");
    requireError("GET evil/x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http(s) URI");
}

TEST_CASE("RequestParser refuses a second Authorization header") {
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer good-token-000001\r\n"
                 "authorization: Bearer bad\r\nContent-Length: 0\r\n\r\n",
                 400, "more than one Authorization");
}

TEST_CASE("RequestParser reports Expect: 100-continue at HeadComplete") {
    Outcome o = parseBoth("PUT /e HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
                          "Content-Length: 1\r\n\r\nx");
    REQUIRE(o.result == Result::Complete);
    CHECK(o.sawHeadComplete);
    CHECK(o.expectContinue);
}

TEST_CASE("RequestParser refuses Content-Length together with Transfer-Encoding") {
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                 400, "both Transfer-Encoding and Content-Length");
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                 "Content-Length: 4\r\n\r\n0\r\n\r\n",
                 400, "both Transfer-Encoding and Content-Length");
}

TEST_CASE("RequestParser refuses transfer codings other than a single final chunked") {
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 400,
                 "not chunked");
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n", 400,
                 "not chunked");
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 400,
                 "not chunked");
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501,
                 "'gzip' is not supported");
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n",
                 400, "more than once");
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked,\r\n\r\n", 400,
                 "malformed Transfer-Encoding");
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 400,
                 "not chunked");
}

TEST_CASE("RequestParser refuses Transfer-Encoding obfuscated by whitespace") {
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n", 400,
                 "whitespace between header field name and colon");
    requireError("POST /e HTTP/1.1\r\nHost: h\r\n Transfer-Encoding: chunked\r\n\r\n", 400,
                 "obsolete line folding");
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", 400,
                 "obsolete line folding");
    // Control: the plain form parses.
    CHECK(parseBoth(chunkedPost("0\r\n\r\n")).result == Result::Complete);
}

TEST_CASE("RequestParser refuses Transfer-Encoding in HTTP/1.0") {
    requireError("POST /e HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
                 "HTTP/1.0");
}

TEST_CASE("RequestParser refuses differing duplicate Content-Length") {
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\n"
                 "GET /admin HTTP/1.1\r\nHost: h\r\n\r\n",
                 400, "conflicting Content-Length");
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\nhello", 400,
                 "conflicting Content-Length");
}

TEST_CASE("RequestParser refuses Content-Length that is not 1*DIGIT") {
    for (const char* cl : {"+5", "-5", "0x5", "5 5", "5.0", "", "5,", "1e3", "five"}) {
        requireError("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::string(cl) +
                         "\r\n\r\nhello",
                     400, "invalid Content-Length");
    }
}

TEST_CASE("RequestParser refuses an overflowing or malformed chunk size") {
    requireError(chunkedPost("FFFFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n"), 400, "overflows");
    requireError(chunkedPost("0x5\r\nhello\r\n0\r\n\r\n"), 400, "invalid chunk size");
    requireError(chunkedPost("-5\r\nhello\r\n0\r\n\r\n"), 400, "invalid chunk size");
    requireError(chunkedPost("\r\nhello\r\n0\r\n\r\n"), 400, "invalid chunk size");
    requireError(chunkedPost("5 5\r\nhello\r\n0\r\n\r\n"), 400, "invalid chunk size");
    requireError(chunkedPost("5\r\nhelloXX0\r\n\r\n"), 400, "not followed by CRLF");
    requireError(chunkedPost("5;a=\x01\r\nhello\r\n0\r\n\r\n"), 400, "chunk extension");
    requireError(chunkedPost("5\nhello\r\n0\r\n\r\n"), 400, "bare LF");
    requireError(chunkedPost("1;" + std::string(5000, 'e') + "\r\nx\r\n0\r\n\r\n"), 400,
                 "chunk size line too long");
}

TEST_CASE("RequestParser requires CRLF line endings") {
    requireError("GET / HTTP/1.1\nHost: h\r\n\r\n", 400, "bare LF");
    requireError("GET / HTTP/1.1\r\nHost: h\n\r\n", 400, "bare LF");
    requireError("GET / HTTP/1.1\r\nHost: h\r\n\n", 400, "bare LF");
    requireError("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400, "CR in value");
}

TEST_CASE("RequestParser refuses NUL and control characters in field values") {
    requireError("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n"s, 400,
                 "NUL in value of header field 'X-A'");
    requireError("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x7f\r\n\r\n", 400, "DEL");
    requireError("GET / HTTP/1.1\r\nHost: h\r\nX A: b\r\n\r\n", 400, "invalid character");
    requireError("GET / HTTP/1.1\r\nHost: h\r\n: b\r\n\r\n", 400, "empty header field name");
    requireError("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400, "without ':'");
}

TEST_CASE("RequestParser validates the request line") {
    requireError("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "single spaces");
    requireError("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400, "malformed HTTP version");
    requireError("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid character in method");
    requireError("GET /\x80 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "request-target");
    requireError("GET /\r\nHost: h\r\n\r\n", 400, "no HTTP version");
    requireError("GET / HTTP/1\r\nHost: h\r\n\r\n", 400, "malformed HTTP version");
    requireError("GET / http/1.1\r\nHost: h\r\n\r\n", 400, "malformed HTTP version");
}

TEST_CASE("RequestParser answers 505 for other HTTP versions") {
    requireError("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505, "2.0");
    requireError("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "not supported");
    requireError("GET / HTTP/0.9\r\n\r\n", 505, "0.9");
}

TEST_CASE("RequestParser requires exactly one Host in HTTP/1.1") {
    requireError("GET / HTTP/1.1\r\n\r\n", 400, "without Host");
    requireError("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host");
}

TEST_CASE("RequestParser answers 411 for a body method without framing") {
    requireError("POST /e HTTP/1.1\r\nHost: h\r\n\r\n", 411, "requires Content-Length");
    requireError("PATCH /e HTTP/1.1\r\nHost: h\r\n\r\n", 411, "requires Content-Length");
    CHECK(parseBoth("DELETE /e HTTP/1.1\r\nHost: h\r\n\r\n").result == Result::Complete);
}

TEST_CASE("RequestParser answers 414 for a long target, before the line ends") {
    ParseLimits limits;
    limits.maxTargetBytes = 64;
    std::string target = "/" + std::string(100, 'a');
    requireError("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n", 414, "64 bytes", limits);
    // Incomplete line: decided without waiting for the rest.
    Outcome o = parse("GET " + target, limits);
    REQUIRE(o.result == Result::Error);
    CHECK(o.status == 414);
    CHECK(
        parseBoth("GET /" + std::string(63, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", limits).result ==
        Result::Complete);
}

TEST_CASE("RequestParser answers 431 as soon as the head exceeds its limit") {
    ParseLimits limits;
    limits.maxHeaderBytes = 1024;
    std::string start = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(1100, 'b');
    Outcome o = parse(start, limits); // no line end yet
    REQUIRE(o.result == Result::Error);
    CHECK(o.status == 431);
    CHECK_THAT(o.detail, Catch::Contains("request head exceeds 1024 bytes"));
    // Many small complete fields add up as well.
    std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (int i = 0; i < 60; ++i)
        many += "X-F" + std::to_string(i) + ": 0123456789\r\n";
    requireError(many + "\r\n", 431, "request head exceeds", limits);
    // Endless empty lines before the request line are bounded too.
    std::string crlfs;
    for (int i = 0; i < 600; ++i)
        crlfs += "\r\n";
    requireError(crlfs, 431, "request head exceeds", limits);
}

TEST_CASE("RequestParser answers 431 for too many fields and too large trailers") {
    ParseLimits limits;
    limits.maxHeaderCount = 5;
    std::string head = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (int i = 0; i < 4; ++i)
        head += "A" + std::to_string(i) + ": v\r\n";
    CHECK(parseBoth(head + "\r\n", limits).result == Result::Complete);
    requireError(head + "Z: v\r\n\r\n", 431, "more than 5 header fields", limits);

    limits = ParseLimits{};
    limits.maxHeaderBytes = 256;
    requireError(chunkedPost("0\r\nX-T: " + std::string(300, 't') + "\r\n\r\n"), 431,
                 "trailer section exceeds 256 bytes", limits);
}

TEST_CASE("RequestParser answers 413 for large declared and de-chunked bodies") {
    ParseLimits limits;
    limits.maxBodyBytes = 10;
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", 413, "10 bytes",
                 limits);
    requireError("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                 413, "exceeds", limits);
    requireError(chunkedPost("6\r\nabcdef\r\n5\r\nghijk\r\n0\r\n\r\n"), 413,
                 "chunked body exceeds 10 bytes", limits);
    CHECK(parseBoth(chunkedPost("6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n"), limits).req.body ==
          "abcdefghij");
}

TEST_CASE("RequestParser reports phases for deadlines") {
    RequestParser p;
    CHECK(p.phase() == RequestParser::Phase::Idle);
    std::size_t used = 0;
    std::string part = "POST /e HTTP/1.1\r\nHo";
    REQUIRE(p.feed(part, used) == Result::NeedMore);
    CHECK(p.phase() == RequestParser::Phase::Head);
    CHECK(used == 18); // the complete request line only
    std::string rest = "Host: h\r\nContent-Length: 3\r\n\r\na";
    REQUIRE(p.feed(rest, used) == Result::HeadComplete);
    CHECK(p.phase() == RequestParser::Phase::Body);
    REQUIRE(p.feed(std::string_view(rest).substr(used), used) == Result::NeedMore);
    REQUIRE(p.feed("bc", used) == Result::Complete);
    CHECK(p.phase() == RequestParser::Phase::Done);
    p.reset();
    CHECK(p.phase() == RequestParser::Phase::Idle);
    CHECK(p.request().body.empty());
}

TEST_CASE("RequestParser stays in error after a failure") {
    RequestParser p;
    std::size_t used = 0;
    REQUIRE(p.feed("GET / HTTP/1.1\nHost: h\r\n\r\n", used) == Result::Error);
    CHECK(p.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n", used) == Result::Error);
    CHECK(p.error().status == 400);
}
