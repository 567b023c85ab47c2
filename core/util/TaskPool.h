// Threads for work that may block (an admin query, a handler waiting on something), started
// as needed up to a limit and kept for the pool's life, so that one slow task never holds up
// the thread that handed it over.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ow::util {

class TaskPool {
public:
    /// `maxThreads`: tasks beyond it wait in order for a free thread.
    TaskPool(std::string threadName, std::size_t maxThreads);
    ~TaskPool(); ///< runs what is queued, then joins
    TaskPool(const TaskPool&) = delete;
    TaskPool& operator=(const TaskPool&) = delete;

    /// Runs `task` on a pool thread. Exceptions escaping it are swallowed: catch them inside.
    void submit(std::function<void()> task);

    [[nodiscard]] std::size_t threads() const;

private:
    void run();

    std::string name_;
    std::size_t max_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    std::vector<std::thread> threads_;
    std::size_t idle_ = 0;
    bool stopping_ = false;
};

} // namespace ow::util
