#pragma once

#include <cstdint>
#include <random>

#include "core/config/HubConfig.h"

namespace ow::delivery {

/// Delay before attempt `attempts + 1`, after `attempts` failures (>= 1): exponential from
/// initialDelayMs by `multiplier`, capped at maxDelayMs, then spread by +-jitter so that
/// many rows failing together do not come back together.
std::int64_t backoffDelayMs(const config::RetryPolicy& p, int attempts, std::mt19937_64& rng);

} // namespace ow::delivery
