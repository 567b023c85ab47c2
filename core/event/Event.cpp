#include "core/event/Event.h"

#include <cstdint>

namespace ow::event {

std::optional<std::string> Event::attribute(const std::string& name) const {
    // The payload members share the object with the attributes but are not attributes.
    if (name == "data" || name == "data_base64" || !json.is_object()) return std::nullopt;
    const auto it = json.find(name);
    if (it == json.end()) return std::nullopt;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
    if (it->is_number_unsigned()) return std::to_string(it->get<std::uint64_t>());
    if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
    return std::nullopt;
}

} // namespace ow::event
