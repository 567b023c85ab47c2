// A child process started by a test: the hub under test, a receiver, a load generator.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ow::testkit {

/// How a child ended.
struct ExitInfo {
    bool exited = false; ///< true: normal exit with `code`; false: killed by `signal`
    int code = 0;
    int signal = 0;

    [[nodiscard]] bool signalled() const { return !exited; }
    [[nodiscard]] bool success() const { return exited && code == 0; }
    /// "exit 3" or "signal 9 (Killed)", for assertion messages.
    [[nodiscard]] std::string describe() const;
};

struct SpawnOptions {
    /// argv[0] is searched in PATH when it has no '/'.
    std::vector<std::string> argv;
    /// Added to the parent's environment, replacing variables of the same name.
    std::vector<std::pair<std::string, std::string>> env;
    std::string stdoutPath; ///< "" = inherit
    std::string stderrPath; ///< "" = inherit; may equal stdoutPath (one file, both streams)
    std::string workingDir; ///< "" = inherit
};

class Process {
public:
    /// Starts the child with posix_spawn; throws std::system_error if it cannot be started
    /// (including a missing executable). Output files are created or truncated. The child gets
    /// an empty signal mask and default signal dispositions, whatever the parent has blocked or
    /// ignored, so SIGTERM/SIGINT/SIGPIPE behave as they would from a shell.
    static Process spawn(const SpawnOptions& options);
    static Process spawn(std::vector<std::string> argv,
                         std::vector<std::pair<std::string, std::string>> env = {},
                         std::string stdoutPath = "", std::string stderrPath = "");

    Process() = default;
    /// Still running: SIGKILL and reap, so a failing test never leaks a child.
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    Process(Process&& other) noexcept;
    Process& operator=(Process&& other) noexcept;

    /// -1 for a default-constructed or moved-from Process. Stays valid after the child is reaped
    /// (for messages only: the number may already belong to another process).
    [[nodiscard]] pid_t pid() const { return pid_; }

    /// Sends `sig` unless the child has already been reaped (its PID could have been reused);
    /// returns whether a signal was sent.
    bool signal(int sig);

    /// Waits up to `timeout` for the child to end and reaps it. Returns the same ExitInfo on
    /// every later call; nullopt if it is still running at the deadline.
    std::optional<ExitInfo> waitExit(std::chrono::milliseconds timeout);

    /// Reaps the child if it has ended, without waiting.
    [[nodiscard]] bool running();

    /// SIGTERM, wait up to `grace`, then SIGKILL; returns how it ended.
    ExitInfo stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

    /// SIGKILL and reap (a crash, as far as the child can tell).
    ExitInfo kill();

    [[nodiscard]] const std::optional<ExitInfo>& exitInfo() const { return exit_; }

private:
    bool reapNoHang();
    void reset() noexcept;

    pid_t pid_ = -1;
    std::optional<ExitInfo> exit_;
};

} // namespace ow::testkit
