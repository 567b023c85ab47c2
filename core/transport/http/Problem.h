// RFC 9457 problem details: every error the hub answers over HTTP uses this body.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/transport/http/HttpMessage.h"

namespace ow::transport::http {

/// Builds an `application/problem+json` response. `type` is a short slug that becomes
/// "urn:onewindow:problem:<type>"; `extra` members (e.g. "attribute", "index") are merged in.
Response problem(int status, const std::string& type, const std::string& title,
                 const std::string& detail, const nlohmann::json& extra = nlohmann::json::object());

/// Standard reason phrase ("Payload Too Large") for a status code, "" if unknown.
const char* reasonPhrase(int status);

} // namespace ow::transport::http
