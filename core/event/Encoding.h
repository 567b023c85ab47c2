// Byte-level encodings the CloudEvents bindings need: strict base64 (RFC 4648 §4), the
// percent-encoding of HTTP binary-mode header values, and UTF-8 checks.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ow::event {

std::string base64Encode(std::string_view bytes);

/// Strict decoder: standard alphabet, padding required, no whitespace, zero pad bits.
/// Returns std::nullopt on any deviation so that callers can report the attribute.
std::optional<std::string> base64Decode(std::string_view text);

/// Encodes space, '"', '%' and every byte outside 0x21-0x7E as %XX (HTTP binding §3.1.3.2).
std::string percentEncode(std::string_view text);

/// Decodes %XX sequences; std::nullopt for a truncated or non-hex escape.
std::optional<std::string> percentDecode(std::string_view text);

/// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool isValidUtf8(std::string_view s);

/// Code point of the first character the CloudEvents type system forbids in a String
/// (controls U+0000-U+001F and U+007F-U+009F, Unicode noncharacters), or std::nullopt.
/// `s` must be valid UTF-8.
std::optional<char32_t> firstForbiddenCodePoint(std::string_view s);

} // namespace ow::event
