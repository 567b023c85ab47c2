#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <Poco/Net/Context.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/transport/http/HttpServer.h"
#include "tests/support/TempDir.h"

using namespace ow::transport::http;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Answer {
    int status = 0;
    std::map<std::string, std::string> headers; // names lower-cased
    std::string body;

    [[nodiscard]] std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string{} : it->second;
    }
};

// A raw client, so tests control every byte on the wire.
class Client {
public:
    explicit Client(std::uint16_t port) {
        sock_.connect(Poco::Net::SocketAddress("127.0.0.1", port), Poco::Timespan(5, 0));
        sock_.setReceiveTimeout(Poco::Timespan(5, 0));
        sock_.setNoDelay(true);
    }

    /// Uses an already connected socket (a SecureStreamSocket for TLS).
    explicit Client(const Poco::Net::StreamSocket& connected) : sock_(connected) {
        sock_.setReceiveTimeout(Poco::Timespan(5, 0));
    }

    void send(std::string_view data) {
        while (!data.empty()) {
            int n = sock_.sendBytes(data.data(), static_cast<int>(data.size()));
            data.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    /// Reads one response (interim 1xx responses included); throws if the connection ends first.
    Answer read(bool headRequest = false) {
        std::size_t end;
        while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
            fill();
        Answer r;
        std::string head = buf_.substr(0, end);
        buf_.erase(0, end + 4);
        std::size_t lineEnd = head.find("\r\n");
        std::string statusLine = head.substr(0, lineEnd);
        REQUIRE(statusLine.rfind("HTTP/1.1 ", 0) == 0);
        r.status = std::stoi(statusLine.substr(9, 3));
        std::size_t pos = lineEnd;
        while (pos != std::string::npos && pos < head.size()) {
            std::size_t next = head.find("\r\n", pos + 2);
            std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos
                                                                              : next - pos - 2);
            std::size_t colon = line.find(':');
            std::string name = line.substr(0, colon);
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            r.headers[name] = line.substr(colon + 2);
            pos = next;
        }
        std::size_t length = r.headers.count("content-length") && !headRequest
                                 ? std::stoul(r.headers["content-length"])
                                 : 0;
        while (buf_.size() < length)
            fill();
        r.body = buf_.substr(0, length);
        buf_.erase(0, length);
        return r;
    }

    /// True when the server closes the connection (EOF or reset) with nothing more sent.
    bool closedByPeer() {
        try {
            char tmp[1024];
            int n = sock_.receiveBytes(tmp, sizeof tmp);
            return n == 0 && buf_.empty();
        } catch (const Poco::Net::ConnectionResetException&) {
            return buf_.empty();
        }
    }

    /// Waits up to `timeout` for bytes from the server without consuming them.
    bool readable(std::chrono::milliseconds timeout) {
        return !buf_.empty() ||
               sock_.poll(Poco::Timespan(timeout.count() * 1000), Poco::Net::Socket::SELECT_READ);
    }

private:
    void fill() {
        char tmp[16384];
        int n = sock_.receiveBytes(tmp, sizeof tmp);
        if (n <= 0) throw std::runtime_error("connection closed by server");
        buf_.append(tmp, static_cast<std::size_t>(n));
    }

    Poco::Net::StreamSocket sock_;
    std::string buf_;
};

class Observed {
public:
    ErrorObserver observer() {
        return [this](int status, const std::string& reason) {
            std::lock_guard lock(mutex_);
            seen_.emplace_back(status, reason);
            cv_.notify_all();
        };
    }

    /// The first reason reported with `status` within `timeout`, or "" if none.
    std::string waitFor(int status, std::chrono::milliseconds timeout = 5s) {
        std::unique_lock lock(mutex_);
        std::string found;
        cv_.wait_for(lock, timeout, [&] {
            for (const auto& [s, r] : seen_)
                if (s == status) {
                    found = r;
                    return true;
                }
            return false;
        });
        return found;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::pair<int, std::string>> seen_;
};

std::unique_ptr<HttpServer> startServer(Handler handler, ServerLimits limits = {},
                                        ErrorObserver onError = {}) {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    auto server =
        std::make_unique<HttpServer>(socket, std::move(handler), limits, std::move(onError));
    server->start();
    return server;
}

Response echo(const Request& req) {
    Response r;
    r.headers.emplace_back("Content-Type", "text/plain");
    r.headers.emplace_back("X-Method", req.method);
    r.body = req.path + "|" + req.query + "|" + req.body;
    return r;
}

// A blocking handler that holds the requests to `path` ("" = every request) until released, as
// a slow query would; it echoes them then.
class HeldHandler {
public:
    explicit HeldHandler(std::string path = "") : path_(std::move(path)) {}

    Handler handler() {
        return [this](const Request& req) {
            if (path_.empty() || req.path == path_) {
                std::unique_lock lock(m_);
                ++entered_;
                cv_.notify_all();
                cv_.wait_for(lock, 10s, [&] { return released_; });
            }
            return echo(req);
        };
    }

    /// True once `n` held requests are in the handler; false after 5 s.
    bool waitEntered(int n = 1) {
        std::unique_lock lock(m_);
        return cv_.wait_for(lock, 5s, [&] { return entered_ >= n; });
    }

    void release() {
        std::lock_guard lock(m_);
        released_ = true;
        cv_.notify_all();
    }

private:
    std::string path_;
    std::mutex m_;
    std::condition_variable cv_;
    int entered_ = 0;
    bool released_ = false;
};

template <typename Pred> bool waitUntil(Pred pred, std::chrono::milliseconds timeout) {
    auto until = Clock::now() + timeout;
    while (!pred()) {
        if (Clock::now() > until) return false;
        std::this_thread::yield();
    }
    return true;
}

void requireProblem(const Answer& r, int status, const std::string& type) {
    CHECK(r.status == status);
    CHECK(r.header("content-type") == "application/problem+json");
    CHECK(r.header("connection") == "close");
    auto body = nlohmann::json::parse(r.body);
    CHECK(body["status"] == status);
    CHECK(body["type"] == "urn:onewindow:problem:" + type);
    CHECK_FALSE(body["detail"].get<std::string>().empty());
}

} // namespace

TEST_CASE("HttpServer answers a simple request") {
    auto server = startServer(echo);
    REQUIRE(server->port() != 0);
    Client c(server->port());
    c.send("POST /v1/events?x=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    Answer r = c.read();
    CHECK(r.status == 200);
    CHECK(r.body == "/v1/events|x=1|hello");
    CHECK(r.header("content-length") == "20");
    CHECK(r.header("x-method") == "POST");
    CHECK(r.header("content-type") == "text/plain");
    CHECK(r.header("date").size() == 29);
    CHECK(r.header("date").substr(25) == " GMT");
    CHECK(r.header("connection").empty());
    CHECK(server->activeConnections() == 1);
}

TEST_CASE("HttpServer fills the peer address and omits HEAD bodies") {
    std::mutex m;
    std::string peer;
    auto server = startServer([&](const Request& req) {
        std::lock_guard lock(m);
        peer = req.peerAddress;
        Response r;
        r.body = "twelve bytes";
        return r;
    });
    Client c(server->port());
    c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n");
    Answer head = c.read(true);
    CHECK(head.status == 200);
    CHECK(head.header("content-length") == "12");
    Answer get = c.read(); // would be garbled had the HEAD response carried a body
    CHECK(get.body == "twelve bytes");
    std::lock_guard lock(m);
    CHECK(peer.rfind("127.0.0.1:", 0) == 0);
}

TEST_CASE("HttpServer serves 100 requests on one keep-alive connection") {
    std::atomic<int> calls{0};
    auto server = startServer([&](const Request& req) {
        ++calls;
        return echo(req);
    });
    Client c(server->port());
    for (int i = 0; i < 100; ++i) {
        std::string body = std::to_string(i);
        c.send("POST /k HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body);
        Answer r = c.read();
        REQUIRE(r.status == 200);
        REQUIRE(r.body == "/k||" + body);
        REQUIRE(r.header("connection").empty());
    }
    CHECK(calls.load() == 100);
    CHECK(server->activeConnections() == 1);
}

TEST_CASE("HttpServer answers pipelined requests in order") {
    auto server = startServer(echo);
    Client c(server->port());
    c.send("GET /1 HTTP/1.1\r\nHost: t\r\n\r\n"
           "POST /2 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
           "PUT /3 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\nxy");
    CHECK(c.read().body == "/1||");
    CHECK(c.read().body == "/2||abc");
    Answer last = c.read();
    CHECK(last.body == "/3||xy");
    CHECK(last.header("connection") == "close");
    CHECK(c.closedByPeer());
}

TEST_CASE("HttpServer answers HTTP/1.0 and closes unless keep-alive was asked for") {
    auto server = startServer(echo);
    Client a(server->port());
    a.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    Answer ka = a.read();
    CHECK(ka.header("connection") == "keep-alive");
    a.send("GET /b HTTP/1.0\r\n\r\n");
    Answer last = a.read();
    CHECK(last.body == "/b||");
    CHECK(last.header("connection") == "close");
    CHECK(a.closedByPeer());
}

TEST_CASE("HttpServer answers 431 with a problem body and closes") {
    Observed observed;
    ServerLimits limits;
    limits.maxHeaderBytes = 1024;
    std::atomic<int> calls{0};
    auto server = startServer(
        [&](const Request& req) {
            ++calls;
            return echo(req);
        },
        limits, observed.observer());
    Client c(server->port());
    // The head never ends: the server must decide on size, not wait for the blank line.
    c.send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(2000, 'b'));
    Answer r = c.read();
    requireProblem(r, 431, "header-too-large");
    CHECK_THAT(r.body, Catch::Contains("request head exceeds 1024 bytes"));
    CHECK(c.closedByPeer());
    CHECK_THAT(observed.waitFor(431), Catch::Contains("1024"));
    CHECK(calls.load() == 0);
}

TEST_CASE("HttpServer answers 413 without reading the body and closes") {
    Observed observed;
    ServerLimits limits;
    limits.maxBodyBytes = 1000;
    auto server = startServer(echo, limits, observed.observer());
    Client c(server->port());
    c.send("POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n" +
           std::string(500, 'x'));
    Answer r = c.read();
    requireProblem(r, 413, "body-too-large");
    CHECK(c.closedByPeer());
    CHECK_FALSE(observed.waitFor(413).empty());
}

TEST_CASE("HttpServer refuses a smuggling attempt and never sees the hidden request") {
    Observed observed;
    std::atomic<int> calls{0};
    auto server = startServer(
        [&](const Request& req) {
            ++calls;
            return echo(req);
        },
        {}, observed.observer());
    Client c(server->port());
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n"
           "\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: t\r\n\r\n");
    Answer r = c.read();
    requireProblem(r, 400, "bad-request");
    CHECK(c.closedByPeer());
    CHECK(calls.load() == 0);
}

TEST_CASE("HttpServer answers 408 to a slowloris client and keeps serving others") {
    Observed observed;
    ServerLimits limits;
    limits.headerTimeoutMs = 300;
    auto server = startServer(echo, limits, observed.observer());
    Client slow(server->port());
    auto start = Clock::now();
    slow.send("GET / HTTP/1.1\r\nHost: t\r\n");

    // Another client is served while the slow one is pending.
    Client fast(server->port());
    fast.send("GET /fast HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(fast.read().body == "/fast||");

    // Keep trickling bytes: per-read timeouts would never fire, the head deadline must.
    std::string trickle = "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    std::size_t sent = 0;
    while (!slow.readable(50ms) && Clock::now() - start < 5s) {
        if (sent < trickle.size()) slow.send(trickle.substr(sent++, 1));
    }
    auto elapsed = Clock::now() - start;
    Answer r = slow.read();
    requireProblem(r, 408, "request-timeout");
    CHECK(elapsed >= 250ms);
    CHECK(elapsed < 2s);
    CHECK(sent > 2);
    CHECK(slow.closedByPeer());
    CHECK_THAT(observed.waitFor(408), Catch::Contains("request head not received within 300 ms"));
}

TEST_CASE("HttpServer answers 408 when the body does not arrive within bodyTimeoutMs") {
    Observed observed;
    ServerLimits limits;
    limits.bodyTimeoutMs = 300;
    auto server = startServer(echo, limits, observed.observer());
    Client c(server->port());
    auto start = Clock::now();
    c.send("POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab");
    Answer r = c.read();
    requireProblem(r, 408, "request-timeout");
    CHECK(Clock::now() - start >= 250ms);
    CHECK(c.closedByPeer());
    CHECK_THAT(observed.waitFor(408), Catch::Contains("request body not received within 300 ms"));
}

TEST_CASE("HttpServer answers 500 when the handler throws and keeps the connection") {
    Observed observed;
    auto server = startServer(
        [](const Request& req) -> Response {
            if (req.path == "/boom") throw std::runtime_error("secret database detail");
            return echo(req);
        },
        {}, observed.observer());
    Client c(server->port());
    c.send("GET /boom HTTP/1.1\r\nHost: t\r\n\r\n");
    Answer r = c.read();
    CHECK(r.status == 500);
    CHECK(r.header("content-type") == "application/problem+json");
    CHECK(nlohmann::json::parse(r.body)["type"] == "urn:onewindow:problem:internal-error");
    CHECK_THAT(r.body, !Catch::Contains("secret"));
    CHECK_THAT(observed.waitFor(500), Catch::Contains("secret database detail"));
    c.send("GET /after HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(c.read().body == "/after||");
}

TEST_CASE("HttpServer replaces a response with header injection by 500") {
    Observed observed;
    auto server = startServer(
        [](const Request&) {
            Response r;
            r.headers.emplace_back("X-Injected", "a\r\nSet-Cookie: evil=1");
            return r;
        },
        {}, observed.observer());
    Client c(server->port());
    c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    Answer r = c.read();
    CHECK(r.status == 500);
    CHECK(r.header("set-cookie").empty());
    CHECK_THAT(observed.waitFor(500), Catch::Contains("X-Injected"));
}

TEST_CASE("HttpServer sends 100 Continue before reading an expected body") {
    auto server = startServer(echo);
    Client c(server->port());
    c.send("PUT /c HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    Answer interim = c.read();
    CHECK(interim.status == 100);
    c.send("data");
    Answer r = c.read();
    CHECK(r.status == 200);
    CHECK(r.body == "/c||data");
}

TEST_CASE("HttpServer closes idle keep-alive connections after idleTimeoutMs") {
    ServerLimits limits;
    limits.idleTimeoutMs = 300;
    auto server = startServer(echo, limits);
    Client c(server->port());
    c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(c.read().status == 200);
    auto start = Clock::now();
    CHECK(c.closedByPeer());
    CHECK(Clock::now() - start < 2s);
    CHECK(waitUntil([&] { return server->activeConnections() == 0; }, 2s));
}

TEST_CASE("HttpServer stop closes an idle keep-alive connection well within its deadline") {
    auto server = startServer(echo);
    Client c(server->port());
    c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(c.read().status == 200);
    REQUIRE(server->activeConnections() == 1);
    auto start = Clock::now();
    server->stop(5s);
    auto took = Clock::now() - start;
    CHECK(took < 2s);
    CHECK(server->activeConnections() == 0);
    CHECK(c.closedByPeer());
    server->stop(5s); // idempotent
    CHECK(server->stopping());
}

TEST_CASE("HttpServer stop lets a blocked handler answer with Connection: close") {
    HeldHandler held;
    auto server = startServer(held.handler());
    Client c(server->port());
    c.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(held.waitEntered());
    Clock::duration stopTook{};
    std::thread stopper([&] {
        auto start = Clock::now();
        server->stop(5s);
        stopTook = Clock::now() - start;
    });
    REQUIRE(waitUntil([&] { return server->stopping(); }, 5s));
    held.release();
    Answer r = c.read();
    stopper.join();
    CHECK(r.status == 200);
    CHECK(r.body == "/slow||");
    CHECK(r.header("connection") == "close");
    CHECK(c.closedByPeer());
    CHECK(stopTook < 3s);
    CHECK(server->activeConnections() == 0);
}

TEST_CASE("HttpServer stop shuts down connections still busy at the deadline") {
    HeldHandler held;
    auto server = startServer(held.handler());
    Client c(server->port());
    c.send("GET /stuck HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(held.waitEntered());
    auto start = Clock::now();
    server->stop(300ms);
    auto took = Clock::now() - start;
    CHECK(took >= 250ms);
    CHECK(took < 1500ms);
    CHECK(c.closedByPeer()); // shut down instead of waiting for the handler
    held.release();
    CHECK(waitUntil([&] { return server->activeConnections() == 0; }, 5s));
}

TEST_CASE("HttpServer rejects invalid limits and an empty handler precisely") {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    ServerLimits limits;
    limits.maxConnections = 0;
    CHECK_THROWS_WITH(HttpServer(socket, echo, limits),
                      Catch::Contains("maxConnections must be positive"));
    CHECK_THROWS_WITH(HttpServer(socket, Handler{}, ServerLimits{}),
                      Catch::Contains("handler is empty"));
}

namespace {

// A throw-away self-signed certificate and key written as PEM files, so TLS tests need no
// fixtures on disk.
struct Identity {
    std::string certFile;
    std::string keyFile;
};

Identity makeIdentity(const ow::testkit::TempDir& dir, const std::string& cn) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    REQUIRE(key != nullptr);
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
    Identity id{dir.file(cn + ".crt"), dir.file(cn + ".key")};
    BIO* out = BIO_new_file(id.certFile.c_str(), "w");
    PEM_write_bio_X509(out, cert);
    BIO_free(out);
    out = BIO_new_file(id.keyFile.c_str(), "w");
    PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
    BIO_free(out);
    X509_free(cert);
    EVP_PKEY_free(key);
    return id;
}

struct TlsFixture {
    ow::testkit::TempDir dir{"ow-httpserver"};
    Identity server = makeIdentity(dir, "hub");
    Identity trustedClient = makeIdentity(dir, "dept-a");
    Identity strangerClient = makeIdentity(dir, "stranger");
    Observed observed;
    std::unique_ptr<HttpServer> http;

    TlsFixture() {
        // Client certificates are optional (VERIFY_RELAXED) but must chain to dept-a's.
        Poco::Net::Context::Ptr ctx = new Poco::Net::Context(
            Poco::Net::Context::TLS_SERVER_USE, server.keyFile, server.certFile,
            trustedClient.certFile, Poco::Net::Context::VERIFY_RELAXED);
        Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0), 64, ctx);
        ServerLimits limits;
        limits.headerTimeoutMs = 2000;
        http = std::make_unique<HttpServer>(
            socket,
            [](const Request& req) {
                Response r;
                r.body = "subject=" + req.clientCertSubject + "|" + req.body;
                return r;
            },
            limits, observed.observer());
        http->start();
    }

    Poco::Net::SecureStreamSocket connect(const Identity* client) {
        Poco::Net::Context::Ptr ctx = new Poco::Net::Context(
            Poco::Net::Context::TLS_CLIENT_USE, client ? client->keyFile : "",
            client ? client->certFile : "", "", Poco::Net::Context::VERIFY_NONE);
        return Poco::Net::SecureStreamSocket(Poco::Net::SocketAddress("127.0.0.1", http->port()),
                                             ctx);
    }
};

} // namespace

TEST_CASE("HttpServer serves TLS and reports the verified client certificate subject") {
    TlsFixture f;
    Client withCert(f.connect(&f.trustedClient));
    withCert.send("POST /t HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
    Answer r = withCert.read();
    CHECK(r.status == 200);
    CHECK_THAT(r.body, Catch::Contains("CN=dept-a") && Catch::EndsWith("|hi"));
    // Keep-alive over TLS, with a body large enough to need several records.
    std::string big(100000, 'z');
    withCert.send("POST /t HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + big);
    std::string prefix = r.body.substr(0, r.body.size() - 2); // "subject=...|"
    CHECK(withCert.read().body == prefix + big);

    Client anonymous(f.connect(nullptr));
    anonymous.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(anonymous.read().body == "subject=|");
}

TEST_CASE("HttpServer survives failed TLS handshakes and reports them") {
    TlsFixture f;
    {
        Client plain(f.http->port()); // speaks HTTP to a TLS port
        plain.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        CHECK(plain.closedByPeer());
    }
    CHECK_THAT(f.observed.waitFor(0), Catch::Contains("TLS handshake"));
    CHECK_THROWS(Client(f.connect(&f.strangerClient)).read()); // untrusted certificate
    CHECK(waitUntil([&] { return f.http->activeConnections() == 0; }, 5s));
    Client ok(f.connect(&f.trustedClient));
    ok.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(ok.read().status == 200);
}

namespace {

// Takes every request on the fast path and keeps its reply for the test to answer later, from
// another thread, as the journal writer does.
class HeldReplies {
public:
    FastHandler handler() {
        return [this](const Request& req, Reply reply) {
            std::lock_guard lock(m_);
            held_.emplace_back(req.path + "|" + req.body, std::move(reply));
            cv_.notify_all();
            return true;
        };
    }

    /// Waits until `n` requests are held; false after 5 s.
    bool waitHeld(std::size_t n) {
        std::unique_lock lock(m_);
        return cv_.wait_for(lock, 5s, [&] { return held_.size() >= n; });
    }

    /// Answers the held requests from a thread of its own, newest first, echoing each request.
    void answerAllInReverse() {
        std::vector<std::pair<std::string, Reply>> taken;
        {
            std::lock_guard lock(m_);
            taken.swap(held_);
        }
        std::thread([taken = std::move(taken)]() mutable {
            for (auto it = taken.rbegin(); it != taken.rend(); ++it) {
                Response r;
                r.status = 202;
                r.body = it->first;
                it->second(std::move(r));
            }
        }).join();
    }

    void dropAll() {
        std::lock_guard lock(m_);
        held_.clear();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::vector<std::pair<std::string, Reply>> held_;
};

std::unique_ptr<HttpServer> startFastServer(Handler handler, FastHandler fast,
                                            ServerLimits limits = {}, ErrorObserver onError = {}) {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    auto server = std::make_unique<HttpServer>(socket, std::move(handler), limits,
                                               std::move(onError), std::move(fast));
    server->start();
    return server;
}

std::string post(const std::string& path, const std::string& body) {
    return "POST " + path +
           " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           body;
}

} // namespace

TEST_CASE("HttpServer answers each connection its own reply when replies come later and out of "
          "order") {
    HeldReplies held;
    auto server = startFastServer(echo, held.handler());
    constexpr int kClients = 20;
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(std::make_unique<Client>(server->port()));
        clients.back()->send(post("/c" + std::to_string(i), "body-" + std::to_string(i)));
    }
    // Every request is held at once: no connection waits for another's answer.
    REQUIRE(held.waitHeld(kClients));
    held.answerAllInReverse();
    for (int i = 0; i < kClients; ++i) {
        Answer r = clients[static_cast<std::size_t>(i)]->read();
        CHECK(r.status == 202);
        CHECK(r.body == "/c" + std::to_string(i) + "|body-" + std::to_string(i));
        CHECK(r.header("connection").empty());
    }
    // Keep-alive holds after a late reply.
    clients[0]->send(post("/again", "x"));
    REQUIRE(held.waitHeld(1));
    held.answerAllInReverse();
    CHECK(clients[0]->read().body == "/again|x");
}

TEST_CASE("HttpServer keeps pipelined answers in order when the first is answered last") {
    HeldReplies held;
    std::atomic<int> blocking{0};
    auto server = startFastServer(
        [&](const Request& req) {
            ++blocking;
            return echo(req);
        },
        [&](const Request& req, Reply reply) {
            if (req.method == "GET") return false; // left to the blocking handler
            return held.handler()(req, std::move(reply));
        });
    Client c(server->port());
    c.send(post("/first", "1") + "GET /second HTTP/1.1\r\nHost: t\r\n\r\n" + post("/third", "3"));
    REQUIRE(held.waitHeld(1));
    // The second request is not even read before the first is answered.
    CHECK_FALSE(c.readable(200ms));
    CHECK(blocking.load() == 0);
    held.answerAllInReverse();
    CHECK(c.read().body == "/first|1");
    CHECK(c.read().body == "/second||");
    REQUIRE(held.waitHeld(1));
    held.answerAllInReverse();
    CHECK(c.read().body == "/third|3");
    CHECK(blocking.load() == 1);
}

TEST_CASE("HttpServer answers 500 for a reply dropped unanswered and keeps the connection") {
    HeldReplies held;
    auto server = startFastServer(echo, held.handler());
    Client c(server->port());
    c.send(post("/lost", "x"));
    REQUIRE(held.waitHeld(1));
    held.dropAll();
    Answer r = c.read();
    CHECK(r.status == 500);
    CHECK(nlohmann::json::parse(r.body)["type"] == "urn:onewindow:problem:internal-error");
    c.send(post("/next", "y"));
    REQUIRE(held.waitHeld(1));
    held.answerAllInReverse();
    CHECK(c.read().body == "/next|y");
}

TEST_CASE("HttpServer answers 500 when the fast handler throws") {
    Observed observed;
    auto server = startFastServer(
        echo, [](const Request&, Reply) -> bool { throw std::runtime_error("fast path broke"); },
        {}, observed.observer());
    Client c(server->port());
    c.send(post("/x", "1"));
    CHECK(c.read().status == 500);
    CHECK_THAT(observed.waitFor(500), Catch::Contains("fast path broke"));
}

TEST_CASE("HttpServer serves other connections while a blocking handler waits") {
    HeldHandler held("/slow");
    auto server = startServer(held.handler());
    Client slow(server->port());
    slow.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(held.waitEntered());
    Client fast(server->port());
    for (int i = 0; i < 5; ++i) {
        fast.send("GET /fast HTTP/1.1\r\nHost: t\r\n\r\n");
        CHECK(fast.read().body == "/fast||");
    }
    held.release();
    CHECK(slow.read().body == "/slow||");
}

TEST_CASE("HttpServer makes room by closing the connection idle longest, keeps a reserve for "
          "reserved paths, and answers 503 beyond") {
    Observed observed;
    ServerLimits limits;
    limits.maxConnections = 2;
    limits.reserveConnections = 1;
    limits.reservedPaths = {"/health"};
    HeldHandler held("/slow");
    auto server = startServer(held.handler(), limits, observed.observer());
    Client a(server->port());
    a.send("GET /a HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(a.read().body == "/a||");
    Client b(server->port());
    b.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(held.waitEntered(1));
    // Both slots taken; `a` only waits for its next request: it gives its slot up.
    Client c(server->port());
    c.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(held.waitEntered(2));
    CHECK(a.closedByPeer());
    CHECK_THAT(observed.waitFor(0), Catch::Contains("every connection slot was taken"));
    // Both slots busy with requests: the reserve serves the reserved path only.
    Client d(server->port());
    d.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(d.read().body == "/health||");
    Client e(server->port()); // takes the reserve slot from the idle `d`
    e.send("GET /other HTTP/1.1\r\nHost: t\r\n\r\n");
    Answer busy = e.read();
    requireProblem(busy, 503, "busy");
    CHECK(busy.header("retry-after") == "1");
    CHECK(d.closedByPeer());
    CHECK_THAT(observed.waitFor(503), Catch::Contains("reserve"));
    held.release();
    CHECK(b.read().body == "/slow||");
    CHECK(c.read().body == "/slow||");
}

TEST_CASE("HttpServer closes a connection that sends nothing headerTimeoutMs after the accept") {
    ServerLimits limits;
    limits.headerTimeoutMs = 300;
    limits.idleTimeoutMs = 60000;
    auto server = startServer(echo, limits);
    auto start = Clock::now();
    Client silent(server->port());
    CHECK(silent.closedByPeer());
    auto elapsed = Clock::now() - start;
    CHECK(elapsed >= 250ms);
    CHECK(elapsed < 5s);
}

TEST_CASE("HttpServer over TLS waits for a fast handler's later reply") {
    ow::testkit::TempDir dir{"ow-httpserver"};
    Identity id = makeIdentity(dir, "hub");
    Poco::Net::Context::Ptr ctx =
        new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, id.keyFile, id.certFile, "",
                               Poco::Net::Context::VERIFY_NONE);
    Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0), 64, ctx);
    HeldReplies held;
    HttpServer server(socket, echo, {}, {}, held.handler());
    server.start();
    Poco::Net::Context::Ptr clientCtx = new Poco::Net::Context(
        Poco::Net::Context::TLS_CLIENT_USE, "", "", "", Poco::Net::Context::VERIFY_NONE);
    Client c(Poco::Net::SecureStreamSocket(Poco::Net::SocketAddress("127.0.0.1", server.port()),
                                           clientCtx));
    c.send(post("/tls", "z"));
    REQUIRE(held.waitHeld(1));
    held.answerAllInReverse();
    Answer r = c.read();
    CHECK(r.status == 202);
    CHECK(r.body == "/tls|z");
}

TEST_CASE("HttpServer writes an answer larger than the socket takes at once") {
    // Eight megabytes do not fit in the socket buffers: the loop must wait for the client to
    // read and resume where it stopped.
    std::string big(8 << 20, 'a');
    for (std::size_t i = 0; i < big.size(); i += 4096)
        big[i] = static_cast<char>('a' + (i / 4096) % 26);
    auto server = startServer([&](const Request&) {
        Response r;
        r.body = big;
        return r;
    });
    Client c(server->port());
    c.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
    Answer r = c.read();
    CHECK(r.status == 200);
    CHECK(r.body.size() == big.size());
    CHECK(r.body == big);
    c.send("GET /again HTTP/1.1\r\nHost: t\r\n\r\n"); // and the connection goes on
    CHECK(c.read().body.size() == big.size());
}

TEST_CASE("HttpServer drops an answer for a client that left, and forgets the connection") {
    HeldReplies held;
    auto server = startFastServer(echo, held.handler());
    {
        Client c(server->port());
        c.send(post("/gone", "x"));
        REQUIRE(held.waitHeld(1));
    } // the client closes before its answer
    held.answerAllInReverse();
    CHECK(waitUntil([&] { return server->activeConnections() == 0; }, 5s));
    Client next(server->port());
    next.send(post("/next", "y"));
    REQUIRE(held.waitHeld(1));
    held.answerAllInReverse();
    CHECK(next.read().body == "/next|y");
}

TEST_CASE("HttpServer: a reply that comes after the server is gone is dropped") {
    HeldReplies held;
    std::unique_ptr<Client> c;
    {
        auto server = startFastServer(echo, held.handler());
        c = std::make_unique<Client>(server->port());
        c->send(post("/late", "x"));
        REQUIRE(held.waitHeld(1));
        auto start = Clock::now();
        server->stop(200ms); // the request is still held: closed at the deadline
        CHECK(Clock::now() - start < 2s);
        CHECK(server->activeConnections() == 0);
    }
    CHECK(c->closedByPeer());
    held.answerAllInReverse(); // must not touch the server that is gone
}
