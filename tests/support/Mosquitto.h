// A real mosquitto broker for tests: its own config and folder, a free loopback port (never
// 1883), started and stopped by PID; restartable on the same port so clients can reconnect.
#pragma once

#include <cstdint>
#include <string>

#include "tests/support/Process.h"
#include "tests/support/TempDir.h"

namespace ow::testkit {

class Mosquitto {
public:
    struct Options {
        /// Keep messages and sessions across restarts (saved on SIGTERM; autosave every second).
        bool persistence = false;
        /// A TLS listener instead of plain TCP when `certFile` is set: the broker's certificate
        /// and key, and with `caFile` + `requireClientCert` mutual TLS (clients must present a
        /// certificate issued by that CA).
        struct Tls {
            std::string caFile;
            std::string certFile;
            std::string keyFile;
            bool requireClientCert = false;
        } tls;
    };

    explicit Mosquitto(const TempDir& dir, Options options);
    explicit Mosquitto(const TempDir& dir) : Mosquitto(dir, Options{}) {}
    ~Mosquitto();

    /// Starts the broker (on a free port the first time, on the same port afterwards) and waits
    /// until it accepts connections. Throws with the broker's log if it does not come up.
    void start();
    /// SIGKILL: no chance to save anything.
    void kill();
    /// SIGTERM: a clean stop (persistence saves its state).
    void stop();
    [[nodiscard]] bool running();

    [[nodiscard]] std::uint16_t port() const { return port_; }
    /// "tcp://127.0.0.1:PORT", or "ssl://127.0.0.1:PORT" with a TLS listener
    [[nodiscard]] std::string url() const;
    [[nodiscard]] std::string log() const;

private:
    void writeConfig();

    const TempDir& dir_;
    Options options_;
    std::string name_;
    std::uint16_t port_ = 0;
    int runs_ = 0;
    Process process_;
};

} // namespace ow::testkit
