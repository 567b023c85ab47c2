// IPv4 and IPv6 addresses and CIDR ranges, for lists of trusted peers and per-client limits.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ow::util {

/// An IPv4 or IPv6 address, IPv4 kept as an IPv4-mapped IPv6 address.
struct IpAddress {
    std::array<std::uint8_t, 16> bytes{};
    bool v4 = false;

    /// "192.0.2.7", "2001:db8::1", "[2001:db8::1]", "::ffff:192.0.2.7"; nullopt otherwise.
    static std::optional<IpAddress> parse(std::string_view text);
    /// The address part of a peer address as the server writes it ("192.0.2.7:5123",
    /// "[2001:db8::1]:5123").
    static std::optional<IpAddress> fromPeer(std::string_view peer);
    [[nodiscard]] std::string text() const;
    /// What one client is, for per-client limits: an IPv4 address, or the /64 network of an
    /// IPv6 address (one subscriber's line gets a whole /64, so its addresses are one client).
    [[nodiscard]] std::string clientKey() const;
};

/// An address or a CIDR range ("10.0.0.0/8", "2001:db8::/32", "192.0.2.7").
class IpRange {
public:
    /// nullopt when `text` is neither.
    static std::optional<IpRange> parse(std::string_view text);
    [[nodiscard]] bool contains(const IpAddress& a) const;

private:
    IpAddress base_;
    int bits_ = 128; // prefix length in the IPv6 (or mapped) form
};

} // namespace ow::util
