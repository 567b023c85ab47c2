// Names the calling thread ("ow-writer", "ow-out-led-wall") so `top -H`, `perf` and core
// dumps say which part of the hub a thread is. Linux keeps at most 15 characters.
#pragma once

#include <string>

namespace ow::util {

void nameThisThread(const std::string& name);

} // namespace ow::util
