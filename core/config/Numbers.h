// Numbers as configuration files write them: an optional '+', then exactly what from_chars
// reads, nothing before or after. Shared by the hub's own keys and plugins' config specs, so
// "5000", "+5000" and "5e3" mean the same wherever they are written.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace ow::config {

enum class NumberParse { Ok, Invalid, OutOfRange };

inline NumberParse parseInteger(std::string_view s, std::int64_t& out) {
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (s.empty() || end != s.data() + s.size()) return NumberParse::Invalid;
    if (ec == std::errc::result_out_of_range) return NumberParse::OutOfRange;
    return ec == std::errc() ? NumberParse::Ok : NumberParse::Invalid;
}

/// A finite number; false for anything else (infinities and NaN included).
inline bool parseNumber(std::string_view s, double& out) {
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size() && std::isfinite(out);
}

} // namespace ow::config
