#include "core/delivery/Backoff.h"

#include <algorithm>
#include <cmath>

namespace ow::delivery {

std::int64_t backoffDelayMs(const config::RetryPolicy& p, int attempts, std::mt19937_64& rng) {
    double base =
        static_cast<double>(p.initialDelayMs) * std::pow(p.multiplier, std::max(0, attempts - 1));
    base = std::min(base, static_cast<double>(p.maxDelayMs));
    if (p.jitter > 0) {
        std::uniform_real_distribution<double> d(1.0 - p.jitter, 1.0 + p.jitter);
        base *= d(rng);
    }
    return std::max<std::int64_t>(0, static_cast<std::int64_t>(base));
}

} // namespace ow::delivery
