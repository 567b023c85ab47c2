#include "tests/support/Process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace ow::testkit {

namespace {

ExitInfo decodeStatus(int status) {
    ExitInfo info;
    if (WIFEXITED(status)) {
        info.exited = true;
        info.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        info.signal = WTERMSIG(status);
    }
    return info;
}

std::vector<std::string>
mergedEnvironment(const std::vector<std::pair<std::string, std::string>>& additions) {
    std::map<std::string, std::string> merged;
    std::vector<std::string> order;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string text = *entry;
        const auto eq = text.find('=');
        const std::string name = eq == std::string::npos ? text : text.substr(0, eq);
        if (merged.emplace(name, text).second) {
            order.push_back(name);
        }
    }
    for (const auto& [name, value] : additions) {
        if (merged.find(name) == merged.end()) {
            order.push_back(name);
        }
        merged[name] = name + "=" + value;
    }
    std::vector<std::string> result;
    result.reserve(order.size());
    for (const auto& name : order) {
        result.push_back(merged[name]);
    }
    return result;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> result;
    result.reserve(strings.size() + 1);
    for (auto& s : strings) {
        result.push_back(s.data());
    }
    result.push_back(nullptr);
    return result;
}

void check(int rc, const char* what) {
    if (rc != 0) {
        throw std::system_error(rc, std::generic_category(), what);
    }
}

/// Waits for `pid` to become reapable using a pidfd, which needs no polling; returns false if
/// pidfds are unavailable so the caller falls back to polling.
bool waitReadable(pid_t pid, std::chrono::milliseconds timeout, bool& ready) {
#ifdef SYS_pidfd_open
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) {
        return false;
    }
    pollfd pfd{fd, POLLIN, 0};
    int rc;
    do {
        rc = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
    } while (rc < 0 && errno == EINTR);
    ::close(fd);
    ready = rc > 0;
    return rc >= 0;
#else
    (void)pid;
    (void)timeout;
    (void)ready;
    return false;
#endif
}

} // namespace

std::string ExitInfo::describe() const {
    if (exited) {
        return "exit " + std::to_string(code);
    }
    return "signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
}

Process Process::spawn(std::vector<std::string> argv,
                       std::vector<std::pair<std::string, std::string>> env, std::string stdoutPath,
                       std::string stderrPath) {
    SpawnOptions options;
    options.argv = std::move(argv);
    options.env = std::move(env);
    options.stdoutPath = std::move(stdoutPath);
    options.stderrPath = std::move(stderrPath);
    return spawn(options);
}

Process Process::spawn(const SpawnOptions& options) {
    if (options.argv.empty()) {
        throw std::invalid_argument("Process::spawn: empty argv");
    }
    std::vector<std::string> args = options.argv;
    std::vector<std::string> envStrings = mergedEnvironment(options.env);
    std::vector<char*> argvPtrs = pointers(args);
    std::vector<char*> envPtrs = pointers(envStrings);

    posix_spawn_file_actions_t actions;
    check(posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init");
    posix_spawnattr_t attr;
    if (int rc = posix_spawnattr_init(&attr); rc != 0) {
        posix_spawn_file_actions_destroy(&actions);
        throw std::system_error(rc, std::generic_category(), "posix_spawnattr_init");
    }
    struct Cleanup {
        posix_spawn_file_actions_t* a;
        posix_spawnattr_t* t;
        ~Cleanup() {
            posix_spawn_file_actions_destroy(a);
            posix_spawnattr_destroy(t);
        }
    } cleanup{&actions, &attr};

    constexpr int flags = O_WRONLY | O_CREAT | O_TRUNC; // no O_CLOEXEC: the child needs them
    if (!options.stdoutPath.empty()) {
        check(posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, options.stdoutPath.c_str(),
                                               flags, 0644),
              "posix_spawn_file_actions_addopen stdout");
    }
    if (!options.stderrPath.empty()) {
        if (options.stderrPath == options.stdoutPath) {
            check(posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO),
                  "posix_spawn_file_actions_adddup2");
        } else {
            check(posix_spawn_file_actions_addopen(&actions, STDERR_FILENO,
                                                   options.stderrPath.c_str(), flags, 0644),
                  "posix_spawn_file_actions_addopen stderr");
        }
    }
    if (!options.workingDir.empty()) {
        check(posix_spawn_file_actions_addchdir_np(&actions, options.workingDir.c_str()),
              "posix_spawn_file_actions_addchdir_np");
    }

    sigset_t empty;
    sigemptyset(&empty);
    sigset_t all;
    sigfillset(&all);
    check(posix_spawnattr_setsigmask(&attr, &empty), "posix_spawnattr_setsigmask");
    check(posix_spawnattr_setsigdefault(&attr, &all), "posix_spawnattr_setsigdefault");
    check(posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF),
          "posix_spawnattr_setflags");

    pid_t pid = -1;
    const int rc =
        ::posix_spawnp(&pid, argvPtrs[0], &actions, &attr, argvPtrs.data(), envPtrs.data());
    if (rc != 0) {
        throw std::system_error(rc, std::generic_category(), "posix_spawn " + options.argv[0]);
    }
    Process process;
    process.pid_ = pid;
    return process;
}

Process::~Process() {
    reset();
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), exit_(std::exchange(other.exit_, std::nullopt)) {}

Process& Process::operator=(Process&& other) noexcept {
    if (this != &other) {
        reset();
        pid_ = std::exchange(other.pid_, -1);
        exit_ = std::exchange(other.exit_, std::nullopt);
    }
    return *this;
}

void Process::reset() noexcept {
    if (pid_ > 0 && !exit_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        pid_t rc;
        do {
            rc = ::waitpid(pid_, &status, 0);
        } while (rc < 0 && errno == EINTR);
        if (rc == pid_) {
            exit_ = decodeStatus(status);
        }
    }
    pid_ = -1;
    exit_.reset();
}

bool Process::reapNoHang() {
    if (pid_ <= 0 || exit_) {
        return exit_.has_value();
    }
    int status = 0;
    pid_t rc;
    do {
        rc = ::waitpid(pid_, &status, WNOHANG);
    } while (rc < 0 && errno == EINTR);
    if (rc == pid_) {
        exit_ = decodeStatus(status);
        return true;
    }
    if (rc < 0) {
        // ECHILD: someone else reaped it (e.g. a SIGCHLD handler); treat it as gone so we
        // never signal a PID that may have been reused.
        exit_ = ExitInfo{false, 0, 0};
        return true;
    }
    return false;
}

bool Process::signal(int sig) {
    if (pid_ <= 0 || exit_) {
        return false;
    }
    // An exited but unreaped child is a zombie that still owns its PID, so this is safe.
    return ::kill(pid_, sig) == 0;
}

std::optional<ExitInfo> Process::waitExit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) {
        return exit_;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!reapNoHang()) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            return std::nullopt;
        }
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
        bool ready = false;
        if (!waitReadable(pid_, left, ready)) {
            std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(2)));
        }
    }
    return exit_;
}

bool Process::running() {
    return pid_ > 0 && !reapNoHang();
}

ExitInfo Process::stop(std::chrono::milliseconds grace) {
    if (signal(SIGTERM)) {
        if (auto info = waitExit(grace)) {
            return *info;
        }
    }
    return kill();
}

ExitInfo Process::kill() {
    signal(SIGKILL);
    if (auto info = waitExit(std::chrono::hours(1))) {
        return *info;
    }
    return ExitInfo{};
}

} // namespace ow::testkit
