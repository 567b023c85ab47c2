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

class Checkpointer {
public:
    /// `walPages`: checkpoint when the WAL has grown by this many pages since the last one
    /// (the writer reports growth through walGrew()), and at least every `intervalMs`.
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
    int walPages_;
    int intervalMs_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    bool due_ = false;
    std::thread thread_;
    std::atomic<std::uint64_t> checkpoints_{0};
};

} // namespace ow::store
