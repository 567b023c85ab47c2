// A bad day for the whole center, on the shipped center configuration (config/center/*.yaml):
// the hub starts while every system it talks to is unreachable (the intranet platform,
// e-supervision, 工商局, 公安局, 国土资源局's front-end database, EMS, the counters, the other
// departments, the hall's MQTT broker), takes the morning's applications meanwhile, and then
// every system comes up. What the issue asks of such a day:
// - the log stays short: per system, one line when it goes down, a reminder at most every
//   hub.outages.reminder_s while it stays down, one line when it is back;
// - sources back off (exponential, capped) instead of polling every second, and /readyz names
//   the sources that are down (degraded, still 200: events are still taken);
// - once the systems are up every feed is read again within its capped backoff, and
//   everything accepted meanwhile is delivered;
// - the commands that read only the data dir (dlq, report, fees reconcile) run on a copy of it
//   with the shipped configuration on a machine without the plugin folder, the TLS files and
//   the secrets.
#include "tests/integration/CenterSecrets.h"
#include "tests/integration/JournalPeek.h"
#include "tests/integration/Simulators.h"
#include "tests/integration/WebhookSigning.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/Mosquitto.h"
#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// A minute without any external system: long enough for the sources' backoff to reach its cap
// several times and for reminders to be due at every ReminderS.
constexpr int OutageS = 60;
constexpr int ReminderS = 10;
constexpr int SourceCapMs = 8000;

json readyz(const itest::Hub& hub) {
    return json::parse(testkit::httpRequest("GET", hub.url("/readyz")).body, nullptr, false);
}

double outboxDepth(const itest::Hub& hub) {
    const auto text = testkit::httpRequest("GET", hub.url("/metrics")).body;
    double sum = 0;
    std::size_t at = 0;
    const std::string name = "\nonewindow_outbox_depth{";
    while ((at = text.find(name, at)) != std::string::npos) {
        at = text.find("} ", at) + 2;
        sum += std::stod(text.substr(at));
    }
    return sum;
}

// The log's lines per system: the input, output, broker or plugin instance a line names
// ("hub" for the rest).
std::map<std::string, std::vector<json>> linesPerSystem(const std::string& log) {
    std::map<std::string, std::vector<json>> out;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
        const json j = json::parse(line, nullptr, false);
        std::string system = "hub";
        if (j.is_object())
            for (const char* key : {"input", "output", "broker", "instance"})
                if (j.contains(key) && j[key].is_string()) {
                    system = j[key].get<std::string>();
                    break;
                }
        out[system].push_back(j.is_object() ? j : json(line));
    }
    return out;
}

const std::vector<std::string> Sources = {"gongshang-updates", "land-records", "gongan-updates",
                                          "ems-traces"};

} // namespace

TEST_CASE("A bad day: every system unreachable, then back: a short log, /readyz names what is "
          "down, every feed recovers and nothing is lost",
          "[integration][badday]") {
    testkit::TempDir dir;
    const std::string src = OW_SOURCE_DIR;
    testkit::Mosquitto broker(dir);
    broker.start(); // takes its port for the configuration
    broker.stop();
    testkit::TempDir pki, secrets;
    itest::writeUnitTokens(secrets);
    itest::makeCertificates(pki, "onewindow-hub");

    constexpr int Rate = 600;
    const auto at = itest::nowS() + 3;
    const std::string clock = "1772413200," + std::to_string(at) + "," + std::to_string(Rate);
    char start[64];
    std::time_t atT = at;
    std::tm tm{};
    gmtime_r(&atT, &tm);
    std::strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", &tm);

    // Every address is where nothing listens yet; the front-end database's folder is missing.
    auto port = [] { return std::to_string(testkit::freeLoopbackPort()); };
    const std::string platformPort = port(), supervisionPort = port(), gongshangPort = port(),
                      gonganPort = port(), postPort = port(), utilityPort = port(),
                      departmentsPort = port(), printerPort = port();
    const std::string frontDb = dir.file("qzk/land-resources.db");
    const std::string platformToken = "platform-token-2026", unitsToken = "units-token-2026",
                      terminalKey = "cib-terminal-01-key-of-the-day", gsToken = "gs-token-2026",
                      emsKey = "ems-key-2026";
    auto local = [](const std::string& p) { return "http://127.0.0.1:" + p; };

    itest::Hub hub(dir,
                   R"(
hub:
  log_level: info
  plugin_dirs: [ ")" +
                       itest::firstPartyPluginDir(
                           dir, {"cases.so", "fees.so", "intranet-platform.so", "e-supervision.so",
                                 "industry-commerce.so", "public-security.so", "land-resources.so",
                                 "post.so", "utility-accounts.so"}) +
                       R"(" ]
  business_clock: { start: "2026-03-02T09:00:00+08:00", at: ")" +
                       start + R"(", rate: )" + std::to_string(Rate) + R"( }
  outages: { reminder_s: )" +
                       std::to_string(ReminderS) + R"(, source_retry: { max_delay_ms: )" +
                       std::to_string(SourceCapMs) +
                       R"( } }
include: [ ")" + src + R"(/config/center/*.yaml" ]
)");
    hub.env = {{"OW_PLATFORM_TOKEN", platformToken},
               {"OW_UNITS_TOKEN", unitsToken},
               {"OW_TERMINAL_01_KEY", terminalKey},
               {"OW_FEE_CHECK_KEY", "check-code-key-of-the-bad-day"},
               {"OW_GS_TOKEN", gsToken},
               {"OW_EMS_KEY", emsKey},
               {"OW_HOME", src},
               {"OW_PLATFORM_URL", local(platformPort)},
               {"OW_SUPERVISION_URL", local(supervisionPort)},
               {"OW_GONGSHANG_URL", local(gongshangPort)},
               {"OW_GONGAN_URL", "https://127.0.0.1:" + gonganPort},
               {"OW_GONGAN_CA", pki.file("ca.crt")},
               {"OW_GONGAN_CERT", pki.file("client.crt")},
               {"OW_GONGAN_KEY", pki.file("client.key")},
               {"OW_EMS_URL", local(postPort)},
               {"OW_FRONTDB", frontDb},
               {"OW_UTILITY_URL", local(utilityPort)},
               {"OW_DEPARTMENTS_URL", local(departmentsPort)},
               {"OW_PRINTER_URL", local(printerPort)},
               {"OW_MQTT_URL", broker.url()},
               {"OW_MQTT_PASSWORD", "hall-broker-password-2026"},
               {"OW_SECRETS_DIR", secrets.path()}};
    const auto hubStarted = std::chrono::steady_clock::now();
    hub.start();

    // The morning's applications, fees and payments come in while everything is down (the
    // window printer is the day's own; one application names an item the catalog lacks).
    const std::string out = dir.file("day");
    auto day = testkit::Process::spawn(std::vector<std::string>{itest::tool("workday"),
                                                                "--hub",
                                                                hub.url(""),
                                                                "--token",
                                                                platformToken,
                                                                "--terminal-key",
                                                                terminalKey,
                                                                "--cases",
                                                                "24",
                                                                "--rate",
                                                                std::to_string(Rate),
                                                                "--at",
                                                                std::to_string(at),
                                                                "--port",
                                                                printerPort,
                                                                "--out",
                                                                out,
                                                                "--end",
                                                                "09:30",
                                                                "--poison",
                                                                "--seed",
                                                                "11",
                                                                "--catalog",
                                                                src + "/config/catalog",
                                                                "--units",
                                                                src + "/config/units.yaml",
                                                                "--calendar",
                                                                src + "/config/calendar",
                                                                "--department-tokens",
                                                                secrets.path()},
                                       {}, dir.file("workday.out"), dir.file("workday.err"));

    // /readyz names every source that is down; the hub still takes events (200, degraded).
    REQUIRE(testkit::waitUntil(
        [&] {
            const json r = readyz(hub);
            if (!r.is_object() || !r.contains("sources")) return false;
            for (const auto& s : Sources)
                if (r["sources"].value(s, "") != "down") return false;
            return true;
        },
        20s));
    {
        const auto r = testkit::httpRequest("GET", hub.url("/readyz"));
        INFO(r.body);
        CHECK(r.status == 200);
        const json body = json::parse(r.body);
        CHECK(body["status"] == "degraded");
        CHECK(body["brokers"]["hall"] == "disconnected");
        CHECK(hub.metric("onewindow_source_up{input=\"ems-traces\"}") == 0);
    }

    const auto finished = day.waitExit(120s);
    INFO(testkit::readFile(dir.file("workday.err")));
    REQUIRE(finished);
    REQUIRE(finished->success());
    const json plan = json::parse(testkit::readFile(out + "/plan.json"));
    REQUIRE(plan["refused"] == 0); // the hub took every request while everything was down

    // The outage lasts its time (the scenario, not a wait for something to happen).
    REQUIRE(testkit::waitUntil(
        [&] {
            return std::chrono::steady_clock::now() - hubStarted >= std::chrono::seconds(OutageS);
        },
        std::chrono::seconds(OutageS + 5)));
    const auto outageS = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::steady_clock::now() - hubStarted)
                             .count();
    // Backoff, not a poll a second: at most the attempts that fit in the outage if every delay
    // (1 s doubling to the cap) were drawn at its shortest (-20 %), one more for slack.
    int mostAttempts = 2;
    for (double delay = 800, at = delay; at <= static_cast<double>(outageS) * 1000;
         delay = std::min(delay * 2, SourceCapMs * 0.8), at += delay)
        ++mostAttempts;
    for (const auto& s : Sources) {
        INFO(s << ", at most " << mostAttempts << " attempts in " << outageS << " s");
        const double failures =
            hub.metric("onewindow_source_consecutive_failures{input=\"" + s + "\"}");
        CHECK(failures >= 3);
        CHECK(failures <= mostAttempts);
    }
    const std::string outageLog = hub.log();
    CHECK(outageLog.find("json.exception") == std::string::npos);
    CHECK(outageLog.find("EMS did not answer") != std::string::npos);
    CHECK(outageLog.find("工商局 did not answer") != std::string::npos);
    CHECK(outageLog.find("国土资源局: cannot open the front-end database") != std::string::npos);

    // Every system comes up.
    broker.start();
    itest::Simulator platform(dir, "platform-sim",
                              {"--port", platformPort, "--token", platformToken}, false);
    itest::Simulator supervision(
        dir, "supervision-sim",
        {"--port", supervisionPort, "--record", dir.file("supervision.ndjson")}, false);
    itest::Simulator gongshang(
        dir, "gongshang-sim",
        {"--port", gongshangPort, "--token", gsToken, "--step-ms", "30", "--business-clock", clock},
        false);
    itest::Simulator gongan(dir, "gongan-sim",
                            {"--port", gonganPort, "--cert", pki.file("server.crt"), "--key",
                             pki.file("server.key"), "--client-ca", pki.file("ca.crt"), "--step-ms",
                             "30", "--business-clock", clock},
                            false);
    itest::Simulator post(
        dir, "post-sim",
        {"--port", postPort, "--api-key", emsKey, "--step-ms", "30", "--business-clock", clock},
        false);
    std::filesystem::create_directories(dir.file("qzk"));
    itest::Simulator frontdb(
        dir, "frontdb-sim", {"--db", frontDb, "--step-ms", "30", "--business-clock", clock}, false);
    itest::Simulator utility(dir, "utility-sim",
                             {"--port", utilityPort, "--hub-url", hub.url("/v1/units/events"),
                              "--token", unitsToken, "--step-ms", "30"},
                             false);
    testkit::ReceiverOptions departmentsAt;
    departmentsAt.port = static_cast<std::uint16_t>(std::stoi(departmentsPort));
    testkit::Receiver departments(departmentsAt);
    const auto systemsUp = std::chrono::steady_clock::now();

    // Every feed is read again within its capped backoff (the cap, its jitter, a poll and the
    // time a simulator takes to listen); the broker is connected again within its own (30 s).
    const auto capped = std::chrono::milliseconds(SourceCapMs * 12 / 10 + 5000);
    const bool recovered = testkit::waitUntil(
        [&] {
            const json r = readyz(hub);
            if (!r.is_object() || !r.contains("sources")) return false;
            for (const auto& s : Sources)
                if (r["sources"].value(s, "") != "up") return false;
            return true;
        },
        capped);
    INFO(readyz(hub).dump());
    REQUIRE(recovered);
    const auto recoveredMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - systemsUp)
                                 .count();
    for (const auto& s : Sources)
        CHECK(hub.metric("onewindow_source_up{input=\"" + s + "\"}") == 1);
    REQUIRE(testkit::waitUntil([&] { return readyz(hub).value("status", "") == "ready"; }, 40s));

    // Everything accepted meanwhile is delivered: the outbox empties and stays so once the
    // departments' answers are in and their feeds acknowledged.
    REQUIRE(testkit::waitUntil([&] { return outboxDepth(hub) == 0; }, 120s));
    const testkit::Headers gsAuth = {{"token", gsToken}};
    CHECK(itest::waitForFeedAcknowledged(
        local(gongshangPort) + "/api/v1/updates", gsAuth,
        [](const std::string& b) { return json::parse(b, nullptr, false)["data"].empty(); }));
    REQUIRE(testkit::waitUntil([&] { return outboxDepth(hub) == 0; }, 120s));

    // The log: per system one line when it went down, at most one reminder per ReminderS
    // while it was down, one line when it was back (and one "started" for a plugin sink).
    const std::string log = hub.log();
    CHECK(log.find("json.exception") == std::string::npos);
    const auto perSystem = linesPerSystem(log);
    const auto elapsedS = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::steady_clock::now() - hubStarted)
                              .count();
    const long bound = 2 + elapsedS / ReminderS + 1;
    long total = 0;
    for (const auto& [system, lines] : perSystem) {
        INFO(system << ": " << json(lines).dump(1));
        total += static_cast<long>(lines.size());
        CHECK(static_cast<long>(lines.size()) <= (system == "hub" ? 30 : bound));
    }
    for (const auto& s : Sources) {
        const auto& lines = perSystem.at(s);
        INFO(json(lines).dump(1));
        int down = 0, back = 0;
        for (const auto& l : lines) {
            down += l.value("msg", "") == "unavailable; trying again with backoff";
            back += l.value("msg", "") == "available again";
        }
        CHECK(down == 1);
        CHECK(back == 1);
    }
    std::cout << "bad-day: outage=" << outageS << "s elapsed=" << elapsedS
              << "s log_lines=" << total << " systems=" << perSystem.size() - 1
              << " bound_per_system=" << bound << " hub_lines=" << perSystem.at("hub").size()
              << " sources_recovered_after_ms=" << recoveredMs << std::endl;

    // The departments got what was accepted for them while they were down.
    std::map<std::string, std::set<std::string>> casesOf;
    for (const auto& c : plan["cases"])
        casesOf[c["department"]].insert(c["case_no"].get<std::string>());
    CHECK(hub.terminate().success());
    const json gs = gongshang.stop(), ga = gongan.stop(), fd = frontdb.stop();
    CHECK(gs["applications"] == casesOf["industry-commerce"].size());
    CHECK(ga["applications"] == casesOf["public-security"].size());
    CHECK(fd["cases"] == casesOf["land-resources"].size());
    std::set<std::string> accepted;
    for (const auto& q : departments.snapshot()) {
        const json e = json::parse(q.body, nullptr, false);
        if (q.status == 200 && e.is_object() && e.value("type", "") == "gov.case.accepted")
            accepted.insert(e.value("subject", ""));
    }
    for (const auto& [department, cases] : casesOf) {
        if (department == "industry-commerce" || department == "public-security" ||
            department == "land-resources")
            continue;
        for (const auto& c : cases) {
            INFO(department << " " << c);
            CHECK(accepted.count(c) == 1);
        }
    }

    // The data dir on a recovery machine: a copy of it and of the shipped configuration, no
    // plugin folder (config/../build-release/plugins/lib is not there), no TLS files
    // (var/tls), no secrets in the environment.
    const std::string machine = dir.file("recovery");
    std::filesystem::create_directories(machine + "/config");
    std::filesystem::copy_file(src + "/config/onewindow.yaml", machine + "/config/onewindow.yaml");
    std::filesystem::copy(src + "/config/center", machine + "/config/center",
                          std::filesystem::copy_options::recursive);
    std::filesystem::copy(hub.dataDir(), machine + "/data",
                          std::filesystem::copy_options::recursive);
    REQUIRE_FALSE(std::filesystem::exists(machine + "/build-release"));
    REQUIRE_FALSE(std::filesystem::exists(machine + "/var/tls"));
    auto offline = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = {"env"};
        for (const char* secret :
             {"OW_PLATFORM_TOKEN", "OW_UNITS_TOKEN", "OW_TERMINAL_01_KEY", "OW_FEE_CHECK_KEY",
              "OW_GS_TOKEN", "OW_EMS_KEY", "OW_PLUGIN_DIR", "OW_GONGAN_CA", "OW_GONGAN_CERT",
              "OW_GONGAN_KEY", "OW_MQTT_PASSWORD", "OW_SECRETS_DIR", "OW_AUDIT_KEY"})
            argv.insert(argv.end(), {"-u", secret});
        argv.push_back(itest::binary());
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(),
                    {"-c", machine + "/config/onewindow.yaml", "--data-dir", machine + "/data"});
        const std::string file = dir.file("offline.out");
        auto p = testkit::Process::spawn(argv, {}, file, file);
        const auto exit = p.waitExit(60s);
        REQUIRE(exit);
        return std::make_pair(exit->exited ? exit->code : 128 + exit->signal,
                              testkit::readFile(file));
    };
    // `run` on that machine is refused, for the reasons the commands below ignore.
    {
        auto [rc, text] = offline({"check"});
        INFO(text);
        CHECK(rc == 1);
        CHECK(text.find("plugin directory") != std::string::npos);
    }
    auto [listRc, list] = offline({"dlq", "list", "--json"});
    INFO(list);
    REQUIRE(listRc == 0);
    const json dead = json::parse(list);
    REQUIRE(dead.size() == 1); // the application for an item the catalog lacks, nothing else
    CHECK(dead[0].dump().find("is not in the center's catalog") != std::string::npos);
    auto [showRc, shown] = offline({"dlq", "show", std::to_string(dead[0]["id"].get<long>())});
    INFO(shown);
    CHECK(showRc == 0);
    CHECK(json::parse(shown)["event"].is_object());
    auto [reportRc, report] =
        offline({"report", "monthly", "--month", "2026-03", "--out", machine + "/out"});
    INFO(report);
    CHECK(reportRc == 0);
    CHECK(std::filesystem::file_size(machine + "/out/report-2026-03.csv") > 0);
    auto [feesRc, fees] = offline({"fees", "reconcile", "--date", "2026-03-02", "--statement",
                                   out + "/statement-2026-03-02.csv", "--out", machine + "/out"});
    INFO(fees);
    CHECK(feesRc == 0);
    CHECK(fees.find(std::to_string(plan["payments"].size()) + " matched, 0 mismatch") !=
          std::string::npos);
}
