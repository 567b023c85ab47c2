// SIGHUP reloads plugins, outputs and routes while events flow: a plugin file replaced by a
// new build is swapped (drain, then switch) without losing or duplicating an event, and a
// configuration the hub cannot apply is refused while the running one keeps working.
#include "tests/integration/JournalPeek.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Puts a build of the test plugin in place as `counting.so` the way an operator replaces a
// file: a new file renamed over the old one.
void installPlugin(const std::string& dir, const std::string& build) {
    const std::string tmp = dir + "/.counting.so.new";
    fs::copy_file(std::string(OW_TEST_PLUGIN_DIR) + "/" + build + ".so", tmp,
                  fs::copy_options::overwrite_existing);
    ::chmod(tmp.c_str(), 0644);
    fs::rename(tmp, dir + "/counting.so");
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

std::string config(const std::string& plugins, const std::string& rx,
                   const std::string& pluginFile = "counting.so") {
    return R"(
hub:
  plugin_dirs: [ ")" +
           plugins + R"(" ]
  log_level: info
inputs:
  - { name: events, path: /v1/events }
plugins:
  - { name: test-good, file: )" +
           pluginFile + R"( }
outputs:
  - name: ledger
    processor: test-good/counter
    config: { emit_type: test.counted }
  - { name: rx, url: ")" +
           rx + R"(", concurrency: 8 }
routes:
  - { name: cases, match: { type: "gov.case.*" }, to: [ ledger, rx ] }
  - { name: counted, match: { type: "test.counted" }, to: [ rx ] }
)";
}

} // namespace

TEST_CASE("Reload: a plugin file replaced under load is swapped, nothing lost or duplicated",
          "[integration][plugin][reload]") {
    constexpr int Events = 3000;
    testkit::TempDir dir;
    testkit::Receiver rx;
    const std::string plugins = itest::pluginDir(dir, {});
    installPlugin(plugins, "ow_test_plugin_good");
    itest::Hub hub(dir, config(plugins, rx.url("/events")));
    hub.start();

    const std::string acked = dir.file("acked.txt");
    auto load = testkit::Process::spawn(
        {itest::tool("loadgen"), "--url", hub.url(), "--events", std::to_string(Events), "--rate",
         "600", "--concurrency", "8", "--id-prefix", "ev", "--acked-file", acked, "--timeout-ms",
         "5000", "--subjects", "50", "--type", "gov.case.submitted"},
        {}, dir.file("loadgen.out"), dir.file("loadgen.err"));
    auto ackedCount = [&] {
        std::ifstream in(acked);
        return static_cast<long>(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
    };

    // 1: the new build of the plugin, mid-stream.
    REQUIRE(testkit::waitUntil([&] { return ackedCount() >= Events / 3; }, 60s));
    installPlugin(plugins, "ow_test_plugin_good_v2");
    REQUIRE(::kill(hub.pid(), SIGHUP) == 0);
    REQUIRE(testkit::waitUntil(
        [&] { return occurrences(hub.log(), "configuration reloaded") == 1; }, 30s));

    // 2: a configuration that cannot be applied (the plugin file does not exist) is refused,
    // and the running one keeps going.
    REQUIRE(testkit::waitUntil([&] { return ackedCount() >= 2 * Events / 3; }, 60s));
    dir.writeFile("hub.yaml", config(plugins, rx.url("/events"), "missing.so"));
    REQUIRE(::kill(hub.pid(), SIGHUP) == 0);
    REQUIRE(testkit::waitUntil(
        [&] { return occurrences(hub.log(), "configuration not reloaded") == 1; }, 30s));
    CHECK_THAT(hub.log(), Catch::Contains("missing.so"));

    auto loadExit = load.waitExit(120s);
    REQUIRE(loadExit);
    CHECK(loadExit->code == 0);
    CHECK(ackedCount() == Events);

    // Every accepted event delivered once and counted once; the counted events show the swap.
    const long accepted = itest::eventsFrom(hub, "events");
    CHECK(accepted == Events);
    REQUIRE(testkit::waitUntil(
        [&] {
            return itest::pluginNumber(hub, "ledger", "count") >= accepted &&
                   rx.countFor([](const testkit::ReceivedRequest& q) { return q.status == 200; }) >=
                       static_cast<std::size_t>(2 * accepted);
        },
        60s));
    auto snap = rx.snapshot();
    std::set<std::string> cases, counted;
    std::size_t caseDeliveries = 0, countedDeliveries = 0, v1 = 0, v2 = 0;
    for (const auto& q : snap) {
        if (q.status != 200) continue;
        auto ev = nlohmann::json::parse(q.body);
        if (ev["type"] == "gov.case.submitted") {
            ++caseDeliveries;
            cases.insert(ev["id"].get<std::string>());
        } else if (ev["type"] == "test.counted") {
            ++countedDeliveries;
            counted.insert(ev["id"].get<std::string>());
            (ev.value("pluginversion", "") == "2.0.0" ? v2 : v1)++;
        }
    }
    INFO("v1 " << v1 << " v2 " << v2);
    CHECK(cases.size() == static_cast<std::size_t>(accepted));
    CHECK(caseDeliveries == cases.size());
    CHECK(counted.size() == static_cast<std::size_t>(accepted));
    CHECK(countedDeliveries == counted.size());
    CHECK(v1 > 0);
    CHECK(v2 > 0);
    CHECK(itest::pluginNumber(hub, "ledger", "count") == accepted);
    CHECK(itest::pluginNumber(hub, "ledger", "dups") == 0);
    auto exit = hub.terminate();
    CHECK(exit.code == 0);
}
