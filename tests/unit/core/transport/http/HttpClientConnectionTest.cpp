#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <thread>

#include <Poco/Exception.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include "core/transport/http/HttpClientConnection.h"
#include "tests/support/RawPeer.h"

using namespace ow::transport::http;
using namespace std::chrono_literals;

namespace {

// A raw TCP peer: for each accepted connection, reads one request head (and its
// Content-Length body) at a time and answers with the next scripted bytes; "" closes.
class ScriptedPeer {
public:
    explicit ScriptedPeer(std::vector<std::string> answers)
        : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)), answers_(std::move(answers)) {
        thread_ = std::thread([this] { run(); });
    }
    ~ScriptedPeer() {
        stop_ = true;
        socket_.close();
        thread_.join();
    }
    std::uint16_t port() const { return socket_.address().port(); }
    int connections() const { return connections_; }
    std::vector<std::string> requests;

private:
    void run() {
        std::size_t next = 0;
        while (!stop_ && next < answers_.size()) {
            Poco::Net::StreamSocket c;
            try {
                if (!socket_.poll(Poco::Timespan(100000), Poco::Net::Socket::SELECT_READ)) continue;
                c = socket_.acceptConnection();
            } catch (...) {
                return;
            }
            ++connections_;
            std::string buf;
            while (next < answers_.size()) {
                auto headEnd = buf.find("\r\n\r\n");
                char tmp[4096];
                if (headEnd == std::string::npos) {
                    int n = c.receiveBytes(tmp, sizeof tmp);
                    if (n <= 0) break;
                    buf.append(tmp, static_cast<std::size_t>(n));
                    continue;
                }
                auto cl = buf.find("Content-Length: ");
                std::size_t len = cl == std::string::npos ? 0 : std::stoul(buf.substr(cl + 16));
                while (buf.size() < headEnd + 4 + len) {
                    int n = c.receiveBytes(tmp, sizeof tmp);
                    if (n <= 0) break;
                    buf.append(tmp, static_cast<std::size_t>(n));
                }
                requests.push_back(buf.substr(0, headEnd + 4 + len));
                buf.erase(0, headEnd + 4 + len);
                const std::string& a = answers_[next++];
                if (a.empty()) break; // close without answering
                c.sendBytes(a.data(), static_cast<int>(a.size()));
                if (a.find("Connection: close") != std::string::npos) break;
            }
            c.close();
        }
    }
    Poco::Net::ServerSocket socket_;
    std::vector<std::string> answers_;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::thread thread_;
};

} // namespace

TEST_CASE("HttpClientConnection reuses one connection and reads length, chunked and "
          "close-delimited bodies",
          "[http]") {
    ScriptedPeer peer({"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok",
                       "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                       "chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: 1\r\n\r\n",
                       "HTTP/1.1 503 Busy\r\nRetry-After: 3\r\nContent-Length: 4\r\n\r\nbusy",
                       "HTTP/1.0 200 OK\r\n\r\nto the end"});
    HttpClientConnection c("127.0.0.1", peer.port(), nullptr, 1000, 2000);
    auto r1 = c.request("POST", "/in", {{"Content-Type", "application/json"}}, "{\"a\":1}");
    CHECK(r1.status == 202);
    CHECK(r1.reason == "Accepted");
    CHECK(r1.body == "ok");
    auto r2 = c.request("POST", "/in", {}, "x");
    CHECK(r2.status == 200);
    CHECK(r2.body == "abcde");
    auto r3 = c.request("POST", "/in", {}, "y");
    CHECK(r3.status == 503);
    REQUIRE(r3.header("retry-after"));
    CHECK(*r3.header("retry-after") == "3");
    auto r4 = c.request("POST", "/in", {}, "z");
    CHECK(r4.body == "to the end");
    CHECK_FALSE(r4.keepAlive);
    CHECK(peer.connections() == 1);
    REQUIRE(peer.requests.size() == 4);
    CHECK_THAT(peer.requests[0], Catch::StartsWith("POST /in HTTP/1.1\r\nHost: 127.0.0.1:"));
    CHECK_THAT(peer.requests[0], Catch::Contains("Content-Length: 7\r\n") &&
                                     Catch::Contains("Content-Type: application/json\r\n") &&
                                     Catch::EndsWith("\r\n\r\n{\"a\":1}"));
}

TEST_CASE("HttpClientConnection resends once when a kept-alive connection was closed by the peer",
          "[http]") {
    // First connection: answers once, then closes on the second request without answering.
    ScriptedPeer peer({"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "",
                       "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2"});
    HttpClientConnection c("127.0.0.1", peer.port(), nullptr, 1000, 2000);
    CHECK(c.request("POST", "/", {}, "1").status == 200);
    auto r = c.request("POST", "/", {}, "2");
    CHECK(r.status == 200);
    CHECK(r.body == "2");
    CHECK(peer.connections() == 2);
}

TEST_CASE("HttpClientConnection reports timeouts, refused connections and malformed answers",
          "[http]") {
    SECTION("no answer within the read timeout") {
        Poco::Net::ServerSocket silent(
            Poco::Net::SocketAddress("127.0.0.1", 0)); // accepts via backlog, never answers
        HttpClientConnection c("127.0.0.1", silent.address().port(), nullptr, 1000, 200);
        CHECK_THROWS_AS(c.request("POST", "/", {}, "x"), Poco::TimeoutException);
    }
    SECTION("nobody listening") {
        std::uint16_t port;
        {
            Poco::Net::ServerSocket s(Poco::Net::SocketAddress("127.0.0.1", 0));
            port = s.address().port();
        }
        HttpClientConnection c("127.0.0.1", port, nullptr, 1000, 1000);
        CHECK_THROWS_AS(c.request("POST", "/", {}, "x"), Poco::Exception);
    }
    SECTION("garbage instead of a status line") {
        ScriptedPeer peer({"SSH-2.0-OpenSSH\r\n\r\n"});
        HttpClientConnection c("127.0.0.1", peer.port(), nullptr, 1000, 1000);
        CHECK_THROWS_WITH(c.request("POST", "/", {}, "x"), Catch::Contains("bad status line"));
    }
    SECTION("conflicting lengths") {
        ScriptedPeer peer({"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"});
        HttpClientConnection c("127.0.0.1", peer.port(), nullptr, 1000, 1000);
        CHECK_THROWS_WITH(c.request("POST", "/", {}, "x"), Catch::Contains("Content-Length"));
    }
}

TEST_CASE("HttpClientConnection reads a bounded part of an endless answer and cuts it off",
          "[http]") {
    // One chunk of 1 GiB announced, 1 MiB of it sent, the rest never: the status is known,
    // the body is not needed. A client that waits for the whole chunk times out instead.
    const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40000000\r\n";
    ScriptedPeer peer({head + std::string(1 << 20, 'x')});
    HttpClientConnection c("127.0.0.1", peer.port(), nullptr, 1000, 2000);
    auto r = c.request("POST", "/", {}, "x");
    CHECK(r.status == 200);
    CHECK(r.body.size() == 4096);
    CHECK_FALSE(r.keepAlive); // the rest is on its way: the connection cannot be reused
}

TEST_CASE("HttpClientConnection ends an exchange at its deadline however the bytes trickle",
          "[http]") {
    ow::testkit::RawPeer peer([](ow::testkit::RawConnection& conn) {
        std::string head, body;
        if (!conn.readRequest(head, body) || !conn.send("HTTP/1.1 200 OK\r\nX-Slow: ")) return;
        while (conn.pace(50ms) && conn.send("x")) {
        }
    });
    HttpClientConnection c("127.0.0.1", peer.port(), nullptr, 1000, 500);
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(c.request("POST", "/", {}, "x"), Poco::TimeoutException);
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= 450ms);
    CHECK(took < 3s);
}

TEST_CASE("HttpClientConnection refuses a status code of four digits", "[http]") {
    ScriptedPeer peer({"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n"});
    HttpClientConnection c("127.0.0.1", peer.port(), nullptr, 1000, 1000);
    CHECK_THROWS_WITH(c.request("POST", "/", {}, "x"), Catch::Contains("bad status code"));
}

TEST_CASE("HttpClientConnection::abort ends an exchange in progress from another thread",
          "[http]") {
    Poco::Net::ServerSocket silent(Poco::Net::SocketAddress("127.0.0.1", 0));
    HttpClientConnection c("127.0.0.1", silent.address().port(), nullptr, 1000, 60000);
    std::thread aborter([&] {
        // Once the request has arrived, the client is waiting for the answer.
        Poco::Net::StreamSocket conn = silent.acceptConnection();
        char buf[256];
        conn.receiveBytes(buf, sizeof buf);
        c.abort();
    });
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS(c.request("POST", "/", {}, "x"));
    CHECK(std::chrono::steady_clock::now() - start < 10s);
    aborter.join();
    CHECK(c.aborted());
    CHECK_THROWS(c.request("POST", "/", {}, "x")); // and stays so
}
