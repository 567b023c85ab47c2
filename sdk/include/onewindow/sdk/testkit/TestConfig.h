// The config a component receives, built the way the hub builds it from the YAML: checked
// against the component's ConfigSpec, with every default filled in and typed. A test that
// creates a component with a hand-made Config would otherwise see none of the spec's defaults,
// and a typo in a key would pass unnoticed.
//
//   sdk::Config given;
//   given.set("base_url", std::string("http://127.0.0.1:8080"));
//   sdk::Config cfg = testkit::configFor(registry.info("case-forwarder").spec, given);
#pragma once

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "onewindow/sdk/ConfigSpec.h"

namespace onewindow::sdk::testkit {

namespace detail {

inline bool inRange(const Field& f, double v) {
    return (!f.min || v >= *f.min) && (!f.max || v <= *f.max);
}

// A default as the spec writes it (YAML text) turned into the declared type, as the hub does
// (a StringList default is comma-separated).
inline bool parseDefault(const Field& f, const std::string& text, Config::Value& out) {
    switch (f.type) {
    case FieldType::String:
    case FieldType::Secret:
        out = text;
        return true;
    case FieldType::Enum:
        out = text;
        return std::find(f.choices.begin(), f.choices.end(), text) != f.choices.end();
    case FieldType::Boolean:
        out = text == "true";
        return text == "true" || text == "false";
    case FieldType::StringList:
        out = splitListDefault(text);
        return true;
    case FieldType::Integer: {
        char* end = nullptr;
        errno = 0;
        const long long v = std::strtoll(text.c_str(), &end, 10);
        out = static_cast<std::int64_t>(v);
        return !text.empty() && errno == 0 && *end == '\0';
    }
    case FieldType::Number: {
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(text.c_str(), &end);
        out = v;
        return !text.empty() && errno == 0 && *end == '\0' && std::isfinite(v);
    }
    }
    return false;
}

// Does a value the test set have the variant alternative the hub would give this field?
inline bool hasDeclaredType(const Field& f, const Config::Value& v) {
    switch (f.type) {
    case FieldType::String:
    case FieldType::Secret:
    case FieldType::Enum:
        return std::holds_alternative<std::string>(v);
    case FieldType::Integer:
        return std::holds_alternative<std::int64_t>(v);
    case FieldType::Number:
        return std::holds_alternative<double>(v);
    case FieldType::Boolean:
        return std::holds_alternative<bool>(v);
    case FieldType::StringList:
        return std::holds_alternative<std::vector<std::string>>(v);
    }
    return false;
}

} // namespace detail

/// `given` checked against `spec`, defaults added. Throws std::invalid_argument listing every
/// problem (unknown key, missing required key, wrong type, out of range, not one of the
/// choices, a default the spec cannot parse), one per line, so a test fails with all of them.
/// Values must carry the types the hub gives (std::string, std::int64_t, double, bool,
/// std::vector<std::string>): write std::int64_t{5000}, not 5000.
inline Config configFor(const ConfigSpec& spec, const Config& given = {}) {
    std::vector<std::string> problems;
    for (const auto& entry : given.values()) {
        const std::string& key = entry.first; // (a lambda may not capture a structured binding)
        if (std::none_of(spec.fields.begin(), spec.fields.end(),
                         [&](const Field& f) { return f.name == key; }))
            problems.push_back("unknown key '" + key + "'");
    }
    Config out;
    for (const auto& f : spec.fields) {
        auto it = given.values().find(f.name);
        if (it == given.values().end()) {
            if (f.isRequired) {
                problems.push_back("missing required key '" + f.name + "'");
            } else if (f.defaultValue) {
                Config::Value v;
                if (detail::parseDefault(f, *f.defaultValue, v) &&
                    (!std::holds_alternative<std::int64_t>(v) ||
                     detail::inRange(f, static_cast<double>(std::get<std::int64_t>(v)))) &&
                    (!std::holds_alternative<double>(v) || detail::inRange(f, std::get<double>(v))))
                    out.set(f.name, std::move(v));
                else
                    problems.push_back("the spec's own default for '" + f.name + "' (\"" +
                                       *f.defaultValue + "\") does not fit the field");
            }
            continue;
        }
        const Config::Value& v = it->second;
        if (!detail::hasDeclaredType(f, v)) {
            problems.push_back("'" + f.name + "' has another type than the spec declares");
            continue;
        }
        if (const auto* n = std::get_if<std::int64_t>(&v);
            n && !detail::inRange(f, static_cast<double>(*n)))
            problems.push_back("'" + f.name + "' is out of range");
        else if (const auto* d = std::get_if<double>(&v); d && !detail::inRange(f, *d))
            problems.push_back("'" + f.name + "' is out of range");
        else if (const auto* s = std::get_if<std::string>(&v);
                 s && f.type == FieldType::Enum &&
                 std::find(f.choices.begin(), f.choices.end(), *s) == f.choices.end())
            problems.push_back("'" + f.name + "' is not one of its choices: " + *s);
        else
            out.set(f.name, v);
    }
    if (!problems.empty()) {
        std::string all = "config does not fit the spec:";
        for (const auto& p : problems)
            all += "\n  " + p;
        throw std::invalid_argument(all);
    }
    return out;
}

} // namespace onewindow::sdk::testkit
