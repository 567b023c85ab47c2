// The cases plugin inside the running hub: gov.case.* events routed to the `cases/ledger`
// processor raise gov.supervision.alert events that ordinary routes deliver to the
// e-supervision system, at the business time of the hub's business clock (accelerated here:
// 10 business hours per wall second). The crash test kills the hub while alerts fall due and
// checks that, after the restarts, each alert that fell due was raised exactly once.
#include "tests/integration/JournalPeek.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/testkit/FakeClock.h>
#include <onewindow/sdk/testkit/TestProcessContext.h>

#include "plugins/cases/calendar/CalendarFiles.h"
#include "plugins/cases/catalog/CatalogFiles.h"
#include "plugins/cases/data/Rfc3339.h"
#include "plugins/cases/ledger/CaseLedger.h"
#include "tests/support/Mosquitto.h"
#include "tests/support/MqttSubscriber.h"
#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string kSource = OW_SOURCE_DIR;

std::int64_t wallNowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}
constexpr double Rate = 36000; // business ms per wall ms: 10 hours a second

cases::Instant businessAt(unsigned m, unsigned d, int hh, int mm) {
    return cases::WorkCalendar::dayFromCivil(2026, m, d) * 86400000 +
           (hh * 60 + mm - 480) * 60000LL;
}

/// A hub whose business time starts at `start` when the wall clock reads `anchorWallMs`;
/// alerts go to `rx` over HTTP and, with a broker, to MQTT topics per department.
std::string ledgerConfig(const testkit::TempDir& dir, const testkit::Receiver& rx,
                         cases::Instant start, std::int64_t anchorWallMs,
                         const testkit::Mosquitto* broker = nullptr) {
    const std::string mqttBroker = broker ? "brokers:\n  - { name: hall, url: \"" + broker->url() +
                                                "\", client_id: hub-cases, mqtt_version: 5 }\n"
                                          : "";
    const std::string mqttOutput = broker ? "  - { name: led-wall, mqtt: { broker: hall, topic: "
                                            "\"supervision/alerts/{department}\", qos: 1 } }\n"
                                          : "";
    const std::string alertTargets = broker ? "supervision, led-wall" : "supervision";
    return R"(
hub:
  log_level: warn
  plugin_dirs: [ ")" +
           itest::firstPartyPluginDir(dir, {"cases.so"}) + R"(" ]
  business_clock:
    start: ")" +
           cases::formatRfc3339(start, 480) +
           R"("
    at: ")" +
           cases::formatRfc3339(anchorWallMs, 0) +
           R"("
    rate: )" +
           std::to_string(static_cast<int>(Rate)) +
           R"(
)" + mqttBroker +
           R"(inputs:
  - { name: hall, path: /v1/events }
plugins:
  - { name: cases, file: cases.so }
outputs:
  - name: ledger
    processor: cases/ledger
    config:
)" + itest::caseDataConfig() +
           R"(  - { name: supervision, url: ")" + rx.url("/alerts") + R"(", concurrency: 4 }
)" + mqttOutput +
           R"(routes:
  - { name: cases, match: { type: "gov.case.*" }, to: [ ledger ] }
  - { name: orders, match: { type: "gov.supervision.order_*" }, to: [ ledger ] }
  - { name: alerts, match: { type: "gov.supervision.alert*" }, to: [ )" +
           alertTargets + R"( ] }
queries:
  - { name: case-progress, path: /v1/cases/, processor: ledger, per_client_per_minute: 20 }
)";
}

std::string caseEvent(const std::string& id, const std::string& type, const std::string& caseNo,
                      json data) {
    json e = {
        {"specversion", "1.0"},   {"id", id},          {"source", "/intranet-platform"},
        {"type", type},           {"subject", caseNo}, {"datacontenttype", "application/json"},
        {"data", std::move(data)}};
    return e.dump();
}

struct SeenAlert {
    std::string type, eventId, alertId, alertAt, department;
};

std::vector<SeenAlert> alertsAt(const testkit::Receiver& rx) {
    std::vector<SeenAlert> out;
    for (const auto& q : rx.snapshot()) {
        if (q.status != 200) continue;
        auto e = json::parse(q.body, nullptr, false);
        if (e.is_discarded() || !e.contains("data")) continue;
        out.push_back({e["type"], e["id"], e["data"]["alert_id"], e["data"].value("alert_at", ""),
                       e.value("department", "")});
    }
    return out;
}

} // namespace

TEST_CASE("Cases: the ledger in the hub raises and clears supervision alerts on business time",
          "[integration][plugin][cases]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    const auto catalog =
        cases::loadCatalog(kSource + "/config/catalog", kSource + "/config/units.yaml");
    // An item promising one working day: yellow at the first close, red at the second.
    const cases::ServiceItem* item = nullptr;
    for (const auto& i : catalog.items())
        if (i.promisedLimit.days == 1 && i.promisedLimit.unit == cases::LimitUnit::WorkingDays &&
            i.handling == cases::HandlingType::Promised) {
            item = &i;
            break;
        }
    REQUIRE(item);
    testkit::Mosquitto broker(dir);
    broker.start();
    testkit::MqttSubscriber led(broker.url(), "supervision/alerts/#");
    // Business time: Monday 2 March 2026, 08:00, as the hub starts.
    itest::Hub hub(dir, ledgerConfig(dir, rx, businessAt(3, 2, 8, 0), wallNowMs(), &broker));
    hub.start();
    REQUIRE(testkit::postCloudEvent(hub.url(),
                                    caseEvent("a-1", "gov.case.accepted", "SS-T-1",
                                              {{"item_code", item->code},
                                               {"query_password", "246810"},
                                               {"applicant", {{"name", "石狮市某某贸易有限公司"}}},
                                               {"occurred_at", "2026-03-02T09:30:00+08:00"}}))
                .status == 202);
    // Monday 17:00 is 0.9 s away, Tuesday 17:00 3.3 s.
    auto raisedIds = [&] {
        std::map<std::string, SeenAlert> byId;
        for (const auto& a : alertsAt(rx))
            if (a.type == "gov.supervision.alert") byId[a.alertId] = a;
        return byId;
    };
    REQUIRE(testkit::waitUntil([&] { return raisedIds().count("SS-T-1/case/red") == 1; }, 30s));
    auto byId = raisedIds();
    REQUIRE(byId.count("SS-T-1/case/yellow"));
    CHECK(byId["SS-T-1/case/yellow"].alertAt == "2026-03-02T17:00:00+08:00");
    CHECK(byId["SS-T-1/case/yellow"].department == item->department);
    CHECK(byId["SS-T-1/case/red"].alertAt == "2026-03-03T17:00:00+08:00");
    // Concluded: every standing alert is cleared.
    REQUIRE(testkit::postCloudEvent(
                hub.url(),
                caseEvent("c-1", "gov.case.concluded", "SS-T-1",
                          {{"result_code", 0}, {"occurred_at", "2026-03-04T10:00:00+08:00"}}))
                .status == 202);
    std::set<std::string> raised, cleared;
    REQUIRE(testkit::waitUntil(
        [&] {
            raised.clear();
            cleared.clear();
            for (const auto& a : alertsAt(rx))
                (a.type == "gov.supervision.alert" ? raised : cleared).insert(a.alertId);
            return !raised.empty() && raised == cleared;
        },
        30s));
    // The monthly statistics: the case is in March's row of its department and item.
    const std::string out = dir.file("reports");
    REQUIRE(testkit::waitUntil(
        [&] {
            auto [code, text] = hub.cli({"report", "monthly", "--month", "2026-03", "--out", out});
            return code == 0;
        },
        20s));
    std::ifstream csvFile(out + "/report-2026-03.csv");
    const std::string csv((std::istreambuf_iterator<char>(csvFile)), {});
    CHECK_THAT(csv, Catch::Contains(item->name) && Catch::Contains("合计"));
    CHECK(std::filesystem::file_size(out + "/report-2026-03.html") > 1000);
    auto [badCode, badText] = hub.cli({"report", "monthly", "--month", "2026-13"});
    CHECK(badCode == 2);

    // A case event without a case number is dead-lettered with the ledger's reason.
    REQUIRE(testkit::postCloudEvent(hub.url(), R"({"specversion":"1.0","id":"bad-1","source":"/x",
        "type":"gov.case.accepted","data":{"item_code":"X"}})")
                .status == 202);
    REQUIRE(testkit::waitUntil(
        [&] {
            auto [code, out] = hub.cli({"dlq", "list", "--json"});
            return code == 0 && out.find("no case number") != std::string::npos;
        },
        30s));
    CHECK(hub.terminate().code == 0);
}

TEST_CASE("Cases: each alert that falls due is raised exactly once across SIGKILLs of the hub",
          "[integration][plugin][cases][crash]") {
    constexpr int Cases = 300;
    constexpr int Kills = 3;
    testkit::TempDir dir;
    testkit::Receiver rx;
    const auto catalog =
        cases::loadCatalog(kSource + "/config/catalog", kSource + "/config/units.yaml");
    const auto calendar = cases::loadCalendar(kSource + "/config/calendar", cases::BusinessHours{});
    std::vector<const cases::ServiceItem*> items;
    for (const auto& i : catalog.items())
        if (i.promisedLimit.unit == cases::LimitUnit::WorkingDays && i.promisedLimit.days >= 1 &&
            i.promisedLimit.days <= 3 && i.handling != cases::HandlingType::Reported)
            items.push_back(&i);
    REQUIRE(items.size() >= 5);

    const auto wallStart = wallNowMs();
    const cases::Instant businessStart = businessAt(3, 2, 8, 0);
    itest::Hub hub(dir, ledgerConfig(dir, rx, businessStart, wallStart));
    hub.start();

    // The same cases, followed by the ledger in this process: what the hub must have raised.
    onewindow::sdk::testkit::FakeClock oracleClock(businessStart);
    onewindow::sdk::testkit::TestProcessContext oracle(oracleClock);
    cases::CaseLedger ledger(catalog, calendar, {});
    std::vector<std::string> events;
    for (int c = 0; c < Cases; ++c) {
        const auto* item = items[static_cast<std::size_t>(c) % items.size()];
        // Accepted on Monday between 08:00 and 16:00 business time.
        const cases::Instant acceptedAt = businessAt(3, 2, 8, 0) + (c % 9) * 3600000LL;
        json data = {{"item_code", item->code},
                     {"occurred_at", cases::formatRfc3339(acceptedAt, 480)}};
        const std::string no = "SS-K-" + std::to_string(c);
        events.push_back(caseEvent("k-" + std::to_string(c), "gov.case.accepted", no, data));
        onewindow::sdk::Event e;
        e.id = "k-" + std::to_string(c);
        e.source = "/intranet-platform";
        e.type = "gov.case.accepted";
        e.subject = no;
        e.data = data.dump();
        REQUIRE(ledger.process(e, oracle, businessStart).kind == onewindow::sdk::Result::Kind::Ok);
    }
    for (const auto& body : events)
        REQUIRE(testkit::postCloudEvent(hub.url(), body).status == 202);

    // Kill while alerts fall due: just after Monday 17:00 (0.9 s), Tuesday 17:00 (3.3 s) and
    // Wednesday 17:00 (5.7 s) in wall time from the start, while the hub fires hundreds of
    // case timers; the restart then finds more of them due. Thursday 17:00 is 8.1 s.
    const std::int64_t killAt[Kills] = {950, 3350, 5750};
    int kills = 0;
    for (auto at : killAt) {
        REQUIRE(testkit::waitUntil([&] { return wallNowMs() - wallStart >= at; }, 30s));
        hub.kill();
        ++kills;
        hub.restart();
    }
    // Business Friday 6 March 12:00 (10.4 s): every alert of these cases has fallen due.
    const cases::Instant end = businessAt(3, 6, 12, 0);
    oracleClock.set(end);
    std::set<std::string> expected;
    while (true) {
        std::optional<cases::Instant> next;
        for (const auto& [_, t] : oracle.timers())
            if (t.atMs <= end && (!next || t.atMs < *next)) next = t.atMs;
        if (!next) break;
        for (const auto& [name, t] : std::map(oracle.timers()))
            if (t.atMs == *next) {
                oracle.cancelTimer(name);
                REQUIRE(ledger.onTimer(name, oracle, *next).kind ==
                        onewindow::sdk::Result::Kind::Ok);
            }
    }
    for (const auto& e : oracle.emitted())
        if (e.type == "gov.supervision.alert")
            expected.insert(json::parse(e.data)["alert_id"].get<std::string>());
    REQUIRE(expected.size() >= static_cast<std::size_t>(2 * Cases));

    std::map<std::string, std::set<std::string>> eventIdsOf; // alert id -> CloudEvent ids
    REQUIRE(testkit::waitUntil(
        [&] {
            eventIdsOf.clear();
            for (const auto& a : alertsAt(rx))
                if (a.type == "gov.supervision.alert") eventIdsOf[a.alertId].insert(a.eventId);
            return eventIdsOf.size() >= expected.size();
        },
        60s));
    std::size_t twice = 0;
    std::set<std::string> raised;
    for (const auto& [id, ids] : eventIdsOf) {
        raised.insert(id);
        if (ids.size() > 1) ++twice;
    }
    std::cout << "cases-crash-test: kills=" << kills << " cases=" << Cases
              << " alerts_expected=" << expected.size() << " alerts_raised=" << raised.size()
              << " raised_twice=" << twice << std::endl;
    CHECK(kills == Kills);
    CHECK(raised == expected);
    CHECK(twice == 0);
    CHECK(hub.terminate().code == 0);
}

TEST_CASE("Cases: a new calendar notice takes effect at a reload", "[integration][plugin][cases]") {
    namespace fs = std::filesystem;
    testkit::TempDir dir;
    testkit::Receiver rx;
    const std::string calendar = dir.file("calendar");
    fs::create_directories(calendar);
    for (const char* year : {"2025.yaml", "2026.yaml"})
        fs::copy_file(kSource + "/config/calendar/" + year, calendar + "/" + year);
    // Business time held at Monday 2 March 2026, 08:00: no timer fires during the test.
    std::string config = ledgerConfig(dir, rx, businessAt(3, 2, 8, 0), wallNowMs());
    auto replace = [&](const std::string& from, const std::string& to) {
        const auto at = config.find(from);
        REQUIRE(at != std::string::npos);
        config.replace(at, from.size(), to);
    };
    replace("rate: 36000", "rate: 0.001");
    replace("log_level: warn", "log_level: info");
    replace(kSource + "/config/calendar", calendar);
    itest::Hub hub(dir, config);
    hub.start();
    const auto catalog =
        cases::loadCatalog(kSource + "/config/catalog", kSource + "/config/units.yaml");
    const cases::ServiceItem* item = nullptr;
    for (const auto& i : catalog.items())
        if (i.promisedLimit.days == 1 && i.promisedLimit.unit == cases::LimitUnit::WorkingDays)
            item = &i;
    REQUIRE(item);
    auto accept = [&](const std::string& no) {
        REQUIRE(testkit::postCloudEvent(hub.url(),
                                        caseEvent(no + "-a", "gov.case.accepted", no,
                                                  {{"item_code", item->code},
                                                   {"query_password", "135790"},
                                                   {"occurred_at", "2026-03-02T09:30:00+08:00"}}))
                    .status == 202);
    };
    auto dueOf = [&](const std::string& no) {
        std::string due;
        testkit::waitUntil(
            [&] {
                auto r =
                    testkit::httpRequest("GET", "http://127.0.0.1:" + std::to_string(hub.port()) +
                                                    "/v1/cases/" + no + "?password=135790");
                if (r.status != 200) return false;
                due = json::parse(r.body).value("promised_due", "");
                return true;
            },
            20s);
        return due;
    };
    accept("CAL-1");
    CHECK(dueOf("CAL-1") == "2026-03-03T17:00:00+08:00");
    // A (hypothetical) notice makes Tuesday 3 March a day off; the operator adds it and
    // sends SIGHUP.
    std::string text;
    {
        std::ifstream in(calendar + "/2026.yaml");
        text.assign(std::istreambuf_iterator<char>(in), {});
    }
    text.replace(text.find("off_days:\n"), 10, "off_days:\n  - { date: 2026-03-03, name: 临时 }\n");
    std::ofstream(calendar + "/2026.yaml") << text;
    REQUIRE(::kill(hub.pid(), SIGHUP) == 0);
    REQUIRE(testkit::waitUntil(
        [&] { return hub.log().find("configuration reloaded") != std::string::npos; }, 30s));
    accept("CAL-2");
    CHECK(dueOf("CAL-2") == "2026-03-04T17:00:00+08:00");
    CHECK(hub.terminate().code == 0);
}

TEST_CASE("Cases: ow-cases-check reports every problem of the data at its line, before a reload",
          "[integration][cases]") {
    namespace fs = std::filesystem;
    testkit::TempDir dir;
    const std::string catalog = dir.file("catalog");
    fs::create_directories(catalog);
    fs::copy_file(kSource + "/config/catalog/health.yaml", catalog + "/health.yaml");
    auto run = [&] {
        auto p = testkit::Process::spawn({itest::tool("cases-check"), "--catalog", catalog,
                                          "--units", kSource + "/config/units.yaml", "--calendar",
                                          kSource + "/config/calendar"},
                                         {}, dir.file("check.out"), dir.file("check.err"));
        auto exit = p.waitExit(30s);
        REQUIRE(exit);
        std::ifstream err(dir.file("check.err")), out(dir.file("check.out"));
        return std::make_tuple(exit->code, std::string(std::istreambuf_iterator<char>(out), {}),
                               std::string(std::istreambuf_iterator<char>(err), {}));
    };
    auto [okCode, okOut, okErr] = run();
    CHECK(okCode == 0);
    CHECK_THAT(okOut, Catch::Contains("OK") && Catch::Contains("years 2025 2026"));
    // A typo and a negative limit: both reported, each at its line and column.
    std::string text;
    {
        std::ifstream in(catalog + "/health.yaml");
        text.assign(std::istreambuf_iterator<char>(in), {});
    }
    const auto limit = text.find("promised_limit: { days: ");
    REQUIRE(limit != std::string::npos);
    text.insert(limit + 24, "-");
    const auto steps = text.find("    steps:");
    REQUIRE(steps != std::string::npos);
    text.replace(steps, 10, "    stepz:");
    std::ofstream(catalog + "/health.yaml") << text;
    auto [badCode, badOut, badErr] = run();
    CHECK(badCode == 1);
    CHECK_THAT(badErr, Catch::Matches("(.|\n)*health\\.yaml:[0-9]+:[0-9]+: 'days' in "
                                      "'promised_limit' of item [0-9A-Z]+ must be between 0 and "
                                      "3650 \\(not -[0-9]+\\)(.|\n)*"));
    CHECK_THAT(badErr, Catch::Contains("unknown key 'stepz' in an item"));
    CHECK_THAT(badErr, Catch::Contains("2 problem(s)"));
}
