// A department system's HTTP API as the reference adapters call it: a base URL and an API key
// from the instance config (`base_url`, `api_key` sent in the header the system expects,
// `timeout_ms`), JSON bodies, the hub's HTTP client (TLS, pooling and timeouts configured by
// the hub).
#pragma once

#include <cstdint>
#include <string>

#include <onewindow/sdk/Components.h>

namespace ow::adapters {

struct HttpEndpoint {
    std::string baseUrl, apiKey, keyHeader;
    std::int64_t timeoutMs = 10000;

    HttpEndpoint(const onewindow::sdk::Config& c, std::string keyHeaderName)
        : baseUrl(c.get<std::string>("base_url")), apiKey(c.get<std::string>("api_key")),
          keyHeader(std::move(keyHeaderName)), timeoutMs(c.get<std::int64_t>("timeout_ms", 10000)) {
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
        if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
        if (!apiKey.empty()) r.headers.emplace_back(keyHeader, apiKey);
        return http.send(r);
    }
};

} // namespace ow::adapters
