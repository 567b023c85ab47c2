#include "core/query/RateLimiter.h"

#include <algorithm>
#include <cmath>

namespace ow::query {

RateLimiter::RateLimiter(int perMinute, const util::Clock& clock, std::size_t maxClients)
    : capacity_(perMinute), perMs_(perMinute / 60000.0), clock_(clock),
      maxClients_(std::max<std::size_t>(1, maxClients)) {}

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
            buckets_.erase(order_.front().client);
            order_.pop_front();
        }
        order_.push_back({client, capacity_, now});
        it = buckets_.emplace(client, std::prev(order_.end())).first;
    } else {
        order_.splice(order_.end(), order_, it->second);
    }
    Bucket& b = *it->second;
    refill(b, now);
    if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
    }
    return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / perMs_ / 1000.0)));
}

} // namespace ow::query
