// Payment terminals post signed requests (auth.signed of an HTTP input): a request is taken
// only with a valid signature of one of its terminal's keys, within the time window, and
// never twice; the terminal is the client its idempotency keys belong to. The signatures here
// are made with OpenSSL directly, not with the hub's code.
#include "tests/integration/JournalPeek.h"
#include "tests/integration/WebhookSigning.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;
using itest::nowS;
using itest::signedHeaders;

namespace {

const std::string kT07a = "terminal-07-key-2026-january";
const std::string kT07b = "terminal-07-key-2026-november";
const std::string kT03 = "terminal-03-key-2026-november";

std::string payment(const std::string& id, long amountFen) {
    return R"({"specversion":"1.0","id":")" + id +
           R"(","source":"/cib/terminal","type":"fee.paid","subject":"3505812026000123",)"
           R"("data":{"notice_no":"3505812026000123","amount_fen":)" +
           std::to_string(amountFen) + "}}";
}

/// Terminals 07 (two keys, mid-rotation) and 03 posting to /v1/payments; what is accepted goes
/// to finance (`rx`).
std::string terminalsConfig(const testkit::Receiver& rx) {
    return R"(
inputs:
  - name: terminals
    path: /v1/payments
    auth:
      signed:
        scheme: hmac-sha256
        senders:
          - { client: cib-terminal-07, keys: [ ")" +
           kT07a + R"(", ")" + kT07b + R"(" ] }
          - { client: cib-terminal-03, keys: [ ")" +
           kT03 + R"(" ] }
outputs:
  - { name: finance, url: ")" +
           rx.url("/events") + R"(" }
routes:
  - { name: all, to: [ finance ] }
)";
}

} // namespace

TEST_CASE("Signed input: only validly signed, fresh, first-seen requests are taken",
          "[integration][security]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, terminalsConfig(rx));
    hub.start();
    const std::string url = "http://127.0.0.1:" + std::to_string(hub.port()) + "/v1/payments";
    auto post = [&](const std::string& body, const testkit::Headers& h) {
        return testkit::httpRequest("POST", url, body, h);
    };

    const std::string body = payment("pay-1", 12800);
    CHECK(post(body, signedHeaders(kT07a, "msg_1", nowS(), body)).status == 202);
    CHECK(post(payment("pay-2", 100), signedHeaders(kT07b, "msg_2", nowS(), payment("pay-2", 100)))
              .status == 202);
    // Refused: a wrong key, a changed body, no signature, an old timestamp, a replay, and the
    // same message id re-signed with a new timestamp.
    auto wrongKey = post(payment("pay-3", 1), signedHeaders("not-a-terminal-key-at-all", "msg_3",
                                                            nowS(), payment("pay-3", 1)));
    CHECK(wrongKey.status == 401);
    CHECK(wrongKey.body.find("does not match") != std::string::npos);
    CHECK(post(payment("pay-4", 99999), signedHeaders(kT07a, "msg_4", nowS(), payment("pay-4", 1)))
              .status == 401);
    CHECK(post(payment("pay-5", 1), {{"Content-Type", "application/cloudevents+json"}}).status ==
          401);
    CHECK(
        post(payment("pay-6", 1), signedHeaders(kT07a, "msg_6", nowS() - 301, payment("pay-6", 1)))
            .status == 401);
    CHECK(post(body, signedHeaders(kT07a, "msg_1", nowS(), body)).status == 409);
    REQUIRE(rx.waitForDelivered(2, 20s));
    CHECK(itest::eventsFrom(hub, "terminals") == 2);

    // A terminal that lost the answer retries with its Idempotency-Key (and a new message id):
    // 50 at once, one payment. The same key with another body is refused; the same key from
    // another terminal is that terminal's own.
    const std::string paid = payment("pay-idem", 35000);
    std::atomic<int> ok{0}, other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 50; ++i)
        threads.emplace_back([&, i] {
            auto h = signedHeaders(kT07b, "msg_idem_" + std::to_string(i), nowS(), paid);
            h.emplace_back("Idempotency-Key", "\"t07-0001\"");
            const int s = post(paid, h).status;
            (s == 202 || s == 200 ? ok : other)++;
        });
    for (auto& t : threads)
        t.join();
    CHECK(ok + other == 50);
    CHECK(ok >= 1); // the others: 409 while the first is in flight, or the replayed answer
    auto again = signedHeaders(kT07b, "msg_idem_again", nowS(), paid);
    again.emplace_back("Idempotency-Key", "\"t07-0001\"");
    auto replayed = post(paid, again);
    CHECK((replayed.status == 202 || replayed.status == 200));
    CHECK(replayed.header("Idempotent-Replayed") == "true");
    const std::string otherBody = payment("pay-idem-other", 1);
    auto changed = signedHeaders(kT07b, "msg_idem_changed", nowS(), otherBody);
    changed.emplace_back("Idempotency-Key", "\"t07-0001\"");
    CHECK(post(otherBody, changed).status == 422);
    const std::string t03Body = payment("pay-t03", 4200);
    auto t03 = signedHeaders(kT03, "msg_t03", nowS(), t03Body);
    t03.emplace_back("Idempotency-Key", "\"t07-0001\"");
    CHECK(post(t03Body, t03).status == 202);
    REQUIRE(rx.waitForDelivered(4, 20s));
    CHECK(itest::eventsFrom(hub, "terminals") == 4); // pay-1, pay-2, pay-idem once, pay-t03
    CHECK(rx.deliveredCount() == 4);
    CHECK(hub.terminate().code == 0);
}

TEST_CASE("Signed input: a replay is refused after the hub was killed and restarted too",
          "[integration][security]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, terminalsConfig(rx));
    hub.start();
    auto post = [&](const std::string& body, const testkit::Headers& h) {
        return testkit::httpRequest("POST", hub.url("/v1/payments"), body, h).status;
    };
    const std::string body = payment("pay-r1", 12800);
    const auto headers = signedHeaders(kT07a, "msg_r1", nowS(), body);
    REQUIRE(post(body, headers) == 202);
    hub.kill();
    hub.restart();
    // The very same request (inside its 5-minute window), and its id re-signed: refused.
    CHECK(post(body, headers) == 409);
    CHECK(post(body, signedHeaders(kT07a, "msg_r1", nowS() + 1, body)) == 409);
    CHECK(post(payment("pay-r2", 1),
               signedHeaders(kT07a, "msg_r2", nowS(), payment("pay-r2", 1))) == 202);
}
