// Money is integer fen (分, 1/100 yuan) everywhere: a JSON amount must be a whole number, so
// 0.1 + 0.2 never meets a bank statement. Amounts in messages are shown as yuan with two
// decimals, computed from the integer.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ow::fees {

using Fen = std::int64_t;

/// Larger than any fee the center charges (100 billion yuan), small enough that sums of a
/// few thousand lines cannot overflow.
constexpr Fen MaxFen = 10'000'000'000'000;

/// A problem with the data of an event: the processor refuses the event with this message.
class BadEvent : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// `obj[key]` as fen: a JSON integer in [0, MaxFen]. A decimal, a string or a negative number
/// is refused with a message naming the field (`what` says where, e.g. "lines[2]").
Fen readFen(const nlohmann::json& obj, const std::string& key, const std::string& what);
/// As readFen, 0 when the key is absent.
Fen readFenOr0(const nlohmann::json& obj, const std::string& key, const std::string& what);

/// "¥1,234.50" style without the grouping: "123.45 元".
std::string yuan(Fen f);

/// Splits `total` over `weights` in proportion, in whole fen: the largest remainders get the
/// odd fen (ties to the earlier weight), so the parts always add up to `total` exactly.
std::vector<Fen> splitProportionally(Fen total, const std::vector<Fen>& weights);

} // namespace ow::fees
