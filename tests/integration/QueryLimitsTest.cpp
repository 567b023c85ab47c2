// The public progress query under abuse: a flood of addresses must not fill its rate limiter
// so that new clients are refused; behind the website's proxy each visitor is a client of
// their own, and nobody else can pick the address the limiter sees; an unknown case number
// costs as much as a wrong password; HEAD says how long the answer would be.
#include "tests/integration/JournalPeek.h"

#include <algorithm>
#include <thread>

#include "core/security/TokenAuth.h"
#include "tests/support/RawPeer.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

std::string queryConfig(const testkit::TempDir& dir, int perMinute, const std::string& hubExtra) {
    return R"(
hub:
  log_level: warn
  plugin_dirs: [ ")" +
           itest::pluginDir(dir, {"ow_test_plugin_good"}) + R"(" ]
)" + hubExtra +
           R"(
inputs:
  - { name: events, path: /v1/events }
plugins:
  - { name: test-good, file: ow_test_plugin_good.so }
outputs:
  - { name: ledger, processor: test-good/counter }
routes:
  - { name: all, match: { type: "*" }, to: [ ledger ] }
queries:
  - { name: progress, path: /v1/cases/, processor: ledger, per_client_per_minute: )" +
           std::to_string(perMinute) + R"( }
)";
}

// A case record the query can serve, in the journal before the hub starts.
void seedCase(const itest::Hub& hub, const std::string& key, const std::string& password,
              const std::string& extra = "") {
    store::Journal journal(hub.dataDir(), "full");
    store::Database db(store::Journal::fileName(hub.dataDir()));
    store::PluginState(db).put("ledger", "public/" + key,
                               R"({"secret_sha256":")" + security::sha256Hex(key + ":" + password) +
                                   R"(","status":"accepted")" + extra + "}");
}

std::string query(const std::string& key, const std::string& password,
                  const std::string& headers = "", const std::string& method = "GET") {
    return method + " /v1/cases/" + key + "?password=" + password +
           " HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n" + headers + "\r\n";
}

std::string header(const std::string& answer, const std::string& name) {
    auto at = answer.find("\r\n" + name + ": ");
    if (at == std::string::npos) return "";
    at += name.size() + 4;
    return answer.substr(at, answer.find("\r\n", at) - at);
}

} // namespace

TEST_CASE("A flood of client addresses cannot make the query refuse a new client",
          "[integration][query][hostile]") {
    testkit::TempDir dir;
    // One query a minute: each address of the flood stays in the table as a busy client.
    itest::Hub hub(dir, queryConfig(dir, 1, ""));
    seedCase(hub, "C-1", "right-password");
    hub.start();
    // 10,000 addresses (the limiter's table), each asking once, from 127.1.0.0/16.
    constexpr int Clients = 10000;
    std::vector<std::thread> threads;
    std::atomic<int> notFound{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = t; i < Clients; i += 4) {
                const std::string from =
                    "127.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
                if (testkit::statusOf(testkit::rawRequest(hub.port(), query("NOPE", "x"), from)) ==
                    404)
                    ++notFound;
            }
        });
    for (auto& t : threads)
        t.join();
    REQUIRE(notFound.load() == Clients);
    // A new visitor with the right password is served, not told to come back in a minute.
    CHECK(testkit::statusOf(
              testkit::rawRequest(hub.port(), query("C-1", "right-password"), "127.2.0.1")) == 200);
}

TEST_CASE("Behind a trusted proxy each forwarded address is a client, IPv6 by its /64, and "
          "nobody else can forge one",
          "[integration][query][hostile]") {
    testkit::TempDir dir;
    itest::Hub hub(dir, queryConfig(dir, 3, "  trusted_proxies: [ 127.0.0.1, 10.9.0.0/16 ]"));
    seedCase(hub, "C-1", "right-password");
    hub.start();
    auto ask = [&](const std::string& headers, const std::string& from = "127.0.0.1") {
        return testkit::statusOf(
            testkit::rawRequest(hub.port(), query("C-1", "wrong", headers), from));
    };

    // One visitor behind the proxy: three, then 429; the next visitor has a burst of its own.
    for (int i = 0; i < 3; ++i)
        REQUIRE(ask("X-Forwarded-For: 203.0.113.7\r\n") == 404);
    CHECK(ask("X-Forwarded-For: 203.0.113.7\r\n") == 429);
    CHECK(ask("X-Forwarded-For: 203.0.113.8\r\n") == 404);
    // A chain of trusted proxies is walked back to the first address that is not one.
    CHECK(ask("X-Forwarded-For: 203.0.113.7, 10.9.1.1\r\n") == 429);

    // Forwarded (RFC 7239); the addresses of one IPv6 /64 are one client.
    for (int i = 0; i < 3; ++i)
        REQUIRE(ask("Forwarded: for=\"[2001:db8:1:2::5]:4711\";proto=https\r\n") == 404);
    CHECK(ask("Forwarded: for=\"[2001:db8:1:2::99]\"\r\n") == 429);
    CHECK(ask("Forwarded: for=\"[2001:db8:1:3::1]\"\r\n") == 404);

    // From an address that is not a trusted proxy, the headers are the client's own words.
    for (int i = 0; i < 3; ++i)
        REQUIRE(ask("X-Forwarded-For: 198.51.100." + std::to_string(i + 1) + "\r\n", "127.0.0.9") ==
                404);
    CHECK(ask("X-Forwarded-For: 198.51.100.77\r\n", "127.0.0.9") == 429);
}

TEST_CASE("trusted_proxies entries are checked at load with their position",
          "[integration][query][config]") {
    testkit::TempDir dir;
    itest::Hub hub(dir, queryConfig(dir, 3, "  trusted_proxies: [ 127.0.0.1, proxy.example ]"));
    auto [code, out] = hub.cli({"check"});
    CHECK(code == 1);
    CHECK_THAT(out, Catch::Contains("hub.yaml:5:") &&
                        Catch::Contains("\"proxy.example\" is not an IPv4/IPv6 address"));
}

TEST_CASE("HEAD on a query answers the Content-Length the GET would, without the body",
          "[integration][query][http]") {
    testkit::TempDir dir;
    itest::Hub hub(dir, queryConfig(dir, 1000, ""));
    seedCase(hub, "C-1", "pw-of-the-case", R"(,"note":"some progress")");
    hub.start();
    const std::string got = testkit::rawRequest(hub.port(), query("C-1", "pw-of-the-case"));
    const std::string head =
        testkit::rawRequest(hub.port(), query("C-1", "pw-of-the-case", "", "HEAD"));
    REQUIRE(testkit::statusOf(got) == 200);
    REQUIRE(testkit::statusOf(head) == 200);
    const std::string length = header(got, "Content-Length");
    CHECK(std::stoul(length) == got.size() - got.find("\r\n\r\n") - 4);
    CHECK(std::stoul(length) > 0);
    CHECK(header(head, "Content-Length") == length);
    CHECK(head.size() == head.find("\r\n\r\n") + 4); // no body
}

TEST_CASE("The query costs as much for an unknown case as for a wrong password",
          "[integration][query][hostile]") {
    // A record large enough that reading and checking it is most of a query's cost: a query
    // that skips that work for an unknown case number answers it many times faster, which
    // tells which numbers exist. (Timing is compared between the two kinds of query of the
    // same run, with a wide margin, not against a fixed figure.)
    testkit::TempDir dir;
    itest::Hub hub(dir, queryConfig(dir, 1000, ""));
    seedCase(hub, "C-1", "pw-of-the-case", R"(,"note":")" + std::string(4 << 20, 'p') + "\"");
    hub.start();
    auto timeOf = [&](const std::string& key) {
        const auto start = std::chrono::steady_clock::now();
        const int status =
            testkit::statusOf(testkit::rawRequest(hub.port(), query(key, "wrong"), "", 30s));
        REQUIRE(status == 404);
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    std::vector<double> known, unknown;
    for (int i = 0; i < 7; ++i) {
        known.push_back(timeOf("C-1"));
        unknown.push_back(timeOf("C-" + std::to_string(1000 + i)));
    }
    std::sort(known.begin(), known.end());
    std::sort(unknown.begin(), unknown.end());
    INFO("median known " << known[3] << " s, unknown " << unknown[3] << " s");
    CHECK(unknown[3] > known[3] / 3);
}
