// Requests per client, as a token bucket per client key: `perMinute` requests in a burst,
// refilled evenly over a minute. Bounded in memory: at `maxClients` the client seen least
// recently is forgotten to make room, so a flood of new addresses cannot lock new clients out
// (the most it can do is forget clients that went quiet, and give them a fresh burst).
#pragma once

#include <cstdint>
#include <list>
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
        std::string client;
        double tokens = 0;
        std::int64_t atMs = 0;
    };
    using Order = std::list<Bucket>; // least recently seen first
    void refill(Bucket& b, std::int64_t now) const;

    const double capacity_;
    const double perMs_;
    const util::Clock& clock_;
    const std::size_t maxClients_;
    std::mutex mu_;
    Order order_;
    std::unordered_map<std::string, Order::iterator> buckets_;
};

} // namespace ow::query
