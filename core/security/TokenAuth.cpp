#include "core/security/TokenAuth.h"

#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace ow::security {
namespace {

std::array<unsigned char, 32> digest(const std::string& s) {
    std::array<unsigned char, 32> d{};
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
    return d;
}

} // namespace

std::string sha256Hex(const std::string& data) {
    auto d = digest(data);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : d) {
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
    return out;
}

TokenAuth::TokenAuth(const std::vector<config::BearerToken>& tokens) {
    for (const auto& t : tokens)
        entries_.push_back({t.client, digest(t.token)});
}

std::optional<std::string> TokenAuth::authenticate(const std::string* authorization) const {
    if (!authorization) return std::nullopt;
    const std::string& h = *authorization;
    // RFC 6750: the scheme is case-insensitive, followed by one space.
    if (h.size() < 8 || strncasecmp(h.c_str(), "bearer ", 7) != 0) return std::nullopt;
    auto presented = digest(h.substr(7));
    std::optional<std::string> who;
    // Compare against every entry without an early exit.
    for (const auto& e : entries_)
        if (CRYPTO_memcmp(presented.data(), e.digest.data(), presented.size()) == 0) who = e.client;
    return who;
}

} // namespace ow::security
