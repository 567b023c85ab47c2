// The smaller protocol points, each against the running hub: credentials that must not be
// ambiguous or guessable, 100 Continue only for a request that can be taken, absolute-form
// targets, and logs that stay readable under client errors and a full disk.
#include "tests/integration/JournalPeek.h"

#include "tests/support/RawPeer.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

const std::string kToken = "token-of-the-platform-2026";

std::string tokenConfig() {
    return R"(
hub:
  log_level: info
inputs:
  - name: events
    path: /v1/events
    auth:
      bearer_tokens:
        - { client: platform, token: ")" +
           kToken + R"(" }
)";
}

std::string post(const std::string& target, const std::string& headers, const std::string& body) {
    return "POST " + target +
           " HTTP/1.1\r\nHost: hub\r\nContent-Type: application/cloudevents+json\r\n"
           "Connection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n" + headers + "\r\n" + body;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

} // namespace

TEST_CASE("A request with two Authorization headers is refused, whichever comes first",
          "[integration][http][auth]") {
    testkit::TempDir dir;
    itest::Hub hub(dir, tokenConfig());
    hub.start();
    const std::string good = "Authorization: Bearer " + kToken + "\r\n";
    const std::string bad = "Authorization: Bearer not-the-token-at-all\r\n";
    CHECK(testkit::statusOf(testkit::rawRequest(
              hub.port(), post("/v1/events", good, itest::event("a1")))) == 202);
    CHECK(testkit::statusOf(testkit::rawRequest(
              hub.port(), post("/v1/events", good + bad, itest::event("a2")))) == 400);
    CHECK(testkit::statusOf(testkit::rawRequest(
              hub.port(), post("/v1/events", bad + good, itest::event("a3")))) == 400);
    CHECK(itest::eventsFrom(hub, "events") == 1);
}

TEST_CASE("A bearer token shorter than 16 characters is refused at load with its position",
          "[integration][config][auth]") {
    testkit::TempDir dir;
    itest::Hub hub(dir, R"(
inputs:
  - name: events
    path: /v1/events
    auth:
      bearer_tokens:
        - { client: platform, token: "x" }
)");
    auto [code, out] = hub.cli({"check"});
    CHECK(code == 1);
    CHECK_THAT(out, Catch::Contains("hub.yaml:7:") &&
                        Catch::Contains("is 1 characters; at least 16 are required"));
    CHECK_THAT(out, !Catch::Contains("\"x\""));
}

TEST_CASE("100 Continue is sent only once the path and the token are known good",
          "[integration][http][auth]") {
    testkit::TempDir dir;
    itest::Hub hub(dir, tokenConfig());
    hub.start();
    const std::string body = itest::event("c1");
    auto head = [&](const std::string& target, const std::string& auth) {
        return "POST " + target +
               " HTTP/1.1\r\nHost: hub\r\nContent-Type: application/cloudevents+json\r\n"
               "Expect: 100-continue\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n" + auth + "\r\n";
    };
    SECTION("a wrong token gets 401 instead of an invitation to send the body") {
        testkit::RawClient c(hub.port());
        c.send(head("/v1/events", "Authorization: Bearer not-the-token-at-all\r\n"));
        std::string answer = c.readUntil("\r\n\r\n", 5s);
        CHECK(testkit::statusOf(answer) == 401);
    }
    SECTION("an unknown path gets 404") {
        testkit::RawClient c(hub.port());
        c.send(head("/v1/nowhere", "Authorization: Bearer " + kToken + "\r\n"));
        CHECK(testkit::statusOf(c.readUntil("\r\n\r\n", 5s)) == 404);
    }
    SECTION("the right token and path get 100 Continue, then the answer to the body") {
        testkit::RawClient c(hub.port());
        c.send(head("/v1/events", "Authorization: Bearer " + kToken + "\r\n"));
        CHECK(testkit::statusOf(c.readUntil("\r\n\r\n", 5s)) == 100);
        c.send(body);
        CHECK(testkit::statusOf(c.readUntil("\r\n\r\n", 5s)) == 202);
    }
}

TEST_CASE("An absolute-form request target is accepted (RFC 9112 3.2.2)", "[integration][http]") {
    testkit::TempDir dir;
    itest::Hub hub(dir, tokenConfig());
    hub.start();
    const std::string target = "http://127.0.0.1:" + std::to_string(hub.port()) + "/v1/events";
    CHECK(testkit::statusOf(testkit::rawRequest(
              hub.port(), post(target, "Authorization: Bearer " + kToken + "\r\n",
                               itest::event("abs-1")))) == 202);
    CHECK(itest::eventsFrom(hub, "events") == 1);
}

TEST_CASE("Client-caused 501 and 505 are not logged as errors", "[integration][http]") {
    testkit::TempDir dir;
    itest::Hub hub(dir, tokenConfig());
    hub.start();
    CHECK(testkit::statusOf(testkit::rawRequest(
              hub.port(), "GET /healthz HTTP/1.2\r\nHost: hub\r\n\r\n")) == 505);
    CHECK(testkit::statusOf(testkit::rawRequest(
              hub.port(), "POST /v1/events HTTP/1.1\r\nHost: hub\r\nTransfer-Encoding: gzip, "
                          "chunked\r\n\r\n0\r\n\r\n")) == 501);
    CHECK(hub.metric("onewindow_http_errors_total{status=\"505\"}") == 1);
    CHECK(hub.metric("onewindow_http_errors_total{status=\"501\"}") == 1);
    CHECK(hub.terminate().success());
    CHECK(count(hub.log(), "\"level\":\"error\"") == 0);
}

TEST_CASE("A full disk logs one error when commits start failing and a count when they work "
          "again, not a line per refused request",
          "[integration][journal]") {
    testkit::TempDir dir;
    itest::Hub hub(dir, R"(
hub:
  log_level: info
inputs:
  - { name: events, path: /v1/events }
)");
    // A file-size limit makes the journal's writes fail with EFBIG, as a full disk does.
    hub.wrapper = {"prlimit", "--fsize=3000000:unlimited"};
    hub.start();
    const std::string padding(400000, 'p');
    int refused = 0;
    for (int i = 0; i < 30 && refused < 10; ++i) {
        auto r = testkit::postCloudEvent(
            hub.url(), R"({"specversion":"1.0","id":"big-)" + std::to_string(i) +
                           R"(","source":"/s","type":"gov.case.x","data":")" + padding + "\"}");
        if (r.status == 503) ++refused;
    }
    REQUIRE(refused == 10);
    auto p = testkit::Process::spawn(
        {"prlimit", "--pid", std::to_string(hub.pid()), "--fsize=unlimited:unlimited"});
    auto done = p.waitExit(10s);
    REQUIRE(done);
    REQUIRE(done->success());
    REQUIRE(testkit::postCloudEvent(hub.url(), itest::event("after")).status == 202);
    REQUIRE(testkit::waitUntil(
        [&] { return hub.log().find("commits work again") != std::string::npos; }, 10s));
    CHECK(count(hub.log(), "commit failed") == 1);
    CHECK_THAT(hub.log(), Catch::Contains("\"requests_answered_503\":10"));
}
