// The sink: forwards canonical gov.case.* events to the market regulation bureau's case
// system, one REST call per event, in the bureau's own field names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <onewindow/sdk/Components.h>

namespace dept_market {

class CaseForwarder final : public onewindow::sdk::Sink {
public:
    // Config keys, shared by the spec and the constructor so the two cannot disagree.
    static constexpr const char* FieldBaseUrl = "base_url";
    static constexpr const char* FieldPath = "path";
    static constexpr const char* FieldTimeoutMs = "timeout_ms";
    static constexpr const char* FieldApiKey = "api_key";
    static constexpr const char* FieldSuccessCodes = "success_codes";
    static constexpr std::int64_t DefaultTimeoutMs = 5000;

    static onewindow::sdk::ConfigSpec spec();

    /// Throws std::invalid_argument if base_url is not an http:// or https:// URL (the hub
    /// then refuses to start the instance and says why).
    explicit CaseForwarder(onewindow::sdk::Services& services);

    /// Ok when the bureau accepted the case; Retry on 5xx, 408, 429 or no answer (honouring
    /// Retry-After); Reject on any other 4xx, on a business error code in a 2xx answer, and on
    /// events it cannot map (another type, no case number).
    onewindow::sdk::Result deliver(const onewindow::sdk::Event& event) override;

private:
    onewindow::sdk::Services& services_;
    std::string url_;
    std::int64_t timeoutMs_;
    std::string apiKey_;
    std::vector<std::string> successCodes_;
    onewindow::sdk::Counter& delivered_;
    onewindow::sdk::Counter& retried_;
    onewindow::sdk::Counter& rejected_;
    onewindow::sdk::Histogram& callSeconds_;
};

} // namespace dept_market
