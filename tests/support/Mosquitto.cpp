#include "tests/support/Mosquitto.h"

#include <atomic>
#include <fstream>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/Net.h"

namespace ow::testkit {
namespace {

std::atomic<int> instances{0};

} // namespace

Mosquitto::Mosquitto(const TempDir& dir, Options options)
    : dir_(dir), options_(options), name_("mosquitto-" + std::to_string(++instances)) {}

Mosquitto::~Mosquitto() {
    if (process_.pid() > 0 && process_.running()) process_.kill();
}

std::string Mosquitto::url() const {
    return (options_.tls.certFile.empty() ? "tcp://127.0.0.1:" : "ssl://127.0.0.1:") +
           std::to_string(port_);
}

std::string Mosquitto::log() const {
    std::string all;
    for (int i = 1; i <= runs_; ++i)
        all += readFile(dir_.file(name_ + "-" + std::to_string(i) + ".log"));
    return all;
}

void Mosquitto::writeConfig() {
    std::string data = dir_.file(name_ + "-data");
    ::mkdir(data.c_str(), 0755);
    std::ofstream conf(dir_.file(name_ + ".conf"), std::ios::trunc);
    conf << "listener " << port_ << " 127.0.0.1\n"
         << "allow_anonymous true\n"
         << "log_dest stderr\n"
         << "log_type error\nlog_type warning\nlog_type notice\n"
         // The default 1000 silently drops QoS 1 messages queued for a slow subscriber; a test
         // counting deliveries must count the hub's losses, not the broker's.
         << "max_queued_messages 0\n";
    // Started as root, mosquitto 2 drops to the `mosquitto` user before it reads certificates
    // or writes its persistence folder, and that user cannot enter the test's private (0700)
    // folder (STACK-NOTES): a throw-away broker on loopback keeps root's rights instead.
    if (::geteuid() == 0) conf << "user root\n";
    if (const auto& tls = options_.tls; !tls.certFile.empty()) {
        conf << "certfile " << tls.certFile << "\nkeyfile " << tls.keyFile << "\n";
        if (!tls.caFile.empty()) conf << "cafile " << tls.caFile << "\n";
        if (tls.requireClientCert) conf << "require_certificate true\n";
    }
    if (options_.persistence)
        conf << "persistence true\npersistence_location " << data << "/\nautosave_interval 1\n";
    else
        conf << "persistence false\n";
}

void Mosquitto::start() {
    const bool firstStart = port_ == 0;
    for (int attempt = 0; attempt < 5; ++attempt) {
        // mosquitto cannot bind port 0 and report it: take a free port, close it, hand it over
        // (again if someone else took it meanwhile). A restart keeps its port.
        if (port_ == 0 || (firstStart && attempt > 0)) port_ = freeLoopbackPort();
        writeConfig();
        std::string logFile = dir_.file(name_ + "-" + std::to_string(++runs_) + ".log");
        process_ =
            Process::spawn({"mosquitto", "-c", dir_.file(name_ + ".conf")}, {}, logFile, logFile);
        bool up = false;
        for (int i = 0; i < 100 && !up && process_.running(); ++i)
            up = waitForTcp(port_, std::chrono::milliseconds(100));
        if (up && process_.running()) return;
        if (process_.running()) process_.kill();
    }
    throw std::runtime_error("mosquitto did not start; log:\n" + log());
}

void Mosquitto::kill() {
    process_.kill();
}

void Mosquitto::stop() {
    process_.stop(std::chrono::milliseconds(10000));
}

bool Mosquitto::running() {
    return process_.pid() > 0 && process_.running();
}

} // namespace ow::testkit
