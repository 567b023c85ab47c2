// Credentials change live: under a steady stream of requests from a bearer-token client and a
// signed terminal, SIGHUP rotates the token and the key (both valid, then the new one alone)
// without a restart and without refusing one good request; afterwards the old ones are
// refused. A terminal signing with the Standard Webhooks reference library (npm
// `standardwebhooks`) and a whsec_ secret is accepted.
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/integration/JournalPeek.h"
#include "tests/integration/WebhookSigning.h"
#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

const std::string kTokenOld = "platform-token-2026-old", kTokenNew = "platform-token-2026-new";
const std::string kKeyOld = "terminal-key-2026-old", kKeyNew = "terminal-key-2026-new";

std::string config(const std::string& rx, const std::vector<std::string>& tokens,
                   const std::vector<std::string>& keys) {
    std::string t, k;
    for (const auto& token : tokens)
        t += "        - { client: intranet-platform, token: \"" + token + "\" }\n";
    for (const auto& key : keys)
        k += (k.empty() ? "" : ", ") + ("\"" + key + "\"");
    return R"(
hub:
  log_level: info
inputs:
  - name: platform
    path: /v1/platform/events
    allow: { source: "/intranet-platform" }
    auth:
      bearer_tokens:
)" + t + R"(
  - name: terminals
    path: /v1/payments
    allow: { source: "bank:{client}", type: gov.fee.paid }
    auth:
      signed:
        senders:
          - { client: t1, keys: [ )" +
           k + R"( ] }
outputs:
  - { name: rx, url: ")" +
           rx + R"(" }
routes:
  - { name: all, match: { type: "*" }, to: [ rx ] }
)";
}

long occurrences(const std::string& text, const std::string& what) {
    long n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

} // namespace

TEST_CASE("Credentials: a token and a terminal key rotated under load, no restart, no refusal",
          "[integration][security][reload]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, config(rx.url("/events"), {kTokenOld}, {kKeyOld}));
    hub.start();
    const pid_t pid = hub.pid();

    std::atomic<bool> stop{false}, useNew{false};
    std::atomic<long> sent{0}, refused{0};
    std::mutex mu;
    std::string firstRefusal;
    auto refusal = [&](const std::string& what) {
        ++refused;
        std::lock_guard lock(mu);
        if (firstRefusal.empty()) firstRefusal = what;
    };
    std::thread bearer([&] {
        for (long i = 0; !stop; ++i) {
            const auto r = testkit::httpRequest(
                "POST", hub.url("/v1/platform/events"), itest::event("b-" + std::to_string(i)),
                {{"Content-Type", "application/cloudevents+json"},
                 {"Authorization", "Bearer " + (useNew ? kTokenNew : kTokenOld)}});
            ++sent;
            if (r.status != 202) refusal("bearer " + std::to_string(r.status) + " " + r.body);
        }
    });
    std::thread terminal([&] {
        for (long i = 0; !stop; ++i) {
            const std::string body = R"({"specversion":"1.0","id":"p-)" + std::to_string(i) +
                                     R"(","source":"bank:t1","type":"gov.fee.paid"})";
            auto headers = itest::signedHeaders(useNew ? kKeyNew : kKeyOld,
                                                "msg-" + std::to_string(i), itest::nowS(), body);
            const auto r = testkit::httpRequest("POST", hub.url("/v1/payments"), body, headers);
            ++sent;
            if (r.status != 202) refusal("terminal " + std::to_string(r.status) + " " + r.body);
        }
    });
    auto flowing = [&](long more) {
        const long from = sent;
        REQUIRE(testkit::waitUntil([&] { return sent >= from + more; }, 30s));
    };

    flowing(200);
    // Both old and new are valid...
    dir.writeFile("hub.yaml",
                  config(rx.url("/events"), {kTokenOld, kTokenNew}, {kKeyOld, kKeyNew}));
    REQUIRE(::kill(hub.pid(), SIGHUP) == 0);
    REQUIRE(testkit::waitUntil(
        [&] { return occurrences(hub.log(), "configuration reloaded") == 1; }, 30s));
    flowing(200);
    // ...the clients move to the new ones...
    useNew = true;
    flowing(200);
    // ...and the old ones are withdrawn.
    dir.writeFile("hub.yaml", config(rx.url("/events"), {kTokenNew}, {kKeyNew}));
    REQUIRE(::kill(hub.pid(), SIGHUP) == 0);
    REQUIRE(testkit::waitUntil(
        [&] { return occurrences(hub.log(), "configuration reloaded") == 2; }, 30s));
    flowing(200);
    stop = true;
    bearer.join();
    terminal.join();
    INFO(firstRefusal);
    CHECK(refused == 0);
    CHECK(sent >= 800);
    CHECK(hub.pid() == pid);

    // The old credentials are refused now.
    CHECK(testkit::httpRequest("POST", hub.url("/v1/platform/events"), itest::event("late"),
                               {{"Content-Type", "application/cloudevents+json"},
                                {"Authorization", "Bearer " + kTokenOld}})
              .status == 401);
    const std::string body =
        R"({"specversion":"1.0","id":"late","source":"bank:t1","type":"gov.fee.paid"})";
    CHECK(testkit::httpRequest("POST", hub.url("/v1/payments"), body,
                               itest::signedHeaders(kKeyOld, "msg-late", itest::nowS(), body))
              .status == 401);

    // Both reloads are in the audit trail with the digest of the configuration they applied.
    REQUIRE(hub.terminate().success());
    store::Database db(store::Journal::fileName(hub.dataDir()), /*readOnly=*/true);
    store::Statement s(db, "SELECT record FROM audit");
    int reloads = 0;
    while (s.step()) {
        const auto r = nlohmann::json::parse(s.text(0));
        if (r.value("action", "") == "reload" && r["result"] == "applied" &&
            r["config_sha256"].get<std::string>().size() == 64)
            ++reloads;
    }
    CHECK(reloads == 2);
}

TEST_CASE("Credentials: a terminal signing with the Standard Webhooks reference library and a "
          "whsec_ secret is accepted",
          "[integration][security]") {
    // The secret as the standard hands it out: whsec_ + base64 of the key bytes.
    const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, R"(
inputs:
  - name: terminals
    path: /v1/payments
    allow: { source: "bank:{client}", type: gov.fee.paid }
    auth: { signed: { senders: [ { client: vendor-t9, keys: [ ")" +
                            secret + R"(" ] } ] } }
outputs:
  - { name: rx, url: ")" + rx.url("/events") +
                            R"(" }
routes:
  - { name: all, match: { type: "*" }, to: [ rx ] }
)");
    hub.start();
    const std::string body =
        R"({"specversion":"1.0","id":"pay-1","source":"bank:vendor-t9","type":"gov.fee.paid"})";
    const std::string bodyFile = dir.writeFile("body.json", body);
    const auto ts = std::to_string(itest::nowS());
    const std::string sigFile = dir.file("signature.txt");
    auto node =
        testkit::Process::spawn({"node", std::string(OW_SOURCE_DIR) + "/tests/npm/sign-webhook.js",
                                 secret, "msg_vendor_1", ts, bodyFile},
                                {}, sigFile, dir.file("node.err"));
    auto done = node.waitExit(30s);
    INFO(testkit::readFile(dir.file("node.err")));
    REQUIRE(done);
    REQUIRE(done->success());
    const std::string signature = testkit::readFile(sigFile);
    REQUIRE(signature.rfind("v1,", 0) == 0);
    const auto r = testkit::httpRequest("POST", hub.url("/v1/payments"), body,
                                        {{"Content-Type", "application/cloudevents+json"},
                                         {"webhook-id", "msg_vendor_1"},
                                         {"webhook-timestamp", ts},
                                         {"webhook-signature", signature}});
    INFO(r.body);
    CHECK(r.status == 202);
    // The secret's text itself is not the key: signing with it is refused.
    const auto wrong =
        testkit::httpRequest("POST", hub.url("/v1/payments"), body,
                             itest::signedHeaders(secret, "msg_vendor_2", itest::nowS(), body));
    CHECK(wrong.status == 401);
}

TEST_CASE("Credentials: SIGHUP replaces the listener's certificate and client CA",
          "[integration][security][reload][tls]") {
    testkit::TempDir dir, oldPki, newPki;
    itest::makeCertificates(oldPki, "intranet-platform");
    itest::makeCertificates(newPki, "intranet-platform");
    auto install = [&](const testkit::TempDir& pki) {
        for (const char* f : {"server.crt", "server.key", "ca.crt"})
            std::filesystem::copy_file(pki.file(f), dir.file(f),
                                       std::filesystem::copy_options::overwrite_existing);
    };
    install(oldPki);
    itest::Hub hub(dir, R"(
hub:
  log_level: info
  tls: { enabled: true, cert_file: server.crt, key_file: server.key, client_ca_file: ca.crt,
         require_client_cert: true }
inputs:
  - { name: events, path: /v1/events, allow: { source: "/intranet-platform" } }
)");
    const testkit::TlsFiles oldClient{oldPki.file("ca.crt"), oldPki.file("client.crt"),
                                      oldPki.file("client.key")};
    const testkit::TlsFiles newClient{newPki.file("ca.crt"), newPki.file("client.crt"),
                                      newPki.file("client.key")};
    hub.tls = oldClient;
    hub.start();
    const pid_t pid = hub.pid();
    auto post = [&](const std::string& id, const testkit::TlsFiles& tls) {
        try {
            return testkit::httpRequest("POST", hub.url(), itest::event(id),
                                        {{"Content-Type", "application/cloudevents+json"}}, 5s, tls)
                .status;
        } catch (const std::exception&) {
            return 0; // the handshake failed
        }
    };
    REQUIRE(post("before", oldClient) == 202);
    CHECK(post("new-too-early", newClient) == 0);

    // The renewed files in place, then SIGHUP.
    install(newPki);
    REQUIRE(::kill(hub.pid(), SIGHUP) == 0);
    REQUIRE(testkit::waitUntil(
        [&] { return occurrences(hub.log(), "configuration reloaded") == 1; }, 30s));
    CHECK(post("after", newClient) == 202);
    CHECK(post("old-too-late", oldClient) == 0);
    CHECK(hub.pid() == pid);

    // A broken file is refused and the running certificate stays.
    dir.writeFile("server.key", "not a key\n");
    REQUIRE(::kill(hub.pid(), SIGHUP) == 0);
    REQUIRE(testkit::waitUntil(
        [&] { return occurrences(hub.log(), "configuration not reloaded") == 1; }, 30s));
    CHECK_THAT(hub.log(), Catch::Contains("hub.tls.key_file"));
    CHECK(post("still", newClient) == 202);
}
