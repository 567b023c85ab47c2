// Requests per client, as a token bucket per client address: `perMinute` requests in a burst,
// refilled evenly over a minute. Bounded in memory: when too many clients are tracked, those
// whose bucket is full again (idle for a minute) are forgotten.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/util/Clock.h"

namespace ow::query {

class RateLimiter {
public:
    RateLimiter(int perMinute, const util::Clock& clock, std::size_t maxClients = 10000);

    /// 0 when `client` may go on (and is charged one request); otherwise the seconds until it
    /// may, for Retry-After.
    int admit(const std::string& client);

private:
    struct Bucket {
        double tokens = 0;
        std::int64_t atMs = 0;
    };
    void refill(Bucket& b, std::int64_t now) const;

    const double capacity_;
    const double perMs_;
    const util::Clock& clock_;
    const std::size_t maxClients_;
    std::mutex mu_;
    std::unordered_map<std::string, Bucket> buckets_;
};

} // namespace ow::query
