// How the server writes a response: shared by the event loop (plain HTTP) and the connection
// threads (TLS).
#pragma once

#include <string>
#include <string_view>

#include "core/transport/http/HttpMessage.h"

namespace ow::transport::http {

/// Empty when the handler's response can be written; otherwise why not (response splitting,
/// impossible status), so that it is replaced by a 500.
std::string invalidResponse(const Response& r);

/// Appends the status line and the handler's header fields to `out`, with the server's own
/// Content-Length, Date and Connection. Returns the body to send after it: empty for HEAD,
/// 204 and 304.
std::string_view formatResponse(std::string& out, const Response& r, bool headOnly, bool close,
                                int minorVersion);

/// The 500 answered for a handler that failed; its details go to the error observer only.
Response internalError();

} // namespace ow::transport::http
