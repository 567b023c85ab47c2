// The one chain of service in the running hub: licences concluded by 工商局 open water and
// telephone accounts at the convenience units (ow-utility-sim, which answers back to the hub's
// input and refuses every 5th), and every chained case completes with its accounts; a returned
// case and another department's licence start nothing.
#include "tests/integration/JournalPeek.h"
#include "tests/integration/Simulators.h"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_CASE("utility-accounts: licences open accounts at the convenience units and come back",
          "[integration][adapter]") {
    testkit::TempDir dir;
    testkit::Receiver platform;
    itest::Hub hub(dir, R"(
hub:
  log_level: warn
  plugin_dirs: [ ")" + itest::firstPartyPluginDir(dir, {"utility-accounts.so"}) +
                            R"(" ]
plugins:
  - { name: utility-accounts, file: utility-accounts.so }
inputs:
  - { name: hall, path: /v1/events }
outputs:
  - { name: chain, processor: utility-accounts/chain }
  - { name: utility-water, url: "${UTILITY_URL}/water" }
  - { name: utility-telecom, url: "${UTILITY_URL}/telecom" }
  - { name: platform, url: ")" +
                            platform.url("/events") +
                            R"(" }
routes:
  - { name: cases, match: { type: [ gov.case.accepted, gov.case.concluded ] }, to: [ chain ] }
  - { name: answers, match: { type: "gov.utility.account_*", source: "unit:*" }, to: [ chain ] }
  - { name: requests, match: { type: gov.utility.account_requested }, to: [ "utility-{utility}" ] }
  - { name: back, match: { type: gov.case.chain_completed }, to: [ platform ] }
)");
    // The units answer to the hub's input: start the hub first on its port, then the units.
    const int unitPort = testkit::freeLoopbackPort();
    hub.env = {{"UTILITY_URL", "http://127.0.0.1:" + std::to_string(unitPort)}};
    hub.start();
    // On the port the hub was told; until it listens, the hub retries its deliveries.
    itest::Simulator units(
        dir, "utility-sim",
        {"--port", std::to_string(unitPort), "--hub-url", hub.url(), "--refuse-every", "5"},
        /*picksPort=*/false);
    constexpr int Cases = 6;
    auto post = [&](const std::string& id, const std::string& type, const std::string& c,
                    json data) {
        json e = {{"specversion", "1.0"}, {"id", id},     {"source", "/window/3"},
                  {"type", type},         {"subject", c}, {"data", std::move(data)}};
        REQUIRE(testkit::postCloudEvent(hub.url(), e.dump()).status == 202);
    };
    auto licence = [&](const std::string& c, const std::string& item, int result) {
        post("acc-" + c, "gov.case.accepted", c,
             {{"item_code", item}, {"applicant", {{"name", "公司" + c}}}});
        post("bj-" + c, "gov.case.concluded", c,
             {{"result_code", result}, {"certificate", {{"no", "9135" + c}}}});
    };
    for (int i = 1; i <= Cases; ++i)
        licence("SS-U" + std::to_string(i), "350581003785001A000101", 0);
    licence("SS-RET", "350581003785001A000101", 1);
    licence("SS-PSB", "350581003785114A000103", 0);

    auto completed = [&] {
        std::map<std::string, json> out;
        for (const auto& q : platform.snapshot()) {
            auto e = json::parse(q.body, nullptr, false);
            if (q.status == 200 && e.is_object()) out[e["subject"]] = e["data"]["services"];
        }
        return out;
    };
    REQUIRE(testkit::waitUntil([&] { return completed().size() == Cases; }, 60s));
    int opened = 0, refused = 0;
    for (const auto& [c, services] : completed()) {
        INFO(c);
        CHECK(c.rfind("SS-U", 0) == 0);
        REQUIRE(services.size() == 2);
        for (const auto& [name, st] : services.items()) {
            if (st["state"] == "opened") {
                ++opened;
                CHECK(st["account_no"].get<std::string>().rfind(name + "-", 0) == 0);
            } else {
                ++refused;
                CHECK(st["state"] == "refused");
            }
        }
    }
    CHECK(opened + refused == 2 * Cases);
    CHECK(refused == 2 * Cases / 5);
    CHECK(hub.terminate().success());
    const auto summary = units.stop();
    CHECK(summary["requests"] == 2 * Cases);
    CHECK(summary["pending"] == 0);
}
