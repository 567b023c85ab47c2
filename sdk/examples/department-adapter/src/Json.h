// Just enough JSON for this adapter: read the top-level fields of an event's data, and write
// the department's flat request body. The SDK hands data over as JSON text and stays free of
// dependencies; an adapter that needs more (nested objects, arrays) would use a JSON library.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace dept_market::json {

/// The top-level members of a JSON object whose values are strings, numbers, booleans or null,
/// as text (strings unescaped to UTF-8, `null` as ""); nested objects and arrays are checked
/// and skipped. nullopt if `text` is not one well-formed JSON object.
std::optional<std::map<std::string, std::string>> topLevelScalars(std::string_view text);

/// `s` (UTF-8) as a JSON string literal, quotes included.
std::string quote(std::string_view s);

} // namespace dept_market::json
