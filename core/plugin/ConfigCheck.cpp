#include "core/plugin/ConfigCheck.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/config/Numbers.h"
#include "core/config/Suggest.h"

namespace ow::plugin {
namespace sdk = onewindow::sdk;
using config::ConfigTree;

namespace {

std::string quoted(const std::string& s) {
    return "\"" + s + "\"";
}

// How a rejected value is shown: as written, so ${SECRET} stays a name, never a value.
std::string shown(const ConfigTree& t) {
    return quoted(t.raw.empty() ? t.text : t.raw);
}

std::string rangeText(const sdk::Field& f) {
    auto num = [](double d) {
        return d == std::floor(d) && std::fabs(d) < 1e15 ? std::to_string(static_cast<long long>(d))
                                                         : std::to_string(d);
    };
    if (f.min && f.max) return "between " + num(*f.min) + " and " + num(*f.max);
    if (f.min) return "at least " + num(*f.min);
    return "at most " + num(*f.max);
}

// Parses one scalar for `f`; an error message (without location) or the value.
std::optional<sdk::Config::Value> parseScalar(const sdk::Field& f, const std::string& text,
                                              std::string& error) {
    const std::string key = "'" + f.name + "'";
    switch (f.type) {
    case sdk::FieldType::String:
    case sdk::FieldType::Secret:
        return sdk::Config::Value(text);
    case sdk::FieldType::Enum: {
        if (std::find(f.choices.begin(), f.choices.end(), text) != f.choices.end())
            return sdk::Config::Value(text);
        std::string list;
        for (const auto& c : f.choices)
            list += (list.empty() ? "" : ", ") + c;
        error = key + " must be one of " + list + ", got " + quoted(text) +
                config::didYouMean(text, f.choices);
        return std::nullopt;
    }
    case sdk::FieldType::Boolean:
        if (text == "true" || text == "false") return sdk::Config::Value(text == "true");
        error = key + " must be true or false, got " + quoted(text);
        return std::nullopt;
    case sdk::FieldType::Integer: {
        std::int64_t n = 0;
        if (config::parseInteger(text, n) != config::NumberParse::Ok) {
            error = key + " must be an integer, got " + quoted(text);
            return std::nullopt;
        }
        if ((f.min && static_cast<double>(n) < *f.min) ||
            (f.max && static_cast<double>(n) > *f.max)) {
            error = key + " must be " + rangeText(f) + ", got " + text;
            return std::nullopt;
        }
        return sdk::Config::Value(n);
    }
    case sdk::FieldType::Number: {
        double d = 0;
        if (!config::parseNumber(text, d)) {
            error = key + " must be a number, got " + quoted(text);
            return std::nullopt;
        }
        if ((f.min && d < *f.min) || (f.max && d > *f.max)) {
            error = key + " must be " + rangeText(f) + ", got " + text;
            return std::nullopt;
        }
        return sdk::Config::Value(d);
    }
    case sdk::FieldType::StringList:
        break;
    }
    error = key + " must be a list of strings";
    return std::nullopt;
}

} // namespace

sdk::Config checkConfig(const sdk::ConfigSpec& spec, const ConfigTree& tree,
                        const std::string& owner, const config::SourceLocation& ownerWhere,
                        std::vector<config::ConfigProblem>& problems) {
    sdk::Config out;
    auto problem = [&](const config::SourceLocation& at, std::string msg) {
        problems.push_back({at, std::move(msg)});
    };
    std::vector<std::string> known;
    for (const auto& f : spec.fields)
        known.push_back(f.name);
    const std::string in = " in 'config' of " + owner;

    for (const auto& entry : tree.items)
        if (std::find(known.begin(), known.end(), entry.key) == known.end())
            problem(entry.keyWhere,
                    "unknown key '" + entry.key + "'" + in + config::didYouMean(entry.key, known));

    for (const auto& f : spec.fields) {
        const ConfigTree* given = nullptr;
        for (const auto& entry : tree.items)
            if (entry.key == f.name) given = &entry;
        if (!given || given->kind == ConfigTree::Kind::Null) {
            if (f.isRequired) {
                problem(given ? given->keyWhere : (tree.where.line ? tree.where : ownerWhere),
                        "missing required key '" + f.name + "'" + in +
                            (f.description.empty() ? "" : " (" + f.description + ")"));
            } else if (f.defaultValue) {
                // A default the spec cannot parse is the plugin's bug; say so plainly.
                if (f.type == sdk::FieldType::StringList) {
                    out.set(f.name, sdk::splitListDefault(*f.defaultValue));
                } else {
                    std::string error;
                    if (auto v = parseScalar(f, *f.defaultValue, error))
                        out.set(f.name, *v);
                    else
                        problem(ownerWhere, "the plugin's own default for " + error + in +
                                                " (a bug in the plugin's config spec)");
                }
            }
            continue;
        }
        if (f.type == sdk::FieldType::StringList) {
            if (given->kind != ConfigTree::Kind::List) {
                problem(given->where, "'" + f.name + "' must be a list of strings" + in);
                continue;
            }
            std::vector<std::string> items;
            bool ok = true;
            for (const auto& i : given->items) {
                if (i.kind != ConfigTree::Kind::Scalar) {
                    problem(i.where, "each entry of '" + f.name + "' must be a string" + in);
                    ok = false;
                    continue;
                }
                items.push_back(i.text);
            }
            if (ok) out.set(f.name, std::move(items));
            continue;
        }
        if (given->kind != ConfigTree::Kind::Scalar) {
            problem(given->where, "'" + f.name + "' must be a single value" + in);
            continue;
        }
        if (f.type == sdk::FieldType::Secret && given->raw.find("${") == std::string::npos) {
            // Secrets come from the environment or a file, so they never sit in the YAML.
            problem(given->where, "'" + f.name +
                                      "' is a secret: give it as ${NAME} (from the "
                                      "environment or a file reference), not as text" +
                                      in);
            continue;
        }
        std::string error;
        if (auto v = parseScalar(f, given->text, error)) {
            out.set(f.name, *v);
        } else {
            // Messages show the value as written, so a ${SECRET} stays a name.
            if (given->raw != given->text) {
                auto at = error.rfind(quoted(given->text));
                if (at != std::string::npos)
                    error.replace(at, given->text.size() + 2, shown(*given));
            }
            problem(given->where, error + in);
        }
    }
    return out;
}

} // namespace ow::plugin
