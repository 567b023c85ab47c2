// Signed requests from payment terminals and bank counters, in the Standard Webhooks shape
// (as Stripe and Svix sign theirs): the sender signs "<webhook-id>.<webhook-timestamp>.<body>"
// with HMAC and sends
//
//   webhook-id: msg_2Kx...          a unique id per message; a terminal that retries sends a
//                                   new message (new id) with the same Idempotency-Key
//   webhook-timestamp: 1795856400   Unix seconds when it was signed
//   webhook-signature: v1,<base64>  one or more, space-separated (several during a rotation)
//
// `v1` is HMAC-SHA256; `v1sm3` is HMAC-SM3 for the national-algorithm profile (GB/T 32905).
// The verifier accepts a request only when a signature of the configured scheme matches one
// of the sender's keys (two during a key rotation) in constant time, the timestamp is within
// the tolerance (±5 minutes by default) of the hub's clock, and neither the id nor the
// signature was seen within the window (a replay, even re-signed with a new timestamp, is
// refused).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/HubConfig.h"
#include "core/transport/http/HttpMessage.h"
#include "core/util/Clock.h"

namespace ow::security {

enum class SignatureScheme { HmacSha256, HmacSm3 };

/// "v1" or "v1sm3".
const char* schemeTag(SignatureScheme s);

/// The HMAC key a configured secret stands for. The Standard Webhooks form "whsec_<base64>"
/// is the base64-decoded bytes (as the specification and its reference libraries use it);
/// any other text is the key as written. nullopt when "whsec_" is not followed by base64.
std::optional<std::string> webhookKeyBytes(std::string_view configured);

/// The header value a sender puts in webhook-signature for one key: "v1,<base64>".
std::string signWebhook(SignatureScheme scheme, std::string_view key, std::string_view id,
                        std::int64_t timestampS, std::string_view body);

/// A terminal or counter and its current keys (two while a new key is rolled out), as the
/// input's auth.signed lists it.
using WebhookSender = config::SignedAuth::Sender;

struct SignatureCheck {
    bool ok = false;
    int status = 401;   ///< 400 malformed headers, 401 bad signature or time, 409 replay
    std::string reason; ///< for the problem response; never echoes a key or a signature
    std::string client; ///< on success: the sender whose key matched
    /// On success: what was remembered (to be made durable with the accepted request).
    std::vector<std::pair<std::string, std::int64_t>> remembered;
};

class WebhookVerifier {
public:
    WebhookVerifier(SignatureScheme scheme, std::int64_t toleranceS, const util::Clock& clock,
                    std::size_t maxRemembered = 200000);

    /// A reloaded configuration's scheme and window, for the requests checked from now on;
    /// what was seen stays remembered (a replay across a reload is still a replay).
    void reconfigure(SignatureScheme scheme, std::int64_t toleranceS);

    /// Checks `headers` and `body` against every sender's keys; the sender whose key matches
    /// is the client. On success the id and signature are remembered for the window, so the
    /// same message is refused next.
    SignatureCheck verify(const transport::http::HeaderList& headers, std::string_view body,
                          const std::vector<WebhookSender>& senders);

    /// Remembers ids and signatures seen before a restart (from the journal).
    void preload(const std::vector<std::pair<std::string, std::int64_t>>& seen);

private:
    void forgetExpired(std::int64_t nowS);

    std::atomic<SignatureScheme> scheme_;
    std::atomic<std::int64_t> toleranceS_;
    const util::Clock& clock_;
    const std::size_t maxRemembered_;
    std::mutex mu_;
    std::map<std::string, std::int64_t> seen_; ///< "id:<id>" / "sig:<sig>" -> forget after (s)
};

} // namespace ow::security
