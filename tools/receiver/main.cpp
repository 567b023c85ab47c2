// ow-receiver: a stand-in department system for tests and benchmarks. Accepts deliveries on
// 127.0.0.1 until SIGTERM/SIGINT, optionally appending each delivered event id to a file, and
// prints one JSON summary line on exit. Without --record it does no per-event work at all,
// which makes it the "trivial HTTP server" ceiling the benchmark compares the hub with.
#include <pthread.h>
#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>

#include <Poco/Exception.h>
#include <nlohmann/json.hpp>

#include "tests/support/Receiver.h"

namespace {

constexpr const char* kUsage =
    "usage: ow-receiver --port N (0 = pick) [--port-file FILE] [--record FILE] [--status 200]\n"
    "                   [--quiet] [--print]\n"
    "  --print  write each request's path and body to stdout, one JSON line each (to watch\n"
    "           what a hub delivers, e.g. the examples in plugins/*/README.md)\n";

struct Arguments {
    int port = 0;
    std::string portFile;
    std::string recordFile;
    int status = 200;
    bool quiet = false;
    bool print = false;
};

[[noreturn]] void usageError(const std::string& message) {
    std::cerr << "ow-receiver: " << message << "\n" << kUsage;
    std::exit(2);
}

int toInt(const std::string& text, const std::string& option) {
    try {
        std::size_t used = 0;
        const int value = std::stoi(text, &used);
        if (used == text.size()) {
            return value;
        }
    } catch (const std::exception&) {
    }
    usageError(option + " needs an integer, got '" + text + "'");
}

Arguments parse(int argc, char** argv) {
    Arguments args;
    bool havePort = false;
    for (int i = 1; i < argc; ++i) {
        const std::string option = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usageError(option + " needs a value");
            }
            return argv[++i];
        };
        if (option == "--port") {
            args.port = toInt(value(), option);
            havePort = true;
        } else if (option == "--port-file") {
            args.portFile = value();
        } else if (option == "--record") {
            args.recordFile = value();
        } else if (option == "--status") {
            args.status = toInt(value(), option);
        } else if (option == "--quiet") {
            args.quiet = true;
        } else if (option == "--print") {
            args.print = true;
        } else if (option == "--help" || option == "-h") {
            std::cout << kUsage;
            std::exit(0);
        } else {
            usageError("unknown option " + option);
        }
    }
    if (!havePort || args.port < 0 || args.port > 65535) {
        usageError("--port 0..65535 is required");
    }
    if (args.status < 100 || args.status > 599) {
        usageError("--status must be 100..599");
    }
    return args;
}

/// Written under a temporary name and renamed, so a script polling for the file never reads
/// a half-written port.
void writePortFile(const std::string& path, std::uint16_t port) {
    const std::string temporary = path + ".tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << port << "\n";
        if (!out) {
            throw std::runtime_error("cannot write " + temporary);
        }
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        throw std::runtime_error("cannot rename " + temporary + " to " + path);
    }
}

} // namespace

int main(int argc, char** argv) {
    const Arguments args = parse(argc, argv);

    // Blocked before any thread starts, so every server thread inherits the mask and the
    // signals are only ever taken by sigwait below.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGTERM);
    sigaddset(&stopSignals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    try {
        ow::testkit::ReceiverOptions options;
        options.port = static_cast<std::uint16_t>(args.port);
        options.keepRequests = false;
        options.parseEvents = !args.recordFile.empty();
        options.recordFile = args.recordFile;
        ow::testkit::Receiver receiver(options);
        receiver.always(args.status);
        std::mutex printMu;
        if (args.print) {
            receiver.setReply(
                [&, status = args.status](const ow::testkit::ReceivedRequest& q, int) {
                    nlohmann::ordered_json line;
                    line["path"] = q.path;
                    line["body"] = nlohmann::json::parse(q.body, nullptr, false);
                    if (line["body"].is_discarded()) line["body"] = q.body;
                    std::lock_guard lock(printMu);
                    std::cout << line.dump() << std::endl;
                    ow::testkit::Reply r;
                    r.status = status;
                    return r;
                });
        }

        if (!args.portFile.empty()) {
            writePortFile(args.portFile, receiver.port());
        }
        if (!args.quiet) {
            std::cerr << "ow-receiver: listening on " << receiver.url("/") << std::endl;
        }

        int received = 0;
        sigwait(&stopSignals, &received);
        receiver.stop();

        const auto stats = receiver.stats();
        nlohmann::ordered_json summary;
        summary["port"] = receiver.port();
        summary["signal"] = received;
        summary["requests"] = stats.requests;
        summary["answered_2xx"] = stats.answered2xx;
        summary["events_delivered"] = stats.eventsDelivered;
        summary["distinct_delivered"] = stats.distinctDelivered;
        summary["first_delivery_unix_ms"] = stats.firstDeliveryUnixMs;
        summary["last_delivery_unix_ms"] = stats.lastDeliveryUnixMs;
        std::cout << summary.dump() << std::endl;
        return 0;
    } catch (const Poco::Exception& e) {
        std::cerr << "ow-receiver: " << e.displayText() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "ow-receiver: " << e.what() << "\n";
        return 1;
    }
}
