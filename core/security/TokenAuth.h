// Bearer-token check for an input. Tokens are compared through their SHA-256 digests with
// CRYPTO_memcmp, so neither the content nor the length of a configured token leaks by timing.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "core/config/HubConfig.h"

namespace ow::security {

class TokenAuth {
public:
    explicit TokenAuth(const std::vector<config::BearerToken>& tokens);

    [[nodiscard]] bool required() const { return !entries_.empty(); }
    /// The client name for a valid "Authorization: Bearer <token>" value, else nullopt.
    [[nodiscard]] std::optional<std::string> authenticate(const std::string* authorization) const;

private:
    struct Entry {
        std::string client;
        std::array<unsigned char, 32> digest;
    };
    std::vector<Entry> entries_;
};

/// SHA-256 of `data` as lower-case hex.
std::string sha256Hex(const std::string& data);

} // namespace ow::security
