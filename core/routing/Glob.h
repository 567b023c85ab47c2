#pragma once

#include <string_view>

namespace ow::routing {

/// Shell-style match: `*` any run (also empty), `?` one character, everything else literal.
/// Iterative with one backtrack point, so hostile patterns stay linear-ish.
bool globMatch(std::string_view pattern, std::string_view text);

} // namespace ow::routing
