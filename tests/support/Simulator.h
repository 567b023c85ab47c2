// What the simulators of department systems (tools/*-sim) share: serving HTTP (or HTTPS, with
// client certificates required if asked) on loopback until SIGTERM/SIGINT, the port written to a
// file for whoever started them, and a summary line on stdout at the end; the center's wall-clock
// time as department systems write it.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/Receiver.h"

namespace ow::testkit {

/// The center's business clock as a simulated system stamps its records: the wall clock, or
/// (with --business-clock START,AT,RATE, all Unix seconds but RATE) START at wall time AT,
/// running RATE times as fast, the same clock as the hub's hub.business_clock, so a department's
/// 办结 of the demo's day is dated on that day.
struct BusinessClock {
    std::int64_t start = 0, at = 0;
    double rate = 1;
    static BusinessClock& instance() {
        static BusinessClock clock;
        return clock;
    }
    /// Seconds; reckoned from the wall clock's milliseconds, since at a rate of 1500 a second
    /// of rounding would date a record 25 business minutes early (before the application).
    [[nodiscard]] std::int64_t now() const {
        const auto wallMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        if (start == 0) return wallMs / 1000;
        return start +
               static_cast<std::int64_t>(static_cast<double>(wallMs - at * 1000) * rate / 1000.0);
    }
};

/// Options "--name value" of a simulator's command line, each value taken as text or as a
/// number; an unknown option or a missing or bad value exits 2 with the usage. Every simulator
/// also takes --business-clock START,AT,RATE (see BusinessClock).
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
            if (option_ == "--business-clock") {
                const std::string v = text();
                auto& c = BusinessClock::instance();
                char extra = 0;
                if (std::sscanf(v.c_str(), "%ld,%ld,%lf%c", &c.start, &c.at, &c.rate, &extra) !=
                        3 ||
                    c.start <= 0 || c.at <= 0 || c.rate <= 0)
                    fail(
                        "--business-clock needs START,AT,RATE (Unix seconds, seconds, a rate > 0)");
                continue;
            }
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

/// Records a simulated system releases over time and keeps until they are acknowledged (a
/// department's update feed, EMS's tracking): numbered in release order under `seqField`.
/// Not thread-safe: the simulator calls it under its own lock.
class ReleasedFeed {
public:
    explicit ReleasedFeed(std::string seqField) : seqField_(std::move(seqField)) {}
    /// `record` is released at `atMs` (steady-clock milliseconds).
    void schedule(std::int64_t atMs, nlohmann::json record) {
        pending_.push_back({atMs, std::move(record)});
    }
    /// `records` are released one every `stepMs` from `fromMs` on, in order (a case's course).
    void scheduleSteps(std::vector<nlohmann::json> records, std::int64_t fromMs,
                       std::int64_t stepMs) {
        std::int64_t k = 0;
        for (auto& r : records)
            schedule(fromMs + k++ * stepMs, std::move(r));
    }
    /// Releases what is due at `nowMs`, then the oldest unacknowledged records, up to `limit`.
    nlohmann::json page(std::size_t limit, std::int64_t nowMs) {
        std::stable_sort(pending_.begin(), pending_.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        while (!pending_.empty() && pending_.front().first <= nowMs) {
            nlohmann::json r = std::move(pending_.front().second);
            pending_.pop_front();
            r[seqField_] = static_cast<long long>(released_.size()) + 1;
            released_.push_back(std::move(r));
        }
        nlohmann::json out = nlohmann::json::array();
        for (std::size_t i = acked_; i < released_.size() && out.size() < limit; ++i)
            out.push_back(released_[i]);
        return out;
    }
    /// Everything up to `upTo` is acknowledged (never past what was released).
    void acknowledge(long long upTo) {
        if (upTo > 0)
            acked_ = std::max(acked_, std::min(static_cast<std::size_t>(upTo), released_.size()));
    }
    [[nodiscard]] std::size_t released() const { return released_.size(); }
    [[nodiscard]] std::size_t acked() const { return acked_; }
    [[nodiscard]] std::size_t pending() const { return pending_.size(); }

private:
    std::string seqField_;
    std::deque<std::pair<std::int64_t, nlohmann::json>> pending_;
    std::vector<nlohmann::json> released_;
    std::size_t acked_ = 0;
};

/// One case as a department's approval system handles it, for the simulators that report in
/// the department records of adapters/common/DeptRecords.h.
struct CaseScript {
    std::string sblsh, ywlsh;
    bool supplement = false, returned = false;
    std::string supplementReason, supplementMaterials, returnOpinion;
    std::vector<std::string> handlers; ///< of 承办, 审核, 批准
    std::string conclusion, licenceNo, licenceName;
};

/// The course of the department's `n`-th case (from 1): every `returnEvery`-th is returned,
/// every `supplementEvery`-th asked for a supplement (0: none).
inline void setCourse(CaseScript& c, std::size_t n, int returnEvery, int supplementEvery) {
    c.returned = returnEvery > 0 && n % static_cast<std::size_t>(returnEvery) == 0;
    c.supplement = supplementEvery > 0 && n % static_cast<std::size_t>(supplementEvery) == 0;
}

/// The records the department writes about `c`, in order, each with its YWLSH: 登记 (DJ), a
/// 补正 (BZ) when asked, then 承办/审核/批准 (SP) and 办结 (BJ); a returned case stops after a
/// disagreeing 承办 with 退回办结. Times are the business clock's now plus a second per step.
inline std::vector<nlohmann::json> handlingRecords(const CaseScript& c);

/// Steady-clock milliseconds (the simulators' schedules).
inline std::int64_t steadyMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// "2026-03-02 10:15:00", China Standard Time, `plusSeconds` from now (on the business clock).
inline std::string chinaLocalTime(int plusSeconds = 0) {
    std::time_t t = BusinessClock::instance().now() + 8 * 3600 + plusSeconds;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

inline std::vector<nlohmann::json> handlingRecords(const CaseScript& c) {
    using nlohmann::json;
    std::vector<json> out = {{{"LX", "DJ"}, {"SBLSH", c.sblsh}}};
    if (c.supplement)
        out.push_back({{"LX", "BZ"},
                       {"BZYY", c.supplementReason},
                       {"BZCL", c.supplementMaterials},
                       {"BZSJ", chinaLocalTime(0)}});
    static const char* const names[] = {"承办", "审核", "批准"};
    const int steps = c.returned ? 1 : 3;
    for (int s = 1; s <= steps; ++s)
        out.push_back({{"LX", "SP"},
                       {"SPHJDM", std::to_string(s)},
                       {"SPHJMC", names[s - 1]},
                       {"SPRXM", s <= static_cast<int>(c.handlers.size()) ? c.handlers[s - 1] : ""},
                       {"SPYJ", c.returned ? c.returnOpinion : "同意"},
                       {"SPJG", c.returned ? "0" : "1"},
                       {"SPSJ", chinaLocalTime(s)}});
    if (c.returned)
        out.push_back(
            {{"LX", "BJ"}, {"BJJGDM", "1"}, {"BJJGMS", "退回办结"}, {"BJSJ", chinaLocalTime(2)}});
    else
        out.push_back({{"LX", "BJ"},
                       {"BJJGDM", "0"},
                       {"BJJGMS", c.conclusion},
                       {"ZJBH", c.licenceNo},
                       {"ZJMC", c.licenceName},
                       {"BJSJ", chinaLocalTime(4)}});
    for (auto& r : out)
        r["YWLSH"] = c.ywlsh;
    return out;
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

/// HTTPS for a simulator: its certificate and key, and the CA whose client certificates it
/// requires ("" = none required). All empty: plain HTTP.
struct SimulatorTls {
    std::string certFile, keyFile, clientCaFile;
};

/// Serves `reply` on 127.0.0.1:`port` (0: any) until SIGTERM/SIGINT, writing the port to
/// `portFile` (atomically) if given; then prints `summary()` and returns the exit code.
inline int serveSimulator(const std::string& name, int port, const std::string& portFile,
                          ReplyFunction reply, const std::function<nlohmann::json()>& summary,
                          const SimulatorTls& tls = {}) {
    const sigset_t stop = blockStopSignals();
    try {
        ReceiverOptions options;
        options.port = static_cast<std::uint16_t>(port);
        options.tlsCertFile = tls.certFile;
        options.tlsKeyFile = tls.keyFile;
        options.tlsClientCaFile = tls.clientCaFile;
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
