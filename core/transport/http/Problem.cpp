#include "core/transport/http/Problem.h"

#include "core/privacy/PersonalData.h"

namespace ow::transport::http {

Response problem(int status, const std::string& type, const std::string& title,
                 const std::string& detail, const nlohmann::json& extra) {
    nlohmann::json body = {
        {"type", "urn:onewindow:problem:" + type},
        {"title", title},
        {"status", status},
        {"detail", detail},
    };
    if (extra.is_object())
        for (const auto& [k, v] : extra.items())
            body[k] = v;
    Response r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/problem+json");
    // Replace invalid UTF-8 from echoed client input instead of throwing while answering.
    r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // An error message that quotes an event never carries an ID number or a mobile.
    if (privacy::containsPersonalData(r.body)) r.body = privacy::maskText(r.body);
    return r;
}

const char* reasonPhrase(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "";
    }
}

} // namespace ow::transport::http
