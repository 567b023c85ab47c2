// Runs the real onewindow binary for integration tests: its own temp folder, config, data
// directory, log file and loopback port; stopped by PID when the fixture goes away.
#pragma once

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/HttpClient.h"
#include "tests/support/Net.h"
#include "tests/support/Process.h"
#include "tests/support/TempDir.h"
#include "tests/support/Wait.h"

namespace ow::itest {

using namespace std::chrono_literals;

inline std::string binary() {
    return OW_BINARY_PATH;
}
inline std::string tool(const std::string& name) {
    return std::string(OW_TOOLS_DIR) + "/ow-" + name;
}

/// Runs `onewindow ARGS...` to completion and returns (exit code, stdout+stderr).
inline std::pair<int, std::string>
runCli(const testkit::TempDir& dir, std::vector<std::string> args,
       const std::vector<std::pair<std::string, std::string>>& env = {}) {
    static int n = 0;
    std::string out = dir.file("cli-" + std::to_string(++n) + ".out");
    args.insert(args.begin(), binary());
    auto p = testkit::Process::spawn(args, env, out, out);
    auto info = p.waitExit(60s);
    REQUIRE(info);
    return {info->exited ? info->code : 128 + info->signal, testkit::readFile(out)};
}

/// A fresh PKI in `dir` (see tests/support/gen-certs.sh): ca.crt, server.{crt,key},
/// client.{crt,key} issued to `clientCn`, rogue.{crt,key} (self-signed, same CN).
inline void makeCertificates(const testkit::TempDir& dir, const std::string& clientCn) {
    auto p = testkit::Process::spawn(
        {"bash", std::string(OW_SOURCE_DIR) + "/tests/support/gen-certs.sh", dir.path(), clientCn},
        {}, dir.file("gen-certs.log"), dir.file("gen-certs.log"));
    auto info = p.waitExit(60s);
    REQUIRE(info);
    REQUIRE(info->success());
}

class Hub {
public:
    /// Extra environment for the hub process (e.g. secrets referenced as ${NAME} in its config).
    std::vector<std::pair<std::string, std::string>> env;
    /// Command the hub runs under, e.g. {"prlimit", "--fsize=3000000"} (it must exec the hub, so
    /// the PID stays the hub's).
    std::vector<std::string> wrapper;
    /// More arguments for `onewindow run`, e.g. {"--accept-journal-loss"}.
    std::vector<std::string> runArgs;

    /// `configBody` is the YAML without `hub.listen`/`hub.data_dir` (given on the command line).
    Hub(testkit::TempDir& dir, const std::string& configBody, const std::string& name = "hub")
        : dir_(dir), name_(name) {
        config_ = dir.writeFile(name + ".yaml", configBody);
        dataDir_ = dir.file(name + "-data");
    }
    ~Hub() {
        if (process_.pid() > 0 && process_.running()) process_.kill();
    }

    /// Starts on a free port (or the port of the previous run, so clients can keep their URL)
    /// and waits until /readyz answers 200.
    void start() {
        for (int attempt = 0; attempt < 5; ++attempt) {
            if (port_ == 0 || attempt > 0) port_ = testkit::freeLoopbackPort();
            spawnRun();
            bool ready = testkit::waitUntil(
                [&] {
                    if (!process_.running()) return true;
                    try {
                        return testkit::httpRequest("GET", url("/readyz"), "", {}, 1s, tls)
                                   .status == 200;
                    } catch (...) {
                        return false;
                    }
                },
                30s);
            if (ready && process_.running()) return;
            if (process_.running()) process_.kill();
            if (keepPort_) break;
        }
        FAIL("the hub did not become ready; log:\n" << log());
    }

    /// Starts the hub where it may refuse to start: nullopt once it is ready, else how it ended
    /// (its log is in log()).
    std::optional<testkit::ExitInfo> startOrRefusal(std::chrono::milliseconds deadline = 30s) {
        port_ = testkit::freeLoopbackPort();
        spawnRun();
        bool ready = false;
        testkit::waitUntil(
            [&] {
                if (!process_.running()) return true;
                try {
                    ready =
                        testkit::httpRequest("GET", url("/readyz"), "", {}, 1s, tls).status == 200;
                } catch (...) {
                }
                return ready;
            },
            deadline);
        if (ready) return std::nullopt;
        if (process_.running()) {
            process_.kill();
            FAIL("the hub neither became ready nor stopped; log:\n" << testkit::readFile(log_));
        }
        return process_.exitInfo();
    }

    /// Starts the hub where it must refuse to start: how it ended; fails the test if it
    /// became ready instead.
    testkit::ExitInfo startRefused(std::chrono::milliseconds deadline = 30s) {
        auto end = startOrRefusal(deadline);
        if (!end) {
            process_.kill();
            FAIL("the hub started where it must refuse; log:\n" << testkit::readFile(log_));
        }
        return *end;
    }

    /// Restart after a kill on the same port.
    void restart() {
        keepPort_ = true;
        start();
        keepPort_ = false;
    }

    void kill() { process_.kill(); }
    [[nodiscard]] pid_t pid() const { return process_.pid(); }
    testkit::ExitInfo terminate() { return process_.stop(20s); }
    bool running() { return process_.running(); }

    [[nodiscard]] std::string url(const std::string& path = "/v1/events") const {
        return std::string(tls.caFile.empty() ? "http" : "https") +
               "://127.0.0.1:" + std::to_string(port_) + path;
    }

    /// Set when the hub listens with TLS: how the fixture itself talks to it.
    testkit::TlsFiles tls;
    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] const std::string& config() const { return config_; }
    [[nodiscard]] const std::string& dataDir() const { return dataDir_; }
    /// The value of one sample of /metrics, e.g. `onewindow_dead_letters` or
    /// `onewindow_outbox_depth{output="x"}`; -1 when absent.
    double metric(const std::string& sample) const {
        auto text = testkit::httpRequest("GET", url("/metrics")).body;
        auto at = text.find("\n" + sample + " "); // sample lines, not "# HELP" lines
        return at == std::string::npos ? -1 : std::stod(text.substr(at + sample.size() + 2));
    }

    /// True while the hub's connection to `broker` is up.
    bool brokerConnected(const std::string& broker) const {
        return metric("onewindow_mqtt_connected{broker=\"" + broker + "\"}") == 1;
    }

    /// Everything every run of this hub logged, in order.
    [[nodiscard]] std::string log() const {
        std::string all;
        for (const auto& f : logs_)
            all += testkit::readFile(f);
        return all;
    }

    /// `onewindow SUBCOMMAND... -c CONFIG --data-dir DATA`, in the hub's environment.
    std::pair<int, std::string> cli(std::vector<std::string> args) {
        args.insert(args.end(), {"-c", config_, "--data-dir", dataDir_});
        return runCli(dir_, args, env);
    }

private:
    // `onewindow run` on port_, with a log of its own: a restarted hub must not overwrite what
    // the killed one wrote.
    void spawnRun() {
        log_ = dir_.file(name_ + "-" + std::to_string(++runs_) + ".log");
        logs_.push_back(log_);
        std::vector<std::string> argv = wrapper;
        for (std::string a :
             {binary(), std::string("run"), std::string("-c"), config_, std::string("--data-dir"),
              dataDir_, std::string("--listen"), "127.0.0.1:" + std::to_string(port_)})
            argv.push_back(a);
        argv.insert(argv.end(), runArgs.begin(), runArgs.end());
        process_ = testkit::Process::spawn(argv, env, log_, log_);
    }

    testkit::TempDir& dir_;
    std::string name_, config_, dataDir_, log_;
    std::vector<std::string> logs_;
    int runs_ = 0;
    testkit::Process process_;
    std::uint16_t port_ = 0;
    bool keepPort_ = false;
};

inline std::string event(const std::string& id, const std::string& type = "gov.case.submitted",
                         const std::string& subject = "SS-2026-0001") {
    return R"({"specversion":"1.0","id":")" + id + R"(","source":"/intranet-platform","type":")" +
           type + R"(","subject":")" + subject +
           R"(","datacontenttype":"application/json","data":{"item":"370100-001"}})";
}

} // namespace ow::itest
