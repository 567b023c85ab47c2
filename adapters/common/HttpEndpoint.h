// A department system's HTTP API as the reference adapters call it: a base URL and an API key
// from the instance config (`base_url`, `api_key` sent in the header the system expects,
// `timeout_ms`), bodies in the system's content type (JSON unless it says otherwise), the hub's
// HTTP client (TLS, pooling and timeouts configured by the hub).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <onewindow/sdk/Components.h>

namespace ow::adapters {

struct HttpEndpoint {
    std::string baseUrl, apiKey, keyHeader, contentType;
    std::int64_t timeoutMs = 10000;

    /// `keyHeaderName` carries `api_key` (not sent when the key is empty or undeclared).
    HttpEndpoint(const onewindow::sdk::Config& c, std::string keyHeaderName,
                 std::string bodyContentType = "application/json")
        : baseUrl(c.get<std::string>("base_url")), apiKey(c.get<std::string>("api_key")),
          keyHeader(std::move(keyHeaderName)), contentType(std::move(bodyContentType)),
          timeoutMs(c.get<std::int64_t>("timeout_ms", 10000)) {
        while (!baseUrl.empty() && baseUrl.back() == '/')
            baseUrl.pop_back();
    }

    onewindow::sdk::HttpResponse call(onewindow::sdk::HttpClient& http, const std::string& method,
                                      const std::string& path, const std::string& body = {}) const {
        onewindow::sdk::HttpRequest r;
        r.method = method;
        r.url = baseUrl + path;
        r.body = body;
        r.timeoutMs = timeoutMs;
        if (!body.empty()) r.headers.emplace_back("Content-Type", contentType);
        if (!apiKey.empty()) r.headers.emplace_back(keyHeader, apiKey);
        return http.send(r);
    }
};

} // namespace ow::adapters
