// Files the hub trusts: plugin files and their folders, the data folder and the private
// copies of the plugins must be changeable by the hub's user or root only; a name planted in
// the copies' folder is never followed; an include of something that is not a regular file
// (a FIFO) cannot hang `check` or `run`, and a file that is not configuration is never quoted.
#include "tests/integration/JournalPeek.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/plugin/PluginFile.h"

using namespace ow;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr uid_t kNobody = 65534;

std::string pluginConfig(const std::string& plugins) {
    return R"(
hub:
  plugin_dirs: [ ")" +
           plugins + R"(" ]
inputs:
  - { name: events, path: /v1/events }
plugins:
  - { name: test-good, file: ow_test_plugin_good.so }
outputs:
  - { name: ledger, processor: test-good/counter }
routes:
  - { name: all, match: { type: "*" }, to: [ ledger ] }
)";
}

/// `onewindow check`, stopped by its PID if it has not ended within `deadline`.
std::pair<bool, std::string> checkWithin(const testkit::TempDir& dir, const std::string& config,
                                         std::chrono::seconds deadline) {
    const std::string out = dir.file("check.out");
    auto p = testkit::Process::spawn({itest::binary(), "check", "-c", config}, {}, out, out);
    auto info = p.waitExit(deadline);
    if (!info) p.kill();
    return {info && info->exited && info->code == 1, testkit::readFile(out)};
}

} // namespace

TEST_CASE("Plugin files and folders that others can change are refused", "[integration][plugin]") {
    REQUIRE(::geteuid() == 0); // as the suite runs: giving files to another user needs root
    testkit::TempDir dir;
    const std::string plugins = itest::pluginDir(dir, {"ow_test_plugin_good"});
    const std::string file = plugins + "/ow_test_plugin_good.so";
    itest::Hub hub(dir, pluginConfig(plugins));
    auto refused = [&](const std::string& why) {
        auto [code, out] = hub.cli({"check"});
        INFO(out);
        CHECK(code == 1);
        CHECK_THAT(out, Catch::Contains(why));
    };
    REQUIRE(hub.cli({"check"}).first == 0);

    SECTION("a file its group can write") {
        ::chmod(file.c_str(), 0664);
        refused("is writable by its group");
    }
    SECTION("a file of another user") {
        REQUIRE(::chown(file.c_str(), kNobody, static_cast<gid_t>(-1)) == 0);
        refused("belongs to");
    }
    SECTION("a folder of another user") {
        REQUIRE(::chown(plugins.c_str(), kNobody, static_cast<gid_t>(-1)) == 0);
        refused("belongs to");
    }
    SECTION("a folder under one that everybody can write, without the sticky bit") {
        const std::string open = dir.file("open");
        fs::create_directories(open);
        ::chmod(open.c_str(), 0777);
        fs::rename(plugins, open + "/plugins");
        dir.writeFile("hub.yaml", pluginConfig(open + "/plugins"));
        refused("without the sticky bit");
        ::chmod(open.c_str(), 01777); // like /tmp: others cannot rename what is not theirs
        CHECK(hub.cli({"check"}).first == 0);
    }
}

TEST_CASE("A data folder others can change is refused at start", "[integration][plugin]") {
    testkit::TempDir dir;
    itest::Hub hub(dir, "inputs:\n  - { name: events, path: /v1/events }\n");
    fs::create_directories(hub.dataDir());
    ::chmod(hub.dataDir().c_str(), 0770);
    auto [code, out] = itest::runCli(
        dir, {"run", "-c", hub.config(), "--data-dir", hub.dataDir(), "--listen", "127.0.0.1:0"});
    CHECK(code == 1);
    CHECK_THAT(out, Catch::Contains("data folder") && Catch::Contains("writable by its group"));
}

TEST_CASE("The private plugin copies: a planted name is not followed, a foreign folder refused",
          "[integration][plugin]") {
    testkit::TempDir dir;
    const std::string plugins = itest::pluginDir(dir, {"ow_test_plugin_good"});
    itest::Hub hub(dir, pluginConfig(plugins));
    const std::string digest = plugin::sha256File(plugins + "/ow_test_plugin_good.so");
    const std::string stage = hub.dataDir() + "/plugins-loaded";
    fs::create_directories(stage);
    ::chmod(stage.c_str(), 0700);

    SECTION("a symlink where the copy is first written") {
        const std::string victim = dir.writeFile("victim.txt", "the victim's content");
        ::chmod(victim.c_str(), 0644);
        fs::create_symlink(victim,
                           stage + "/ow_test_plugin_good-" + digest.substr(0, 16) + ".so.tmp");
        hub.start();
        CHECK(testkit::readFile(victim) == "the victim's content");
        struct stat st {};
        REQUIRE(::stat(victim.c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0644);
        CHECK(fs::is_regular_file(
            fs::symlink_status(stage + "/ow_test_plugin_good-" + digest.substr(0, 16) + ".so")));
    }
    SECTION("a copies folder others can write") {
        ::chmod(stage.c_str(), 0777);
        auto [code, out] = itest::runCli(dir, {"run", "-c", hub.config(), "--data-dir",
                                               hub.dataDir(), "--listen", "127.0.0.1:0"});
        CHECK(code == 1);
        CHECK_THAT(out,
                   Catch::Contains("plugin copies") && Catch::Contains("writable by other users"));
    }
}

TEST_CASE("An include of a FIFO fails at once instead of hanging check", "[integration][config]") {
    testkit::TempDir dir;
    const std::string fifo = dir.file("routes.yaml");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    SECTION("named") {
        const std::string config =
            dir.writeFile("hub.yaml", "inputs:\n  - { name: e, path: /v1/events }\n"
                                      "include: [ routes.yaml ]\n");
        auto [failed, out] = checkWithin(dir, config, 20s);
        CHECK(failed);
        CHECK_THAT(out, Catch::Contains("hub.yaml:3:") && Catch::Contains("not a regular file"));
    }
    SECTION("as the configuration file itself") {
        auto [failed, out] = checkWithin(dir, fifo, 20s);
        CHECK(failed);
        CHECK_THAT(out, Catch::Contains("not a regular file"));
    }
}

TEST_CASE("A file that is not configuration is not quoted in the errors", "[integration][config]") {
    testkit::TempDir dir;
    // As /etc/shadow reads (shadow itself is not readable by every user that runs the tests).
    const std::string secret =
        "root:$y$j9T$SeCrEtHaSh0123456789$abcdefghijklmnop:19700:0:99999:7:::";
    dir.writeFile("shadow", secret + "\ndaemon:*:19700:0:99999:7:::\n");
    const std::string config = dir.writeFile(
        "hub.yaml", "inputs:\n  - { name: e, path: /v1/events }\ninclude: [ shadow ]\n");
    auto [failed, out] = checkWithin(dir, config, 20s);
    CHECK(failed);
    CHECK_THAT(out, Catch::Contains("shadow"));
    CHECK_THAT(out, !Catch::Contains("SeCrEtHaSh") && !Catch::Contains("19700"));
    // A file that is a single line of text (a token file included by mistake) is not quoted
    // either.
    dir.writeFile("platform.token", "s3cr3t-Token-Value-0123456789\n");
    const std::string withToken = dir.writeFile(
        "token.yaml", "inputs:\n  - { name: e, path: /v1/events }\ninclude: [ platform.token ]\n");
    auto [failedToken, outToken] = checkWithin(dir, withToken, 20s);
    CHECK(failedToken);
    CHECK_THAT(outToken, Catch::Contains("platform.token") && Catch::Contains("single text value"));
    CHECK_THAT(outToken, !Catch::Contains("s3cr3t-Token-Value"));
    if (::access("/etc/shadow", R_OK) == 0) {
        dir.writeFile("hub.yaml",
                      "inputs:\n  - { name: e, path: /v1/events }\ninclude: [ /etc/shadow ]\n");
        auto [failedToo, outToo] = checkWithin(dir, config, 20s);
        CHECK(failedToo);
        CHECK_THAT(outToo, !Catch::Contains("root:"));
    }
}
