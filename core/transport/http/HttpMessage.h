// Plain request/response values exchanged between the HTTP server and the handlers.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ow::transport::http {

/// Header fields in arrival order; names are lower-cased by the parser.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
    std::string method; ///< "POST"
    std::string target; ///< as sent: "/v1/events?x=1"
    std::string path;   ///< target without the query: "/v1/events"
    std::string query;  ///< after '?', undecoded
    HeaderList headers;
    std::string body;              ///< de-chunked
    std::string peerAddress;       ///< "127.0.0.1:53412"
    std::string clientCertSubject; ///< verified client certificate subject (mutual TLS), else ""

    /// First header with this (lower-case) name, or nullptr.
    [[nodiscard]] const std::string* header(std::string_view lowerName) const {
        for (const auto& [n, v] : headers)
            if (n == lowerName) return &v;
        return nullptr;
    }
};

struct Response {
    int status = 200;
    HeaderList headers; ///< Content-Length, Date and Connection are added by the server
    std::string body;
    bool close = false; ///< close the connection after this response
};

} // namespace ow::transport::http
