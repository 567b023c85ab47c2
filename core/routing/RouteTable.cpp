#include "core/routing/RouteTable.h"

#include <algorithm>

#include "core/routing/Glob.h"

namespace ow::routing {
namespace {

bool anyGlob(const std::vector<std::string>& globs, std::string_view value) {
    return std::any_of(globs.begin(), globs.end(),
                       [&](const std::string& g) { return globMatch(g, value); });
}

// A condition on an attribute holds when the attribute exists and matches one glob.
bool attributeMatches(const std::vector<std::string>& globs, const std::optional<std::string>& v) {
    if (globs.empty()) return true;
    return v && anyGlob(globs, *v);
}

} // namespace

RouteTable::RouteTable(std::vector<config::RouteSpec> routes,
                       std::map<std::string, std::string> outputs)
    : routes_(std::move(routes)), outputs_(std::move(outputs)) {}

bool RouteTable::matches(const config::MatchSpec& m, const event::Event& e) {
    if (!m.type.empty() && !anyGlob(m.type, e.type)) return false;
    if (!m.source.empty() && !anyGlob(m.source, e.source)) return false;
    if (!attributeMatches(m.subject, e.subject)) return false;
    for (const auto& [name, globs] : m.extensions)
        if (!attributeMatches(globs, e.attribute(name))) return false;
    if (!m.data.empty()) {
        auto it = e.json.find("data");
        if (it == e.json.end()) return false;
        for (const auto& [pointer, globs] : m.data) {
            nlohmann::json::json_pointer ptr;
            try {
                ptr = nlohmann::json::json_pointer(pointer);
            } catch (const nlohmann::json::exception&) {
                return false; // validated at load; a bad pointer never matches
            }
            if (!it->contains(ptr)) return false;
            const auto& v = (*it)[ptr];
            std::string text = v.is_string() ? v.get<std::string>() : v.dump();
            if (!anyGlob(globs, text)) return false;
        }
    }
    return true;
}

bool RouteTable::expand(const std::string& tmpl, const event::Event& e, std::string& out,
                        std::string& error) {
    out.clear();
    for (std::size_t i = 0; i < tmpl.size();) {
        if (tmpl[i] != '{') {
            out.push_back(tmpl[i++]);
            continue;
        }
        auto close = tmpl.find('}', i);
        if (close == std::string::npos) {
            error = "unbalanced '{' in output template '" + tmpl + "'";
            return false;
        }
        std::string name = tmpl.substr(i + 1, close - i - 1);
        auto v = e.attribute(name);
        if (!v) {
            error = "output template '" + tmpl + "' needs attribute '" + name +
                    "', which the event lacks";
            return false;
        }
        out += *v;
        i = close + 1;
    }
    return true;
}

std::vector<Target> RouteTable::route(const event::Event& e) const {
    std::vector<Target> out;
    auto seen = [&](const std::string& output) {
        return std::any_of(out.begin(), out.end(),
                           [&](const Target& t) { return t.output == output; });
    };
    for (const auto& r : routes_) {
        if (!matches(r.match, e)) continue;
        for (const auto& tmpl : r.to) {
            Target t{r.name, "", "", ""};
            std::string error;
            if (!expand(tmpl, e, t.output, error)) {
                t.output = tmpl; // keeps the row identifiable in the DLQ
                t.error = error;
            } else if (auto o = outputs_.find(t.output); o == outputs_.end()) {
                t.error = "route '" + r.name + "' resolved output '" + t.output +
                          "', which is not defined";
            } else if (!o->second.empty()) {
                t.orderingKey = e.attribute(o->second).value_or("");
            }
            if (!seen(t.output)) out.push_back(std::move(t));
        }
    }
    return out;
}

} // namespace ow::routing
