#include "core/util/TaskPool.h"

#include <algorithm>

#include "core/util/ThreadName.h"

namespace ow::util {

TaskPool::TaskPool(std::string threadName, std::size_t maxThreads)
    : name_(std::move(threadName)), max_(std::max<std::size_t>(1, maxThreads)) {}

TaskPool::~TaskPool() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
        t.join();
}

void TaskPool::submit(std::function<void()> task) {
    {
        std::lock_guard lock(mu_);
        tasks_.push_back(std::move(task));
        // A thread of its own for each task that finds none idle, up to the limit.
        if (idle_ < tasks_.size() && threads_.size() < max_) {
            threads_.emplace_back([this] {
                nameThisThread(name_);
                run();
            });
            return; // the new thread finds the task
        }
    }
    cv_.notify_one();
}

std::size_t TaskPool::threads() const {
    std::lock_guard lock(mu_);
    return threads_.size();
}

void TaskPool::run() {
    std::unique_lock lock(mu_);
    for (;;) {
        ++idle_;
        cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        --idle_;
        if (tasks_.empty()) return; // stopping, and nothing left to run
        auto task = std::move(tasks_.front());
        tasks_.pop_front();
        lock.unlock();
        try {
            task();
        } catch (...) {
            // Documented: tasks catch their own exceptions; a pool thread must not die.
        }
        task = nullptr; // what it captured goes before the lock is taken again
        lock.lock();
    }
}

} // namespace ow::util
