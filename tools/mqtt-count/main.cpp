// ow-mqtt-count: subscribes to a topic and counts what really arrives, for the MQTT benchmark.
//   ow-mqtt-count --url tcp://127.0.0.1:PORT --topic T [--qos 1] [--ready-file F] [--expect N]
//                 [--expect-file F] [--timeout-s S]
// --expect-file: the count arrives later, as a number written to F (a benchmark learns how many
// requests were accepted only when its load generator ends).
// Prints one JSON line when N messages arrived, on timeout, or on SIGTERM/SIGINT:
//   {"received":..,"first_unix_ms":..,"last_unix_ms":..}
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include <unistd.h>

#include <mqtt/async_client.h>

namespace {

std::atomic<bool> stopRequested{false};

std::int64_t unixMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class Counter : public mqtt::callback {
public:
    void message_arrived(mqtt::const_message_ptr) override {
        auto now = unixMs();
        if (received.fetch_add(1) == 0) first = now;
        last = now;
    }
    std::atomic<long> received{0};
    std::atomic<std::int64_t> first{0}, last{0};
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr
        << "ow-mqtt-count: " << why
        << "\nusage: ow-mqtt-count --url URL --topic T [--qos N] [--ready-file F] [--expect N] "
           "[--expect-file F] [--timeout-s S]\n";
    std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
    std::string url, topic, readyFile, expectFile;
    int qos = 1;
    long expect = -1;
    int timeoutS = 600;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(a + " needs a value");
            return argv[++i];
        };
        try {
            if (a == "--url")
                url = value();
            else if (a == "--topic")
                topic = value();
            else if (a == "--qos")
                qos = std::stoi(value());
            else if (a == "--ready-file")
                readyFile = value();
            else if (a == "--expect")
                expect = std::stol(value());
            else if (a == "--expect-file")
                expectFile = value();
            else if (a == "--timeout-s")
                timeoutS = std::stoi(value());
            else
                usage("unknown option " + a);
        } catch (const std::logic_error&) {
            usage("bad number for " + a);
        }
    }
    if (url.empty() || topic.empty()) usage("--url and --topic are required");
    std::signal(SIGTERM, [](int) { stopRequested = true; });
    std::signal(SIGINT, [](int) { stopRequested = true; });

    Counter counter;
    mqtt::async_client client(url, "ow-mqtt-count-" + std::to_string(::getpid()));
    client.set_callback(counter);
    try {
        client.connect(mqtt::connect_options_builder().clean_session(true).finalize())->wait();
        client.subscribe(topic, qos)->wait();
    } catch (const mqtt::exception& e) {
        std::cerr << "ow-mqtt-count: " << e.what() << "\n";
        return 1;
    }
    if (!readyFile.empty()) std::ofstream(readyFile) << "ready\n";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutS);
    while (!stopRequested && std::chrono::steady_clock::now() < deadline &&
           (expect < 0 || counter.received.load() < expect)) {
        if (expect < 0 && !expectFile.empty()) {
            std::ifstream in(expectFile);
            long n = -1;
            if (in >> n && n >= 0) expect = n;
        }
        // Polling our own counter while messages arrive on Paho's thread: a tool, not a test.
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::printf("{\"received\":%ld,\"first_unix_ms\":%lld,\"last_unix_ms\":%lld}\n",
                counter.received.load(), static_cast<long long>(counter.first.load()),
                static_cast<long long>(counter.last.load()));
    std::fflush(stdout);
    try {
        client.disconnect()->wait_for(std::chrono::seconds(2));
    } catch (const mqtt::exception&) {
    }
    return 0;
}
