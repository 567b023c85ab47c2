#include "core/plugin/DeadlineCaller.h"
#include "core/util/ThreadName.h"

namespace ow::plugin {
namespace sdk = onewindow::sdk;

struct DeadlineCaller::State {
    std::mutex mu;
    std::condition_variable cv;
    std::function<sdk::Result()> job; // set: waiting to run
    bool running = false;
    bool done = false;
    bool overran = false;
    bool quit = false;
    sdk::Result result;
    std::string what;
};

DeadlineCaller::DeadlineCaller(std::string what) : state_(std::make_shared<State>()) {
    state_->what = std::move(what);
    thread_ = std::thread([s = state_] {
        util::nameThisThread("ow-plugin-call");
        std::unique_lock lock(s->mu);
        while (true) {
            s->cv.wait(lock, [&] { return s->quit || s->job; });
            if (!s->job) return; // quit with nothing to run
            auto job = std::move(s->job);
            s->job = nullptr;
            s->running = true;
            lock.unlock();
            sdk::Result r = guarded(job, s->what);
            job = nullptr; // release what the call held before reporting
            lock.lock();
            s->running = false;
            s->overran = false;
            s->result = std::move(r);
            s->done = true;
            s->cv.notify_all();
            if (s->quit) return;
        }
    });
}

DeadlineCaller::~DeadlineCaller() {
    {
        std::lock_guard lock(state_->mu);
        state_->quit = true;
    }
    state_->cv.notify_all();
    bool stuckNow;
    {
        std::lock_guard lock(state_->mu);
        stuckNow = state_->running;
    }
    // A thread stuck in plugin code cannot be joined; it keeps its state (and what its call
    // captured) alive by itself and ends whenever the call returns.
    if (stuckNow)
        thread_.detach();
    else
        thread_.join();
}

sdk::Result DeadlineCaller::call(const std::function<sdk::Result()>& fn,
                                 std::chrono::milliseconds deadline) {
    std::unique_lock callLock(callMu_, std::defer_lock);
    if (!callLock.try_lock_for(deadline))
        return sdk::Result::retry(state_->what + ": another call did not finish within " +
                                  std::to_string(deadline.count()) + " ms");
    std::unique_lock lock(state_->mu);
    if (state_->running)
        return sdk::Result::retry(state_->what + " is stuck: an earlier call has not returned");
    state_->job = fn;
    state_->done = false;
    state_->cv.notify_all();
    if (!state_->cv.wait_for(lock, deadline, [&] { return state_->done; })) {
        state_->overran = true;
        return sdk::Result::retry(state_->what + " did not return within " +
                                  std::to_string(deadline.count()) + " ms");
    }
    return state_->result;
}

bool DeadlineCaller::stuck() const {
    std::lock_guard lock(state_->mu);
    return state_->overran;
}

} // namespace ow::plugin
