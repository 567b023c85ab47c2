// The e-supervision adapter in the running hub against its simulator (ow-supervision-sim),
// which refuses anything of a case before its basic information or after its conclusion and
// answers every 4th request 500: every case's objects arrive, each once, in the required order,
// although half the cases' steps reach the hub before their acceptance; a malformed
// conclusion ends in the dead-letter queue with its reason.
#include "tests/integration/JournalPeek.h"
#include "tests/integration/Simulators.h"

#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/Mosquitto.h"
#include "tests/support/MqttSubscriber.h"

using namespace ow;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string caseEvent(const std::string& id, const std::string& type, const std::string& caseNo,
                      json data) {
    data["item_code"] = "350581003785042N000109";
    return json{
        {"specversion", "1.0"},       {"id", id},          {"source", "/intranet-platform"},
        {"type", "gov.case." + type}, {"subject", caseNo}, {"datacontenttype", "application/json"},
        {"data", std::move(data)}}
        .dump();
}

} // namespace

TEST_CASE("e-supervision: every case's objects reach the simulator and the MQTT topic in order",
          "[integration][adapter]") {
    testkit::TempDir dir;
    testkit::Mosquitto broker(dir);
    broker.start();
    testkit::MqttSubscriber topic(broker.url(), "supervision/exchange");
    const std::string record = dir.file("supervision.ndjson");
    itest::Simulator sim(dir, "supervision-sim", {"--record", record, "--fail-every", "4"});
    const std::string simUrl = sim.url("/exchange");

    itest::Hub hub(dir, R"(
hub:
  log_level: warn
  plugin_dirs: [ ")" + itest::firstPartyPluginDir(dir, {"e-supervision.so"}) +
                            R"(" ]
inputs:
  - { name: hall, path: /v1/events }
brokers:
  - { name: hall, url: ")" + broker.url() +
                            R"(", client_id: hub-esup, mqtt_version: 5 }
plugins:
  - { name: e-supervision, file: e-supervision.so }
outputs:
  - { name: esup, processor: e-supervision/exchange }
  - name: supervision
    url: ")" + simUrl + R"("
    mode: binary
    retry: { initial_delay_ms: 20, max_delay_ms: 200, max_attempts: 50 }
    circuit: { failure_threshold: 1000 }
  - { name: supervision-mqtt, mqtt: { broker: hall, topic: supervision/exchange, qos: 1 } }
routes:
  - { name: milestones, match: { type: [ "gov.case.*", "gov.supervision.alert*" ] }, to: [ esup ] }
  - { name: exchange, match: { type: gov.supervision.exchange }, to: [ supervision, supervision-mqtt ] }
)");
    hub.start();
    constexpr int Cases = 20;
    for (int i = 0; i < Cases; ++i) {
        const std::string c = "SS-E" + std::to_string(i);
        auto post = [&](const std::string& type, json data) {
            REQUIRE(testkit::postCloudEvent(
                        hub.url(), caseEvent(c + "-" + type + "-" + data.value("sequence", "0"),
                                             type, c, data))
                        .status == 202);
        };
        const json step1 = {{"step_code", "undertake"}, {"sequence", "1"}};
        const json step2 = {{"step_code", "approve"}, {"sequence", "2"}};
        if (i % 2) { // the department's steps reach the hub first
            post("step_completed", step1);
            post("step_completed", step2);
            post("accepted", json::object());
        } else {
            post("accepted", json::object());
            post("step_completed", step1);
            post("step_completed", step2);
        }
        post("concluded", {{"result_code", 0}});
    }
    // A conclusion without its result code: refused by the adapter, kept in the DLQ.
    REQUIRE(testkit::postCloudEvent(hub.url(),
                                    caseEvent("bad-1", "concluded", "SS-BAD", json::object()))
                .status == 202);

    auto recorded = [&] {
        std::map<std::string, std::vector<std::string>> byCase;
        std::istringstream in(testkit::readFile(record));
        for (std::string line; std::getline(in, line);) {
            auto j = json::parse(line, nullptr, false);
            if (j.is_object())
                byCase[j["object"]["SBLSH"]].push_back(j["object"]["SPTYPE"].get<std::string>());
        }
        return byCase;
    };
    REQUIRE(testkit::waitUntil(
        [&] {
            auto r = recorded();
            std::size_t objects = 0;
            for (const auto& [_, v] : r)
                objects += v.size();
            return objects == 4u * Cases;
        },
        60s));
    for (const auto& [c, types] : recorded()) {
        INFO(c);
        CHECK(types == std::vector<std::string>{"2", "3", "3", "4"});
    }
    // The same objects on the MQTT topic (structured CloudEvents), each case's in order.
    auto published = [&] {
        std::map<std::string, std::vector<std::string>> byCase;
        std::set<std::string> ids;
        for (const auto& m : topic.messages()) {
            auto e = json::parse(m->to_string(), nullptr, false);
            if (!e.is_object() || !ids.insert(e["id"].get<std::string>()).second) continue;
            byCase[e["subject"]].push_back(e["data"]["SPTYPE"].get<std::string>());
        }
        return byCase;
    };
    REQUIRE(testkit::waitUntil([&] { return published().size() == Cases; }, 30s));
    REQUIRE(testkit::waitUntil(
        [&] {
            for (const auto& [_, v] : published())
                if (v.size() != 4) return false;
            return true;
        },
        30s));
    for (const auto& [c, types] : published()) {
        INFO(c);
        CHECK(types == std::vector<std::string>{"2", "3", "3", "4"});
    }
    const auto dead = itest::waitForDeadLetters(hub, 1, "result_code is missing");
    CHECK(dead[0]["output"] == "esup");

    CHECK(hub.terminate().success());
    const auto summary = sim.stop();
    CHECK(summary["refused"] == 0);          // nothing out of order, nothing malformed
    CHECK(summary["failed"].get<int>() > 0); // its 500s were retried
    CHECK(summary["accepted"] == 4 * Cases);
}
