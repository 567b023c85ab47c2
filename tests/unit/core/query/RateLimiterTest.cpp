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

TEST_CASE("RateLimiter: memory stays bounded by forgetting the client seen least recently",
          "[query]") {
    ManualClock clock;
    query::RateLimiter limiter(2, clock, /*maxClients=*/3);
    for (const char* c : {"a", "b", "c"}) {
        REQUIRE(limiter.admit(c) == 0);
        REQUIRE(limiter.admit(c) == 0);
        REQUIRE(limiter.admit(c) > 0); // all three busy
    }
    REQUIRE(limiter.admit("a") > 0); // "a" seen again: now "b" is the least recent
    // A table full of busy clients does not refuse a newcomer: "b" is forgotten for it.
    CHECK(limiter.admit("d") == 0);
    CHECK(limiter.admit("a") > 0); // still remembered, still limited
    CHECK(limiter.admit("c") > 0);
    CHECK(limiter.admit("b") == 0); // forgotten: a fresh burst (and "d" makes room for it)
}
