// Who the client is, by address, when the hub sits behind reverse proxies: the TLS proxy in
// front of the website sends every visitor's request from its own address, and says whose it
// is in Forwarded (RFC 7239) or X-Forwarded-For. Those headers are believed only from the
// proxies the operator lists (hub.trusted_proxies): from anyone else they are the client's own
// words and are ignored.
#pragma once

#include <string>
#include <vector>

#include "core/transport/http/HttpMessage.h"
#include "core/util/IpAddress.h"

namespace ow::transport::http {

class TrustedProxies {
public:
    TrustedProxies() = default;
    /// `ranges` as validated by the configuration loader; one that does not parse is skipped.
    explicit TrustedProxies(const std::vector<std::string>& ranges);

    /// The client's address: the peer's, unless the peer is a trusted proxy; then the last
    /// address in Forwarded (or, without it, X-Forwarded-For) that is not a trusted proxy
    /// itself. "" only when the peer address cannot be read.
    [[nodiscard]] std::string clientOf(const Request& req) const;

private:
    [[nodiscard]] bool trusts(const util::IpAddress& a) const;
    std::vector<util::IpRange> ranges_;
};

} // namespace ow::transport::http
