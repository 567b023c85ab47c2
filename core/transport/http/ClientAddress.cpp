#include "core/transport/http/ClientAddress.h"

#include <cctype>

namespace ow::transport::http {

using util::IpAddress;
using util::IpRange;

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

// The comma-separated elements of every field named `name`, in order.
std::vector<std::string_view> elements(const Request& req, std::string_view name) {
    std::vector<std::string_view> out;
    for (const auto& [n, v] : req.headers) {
        if (n != name) continue;
        std::string_view list = v;
        for (;;) {
            auto comma = list.find(',');
            if (auto e = trim(list.substr(0, comma)); !e.empty()) out.push_back(e);
            if (comma == std::string_view::npos) break;
            list.remove_prefix(comma + 1);
        }
    }
    return out;
}

// The node of a Forwarded element's `for=` parameter, unquoted ("" when it has none).
std::string_view forwardedFor(std::string_view element) {
    for (;;) {
        auto semi = element.find(';');
        auto pair = trim(element.substr(0, semi));
        auto eq = pair.find('=');
        if (eq != std::string_view::npos && iequals(trim(pair.substr(0, eq)), "for")) {
            auto value = trim(pair.substr(eq + 1));
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.substr(1, value.size() - 2);
            return value;
        }
        if (semi == std::string_view::npos) return {};
        element.remove_prefix(semi + 1);
    }
}

// A node as proxies write it: "192.0.2.7", "192.0.2.7:4711", "[2001:db8::1]:4711",
// "2001:db8::1" (X-Forwarded-For), or an obfuscated name ("_gazonk", "unknown").
std::optional<IpAddress> nodeAddress(std::string_view node) {
    if (auto a = IpAddress::parse(node)) return a;
    return IpAddress::fromPeer(node);
}

} // namespace

TrustedProxies::TrustedProxies(const std::vector<std::string>& ranges) {
    for (const auto& r : ranges)
        if (auto parsed = IpRange::parse(r)) ranges_.push_back(*parsed);
}

bool TrustedProxies::trusts(const IpAddress& a) const {
    for (const auto& r : ranges_)
        if (r.contains(a)) return true;
    return false;
}

std::string TrustedProxies::clientOf(const Request& req) const {
    auto peer = IpAddress::fromPeer(req.peerAddress);
    if (!peer) return {};
    if (ranges_.empty() || !trusts(*peer)) return peer->text();
    // Each proxy appends the address it got the request from: read from the nearest one back,
    // past the proxies that are trusted, to the first address that is not.
    std::vector<std::string_view> chain;
    for (auto e : elements(req, "forwarded"))
        if (auto node = forwardedFor(e); !node.empty()) chain.push_back(node);
    if (chain.empty()) chain = elements(req, "x-forwarded-for");
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        auto a = nodeAddress(*it);
        if (a && trusts(*a)) continue;
        return a ? a->text() : std::string(*it);
    }
    if (!chain.empty())
        if (auto a = nodeAddress(chain.front())) return a->text();
    return peer->text();
}

} // namespace ow::transport::http
