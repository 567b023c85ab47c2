#include <catch2/catch.hpp>

#include "core/query/RateLimiter.h"

using namespace ow;

namespace {

class ManualClock final : public util::Clock {
public:
    [[nodiscard]] std::int64_t nowMs() const override { return now; }
    std::int64_t now = 1'000'000;
};

} // namespace

TEST_CASE("RateLimiter: a burst of perMinute, then one more every 60/perMinute seconds",
          "[query]") {
    ManualClock clock;
    query::RateLimiter limiter(30, clock);
    for (int i = 0; i < 30; ++i)
        REQUIRE(limiter.admit("10.0.0.1") == 0);
    CHECK(limiter.admit("10.0.0.1") == 2); // one token every 2 s
    CHECK(limiter.admit("10.0.0.2") == 0); // another client has its own bucket
    clock.now += 1999;
    CHECK(limiter.admit("10.0.0.1") > 0);
    clock.now += 1;
    CHECK(limiter.admit("10.0.0.1") == 0);
    CHECK(limiter.admit("10.0.0.1") > 0);
    clock.now += 60'000; // a quiet minute refills the burst, no more
    for (int i = 0; i < 30; ++i)
        REQUIRE(limiter.admit("10.0.0.1") == 0);
    CHECK(limiter.admit("10.0.0.1") > 0);
}

TEST_CASE("RateLimiter: memory stays bounded, forgetting idle clients first", "[query]") {
    ManualClock clock;
    query::RateLimiter limiter(5, clock, /*maxClients=*/3);
    for (const char* c : {"a", "b", "c"})
        REQUIRE(limiter.admit(c) == 0);
    // All three are busy: a fourth waits rather than evicting them.
    CHECK(limiter.admit("d") > 0);
    clock.now += 60'000; // now they are idle (full again) and are forgotten
    CHECK(limiter.admit("d") == 0);
}
