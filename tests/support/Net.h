// Loopback ports for tests: every server a test starts listens on 127.0.0.1 only.
#pragma once

#include <chrono>
#include <cstdint>

namespace ow::testkit {

/// A port that was free a moment ago: binds 127.0.0.1:0, reads the port, closes. Another
/// process may take it before the caller binds it, so prefer servers that bind port 0
/// themselves and report the port; use this only for programs that need a port up front.
std::uint16_t freeLoopbackPort();

/// Tries to connect to 127.0.0.1:`port` until a connection succeeds or `deadline` has passed.
bool waitForTcp(std::uint16_t port, std::chrono::milliseconds deadline);

} // namespace ow::testkit
