#include "plugins/fees/book/Money.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace ow::fees {

Fen readFen(const nlohmann::json& obj, const std::string& key, const std::string& what) {
    const std::string where = what.empty() ? key : what + "." + key;
    auto it = obj.find(key);
    if (it == obj.end()) throw BadEvent(where + " is missing (an amount in fen)");
    if (it->is_number_float())
        throw BadEvent(where + " must be a whole number of fen, got " + it->dump() +
                       " (money is never a decimal: 12.50 yuan is 1250)");
    if (!it->is_number_integer())
        throw BadEvent(where + " must be a number of fen, got " + it->dump());
    if (it->is_number_unsigned()) {
        auto u = it->get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(MaxFen)) throw BadEvent(where + " is too large");
        return static_cast<Fen>(u);
    }
    auto v = it->get<std::int64_t>();
    if (v < 0) throw BadEvent(where + " must not be negative, got " + std::to_string(v));
    if (v > MaxFen) throw BadEvent(where + " is too large");
    return v;
}

Fen readFenOr0(const nlohmann::json& obj, const std::string& key, const std::string& what) {
    return obj.contains(key) ? readFen(obj, key, what) : 0;
}

std::string yuan(Fen f) {
    const bool neg = f < 0;
    const auto a = neg ? -f : f;
    std::string cents = std::to_string(a % 100);
    if (cents.size() < 2) cents.insert(0, "0");
    return (neg ? "-" : "") + std::to_string(a / 100) + "." + cents + " 元";
}

std::vector<Fen> splitProportionally(Fen total, const std::vector<Fen>& weights) {
    std::vector<Fen> parts(weights.size(), 0);
    const Fen sum = std::accumulate(weights.begin(), weights.end(), Fen{0});
    if (weights.empty()) return parts;
    if (sum <= 0) {
        parts[0] = total;
        return parts;
    }
    std::vector<std::pair<Fen, std::size_t>> remainders;
    Fen given = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        // total and weights stay below MaxFen (1e13): the product needs 128 bits.
        const auto exact = static_cast<__int128>(total) * weights[i];
        parts[i] = static_cast<Fen>(exact / sum);
        remainders.push_back({static_cast<Fen>(exact % sum), i});
        given += parts[i];
    }
    std::stable_sort(remainders.begin(), remainders.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t k = 0; given < total; ++k, ++given)
        ++parts[remainders[k % remainders.size()].second];
    return parts;
}

} // namespace ow::fees
