// The fields of operator-action records: what was done and who (the user the process runs as).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ow::audit {

/// The login name of the user this process runs as ("uid 1000" when it has none).
std::string currentUser();

/// An operator-action record's fields: {"action": action, "user": currentUser()} + `more`.
nlohmann::json operatorAction(const std::string& action,
                              nlohmann::json more = nlohmann::json::object());

} // namespace ow::audit
