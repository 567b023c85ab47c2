#include "core/config/EnvSubstitution.h"

#include <cctype>

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
                                       std::string& out) {
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
        const std::string name(text.substr(i + 2, close - i - 2));
        if (!validName(name)) {
            problems.emplace_back("invalid environment variable name '" + name +
                                  "' (letters, digits and '_', not starting with a digit)");
        } else if (auto value = env ? env(name) : std::nullopt) {
            out += *value;
        } else {
            problems.emplace_back("environment variable '" + name + "' is not set");
        }
        i = close + 1;
    }
    return problems;
}

} // namespace ow::config
