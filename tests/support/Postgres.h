// A real PostgreSQL server for tests: a fresh cluster (initdb, trust authentication for
// 127.0.0.1) in a folder of its own, on a free loopback port, started and stopped by PID.
// initdb and postgres refuse to run as root, so as root both run as the `postgres` user
// (setpriv, which execs: the PID held is the server's own) in a folder chowned to it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/Process.h"
#include "tests/support/TempDir.h"

namespace ow::testkit {

class Postgres {
public:
    /// Creates the cluster and starts the server; returns once it accepts connections. Throws
    /// std::runtime_error if PostgreSQL is not installed (saying to run
    /// scripts/install-deps.sh) or with the server's log if it does not come up.
    Postgres();
    /// Fast shutdown (SIGINT), then SIGKILL if it is still there after a grace period.
    ~Postgres();
    Postgres(const Postgres&) = delete;
    Postgres& operator=(const Postgres&) = delete;

    /// A libpq key=value connection string to `database` as the superuser `postgres`.
    [[nodiscard]] std::string connection(const std::string& database = "postgres") const;
    /// CREATE DATABASE `name` (letters, digits and '_'); throws with psql's output on failure.
    void createDatabase(const std::string& name) const;
    /// A new database with a name of its own; returns its connection string.
    std::string freshDatabase() const;

    void stop();
    [[nodiscard]] bool running();
    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::string log() const;

private:
    /// argv run as the postgres user when the tests run as root.
    [[nodiscard]] std::vector<std::string> asServerUser(std::vector<std::string> argv) const;
    /// Runs a PostgreSQL program to its end; throws with its output if it fails.
    void run(const std::string& what, std::vector<std::string> argv, bool asServer) const;

    TempDir dir_{"ow-pg"};
    std::string bin_;
    bool root_ = false;
    std::uint16_t port_ = 0;
    Process process_;
};

} // namespace ow::testkit
