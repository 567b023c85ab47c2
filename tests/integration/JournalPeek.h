// Reading a hub's journal from a test, as the hub committed it (a read-only connection; the
// hub may be running: WAL readers do not disturb it). Plus the plugin folder the plugin
// tests load from.
#pragma once

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "core/store/Journal.h"
#include "core/store/PluginState.h"
#include "tests/integration/HubFixture.h"

namespace ow::itest {

/// Rows of the events table that came in through `input` ("processor:<output>" for what a
/// processor emitted).
inline long eventsFrom(const Hub& hub, const std::string& input) {
    store::Database db(store::Journal::fileName(hub.dataDir()), /*readOnly=*/true);
    store::Statement s(db, "SELECT count(*) FROM events WHERE input=?1");
    s.bind(1, input);
    return s.step() ? static_cast<long>(s.int64(0)) : -1;
}

/// Events of `type` and `source` in the journal.
inline long eventsOfType(const Hub& hub, const std::string& type, const std::string& source) {
    store::Database db(store::Journal::fileName(hub.dataDir()), /*readOnly=*/true);
    store::Statement s(db, "SELECT count(*) FROM events WHERE type=?1 AND source=?2");
    s.bind(1, type).bind(2, source);
    return s.step() ? static_cast<long>(s.int64(0)) : -1;
}

/// Events submitted by CLI commands that the hub has not taken in yet.
inline long inboxRows(const Hub& hub) {
    store::Database db(store::Journal::fileName(hub.dataDir()), /*readOnly=*/true);
    store::Statement s(db, "SELECT count(*) FROM inbox");
    return s.step() ? static_cast<long>(s.int64(0)) : -1;
}

/// A processor instance's state value.
inline std::optional<std::string> pluginState(const Hub& hub, const std::string& instance,
                                              const std::string& key) {
    store::Database db(store::Journal::fileName(hub.dataDir()), /*readOnly=*/true);
    return store::PluginState(db).get(instance, key);
}

/// A state value that holds a number; 0 when absent.
inline long pluginNumber(const Hub& hub, const std::string& instance, const std::string& key) {
    auto v = pluginState(hub, instance, key);
    return v ? std::stol(*v) : 0;
}

/// `plugins/` in `dir` as an operator keeps it (0755, files 0644), holding the test plugin
/// builds named in `builds` (e.g. "ow_test_plugin_good"), each as `<build>.so`.
inline std::string pluginDir(const testkit::TempDir& dir, const std::vector<std::string>& builds) {
    namespace fs = std::filesystem;
    std::string d = dir.file("plugins");
    fs::create_directories(d);
    ::chmod(d.c_str(), 0755);
    for (const auto& b : builds) {
        std::string to = d + "/" + b + ".so";
        fs::copy_file(std::string(OW_TEST_PLUGIN_DIR) + "/" + b + ".so", to,
                      fs::copy_options::overwrite_existing);
        ::chmod(to.c_str(), 0644);
    }
    return d;
}

/// The `config` lines (indented for an output's config map) pointing a first-party plugin at
/// the repository's catalog, units and calendar.
inline std::string caseDataConfig() {
    const std::string src = OW_SOURCE_DIR;
    return "      catalog_dir: \"" + src + "/config/catalog\"\n      units_file: \"" + src +
           "/config/units.yaml\"\n      calendar_dir: \"" + src + "/config/calendar\"\n";
}

/// The hub's dead letters (`onewindow dlq list --json`), once there are `count` of them and
/// every one's error mentions `reason` (within 30 s; fails the test otherwise).
inline nlohmann::json waitForDeadLetters(Hub& hub, std::size_t count, const std::string& reason) {
    nlohmann::json dead;
    const bool ok = testkit::waitUntil(
        [&] {
            auto [rc, out] = hub.cli({"dlq", "list", "--json"});
            if (rc != 0) return false;
            dead = nlohmann::json::parse(out, nullptr, false);
            if (!dead.is_array() || dead.size() != count) return false;
            return std::all_of(dead.begin(), dead.end(), [&](const nlohmann::json& d) {
                return d.dump().find(reason) != std::string::npos;
            });
        },
        std::chrono::seconds(30));
    INFO(dead.dump(2));
    REQUIRE(ok);
    return dead;
}

/// `plugins/` in `dir` holding the first-party plugins (`cases.so`, `fees.so`) of this build.
inline std::string firstPartyPluginDir(const testkit::TempDir& dir,
                                       const std::vector<std::string>& files) {
    namespace fs = std::filesystem;
    const std::string d = dir.file("plugins");
    fs::create_directories(d);
    ::chmod(d.c_str(), 0755);
    for (const auto& f : files) {
        const std::string to = d + "/" + f;
        fs::copy_file(std::string(OW_CASES_PLUGIN_DIR) + "/" + f, to,
                      fs::copy_options::overwrite_existing);
        ::chmod(to.c_str(), 0644);
    }
    return d;
}

} // namespace ow::itest
