#include "core/transport/http/ResponseFormat.h"

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "core/transport/http/Problem.h"

namespace ow::transport::http {

namespace {

bool isTokenChar(unsigned char c) {
    if (c >= '0' && c <= '9') return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
    return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool iequalsLower(std::string_view name, std::string_view lower) {
    if (name.size() != lower.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        if (c != lower[i]) return false;
    }
    return true;
}

// Header fields the server writes itself; the handler's copies would contradict them.
bool isServerOwned(std::string_view name) {
    return iequalsLower(name, "content-length") || iequalsLower(name, "connection") ||
           iequalsLower(name, "date") || iequalsLower(name, "transfer-encoding");
}

// IMF-fixdate (RFC 9110 §5.6.7), formatted by hand: strftime would follow the C locale.
std::string_view httpDate() {
    struct Cache {
        std::time_t second = -1;
        char text[32] = {};
    };
    thread_local Cache cache;
    std::time_t now = std::time(nullptr);
    if (now != cache.second) {
        static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        std::tm tm{};
        gmtime_r(&now, &tm);
        std::snprintf(cache.text, sizeof cache.text, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                      kDays[tm.tm_wday % 7], tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900,
                      tm.tm_hour, tm.tm_min, tm.tm_sec);
        cache.second = now;
    }
    return {cache.text, 29};
}

void appendNumber(std::string& out, std::uint64_t n) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    (void)ec;
    out.append(buf, end);
}

} // namespace

std::string invalidResponse(const Response& r) {
    if (r.status < 200 || r.status > 599) return "invalid status " + std::to_string(r.status);
    for (const auto& [name, value] : r.headers) {
        if (name.empty()) return "empty header name";
        for (char c : name)
            if (!isTokenChar(static_cast<unsigned char>(c))) return "invalid header name";
        for (char ch : value) {
            auto c = static_cast<unsigned char>(ch);
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return "control character in value of header '" + name + "'";
        }
    }
    return {};
}

std::string_view formatResponse(std::string& out, const Response& r, bool headOnly, bool close,
                                int minorVersion) {
    bool bodyless = r.status == 204 || r.status == 304;
    out += "HTTP/1.1 ";
    appendNumber(out, static_cast<std::uint64_t>(r.status));
    out += ' ';
    out += reasonPhrase(r.status);
    out += "\r\n";
    for (const auto& [name, value] : r.headers) {
        if (isServerOwned(name)) continue;
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    if (!bodyless) {
        out += "Content-Length: ";
        appendNumber(out, r.body.size());
        out += "\r\n";
    }
    out += "Date: ";
    out += httpDate();
    out += "\r\n";
    if (close)
        out += "Connection: close\r\n";
    else if (minorVersion == 0)
        out += "Connection: keep-alive\r\n";
    out += "\r\n";
    return (headOnly || bodyless) ? std::string_view{} : std::string_view(r.body);
}

Response internalError() {
    return problem(500, "internal-error", "Internal Server Error",
                   "the request could not be processed");
}

} // namespace ow::transport::http
