#include "core/config/EnvSubstitution.h"

#include <cctype>
#include <optional>

namespace ow::config {

namespace {

bool validName(std::string_view name) {
    if (name.empty()) return false;
    auto c0 = static_cast<unsigned char>(name[0]);
    if (!(std::isalpha(c0) || c0 == '_')) return false;
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (!(std::isalnum(u) || u == '_')) return false;
    }
    return true;
}

} // namespace

std::vector<std::string> substituteEnv(std::string_view text, const EnvLookup& env,
                                       std::string& out, const EnvLookup& unsetStandIn) {
    std::vector<std::string> problems;
    out.clear();
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        if (text.compare(i, 3, "$${") == 0) {
            out += "${";
            i += 3;
            continue;
        }
        if (text.compare(i, 2, "${") != 0) {
            out += text[i++];
            continue;
        }
        const std::size_t close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            problems.emplace_back("unterminated '${' (write '$${' for a literal '${')");
            out.append(text.substr(i));
            break;
        }
        std::string name(text.substr(i + 2, close - i - 2));
        // ${NAME:-default}: the default when NAME is unset or empty (as in the shell), so one
        // file serves both the demo on loopback and an operator's environment.
        std::optional<std::string> fallback;
        if (const auto dash = name.find(":-"); dash != std::string::npos) {
            fallback = name.substr(dash + 2);
            name.resize(dash);
        }
        auto value = validName(name) && env ? env(name) : std::nullopt;
        if (value && value->empty() && fallback) value.reset();
        if (!value && !fallback && unsetStandIn && validName(name)) value = unsetStandIn(name);
        if (!validName(name)) {
            problems.emplace_back("invalid environment variable name '" + name +
                                  "' (letters, digits and '_', not starting with a digit)");
        } else if (value) {
            out += *value;
        } else if (fallback) {
            out += *fallback;
        } else {
            problems.emplace_back("environment variable '" + name + "' is not set");
        }
        i = close + 1;
    }
    return problems;
}

} // namespace ow::config
