// The post adapter in the running hub against its simulator (ow-post-sim): concluded cases
// with delivery by post become EMS orders; the tracking comes back as gov.post.tracked with
// the mail number, and 妥投 as gov.case.delivered; a parcel returned (退回) is tracked but not
// delivered; a conclusion without an address is dead-lettered; EMS's 502s are retried.
#include "tests/integration/JournalPeek.h"
#include "tests/integration/Simulators.h"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_CASE("post: deliveries ordered, tracked and delivered back", "[integration][adapter]") {
    testkit::TempDir dir;
    itest::Simulator sim(dir, "post-sim",
                         {"--api-key", "ems-key", "--step-ms", "20", "--fail-every", "6",
                          "--undeliverable-every", "4"});
    const std::string base = sim.url();
    testkit::Receiver platform;
    itest::Hub hub(dir, R"(
hub:
  log_level: warn
  plugin_dirs: [ ")" + itest::firstPartyPluginDir(dir, {"post.so"}) +
                            R"(" ]
plugins:
  - { name: post, file: post.so }
inputs:
  - { name: hall, path: /v1/events }
  - { name: ems-traces, source: post/traces,
      config: { base_url: ")" +
                            base +
                            R"(", api_key: "${EMS_KEY}", poll_ms: 20 } }
outputs:
  - name: ems
    sink: post/orders
    config: { base_url: ")" +
                            base +
                            R"(", api_key: "${EMS_KEY}", timeout_ms: 3000 }
    retry: { initial_delay_ms: 20, max_delay_ms: 200, max_attempts: 50 }
    circuit: { failure_threshold: 1000 }
  - { name: ems-tracker, processor: post/tracker }
  - { name: platform, url: ")" +
                            platform.url("/events") +
                            R"(" }
routes:
  - name: to-post
    match: { type: gov.case.concluded, data: { "/delivery_way": post } }
    to: [ ems ]
  - { name: traces, match: { type: dept.post.trace }, to: [ ems-tracker ] }
  - { name: back, match: { type: [ gov.post.tracked, gov.case.delivered ] }, to: [ platform ] }
)");
    hub.env = {{"EMS_KEY", "ems-key"}};
    hub.start();
    constexpr int Cases = 8;
    auto conclude = [&](const std::string& c, json delivery, const std::string& way) {
        json e = {{"specversion", "1.0"},
                  {"id", "bj-" + c},
                  {"source", "/window/3"},
                  {"type", "gov.case.concluded"},
                  {"subject", c},
                  {"data",
                   {{"result_code", 0},
                    {"delivery_way", way},
                    {"delivery", std::move(delivery)},
                    {"certificate", {{"name", "营业执照"}}}}}};
        REQUIRE(testkit::postCloudEvent(hub.url(), e.dump()).status == 202);
    };
    for (int i = 1; i <= Cases; ++i)
        conclude("SS-P" + std::to_string(i),
                 {{"name", "申请人" + std::to_string(i)},
                  {"mobile", "1380000000" + std::to_string(i)},
                  {"address", "石狮市宝盖镇" + std::to_string(i) + "号"}},
                 "post");
    conclude("SS-W1", json::object(), "window");                       // collected at the window
    conclude("SS-BAD", {{"name", "无地址"}, {"mobile", "1"}}, "post"); // no address

    auto seen = [&] {
        std::map<std::string, std::set<std::string>> statuses; // case -> status codes
        std::map<std::string, std::string> delivered;          // case -> tracking no.
        std::set<std::string> ids;
        for (const auto& q : platform.snapshot()) {
            auto e = json::parse(q.body, nullptr, false);
            if (q.status != 200 || !e.is_object() || !ids.insert(e["id"].get<std::string>()).second)
                continue;
            const auto& d = e["data"];
            if (e["type"] == "gov.post.tracked")
                statuses[e["subject"]].insert(d["status_code"].get<std::string>());
            else
                delivered[e["subject"]] = d["tracking_no"];
        }
        return std::make_pair(statuses, delivered);
    };
    REQUIRE(testkit::waitUntil(
        [&] {
            auto [statuses, delivered] = seen();
            if (statuses.size() != Cases || delivered.size() != Cases - Cases / 4) return false;
            for (const auto& [_, s] : statuses)
                if (s.size() != 3) return false;
            return true;
        },
        60s));
    auto [statuses, delivered] = seen();
    int returned = 0;
    for (const auto& [c, s] : statuses) {
        INFO(c);
        if (s.count("70")) {
            ++returned;
            CHECK(s == std::set<std::string>{"10", "50", "70"});
            CHECK(delivered.count(c) == 0);
        } else {
            CHECK(s == std::set<std::string>{"10", "50", "40"});
            CHECK(delivered[c].size() == 13); // 11 + 9 digits + CN
        }
    }
    CHECK(returned == Cases / 4);
    itest::waitForDeadLetters(hub, 1, "delivery.address is missing");
    REQUIRE(itest::waitForFeedAcknowledged(
        base + "/ems/api/traces?limit=1", {{"apiKey", "ems-key"}}, [](const std::string& b) {
            const json page = json::parse(b, nullptr, false);
            return page.is_object() && page["traces"].is_array() && page["traces"].empty();
        }));
    CHECK(hub.terminate().success());
    const auto summary = sim.stop();
    CHECK(summary["orders"] == Cases); // not the window's, not the one without an address
    CHECK(summary["pending"] == 0);
    CHECK(summary["acked"] == summary["traces"]);
}
