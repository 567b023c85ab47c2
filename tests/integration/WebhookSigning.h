// Signs requests as a payment terminal does (Standard Webhooks: HMAC-SHA256 over
// "id.timestamp.body", base64), with OpenSSL directly rather than the hub's code, so a test
// checks the hub against the scheme and not against itself.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "tests/support/HttpClient.h"

namespace ow::itest {

inline std::string base64(const unsigned char* data, unsigned int n) {
    std::string out(4 * ((n + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
    return out;
}

inline std::int64_t nowS() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// The Standard Webhooks headers for `body`, signed with `key` at `ts`.
inline testkit::Headers signedHeaders(const std::string& key, const std::string& id,
                                      std::int64_t ts, const std::string& body) {
    const std::string content = id + "." + std::to_string(ts) + "." + body;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &n);
    return {{"Content-Type", "application/cloudevents+json"},
            {"webhook-id", id},
            {"webhook-timestamp", std::to_string(ts)},
            {"webhook-signature", "v1," + base64(mac, n)}};
}

} // namespace ow::itest
