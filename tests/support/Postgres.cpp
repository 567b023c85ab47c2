#include "tests/support/Postgres.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>

#include "tests/support/Net.h"
#include "tests/support/Wait.h"

namespace ow::testkit {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

/// The server programs' folder: Debian keeps them out of PATH, one folder per major version
/// (the newest wins); elsewhere they may be in PATH.
std::string serverBinDir() {
    std::string best;
    int bestVersion = -1;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        const std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        if (!fs::exists(e.path() / "bin/initdb") || !fs::exists(e.path() / "bin/postgres"))
            continue;
        if (std::stoi(name) > bestVersion) {
            bestVersion = std::stoi(name);
            best = (e.path() / "bin").string();
        }
    }
    if (!best.empty()) return best;
    if (const char* path = std::getenv("PATH"))
        for (std::string dirs = path; !dirs.empty();) {
            const auto colon = dirs.find(':');
            const std::string d = dirs.substr(0, colon);
            if (!d.empty() && ::access((d + "/initdb").c_str(), X_OK) == 0 &&
                ::access((d + "/postgres").c_str(), X_OK) == 0)
                return d;
            dirs = colon == std::string::npos ? "" : dirs.substr(colon + 1);
        }
    throw std::runtime_error(
        "PostgreSQL is not installed (no initdb and postgres under /usr/lib/postgresql/*/bin "
        "or in PATH): run scripts/install-deps.sh");
}

std::atomic<int> databases{0};

} // namespace

Postgres::Postgres() : bin_(serverBinDir()), root_(::geteuid() == 0) {
    if (root_) {
        const passwd* pw = ::getpwnam("postgres");
        if (!pw)
            throw std::runtime_error("no `postgres` user to run the PostgreSQL server as (tests "
                                     "run as root): run scripts/install-deps.sh");
        if (::chown(dir_.path().c_str(), pw->pw_uid, pw->pw_gid) != 0)
            throw std::runtime_error("cannot hand " + dir_.path() + " to the postgres user");
    }
    run("initdb",
        {bin_ + "/initdb", "-D", dir_.file("data"), "--auth=trust", "-U", "postgres", "-E", "UTF8",
         "--locale=C", "--no-sync"},
        true);
    // postgres cannot bind port 0 and report it: take a free port, hand it over, and start
    // again on another if someone took it meanwhile (the server then exits at once).
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = freeLoopbackPort();
        const std::string logFile = dir_.file("postgres-" + std::to_string(attempt + 1) + ".log");
        process_ = Process::spawn(asServerUser({bin_ + "/postgres", "-D", dir_.file("data"), "-k",
                                                dir_.path(), "-p", std::to_string(port_), "-c",
                                                "listen_addresses=127.0.0.1", "-c", "fsync=off"}),
                                  {}, logFile, logFile);
        const bool ready = waitUntil(
            [&] {
                if (!process_.running()) return true;
                auto probe =
                    Process::spawn({bin_ + "/pg_isready", "-q", "-h", "127.0.0.1", "-p",
                                    std::to_string(port_), "-U", "postgres", "-d", "postgres"},
                                   {}, "/dev/null", "/dev/null");
                const auto info = probe.waitExit(10s);
                return info && info->success();
            },
            30s, 50ms);
        if (ready && process_.running()) return;
        if (process_.running()) process_.kill();
    }
    throw std::runtime_error("PostgreSQL did not start; log:\n" + log());
}

Postgres::~Postgres() {
    stop();
}

void Postgres::stop() {
    if (!running()) return;
    // SIGINT is the fast shutdown: open sessions are ended instead of waited for.
    process_.signal(SIGINT);
    if (!process_.waitExit(30s)) process_.kill();
}

bool Postgres::running() {
    return process_.pid() > 0 && process_.running();
}

std::string Postgres::log() const {
    std::string all;
    for (int i = 1; i <= 5; ++i)
        all += readFile(dir_.file("postgres-" + std::to_string(i) + ".log"));
    return all;
}

std::string Postgres::connection(const std::string& database) const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + database +
           " user=postgres";
}

void Postgres::createDatabase(const std::string& name) const {
    run("createdb",
        {bin_ + "/createdb", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "postgres",
         name},
        false);
}

std::string Postgres::freshDatabase() const {
    const std::string name =
        "ow_test_" + std::to_string(::getpid()) + "_" + std::to_string(++databases);
    createDatabase(name);
    return connection(name);
}

std::vector<std::string> Postgres::asServerUser(std::vector<std::string> argv) const {
    if (root_)
        argv.insert(argv.begin(),
                    {"setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"});
    return argv;
}

void Postgres::run(const std::string& what, std::vector<std::string> argv, bool asServer) const {
    const std::string out = dir_.file(what + ".log");
    auto p =
        Process::spawn(asServer ? asServerUser(std::move(argv)) : std::move(argv), {}, out, out);
    const auto info = p.waitExit(60s);
    if (!info) p.kill();
    if (!info || !info->success())
        throw std::runtime_error(what + " failed (" + (info ? info->describe() : "timed out") +
                                 "):\n" + readFile(out));
}

} // namespace ow::testkit
