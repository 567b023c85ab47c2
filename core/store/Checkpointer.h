// Moves the journal's WAL back into the database file on its own connection and thread.
// SQLite's automatic checkpoint runs inside the committing transaction, so with it every few
// thousand pages one group commit would wait for a whole checkpoint (copy + fsync, tens of
// ms): a latency spike for every request in that group. A passive checkpoint here never
// blocks the writer.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace ow::store {

/// When the writer asks for a checkpoint. Each one copies the pages written since the last
/// and fsyncs the database; asked after every commit, it copied the same hot pages (the
/// tables' and indexes' last leaves) again and again: 15 % of the hub's instructions at
/// saturation. So: once the WAL has `walPages`, at most every `minIntervalMs`. Past
/// `catchUpPages` it asks after every commit again, because SQLite starts the WAL over only
/// after a checkpoint that caught up with the writer, and the WAL must not grow without end.
class CheckpointPacer {
public:
    CheckpointPacer(int walPages, int catchUpPages, std::int64_t minIntervalMs)
        : walPages_(walPages), catchUpPages_(catchUpPages), minIntervalMs_(minIntervalMs) {}

    /// `pages`: the WAL's size after a commit; `nowMs`: a monotonic time.
    bool due(int pages, std::int64_t nowMs) {
        if (pages < walPages_) return false;
        if (pages < catchUpPages_ && asked_ && nowMs - lastAskedMs_ < minIntervalMs_) return false;
        asked_ = true;
        lastAskedMs_ = nowMs;
        return true;
    }

private:
    int walPages_;
    int catchUpPages_;
    std::int64_t minIntervalMs_;
    bool asked_ = false;
    std::int64_t lastAskedMs_ = 0;
};

class Checkpointer {
public:
    /// `walPages`: checkpoint once the WAL has this many pages (the writer reports them through
    /// walGrew(); see CheckpointPacer), and at least every `intervalMs`.
    Checkpointer(const std::string& dbFile, int walPages = 1000, int intervalMs = 1000);
    ~Checkpointer();

    void start();
    void stop();
    /// Called by the writer after each commit with the WAL's size in pages.
    void walGrew(int pages);

    [[nodiscard]] std::uint64_t checkpoints() const { return checkpoints_.load(); }

private:
    void run();

    std::string dbFile_;
    int intervalMs_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    bool due_ = false;
    std::thread thread_;
    std::atomic<std::uint64_t> checkpoints_{0};
    CheckpointPacer pacer_; // the writer's thread only
};

} // namespace ow::store
