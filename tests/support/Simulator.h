// What the simulators of department systems (tools/*-sim) share: serving HTTP on loopback
// until SIGTERM/SIGINT, the port written to a file for whoever started them, and a summary
// line on stdout at the end; the center's wall-clock time as department systems write it.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/Receiver.h"

namespace ow::testkit {

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
