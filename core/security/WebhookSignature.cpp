#include "core/security/WebhookSignature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <stdexcept>

#include "core/event/Encoding.h"

namespace ow::security {
namespace {

constexpr std::size_t MaxIdLength = 256;

std::string hmac(SignatureScheme scheme, std::string_view key, std::string_view data) {
    const EVP_MD* md = scheme == SignatureScheme::HmacSm3 ? EVP_sm3() : EVP_sha256();
    if (!md) throw std::runtime_error("the HMAC digest is not available in this OpenSSL");
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!HMAC(md, key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length))
        throw std::runtime_error("HMAC failed");
    return std::string(reinterpret_cast<const char*>(out), length);
}

std::string signedContent(std::string_view id, std::string_view timestamp, std::string_view body) {
    std::string s;
    s.reserve(id.size() + timestamp.size() + body.size() + 2);
    s.append(id).append(".").append(timestamp).append(".").append(body);
    return s;
}

/// The only value of header `name`; nullopt when absent; "" marks "given more than once".
std::optional<std::string> single(const transport::http::HeaderList& headers, std::string_view name,
                                  bool& duplicate) {
    std::optional<std::string> out;
    for (const auto& [n, v] : headers) {
        if (n != name) continue;
        if (out) duplicate = true;
        out = v;
    }
    return out;
}

SignatureCheck refuse(int status, std::string reason) {
    return {false, status, std::move(reason), {}, {}};
}

} // namespace

std::optional<std::string> webhookKeyBytes(std::string_view configured) {
    constexpr std::string_view prefix = "whsec_";
    if (!configured.starts_with(prefix)) return std::string(configured);
    return event::base64Decode(configured.substr(prefix.size()));
}

const char* schemeTag(SignatureScheme s) {
    return s == SignatureScheme::HmacSm3 ? "v1sm3" : "v1";
}

std::string signWebhook(SignatureScheme scheme, std::string_view key, std::string_view id,
                        std::int64_t timestampS, std::string_view body) {
    return std::string(schemeTag(scheme)) + "," +
           event::base64Encode(
               hmac(scheme, key, signedContent(id, std::to_string(timestampS), body)));
}

WebhookVerifier::WebhookVerifier(SignatureScheme scheme, std::int64_t toleranceS,
                                 const util::Clock& clock, std::size_t maxRemembered)
    : scheme_(scheme), toleranceS_(toleranceS), clock_(clock), maxRemembered_(maxRemembered) {}

void WebhookVerifier::reconfigure(SignatureScheme scheme, std::int64_t toleranceS) {
    scheme_ = scheme;
    toleranceS_ = toleranceS;
}

void WebhookVerifier::forgetExpired(std::int64_t nowS) {
    for (auto it = seen_.begin(); it != seen_.end();)
        it = it->second < nowS ? seen_.erase(it) : std::next(it);
}

SignatureCheck WebhookVerifier::verify(const transport::http::HeaderList& headers,
                                       std::string_view body,
                                       const std::vector<WebhookSender>& senders) {
    bool duplicate = false;
    const auto id = single(headers, "webhook-id", duplicate);
    const auto ts = single(headers, "webhook-timestamp", duplicate);
    const auto sigs = single(headers, "webhook-signature", duplicate);
    if (duplicate)
        return refuse(400, "webhook-id, webhook-timestamp and webhook-signature must each be "
                           "given once");
    if (!id || !ts || !sigs)
        return refuse(401, std::string("missing ") +
                               (!id   ? "webhook-id"
                                : !ts ? "webhook-timestamp"
                                      : "webhook-signature") +
                               ": requests to this input must be signed");
    if (id->empty() || id->size() > MaxIdLength)
        return refuse(400, "webhook-id must be 1 to 256 characters");
    for (unsigned char c : *id)
        if (c < 0x21 || c > 0x7e) return refuse(400, "webhook-id must be visible ASCII");
    std::int64_t timestamp = 0;
    if (ts->empty() || ts->size() > 12)
        return refuse(400, "webhook-timestamp must be Unix seconds");
    for (char c : *ts) {
        if (!std::isdigit(static_cast<unsigned char>(c)))
            return refuse(400, "webhook-timestamp must be Unix seconds");
        timestamp = timestamp * 10 + (c - '0');
    }
    const std::int64_t nowS = clock_.nowMs() / 1000;
    // One reading of the settings for the whole check, even if a reload changes them now.
    const SignatureScheme scheme = scheme_.load();
    const std::int64_t toleranceS = toleranceS_.load();
    if (timestamp < nowS - toleranceS || timestamp > nowS + toleranceS)
        return refuse(401, "webhook-timestamp is more than " + std::to_string(toleranceS) +
                               " s from the hub's clock");

    // The signatures of our scheme; others (a sender's other scheme) are ignored.
    const std::string tag = std::string(schemeTag(scheme)) + ",";
    std::vector<std::string> given;
    std::size_t at = 0;
    while (at < sigs->size()) {
        std::size_t end = sigs->find(' ', at);
        if (end == std::string::npos) end = sigs->size();
        const std::string part = sigs->substr(at, end - at);
        at = end + 1;
        if (part.empty()) continue;
        if (part.find(',') == std::string::npos)
            return refuse(400, "webhook-signature must be a list of '<version>,<base64>'");
        if (part.rfind(tag, 0) == 0) {
            auto raw = event::base64Decode(std::string_view(part).substr(tag.size()));
            if (!raw) return refuse(400, "a webhook-signature is not valid base64");
            given.push_back(*raw);
        }
    }
    if (given.empty())
        return refuse(401,
                      std::string("no ") + schemeTag(scheme) + " signature in webhook-signature");
    const std::string content = signedContent(*id, *ts, body);
    bool match = false;
    std::string matched, client;
    for (const auto& sender : senders)
        for (const auto& key : sender.keys) {
            const std::string expected = hmac(scheme, key, content);
            for (const auto& g : given)
                // Every comparison runs to the end: no early exit tells which byte differs.
                if (g.size() == expected.size() &&
                    CRYPTO_memcmp(g.data(), expected.data(), expected.size()) == 0) {
                    match = true;
                    matched = g;
                    client = sender.client;
                }
        }
    if (!match) return refuse(401, "the signature does not match");

    std::lock_guard lock(mu_);
    if (seen_.size() >= maxRemembered_) forgetExpired(nowS);
    const std::string idKey = "id:" + *id, sigKey = "sig:" + matched;
    if (seen_.count(idKey) || seen_.count(sigKey))
        return refuse(409, "webhook-id " + *id + " was already received: a replay is refused");
    if (seen_.size() >= maxRemembered_)
        return refuse(503, "too many signed requests to remember; try again shortly");
    // Remembered until its timestamp leaves the window: after that the time check refuses it.
    const std::int64_t forgetAfter = timestamp + toleranceS + 1;
    seen_[idKey] = std::max(forgetAfter, nowS + toleranceS + 1);
    seen_[sigKey] = seen_[idKey];
    return {true, 200, {}, client, {{idKey, seen_[idKey]}, {sigKey, seen_[idKey]}}};
}

void WebhookVerifier::preload(const std::vector<std::pair<std::string, std::int64_t>>& seen) {
    std::lock_guard lock(mu_);
    for (const auto& [key, forgetAfter] : seen)
        seen_[key] = std::max(seen_[key], forgetAfter);
}

} // namespace ow::security
