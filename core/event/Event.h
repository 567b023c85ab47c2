// A validated CloudEvent as the hub keeps it.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace ow::event {

/// One CloudEvents 1.0 event after validation. `json` is the canonical structured-mode
/// object (what the journal stores and what structured-mode outputs send); the string
/// members are copies of the attributes that the hub looks at on every event.
struct Event {
    nlohmann::json json;
    std::string id;
    std::string source;
    std::string type;
    std::optional<std::string> subject;

    /// Value of a context attribute or extension as a string, nullopt if absent.
    /// Booleans print as "true"/"false", integers in decimal.
    [[nodiscard]] std::optional<std::string> attribute(const std::string& name) const;

    /// Field-wise; `json` decides, the copies follow from it for validated events.
    friend bool operator==(const Event&, const Event&) = default;
};

} // namespace ow::event
