// The intranet-platform adapter in the running hub, both ways. In: the platform posts
// applications with its bearer token; the intake checks them against the center's catalog;
// the good ones reach the departments (a receiver stands for them) exactly once, the bad ones
// are dead-lettered with their reasons and the platform is told (gov.case.submission_refused).
// Out: the departments' status changes for several cases, posted at the same time, reach the
// platform's simulator (ow-platform-sim, strict about each case's sequence) gapless and in
// order, while it answers every 5th request 500 and is down for a while.
#include "tests/integration/JournalPeek.h"
#include "tests/integration/Simulators.h"

#include <atomic>
#include <cstdio>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const char* const Licence = "350581003785001A000101"; // 工商局: 有限责任公司设立登记
const char* const Permit = "350581003785114N000101";  // 公安局

// The intake's config: the repository's catalog and units.
std::string catalogConfig() {
    const std::string src = OW_SOURCE_DIR;
    return "      catalog_dir: \"" + src + "/config/catalog\"\n      units_file: \"" + src +
           "/config/units.yaml\"\n";
}

std::string caseNo(int n) {
    char no[32];
    std::snprintf(no, sizeof no, "35058120260302%06d", n);
    return no;
}

json application(const std::string& id, const std::string& caseNo, const std::string& item,
                 std::map<std::string, std::string> extensions = {}) {
    json e = {{"specversion", "1.0"},
              {"id", id},
              {"source", "/intranet-platform/window/3"},
              {"type", "gov.case.accepted"},
              {"datacontenttype", "application/json"},
              {"data",
               {{"item_code", item},
                {"applicant", {{"type", "company"}, {"name", "石狮市某某贸易有限公司"}}},
                {"occurred_at", "2026-03-02T10:00:00+08:00"}}}};
    if (!caseNo.empty()) e["subject"] = caseNo;
    for (const auto& [k, v] : extensions)
        e[k] = v;
    return e;
}

std::string statusChange(const std::string& id, const std::string& caseNo, const std::string& type,
                         json data) {
    data["case_no"] = caseNo;
    return json{{"specversion", "1.0"},
                {"id", id},
                {"source", "dept:industry-commerce"},
                {"type", type},
                {"subject", caseNo},
                {"department", "industry-commerce"},
                {"datacontenttype", "application/json"},
                {"data", data}}
        .dump();
}

} // namespace

TEST_CASE("intranet-platform: submissions checked on the way in, each case's status out "
          "gapless and in order",
          "[integration][adapter]") {
    testkit::TempDir dir;
    itest::Simulator sim(dir, "platform-sim",
                         {"--token", "status-token-2026", "--fail-every", "5", "--down-after", "20",
                          "--down-for-ms", "1500"});
    testkit::Receiver departments;
    itest::Hub hub(dir, R"(
hub:
  log_level: warn
  plugin_dirs: [ ")" + itest::firstPartyPluginDir(dir, {"intranet-platform.so"}) +
                            R"(" ]
plugins:
  - { name: intranet-platform, file: intranet-platform.so }
inputs:
  - name: platform
    path: /v1/platform/events
    auth:
      bearer_tokens:
        - { client: intranet-platform, token: "${PLATFORM_IN_TOKEN}" }
  - { name: departments-in, path: /v1/events }
outputs:
  - name: platform-intake
    processor: intranet-platform/intake
    config:
)" + catalogConfig() + R"(  - name: platform-refusals
    processor: intranet-platform/refusals
    config:
)" + catalogConfig() + R"(  - { name: platform-sequencer, processor: intranet-platform/sequencer }
  - name: platform-status
    sink: intranet-platform/status
    ordering_key: subject
    config: { base_url: ")" +
                            sim.url() +
                            R"(", token: "${PLATFORM_OUT_TOKEN}", timeout_ms: 3000 }
    retry: { initial_delay_ms: 20, max_delay_ms: 200, max_attempts: 1000 }
    circuit: { failure_threshold: 1000 }
  - { name: departments, url: ")" +
                            departments.url("/events") +
                            R"(" }
routes:
  - name: from-platform
    match: { source: "/intranet-platform*", type: "gov.case.*" }
    to: [ platform-intake, platform-refusals ]
  - { name: checked, match: { source: "onewindow://intranet-platform/checked" }, to: [ departments ] }
  - name: status-to-platform
    match:
      type: [ "gov.case.*", "gov.supervision.alert*" ]
      source: [ "dept:*", "onewindow://intranet-platform/refused" ]
    to: [ platform-sequencer ]
  - { name: status-out, match: { type: gov.platform.status }, to: [ platform-status ] }
)");
    hub.env = {{"PLATFORM_IN_TOKEN", "intake-token-2026"},
               {"PLATFORM_OUT_TOKEN", "status-token-2026"}};
    hub.start();
    const testkit::Headers bearer = {{"Authorization", "Bearer intake-token-2026"}};
    auto submit = [&](const json& e) {
        return testkit::postCloudEvent(hub.url("/v1/platform/events"), e.dump(), bearer).status;
    };

    // Without the platform's token nothing comes in.
    CHECK(testkit::postCloudEvent(hub.url("/v1/platform/events"),
                                  application("x-1", caseNo(1), Licence).dump())
              .status == 401);
    CHECK(testkit::postCloudEvent(hub.url("/v1/platform/events"),
                                  application("x-2", caseNo(1), Licence).dump(),
                                  {{"Authorization", "Bearer wrong"}})
              .status == 401);

    // Good applications of two departments; one the platform sends twice under two ids.
    constexpr int Good = 6;
    for (int i = 1; i <= Good; ++i)
        REQUIRE(submit(application("app-" + std::to_string(i), caseNo(i),
                                   i % 2 ? Licence : Permit)) == 202);
    REQUIRE(submit(application("app-1-again", caseNo(1), Licence)) == 202);
    // Bad ones, each for its own reason.
    const std::map<std::string, std::pair<json, std::string>> bad = {
        {"bad-item",
         {application("bad-item", caseNo(101), "350581999999999A999999"),
          "item \"350581999999999A999999\" is not in the center's catalog"}},
        {"bad-dept",
         {application("bad-dept", caseNo(102), Licence, {{"department", "public-security"}}),
          "department \"public-security\" is not the department of item " + std::string(Licence) +
              " (industry-commerce)"}},
        {"bad-no",
         {application("bad-no", "SS-2026-0001", Licence),
          "case number \"SS-2026-0001\" is not in the center's form"}},
        {"bad-applicant",
         {[&] {
              auto e = application("bad-applicant", caseNo(104), Licence);
              e["data"].erase("applicant");
              return e;
          }(),
          "gov.case.accepted needs data.applicant.name"}},
        {"bad-none",
         {application("bad-none", "", Licence), "no case number (subject or data.case_no)"}},
    };
    for (const auto& [_, b] : bad)
        REQUIRE(submit(b.first) == 202);

    // The departments get each good application once, checked and with its department.
    REQUIRE(departments.waitForDelivered(Good, 30s));
    const auto dead = itest::waitForDeadLetters(hub, bad.size(), "submission refused: ");
    for (const auto& d : dead) {
        INFO(d.dump());
        CHECK(d["output"] == "platform-intake");
        const auto& b = bad.at(d["event_id"].get<std::string>());
        CHECK(d["last_error"].get<std::string>().find(b.second) != std::string::npos);
    }
    std::map<std::string, std::string> departmentOf;
    for (const auto& r : departments.snapshot()) {
        const auto e = json::parse(r.body);
        CHECK(e["source"] == "onewindow://intranet-platform/checked");
        CHECK(e["type"] == "gov.case.accepted");
        CHECK(departments.multiplicity(r.firstId()) == 1);
        departmentOf[e["subject"]] = e["department"];
    }
    REQUIRE(departmentOf.size() == Good);
    for (int i = 1; i <= Good; ++i)
        CHECK(departmentOf[caseNo(i)] == (i % 2 ? "industry-commerce" : "public-security"));

    // The departments' status changes, every case's from its own thread at once.
    constexpr int Cases = 8;
    const std::vector<std::pair<std::string, json>> course = {
        {"gov.case.step_completed", {{"step_code", "undertake"}, {"sequence", 1}}},
        {"gov.case.supplement_requested", {{"reason", "材料不齐全"}}},
        {"gov.case.supplement_received", json::object()},
        {"gov.case.step_completed", {{"step_code", "review"}, {"sequence", 2}}},
        {"gov.case.step_completed", {{"step_code", "approve"}, {"sequence", 3}}},
        {"gov.case.concluded", {{"result_code", 0}}},
    };
    std::vector<std::thread> senders;
    std::atomic<int> posted{0};
    for (int c = 1; c <= Cases; ++c)
        senders.emplace_back([&, c] {
            for (std::size_t k = 0; k < course.size(); ++k) {
                const auto& [type, data] = course[k];
                const auto id = "s-" + std::to_string(c) + "-" + std::to_string(k);
                if (testkit::postCloudEvent(hub.url(), statusChange(id, caseNo(c), type, data))
                        .status == 202)
                    ++posted;
            }
        });
    for (auto& t : senders)
        t.join();
    REQUIRE(posted == Cases * static_cast<int>(course.size()));

    auto applied = [&](const std::string& no) {
        const auto r = testkit::httpRequest("GET", sim.url("/api/cases/" + no + "/events"));
        return json::parse(r.body)["events"];
    };
    REQUIRE(testkit::waitUntil(
        [&] {
            for (int c = 1; c <= Cases; ++c)
                if (applied(caseNo(c)).size() < course.size()) return false;
            return true;
        },
        60s));
    for (int c = 1; c <= Cases; ++c) {
        INFO(caseNo(c));
        const auto events = applied(caseNo(c));
        REQUIRE(events.size() == course.size());
        for (std::size_t k = 0; k < course.size(); ++k) {
            CHECK(events[k]["sequence"] == std::to_string(k + 1));
            CHECK(events[k]["id"] == "s-" + std::to_string(c) + "-" + std::to_string(k));
            CHECK(events[k]["type"] == course[k].first);
            CHECK(events[k]["source"] == "dept:industry-commerce");
        }
    }
    // The window sees why its submissions were refused, under their case numbers.
    for (const std::string id : {"bad-item", "bad-dept", "bad-no", "bad-applicant"}) {
        INFO(id);
        const auto& e = bad.at(id).first;
        std::vector<json> events;
        REQUIRE(testkit::waitUntil(
            [&] {
                auto a = applied(e["subject"].get<std::string>());
                events.assign(a.begin(), a.end());
                return !events.empty();
            },
            30s));
        REQUIRE(events.size() == 1);
        CHECK(events[0]["type"] == "gov.case.submission_refused");
        CHECK(events[0]["sequence"] == "1");
        CHECK(events[0]["data"]["refused"]["id"] == id);
        bool named = false;
        for (const auto& reason : events[0]["data"]["reasons"])
            named = named || reason.get<std::string>().find(bad.at(id).second) != std::string::npos;
        CHECK(named);
    }
    // Nothing else was dead-lettered on the way (the 500s and the outage were retried).
    itest::waitForDeadLetters(hub, bad.size(), "submission refused: ");
    // The application sent twice was handled as a repeat: the departments still have one.
    REQUIRE(testkit::waitUntil(
        [&] {
            return hub.metric("onewindow_plugin_platform_submissions_repeated_total{plugin=\""
                              "intranet-platform\",instance=\"platform-intake\"}") == 1;
        },
        30s));
    CHECK(departments.deliveredCount() == Good);
    CHECK(departments.totalRequests() == Good);

    CHECK(hub.terminate().success());
    const auto summary = sim.stop();
    INFO(summary.dump());
    CHECK(summary["applied"] == Cases * static_cast<int>(course.size()) + 4);
    CHECK(summary["cases"] == Cases + 4);
    CHECK(summary["types"]["gov.case.concluded"] == Cases);
    CHECK(summary["types"]["gov.case.submission_refused"] == 4);
    CHECK(summary["refused"] == 0);          // every post was a proper CloudEvent, token right
    CHECK(summary["failed"].get<int>() > 0); // its 500s were retried
    CHECK(summary["down"].get<int>() > 0);   // and so was the outage
}
