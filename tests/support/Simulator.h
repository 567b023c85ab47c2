// What the simulators of department systems (tools/*-sim) share: serving HTTP on loopback
// until SIGTERM/SIGINT, the port written to a file for whoever started them, and a summary
// line on stdout at the end; the center's wall-clock time as department systems write it.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/Receiver.h"

namespace ow::testkit {

/// Options "--name value" of a simulator's command line, each value taken as text or as a
/// number; an unknown option or a missing or bad value exits 2 with the usage.
class SimulatorOptions {
public:
    SimulatorOptions(std::string tool, std::string usage)
        : tool_(std::move(tool)), usage_(std::move(usage)) {}
    /// Calls `on(option)` for each option; `on` reads its value with text() or number() and
    /// returns false for an option it does not know.
    void parse(int argc, char** argv, const std::function<bool(const std::string&)>& on) {
        argc_ = argc;
        argv_ = argv;
        for (i_ = 1; i_ < argc; ++i_) {
            option_ = argv[i_];
            if (!on(option_)) fail("unknown option '" + option_ + "'");
        }
    }
    std::string text() {
        if (i_ + 1 >= argc_) fail(option_ + " needs a value");
        return argv_[++i_];
    }
    int number() {
        const std::string v = text();
        try {
            return std::stoi(v);
        } catch (...) {
            fail(option_ + " needs a number, got '" + v + "'");
        }
    }
    [[noreturn]] void fail(const std::string& why) const {
        std::cerr << tool_ << ": " << why << "\nusage: " << usage_ << "\n";
        std::exit(2);
    }

private:
    std::string tool_, usage_, option_;
    int argc_ = 0, i_ = 0;
    char** argv_ = nullptr;
};

/// "2026-03-02 10:15:00", China Standard Time, `plusSeconds` from now.
inline std::string chinaLocalTime(int plusSeconds = 0) {
    std::time_t t = std::time(nullptr) + 8 * 3600 + plusSeconds;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

/// Blocks SIGTERM/SIGINT (before any thread starts, so only sigwait takes them) and ignores
/// SIGPIPE; returns the set to wait on.
inline sigset_t blockStopSignals() {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    return stop;
}

/// Serves `reply` on 127.0.0.1:`port` (0: any) until SIGTERM/SIGINT, writing the port to
/// `portFile` (atomically) if given; then prints `summary()` and returns the exit code.
inline int serveSimulator(const std::string& name, int port, const std::string& portFile,
                          ReplyFunction reply, const std::function<nlohmann::json()>& summary) {
    const sigset_t stop = blockStopSignals();
    try {
        ReceiverOptions options;
        options.port = static_cast<std::uint16_t>(port);
        options.keepRequests = false;
        options.keepHeaders = true; // tokens and ce-id are in them
        Receiver receiver(options);
        receiver.setReply(std::move(reply));
        if (!portFile.empty()) {
            std::ofstream f(portFile + ".tmp");
            f << receiver.port() << "\n";
            f.close();
            std::rename((portFile + ".tmp").c_str(), portFile.c_str());
        }
        std::cerr << name << ": listening on " << receiver.url("/") << std::endl;
        int signal = 0;
        sigwait(&stop, &signal);
        receiver.stop();
        std::cout << summary().dump() << std::endl;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << name << ": " << e.what() << "\n";
        return 1;
    }
}

} // namespace ow::testkit
