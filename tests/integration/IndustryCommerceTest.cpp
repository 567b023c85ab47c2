// The industry-commerce adapter in the running hub against its simulator (ow-gongshang-sim):
// accepted cases of 工商局's items go to its application API in its field names; its updates
// (登记, 补正, 审批, 办结) are polled, journaled, acknowledged and mapped back to the center's case
// numbers as canonical events for the intranet platform. The simulator answers every 7th
// request 500, returns every 4th case and asks a supplement of every 5th; a case without a
// number is refused into the dead-letter queue.
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

std::string accepted(const std::string& id, const std::string& caseNo, const std::string& item) {
    return itest::acceptedApplication(id, caseNo, item, "有限责任公司设立登记",
                                      {{"type", "company"}, {"name", "石狮市某某贸易有限公司"}});
}

} // namespace

TEST_CASE("industry-commerce: applications out, steps and conclusions back under the center's "
          "case numbers",
          "[integration][adapter]") {
    testkit::TempDir dir;
    itest::Simulator sim(dir, "gongshang-sim",
                         {"--token", "gs-token-2026", "--step-ms", "20", "--fail-every", "7",
                          "--return-every", "4", "--supplement-every", "5"});
    const std::string base = sim.url();
    testkit::Receiver platform;
    const std::string endpoint =
        "{ base_url: \"" + base + "\", api_key: \"${GS_TOKEN}\", timeout_ms: 3000 }";
    itest::Hub hub(dir, R"(
hub:
  log_level: warn
  plugin_dirs: [ ")" + itest::firstPartyPluginDir(dir, {"industry-commerce.so"}) +
                            R"(" ]
plugins:
  - { name: industry-commerce, file: industry-commerce.so }
inputs:
  - { name: hall, path: /v1/events }
  - name: gongshang-updates
    source: industry-commerce/updates
    config: { base_url: ")" +
                            base +
                            R"(", api_key: "${GS_TOKEN}", poll_ms: 50 }
outputs:
  - name: gongshang
    sink: industry-commerce/applications
    config: )" + endpoint + R"(
    retry: { initial_delay_ms: 20, max_delay_ms: 200, max_attempts: 50 }
    circuit: { failure_threshold: 1000 }
  - { name: gongshang-mapper, processor: industry-commerce/mapper }
  - { name: platform, url: ")" +
                            platform.url("/events") +
                            R"(" }
routes:
  - name: to-gongshang
    match: { type: gov.case.accepted, data: { "/item_code": "350581003785001*" } }
    to: [ gongshang ]
  - { name: updates, match: { type: dept.industry-commerce.update }, to: [ gongshang-mapper ] }
  - name: back
    match: { type: "gov.case.*", source: "dept:industry-commerce" }
    to: [ platform ]
)");
    hub.env = {{"GS_TOKEN", "gs-token-2026"}};
    hub.start();

    constexpr int Cases = 12;
    for (int i = 1; i <= Cases; ++i)
        REQUIRE(testkit::postCloudEvent(hub.url(), accepted("a-" + std::to_string(i),
                                                            "SS-G" + std::to_string(i),
                                                            "350581003785001A000101"))
                    .status == 202);
    // Another department's item: not sent to 工商局. A case without a number: refused.
    REQUIRE(testkit::postCloudEvent(hub.url(), accepted("other", "SS-O1", "350581003785114A000103"))
                .status == 202);
    REQUIRE(testkit::postCloudEvent(hub.url(), accepted("nonumber", "", "350581003785001A000101"))
                .status == 202);

    // What the platform got, per case: the canonical types in order, and the department's
    // serial on each.
    auto perCase = [&] {
        return itest::caseStories(platform, [](const json& e) {
            CHECK(e["data"]["dept_case_no"].get<std::string>().rfind("GS2026", 0) == 0);
        });
    };
    REQUIRE(testkit::waitUntil([&] { return itest::allConcluded(perCase(), Cases); }, 60s));
    const auto [returned, supplemented] = itest::checkHandlingStories(perCase(), "SS-G");
    CHECK(returned == Cases / 4);
    CHECK(supplemented >= 1);
    itest::waitForDeadLetters(hub, 1, "no case number");
    REQUIRE(itest::waitForFeedAcknowledged(
        base + "/api/v1/updates?limit=1", {{"token", "gs-token-2026"}}, [](const std::string& b) {
            const json page = json::parse(b, nullptr, false);
            return page.is_object() && page["data"].is_array() && page["data"].empty();
        }));
    CHECK(hub.terminate().success());
    const auto summary = sim.stop();
    CHECK(summary["applications"] == Cases); // the other department's item never went there
    CHECK(summary["pending"] == 0);
    CHECK(summary["acked"] == summary["updates"]); // everything it sent was acknowledged
}
