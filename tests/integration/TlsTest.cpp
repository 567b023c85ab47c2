// HTTPS inputs (server certificate, client-certificate verification, bearer tokens) and HTTPS
// outputs (CA verification, client certificate), with a second real hub as the TLS peer.
#include "tests/integration/JournalPeek.h"

#include <nlohmann/json.hpp>

#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

/// A hub that takes HTTPS only, with client certificates required, on `inputs` (YAML list
/// items), and hands what it accepts to `rx`.
std::string mutualTlsConfig(const std::string& inputs, const testkit::Receiver& rx) {
    return R"(
hub:
  tls: { enabled: true, cert_file: server.crt, key_file: server.key, client_ca_file: ca.crt,
         require_client_cert: true }
inputs:)" + inputs +
           R"(
outputs:
  - { name: rx, url: ")" +
           rx.url("/events") + R"(" }
routes:
  - { name: all, to: [ rx ] }
)";
}

} // namespace

TEST_CASE("TLS: hub to hub over mutual TLS with a bearer token, and refusals of bad peers",
          "[integration][tls]") {
    testkit::TempDir dir;
    itest::makeCertificates(dir, "intranet-platform");
    testkit::Receiver rx;

    // Hub B: the receiving side, HTTPS only, client certificates required, token required.
    itest::Hub b(dir,
                 mutualTlsConfig(R"(
  - name: events
    path: /v1/events
    auth:
      bearer_tokens:
        - { client: intranet-platform, token: "${B_TOKEN}" })",
                                 rx),
                 "b");
    b.env = {{"B_TOKEN", "tok-7f3a9c-5e21b8d4"}};
    b.tls = {dir.file("ca.crt"), dir.file("client.crt"), dir.file("client.key")};
    b.start();

    // Hub A: plain input, delivers to B over HTTPS with CA verification and its client certificate.
    auto aConfig = [&](const std::string& ca, const std::string& token) {
        return R"(
hub: { log_level: debug }
inputs:
  - { name: events, path: /v1/events }
outputs:
  - name: b
    url: ")" + b.url() +
               R"("
    read_timeout_ms: 2000
    retry: { initial_delay_ms: 50, max_delay_ms: 200 }
    tls: { ca_file: )" +
               ca + R"(, cert_file: client.crt, key_file: client.key }
    headers: { Authorization: "Bearer )" +
               token + R"(" }
routes:
  - { name: all, to: [ b ] }
)";
    };
    itest::Hub a(dir, aConfig("ca.crt", "${B_TOKEN}"), "a");
    a.env = {{"B_TOKEN", "tok-7f3a9c-5e21b8d4"}};
    a.start();

    REQUIRE(testkit::postCloudEvent(a.url(), itest::event("tls-1")).status == 202);
    REQUIRE(rx.waitForDelivered(1, 20s));
    CHECK(rx.multiplicity("tls-1") == 1);

    const testkit::Headers ce{{"Content-Type", "application/cloudevents+json"}};
    testkit::Headers withToken = ce;
    withToken.emplace_back("Authorization", "Bearer tok-7f3a9c-5e21b8d4");

    SECTION("a client with the CA's certificate but without a token gets 401") {
        auto r = testkit::httpRequest("POST", b.url(), itest::event("no-token"), ce, 5s, b.tls);
        CHECK(r.status == 401);
        CHECK(r.header("www-authenticate").rfind("Bearer", 0) == 0);
        auto wrong = testkit::httpRequest(
            "POST", b.url(), itest::event("bad-token"),
            {{"Content-Type", "application/cloudevents+json"}, {"Authorization", "Bearer nope"}},
            5s, b.tls);
        CHECK(wrong.status == 401);
        auto good =
            testkit::httpRequest("POST", b.url(), itest::event("with-token"), withToken, 5s, b.tls);
        CHECK(good.status == 202);
    }
    SECTION("clients without a certificate, or with one the CA never issued, are refused") {
        CHECK_THROWS(testkit::httpRequest("POST", b.url(), itest::event("no-cert"), withToken, 5s,
                                          {dir.file("ca.crt"), "", ""}));
        CHECK_THROWS(testkit::httpRequest(
            "POST", b.url(), itest::event("rogue"), withToken, 5s,
            {dir.file("ca.crt"), dir.file("rogue.crt"), dir.file("rogue.key")}));
        CHECK_THROWS(
            testkit::httpRequest("POST", b.url("/healthz").replace(0, 5, "http"), "", {}, 3s));
    }
    SECTION("an output that does not trust the receiver's certificate does not deliver") {
        testkit::TempDir other;
        itest::makeCertificates(other, "x");
        std::string otherCa =
            dir.writeFile("other-ca.crt", testkit::readFile(other.file("ca.crt")));
        itest::Hub c(dir, aConfig(otherCa, "${B_TOKEN}"), "c");
        c.env = {{"B_TOKEN", "tok-7f3a9c-5e21b8d4"}};
        c.start();
        REQUIRE(testkit::postCloudEvent(c.url(), itest::event("untrusted-1")).status == 202);
        REQUIRE(testkit::waitUntil(
            [&] {
                auto m = testkit::httpRequest("GET", c.url("/metrics")).body;
                return m.find("onewindow_deliveries_total{output=\"b\",outcome=\"retry\"} 0") ==
                           std::string::npos &&
                       m.find("onewindow_deliveries_total{output=\"b\",outcome=\"retry\"}") !=
                           std::string::npos;
            },
            20s));
        CHECK(rx.multiplicity("untrusted-1") == 0);
        CHECK_THAT(c.log(), Catch::Contains("certificate"));
    }
    CHECK(a.terminate().success());
    CHECK(b.terminate().success());
}

TEST_CASE("TLS: a plugin sink reaches a department over mutual TLS with its output's tls settings",
          "[integration][tls][plugin]") {
    testkit::TempDir dir;
    itest::makeCertificates(dir, "gongshang-adapter");
    testkit::Receiver rx;
    // The department: HTTPS only, client certificates required.
    itest::Hub dept(dir,
                    mutualTlsConfig("\n  - { name: applications, path: /api/v1/applications }", rx),
                    "dept");
    dept.tls = {dir.file("ca.crt"), dir.file("client.crt"), dir.file("client.key")};
    dept.start();
    // The hub: the same adapter sink twice, with and without the client certificate.
    const std::string base = dept.url("");
    itest::Hub hub(dir, R"(
hub:
  plugin_dirs: [ ")" + itest::firstPartyPluginDir(dir, {"industry-commerce.so"}) +
                            R"(" ]
plugins:
  - { name: industry-commerce, file: industry-commerce.so }
inputs:
  - { name: hall, path: /v1/events }
outputs:
  - name: with-cert
    sink: industry-commerce/applications
    config: { base_url: ")" +
                            base + R"(", timeout_ms: 3000 }
    tls: { ca_file: )" + dir.file("ca.crt") +
                            R"(, cert_file: )" + dir.file("client.crt") + R"(, key_file: )" +
                            dir.file("client.key") + R"( }
  - name: without-cert
    sink: industry-commerce/applications
    config: { base_url: ")" +
                            base + R"(", timeout_ms: 3000 }
    tls: { ca_file: )" + dir.file("ca.crt") +
                            R"( }
    retry: { initial_delay_ms: 100, max_delay_ms: 200 }
routes:
  - { name: both, match: { type: gov.case.accepted }, to: [ with-cert, without-cert ] }
)");
    hub.start();
    const nlohmann::json accepted = {
        {"specversion", "1.0"},  {"id", "acc-1"},
        {"source", "/window/3"}, {"type", "gov.case.accepted"},
        {"subject", "SS-T1"},    {"data", {{"item_code", "350581003785001A000101"}}}};
    REQUIRE(testkit::postCloudEvent(hub.url(), accepted.dump()).status == 202);
    // With the certificate the handshake succeeds and the department's answer (this stand-in
    // takes CloudEvents only: 415) comes back and is final.
    const auto dead = itest::waitForDeadLetters(hub, 1, "HTTP 415");
    CHECK(dead[0]["output"] == "with-cert");
    // Without it the department never answers: retried, not dead-lettered.
    REQUIRE(testkit::waitUntil(
        [&] {
            const auto m = testkit::httpRequest("GET", hub.url("/metrics")).body;
            return m.find(
                       "onewindow_deliveries_total{output=\"without-cert\",outcome=\"retry\"}") !=
                   std::string::npos;
        },
        30s));
}
