#include "core/query/RateLimiter.h"

#include <algorithm>
#include <cmath>

namespace ow::query {

RateLimiter::RateLimiter(int perMinute, const util::Clock& clock, std::size_t maxClients)
    : capacity_(perMinute), perMs_(perMinute / 60000.0), clock_(clock), maxClients_(maxClients) {}

void RateLimiter::refill(Bucket& b, std::int64_t now) const {
    if (now > b.atMs) b.tokens = std::min(capacity_, b.tokens + (now - b.atMs) * perMs_);
    b.atMs = now;
}

int RateLimiter::admit(const std::string& client) {
    const std::int64_t now = clock_.nowMs();
    std::lock_guard lock(mu_);
    auto it = buckets_.find(client);
    if (it == buckets_.end()) {
        if (buckets_.size() >= maxClients_) {
            for (auto b = buckets_.begin(); b != buckets_.end();) {
                refill(b->second, now);
                b = b->second.tokens >= capacity_ ? buckets_.erase(b) : std::next(b);
            }
            // Still full of busy clients: the newcomer waits like one of them.
            if (buckets_.size() >= maxClients_) return 60;
        }
        it = buckets_.emplace(client, Bucket{capacity_, now}).first;
    }
    Bucket& b = it->second;
    refill(b, now);
    if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
    }
    return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / perMs_ / 1000.0)));
}

} // namespace ow::query
