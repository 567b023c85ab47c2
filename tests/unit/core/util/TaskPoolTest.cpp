#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "core/util/TaskPool.h"

using namespace std::chrono_literals;

TEST_CASE("TaskPool runs blocked tasks side by side up to its limit, then queues the rest") {
    std::mutex m;
    std::condition_variable cv;
    int running = 0;
    bool release = false;
    std::vector<int> order;
    {
        ow::util::TaskPool pool("test-pool", 3);
        for (int i = 0; i < 3; ++i)
            pool.submit([&] {
                std::unique_lock lock(m);
                ++running;
                cv.notify_all();
                cv.wait_for(lock, 10s, [&] { return release; });
            });
        {
            std::unique_lock lock(m);
            // Three tasks block at once: none waits for another to finish.
            REQUIRE(cv.wait_for(lock, 5s, [&] { return running == 3; }));
        }
        for (int i = 0; i < 5; ++i)
            pool.submit([&, i] {
                std::lock_guard lock(m);
                order.push_back(i);
            });
        pool.submit([] { throw std::runtime_error("a task that throws"); });
        CHECK(pool.threads() == 3);
        {
            std::lock_guard lock(m);
            CHECK(order.empty()); // every thread is busy
            release = true;
        }
        cv.notify_all();
    }                                      // the destructor runs what is queued, then joins
    std::sort(order.begin(), order.end()); // three threads take them: any order
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
}
