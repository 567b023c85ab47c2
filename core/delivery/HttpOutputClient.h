// Delivers events to an HTTP(S) endpoint in structured or binary CloudEvents mode, keeping
// one connection open between deliveries (one client per dispatcher worker = the pool).
#pragma once

#include <memory>

#include <Poco/Net/Context.h>
#include <Poco/URI.h>

#include "core/config/HubConfig.h"
#include "core/delivery/OutputClient.h"
#include "core/transport/http/HttpClientConnection.h"

namespace ow::delivery {

class HttpOutputClient final : public OutputClient {
public:
    /// `tls` is required for https URLs (see makeClientContext).
    HttpOutputClient(const config::OutputSpec& spec, Poco::Net::Context::Ptr tls);
    DeliveryResult deliver(const store::OutboxRow& row) override;
    void abort() noexcept override { connection_.abort(); }

    /// Builds the TLS context for an output: CA verification on unless `verify: false`,
    /// optional client certificate for mutual TLS. Throws with a readable message.
    static Poco::Net::Context::Ptr makeClientContext(const config::TlsClientSettings& tls);

    /// Classifies a status code the way the dispatcher needs it.
    static DeliveryResult::Outcome classify(int status);
    /// Retry-After as delay in ms: delta-seconds or an HTTP-date; nullopt if unparsable.
    static std::optional<std::int64_t> parseRetryAfter(const std::string& value,
                                                       std::int64_t nowMs);

private:
    /// A Retry for a delivery that failed with `why` (or was cut off by abort()).
    DeliveryResult failed(const std::string& why);

    // A copy: an output that a reload leaves unchanged keeps its clients, while the
    // configuration they were made from is replaced.
    const config::OutputSpec spec_;
    Poco::URI uri_;
    std::string path_;
    transport::http::HeaderList fixedHeaders_; // configured headers, sent with every request
    transport::http::HttpClientConnection connection_;
};

} // namespace ow::delivery
