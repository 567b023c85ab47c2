// What an answer to a feed's read says before its body is read, in words an operator
// understands: no answer, a status to try again on (with the system's Retry-After), an empty
// body, a body that is not JSON. Each message names the system; no library's exception text.
#pragma once

#include <cctype>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/Components.h>

#include "adapters/common/AcknowledgedFeed.h"

namespace ow::adapters {

/// The answer's Retry-After in milliseconds from now (delay-seconds, or an HTTP date), if any.
inline std::optional<std::int64_t> retryAfterMs(const onewindow::sdk::HttpResponse& r) {
    for (const auto& [name, value] : r.headers) {
        std::string lower = name;
        for (auto& c : lower)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower != "retry-after") continue;
        if (!value.empty() && value.size() <= 9 &&
            value.find_first_not_of("0123456789") == std::string::npos)
            return std::stoll(value) * 1000;
        std::tm tm{};
        if (!strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return std::nullopt;
        const auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            at - std::chrono::system_clock::now())
                            .count();
        return ms > 0 ? std::optional<std::int64_t>(ms) : std::nullopt;
    }
    return std::nullopt;
}

/// Why `system` cannot be read from answer `r`: none came, its status says try again later
/// (408, 429, 5xx), or its body is empty. nullopt when the body is worth reading.
inline std::optional<FeedPage> unreadable(const std::string& system,
                                          const onewindow::sdk::HttpResponse& r) {
    if (r.status == 0)
        return FeedPage::down(system + " did not answer" +
                              (r.error.empty() ? std::string() : ": " + r.error));
    const std::string http = system + " answered HTTP " + std::to_string(r.status);
    if (r.status >= 500 || r.status == 429 || r.status == 408)
        return FeedPage::down(http, retryAfterMs(r));
    if (r.body.find_first_not_of(" \t\r\n") == std::string::npos)
        return FeedPage::down(http + " with an empty body");
    return std::nullopt;
}

/// The body of answer `r` as JSON; a FeedPage saying why not when it is not JSON.
inline std::optional<FeedPage> parseJsonBody(const std::string& system,
                                             const onewindow::sdk::HttpResponse& r,
                                             nlohmann::json& out) {
    out = nlohmann::json::parse(r.body, nullptr, false);
    if (!out.is_discarded()) return std::nullopt;
    out = nlohmann::json();
    return FeedPage::down(system + " answered HTTP " + std::to_string(r.status) +
                          " with a body that is not JSON (" + std::to_string(r.body.size()) +
                          " bytes)");
}

} // namespace ow::adapters
