// The public-security adapter in the running hub against its simulator (ow-gongan-sim), which
// serves XML over HTTPS to clients with a certificate of its CA only: accepted cases of 公安局's
// items go out as <SQXX> through the sink's mutual TLS; the department's update records are
// polled through the source's mutual TLS, journaled, acknowledged and mapped back to the
// center's case numbers. The simulator answers every 7th request 500, returns every 4th case
// and asks a supplement of every 5th; cases it cannot be sent are dead-lettered. Without the
// client certificate nothing is read, and the hub says why and keeps running.
#include "tests/integration/JournalPeek.h"
#include "tests/integration/Simulators.h"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* kItem = "350581003785114N000101"; // 户口迁移（市外迁入）

std::string accepted(const std::string& id, const std::string& caseNo, const std::string& item,
                     const std::string& applicant = "陈某某") {
    return itest::acceptedApplication(id, caseNo, item, "户口迁移（市外迁入）",
                                      {{"type", "person"},
                                       {"name", applicant},
                                       {"id_type", "111"},
                                       {"id_no", "350581199001011234"}},
                                      "/window/5");
}

/// The department: HTTPS only, client certificates of the test CA required.
itest::Simulator department(const testkit::TempDir& dir, std::vector<std::string> args) {
    args.insert(args.begin(), {"--cert", dir.file("server.crt"), "--key", dir.file("server.key"),
                               "--client-ca", dir.file("ca.crt")});
    return itest::Simulator(dir, "gongan-sim", std::move(args));
}

/// The hub with the adapter's three components; `tls` is the `tls` map of both the sink's
/// output and the source's input.
std::string hubConfig(const testkit::TempDir& dir, const std::string& base, const std::string& tls,
                      const std::string& platform) {
    const std::string endpoint = "{ base_url: \"" + base + "\", timeout_ms: 3000 }";
    return R"(
hub:
  log_level: warn
  # A reminder at each failed read after a second: the reason of the latest one is logged.
  outages: { reminder_s: 1 }
  plugin_dirs: [ ")" +
           itest::firstPartyPluginDir(dir, {"public-security.so"}) + R"(" ]
plugins:
  - { name: public-security, file: public-security.so }
inputs:
  - { name: hall, path: /v1/events }
  - name: gongan-updates
    source: public-security/updates
    config: { base_url: ")" +
           base + R"(", poll_ms: 50, timeout_ms: 3000 }
    tls: )" +
           tls +
           R"(
outputs:
  - name: gongan
    sink: public-security/applications
    config: )" +
           endpoint + R"(
    tls: )" +
           tls +
           R"(
    retry: { initial_delay_ms: 20, max_delay_ms: 200, max_attempts: 50 }
    circuit: { failure_threshold: 1000 }
  - { name: gongan-mapper, processor: public-security/mapper }
  - { name: platform, url: ")" +
           platform + R"(" }
routes:
  - name: to-gongan
    match: { type: gov.case.accepted, data: { "/item_code": "350581003785114*" } }
    to: [ gongan ]
  - { name: updates, match: { type: dept.public-security.update }, to: [ gongan-mapper ] }
  - name: back
    match: { type: "gov.case.*", source: "dept:public-security" }
    to: [ platform ]
)";
}

std::string https(const itest::Simulator& sim) {
    return "https" + sim.url().substr(4);
}

} // namespace

TEST_CASE("public-security: applications out and steps and conclusions back over mutual TLS",
          "[integration][adapter][tls]") {
    testkit::TempDir dir;
    itest::makeCertificates(dir, "onewindow-hub");
    auto sim = department(dir, {"--step-ms", "20", "--fail-every", "7", "--return-every", "4",
                                "--supplement-every", "5"});
    testkit::Receiver platform;
    itest::Hub hub(dir, hubConfig(dir, https(sim),
                                  "{ ca_file: " + dir.file("ca.crt") +
                                      ", cert_file: " + dir.file("client.crt") +
                                      ", key_file: " + dir.file("client.key") + " }",
                                  platform.url("/events")));
    hub.start();

    constexpr int Cases = 12;
    for (int i = 1; i <= Cases; ++i)
        REQUIRE(testkit::postCloudEvent(hub.url(), accepted("a-" + std::to_string(i),
                                                            "SS-P" + std::to_string(i), kItem))
                    .status == 202);
    // Another department's item: not sent to 公安局. A case without a number, and an applicant
    // name XML cannot carry: refused before anything is sent.
    REQUIRE(testkit::postCloudEvent(hub.url(), accepted("other", "SS-O1", "350581003785001A000101"))
                .status == 202);
    REQUIRE(testkit::postCloudEvent(hub.url(), accepted("nonumber", "", kItem)).status == 202);
    REQUIRE(testkit::postCloudEvent(hub.url(), accepted("bell", "SS-B1", kItem, "陈\a某")).status ==
            202);

    // What the platform got, per case: the canonical types in order, and the department's
    // serial on each.
    std::map<std::string, std::string> opinions; // a returned case's 承办 opinion
    auto perCase = [&] {
        return itest::caseStories(platform, [&](const json& e) {
            const auto& d = e["data"];
            if (e["type"] == "gov.case.step_completed" && d["step_code"] == "undertake" &&
                d["decision"] == "disagree")
                opinions[e["subject"]] = d["opinion"];
            CHECK(d["dept_case_no"].get<std::string>().rfind("GA2026", 0) == 0);
            CHECK(e["source"] == "dept:public-security");
        });
    };
    REQUIRE(testkit::waitUntil([&] { return itest::allConcluded(perCase(), Cases); }, 60s));
    const auto [returned, supplemented] =
        itest::checkHandlingStories(perCase(), "SS-P", [&](const std::string& c) {
            // The department's escaped text arrives as it wrote it.
            CHECK(opinions[c] == "不符合迁入条件 <第十条> & 相关规定");
        });
    CHECK(returned == Cases / 4);
    CHECK(supplemented >= 1);
    const auto dead = itest::waitForDeadLetters(hub, 2, "");
    CHECK_THAT(dead.dump(), Catch::Contains("no case number"));
    CHECK_THAT(dead.dump(), Catch::Contains("cannot be written as XML: a control character"));
    // The 500s were retried: every case got there exactly once.
    CHECK(hub.metric("onewindow_deliveries_total{output=\"gongan\",outcome=\"retry\"}") > 0);
    CHECK(itest::eventsFrom(hub, "gongan-updates") > 0);
    REQUIRE(itest::waitForFeedAcknowledged(
        https(sim) + "/ga/gxxx?limit=1", {},
        [](const std::string& b) { return b.find("<JL>") == std::string::npos; },
        {dir.file("ca.crt"), dir.file("client.crt"), dir.file("client.key")}));
    CHECK(hub.terminate().success());
    const auto summary = sim.stop();
    CHECK(summary["applications"] == Cases); // the other department's item never went there
    CHECK(summary["duplicates"] == 0);
    CHECK(summary["malformed"] == 0); // POCO's parser read every document the adapter wrote
    CHECK(summary["pending"] == 0);
    CHECK(summary["acked"] == summary["updates"]); // everything it sent was acknowledged
}

TEST_CASE("public-security: without the client certificate nothing is read and the hub says why",
          "[integration][adapter][tls]") {
    testkit::TempDir dir;
    itest::makeCertificates(dir, "onewindow-hub");
    auto sim = department(dir, {"--step-ms", "20"});
    testkit::Receiver platform;
    // The department's CA is trusted, but the hub has no certificate to show.
    itest::Hub hub(dir, hubConfig(dir, https(sim), "{ ca_file: " + dir.file("ca.crt") + " }",
                                  platform.url("/events")));
    hub.start();
    REQUIRE(testkit::postCloudEvent(hub.url(), accepted("a-1", "SS-N1", kItem)).status == 202);

    REQUIRE(testkit::waitUntil(
        [&] {
            // e.g. "SSL Exception: ... tlsv13 alert certificate required"
            const std::string log = hub.log();
            return log.find("unavailable; trying again with backoff") != std::string::npos &&
                   log.find("公安局 did not answer") != std::string::npos &&
                   log.find("certificate") != std::string::npos &&
                   hub.metric("onewindow_deliveries_total{output=\"gongan\",outcome=\"retry\"}") >
                       0;
        },
        30s));
    INFO(hub.log());
    CHECK(hub.running());
    CHECK(testkit::httpRequest("GET", hub.url("/readyz")).status == 200);
    CHECK(itest::eventsFrom(hub, "gongan-updates") == 0);
    CHECK(hub.metric("onewindow_dead_letters") == 0); // retried, never given up as refused
    CHECK(hub.terminate().success());
    const auto summary = sim.stop();
    CHECK(summary["requests"] == 0); // no request got past the handshake
    CHECK(summary["applications"] == 0);
}
