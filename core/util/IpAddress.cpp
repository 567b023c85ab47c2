#include "core/util/IpAddress.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace ow::util {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
        text = text.substr(1, text.size() - 2);
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    char buf[INET6_ADDRSTRLEN] = {};
    std::memcpy(buf, text.data(), text.size());
    IpAddress a;
    in_addr v4{};
    if (::inet_pton(AF_INET, buf, &v4) == 1) {
        a.v4 = true;
        a.bytes[10] = a.bytes[11] = 0xff;
        std::memcpy(a.bytes.data() + 12, &v4, 4);
        return a;
    }
    if (::inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
        static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        a.v4 = std::memcmp(a.bytes.data(), kMapped, 12) == 0;
        return a;
    }
    return std::nullopt;
}

std::optional<IpAddress> IpAddress::fromPeer(std::string_view peer) {
    if (!peer.empty() && peer.front() == '[') {
        auto close = peer.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        return parse(peer.substr(1, close - 1));
    }
    auto colon = peer.rfind(':');
    if (colon != std::string_view::npos && peer.find(':') == colon)
        return parse(peer.substr(0, colon));
    return parse(peer);
}

std::string IpAddress::text() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (v4)
        ::inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof buf);
    else
        ::inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

std::string IpAddress::clientKey() const {
    if (v4) return text();
    IpAddress net = *this;
    std::memset(net.bytes.data() + 8, 0, 8);
    return net.text() + "/64";
}

std::optional<IpRange> IpRange::parse(std::string_view text) {
    IpRange r;
    auto slash = text.find('/');
    auto base = IpAddress::parse(text.substr(0, slash));
    if (!base) return std::nullopt;
    r.base_ = *base;
    const int max = base->v4 ? 32 : 128;
    int bits = max;
    if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
        if (ec != std::errc() || end != digits.data() + digits.size() || bits < 0 || bits > max)
            return std::nullopt;
    }
    r.bits_ = base->v4 ? bits + 96 : bits;
    return r;
}

bool IpRange::contains(const IpAddress& a) const {
    int bits = bits_;
    for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
        const auto mask = static_cast<std::uint8_t>(bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff);
        if ((a.bytes[i] & mask) != (base_.bytes[i] & mask)) return false;
    }
    return true;
}

} // namespace ow::util
