// A JSON Schema (draft 2020-12) validator for exactly the subset of keywords the center's event
// catalog uses, standard library only. A schema using any other keyword is refused when it is
// added, so no keyword is ever silently ignored. The subset (sdk/catalog/README.md):
//
//   identification   $schema, $id, $ref (an absolute "urn:..." id, or "#...", with an optional
//                    JSON pointer fragment), $defs
//   annotations      title, description, $comment, examples, default, deprecated, x-*
//   any instance     type (a name or a list of names), enum, const, allOf, anyOf, not,
//                    if / then / else
//   objects          properties, required, additionalProperties (a schema or a boolean)
//   arrays           items (one schema for every element), minItems, maxItems
//   strings          minLength, maxLength (in Unicode code points), pattern (ECMAScript, as
//                    std::regex reads it; unanchored like JSON Schema's)
//   numbers          minimum, maximum ("integer" is any number with no fraction, as the spec)
//
// `format` is not in the subset: times are checked with `pattern`.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "onewindow/sdk/catalog/JsonValue.h"

namespace onewindow::sdk::catalog {

/// One way an instance breaks its schema.
struct Problem {
    std::string pointer; ///< JSON pointer into the instance ("/data/decision"; "" the whole)
    std::string rule;    ///< the schema keyword that failed ("required", "enum", "type", ...)
    std::string message; ///< in words, with the value at fault
};

/// A schema that cannot be used: a keyword outside the subset, a bad value, no $id.
class SchemaError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class SchemaSet {
public:
    /// Adds the schema document `doc` under its `$id`; `origin` names it in errors (a file).
    /// Throws SchemaError when it uses a keyword outside the subset or has no unique $id.
    void add(JsonValue doc, const std::string& origin) {
        if (doc.kind != JsonValue::Kind::Object)
            throw SchemaError(origin + ": a schema document must be a JSON object");
        const JsonValue* id = doc.find("$id");
        if (!id || id->kind != JsonValue::Kind::String || id->string.empty())
            throw SchemaError(origin + ": the schema has no $id");
        if (docs_.count(id->string))
            throw SchemaError(origin + ": $id " + id->string + " is used by " +
                              origins_[id->string] + " too");
        checkSubset(doc, origin, "");
        origins_[id->string] = origin;
        docs_.emplace(id->string, std::move(doc));
    }

    [[nodiscard]] const JsonValue* document(const std::string& id) const {
        auto it = docs_.find(id);
        return it == docs_.end() ? nullptr : &it->second;
    }
    [[nodiscard]] std::vector<std::string> ids() const {
        std::vector<std::string> out;
        for (const auto& [id, _] : docs_)
            out.push_back(id);
        return out;
    }

    /// Every `$ref` that names no schema of the set (or no place in it): "<origin>: <ref>".
    [[nodiscard]] std::vector<std::string> unresolvedRefs() const {
        std::vector<std::string> out;
        for (const auto& [id, doc] : docs_)
            collectRefs(doc, id, out);
        return out;
    }

    /// The problems of `instance` against the schema `id` (empty: valid).
    [[nodiscard]] std::vector<Problem> validate(const JsonValue& instance,
                                                const std::string& id) const {
        std::vector<Problem> out;
        const JsonValue* doc = document(id);
        if (!doc) {
            out.push_back({"", "$ref", "no schema " + id});
            return out;
        }
        check(instance, *doc, id, "", out, 0);
        return out;
    }

private:
    static bool isSchema(const JsonValue& v) {
        return v.kind == JsonValue::Kind::Object || v.kind == JsonValue::Kind::Bool;
    }

    void checkSubset(const JsonValue& s, const std::string& origin, const std::string& at) {
        if (s.kind == JsonValue::Kind::Bool) return;
        if (s.kind != JsonValue::Kind::Object)
            throw SchemaError(origin + ": " + (at.empty() ? "/" : at) +
                              " must be a schema (an object or a boolean)");
        static const std::set<std::string> annotations = {"$schema", "$id",         "$comment",
                                                          "title",   "description", "examples",
                                                          "default", "deprecated"};
        static const std::set<std::string> keywords = {"$ref",      "$defs",
                                                       "type",      "enum",
                                                       "const",     "allOf",
                                                       "anyOf",     "not",
                                                       "if",        "then",
                                                       "else",      "properties",
                                                       "required",  "additionalProperties",
                                                       "items",     "minItems",
                                                       "maxItems",  "minLength",
                                                       "maxLength", "pattern",
                                                       "minimum",   "maximum"};
        for (const auto& [k, v] : s.object) {
            const std::string where = origin + ": " + at + "/" + k;
            if (annotations.count(k) || k.rfind("x-", 0) == 0) continue;
            if (!keywords.count(k))
                throw SchemaError(where + ": keyword '" + k +
                                  "' is outside the subset this validator implements");
            if (k == "properties" || k == "$defs") {
                if (v.kind != JsonValue::Kind::Object)
                    throw SchemaError(where + " must be an object of schemas");
                for (const auto& [name, sub] : v.object)
                    checkSubset(sub, origin, at + "/" + k + "/" + name);
            } else if (k == "additionalProperties" || k == "items" || k == "not" || k == "if" ||
                       k == "then" || k == "else") {
                checkSubset(v, origin, at + "/" + k);
            } else if (k == "allOf" || k == "anyOf") {
                if (v.kind != JsonValue::Kind::Array || v.array.empty())
                    throw SchemaError(where + " must be a non-empty array of schemas");
                for (std::size_t i = 0; i < v.array.size(); ++i)
                    checkSubset(v.array[i], origin, at + "/" + k + "/" + std::to_string(i));
            } else if (k == "$ref") {
                if (v.kind != JsonValue::Kind::String ||
                    (v.string.rfind("urn:", 0) != 0 && v.string.rfind("#", 0) != 0))
                    throw SchemaError(where + " must be an absolute urn: id or a '#' fragment");
            } else if (k == "type") {
                static const std::set<std::string> names = {"null",   "boolean", "object", "array",
                                                            "number", "integer", "string"};
                const bool ok =
                    (v.kind == JsonValue::Kind::String && names.count(v.string)) ||
                    (v.kind == JsonValue::Kind::Array && !v.array.empty() &&
                     std::all_of(v.array.begin(), v.array.end(), [](const JsonValue& n) {
                         return n.kind == JsonValue::Kind::String && names.count(n.string);
                     }));
                if (!ok) throw SchemaError(where + " must name JSON types");
            } else if (k == "enum") {
                if (v.kind != JsonValue::Kind::Array || v.array.empty())
                    throw SchemaError(where + " must be a non-empty array");
            } else if (k == "required") {
                if (v.kind != JsonValue::Kind::Array ||
                    !std::all_of(v.array.begin(), v.array.end(), [](const JsonValue& n) {
                        return n.kind == JsonValue::Kind::String;
                    }))
                    throw SchemaError(where + " must be an array of property names");
            } else if (k == "minItems" || k == "maxItems" || k == "minLength" || k == "maxLength") {
                if (v.kind != JsonValue::Kind::Integer || v.integer < 0)
                    throw SchemaError(where + " must be a whole number from 0");
            } else if (k == "minimum" || k == "maximum") {
                if (!v.isNumber()) throw SchemaError(where + " must be a number");
            } else if (k == "pattern") {
                if (v.kind != JsonValue::Kind::String)
                    throw SchemaError(where + " must be a string");
                try {
                    patterns_.emplace(
                        v.string, std::make_shared<std::regex>(v.string, std::regex::ECMAScript));
                } catch (const std::regex_error& e) {
                    throw SchemaError(where + " is not a regular expression: " + e.what());
                }
            }
        }
    }

    static std::string unescapePointerToken(const std::string& t) {
        std::string out;
        for (std::size_t i = 0; i < t.size(); ++i) {
            if (t[i] == '~' && i + 1 < t.size() && (t[i + 1] == '0' || t[i + 1] == '1')) {
                out += t[i + 1] == '0' ? '~' : '/';
                ++i;
            } else {
                out += t[i];
            }
        }
        return out;
    }

    static std::string escapePointerToken(const std::string& t) {
        std::string out;
        for (char c : t) {
            if (c == '~')
                out += "~0";
            else if (c == '/')
                out += "~1";
            else
                out += c;
        }
        return out;
    }

    /// The schema `ref` names, seen from the document `docId`; sets `refDoc` to its document.
    const JsonValue* resolve(const std::string& ref, const std::string& docId,
                             std::string& refDoc) const {
        const auto hash = ref.find('#');
        refDoc = hash == 0 ? docId : ref.substr(0, hash);
        const JsonValue* node = document(refDoc);
        if (!node || hash == std::string::npos || hash + 1 == ref.size()) return node;
        const std::string pointer = ref.substr(hash + 1);
        if (pointer[0] != '/') return nullptr;
        std::size_t from = 1;
        for (;;) {
            const auto slash = pointer.find('/', from);
            const std::string token = unescapePointerToken(pointer.substr(
                from, slash == std::string::npos ? std::string::npos : slash - from));
            if (node->kind != JsonValue::Kind::Object) return nullptr;
            node = node->find(token);
            if (!node) return nullptr;
            if (slash == std::string::npos) return node;
            from = slash + 1;
        }
    }

    void collectRefs(const JsonValue& s, const std::string& docId,
                     std::vector<std::string>& out) const {
        if (s.kind == JsonValue::Kind::Array) {
            for (const auto& v : s.array)
                collectRefs(v, docId, out);
            return;
        }
        if (s.kind != JsonValue::Kind::Object) return;
        for (const auto& [k, v] : s.object) {
            if (k == "examples" || k == "default" || k == "const" || k == "enum") continue;
            std::string refDoc;
            if (k == "$ref" && v.kind == JsonValue::Kind::String &&
                !resolve(v.string, docId, refDoc))
                out.push_back(origins_.at(docId) + ": " + v.string);
            collectRefs(v, docId, out);
        }
    }

    static bool typeIs(const JsonValue& v, const std::string& name) {
        using K = JsonValue::Kind;
        if (name == "null") return v.kind == K::Null;
        if (name == "boolean") return v.kind == K::Bool;
        if (name == "object") return v.kind == K::Object;
        if (name == "array") return v.kind == K::Array;
        if (name == "string") return v.kind == K::String;
        if (name == "number") return v.isNumber();
        if (name == "integer") return v.isWholeNumber();
        return false;
    }

    static const char* typeName(const JsonValue& v) {
        switch (v.kind) {
        case JsonValue::Kind::Null:
            return "null";
        case JsonValue::Kind::Bool:
            return "a boolean";
        case JsonValue::Kind::Integer:
        case JsonValue::Kind::Number:
            return "a number";
        case JsonValue::Kind::String:
            return "a string";
        case JsonValue::Kind::Array:
            return "an array";
        case JsonValue::Kind::Object:
            return "an object";
        }
        return "?";
    }

    static bool equal(const JsonValue& a, const JsonValue& b) {
        if (a.isNumber() && b.isNumber()) {
            if (a.kind == JsonValue::Kind::Integer && b.kind == JsonValue::Kind::Integer)
                return a.integer == b.integer;
            return a.number == b.number;
        }
        if (a.kind != b.kind) return false;
        switch (a.kind) {
        case JsonValue::Kind::Null:
            return true;
        case JsonValue::Kind::Bool:
            return a.boolean == b.boolean;
        case JsonValue::Kind::String:
            return a.string == b.string;
        case JsonValue::Kind::Array:
            if (a.array.size() != b.array.size()) return false;
            for (std::size_t i = 0; i < a.array.size(); ++i)
                if (!equal(a.array[i], b.array[i])) return false;
            return true;
        case JsonValue::Kind::Object:
            if (a.object.size() != b.object.size()) return false;
            for (const auto& [k, v] : a.object) {
                const JsonValue* w = b.find(k);
                if (!w || !equal(v, *w)) return false;
            }
            return true;
        default:
            return false;
        }
    }

    static std::size_t codePoints(const std::string& s) {
        std::size_t n = 0;
        for (unsigned char c : s)
            n += (c & 0xC0) != 0x80;
        return n;
    }

    static std::string listOf(const JsonValue& values) {
        std::string out;
        for (const auto& v : values.array)
            out += (out.empty() ? "" : ", ") + describeJson(v);
        return out;
    }

    void check(const JsonValue& v, const JsonValue& s, const std::string& docId,
               const std::string& at, std::vector<Problem>& out, int depth) const {
        using K = JsonValue::Kind;
        if (depth > 64) {
            out.push_back({at, "$ref", "the schema refers to itself without end"});
            return;
        }
        if (s.kind == K::Bool) {
            if (!s.boolean) out.push_back({at, "false", "no value is allowed here"});
            return;
        }
        for (const auto& [k, kw] : s.object) {
            if (k == "$ref") {
                std::string refDoc;
                const JsonValue* target = resolve(kw.string, docId, refDoc);
                if (!target)
                    out.push_back({at, "$ref", "the schema names " + kw.string + ", not loaded"});
                else
                    check(v, *target, refDoc, at, out, depth + 1);
            } else if (k == "type") {
                bool ok = false;
                std::string names;
                if (kw.kind == K::String) {
                    ok = typeIs(v, kw.string);
                    names = kw.string;
                } else {
                    for (const auto& n : kw.array) {
                        ok = ok || typeIs(v, n.string);
                        names += (names.empty() ? "" : " or ") + n.string;
                    }
                }
                if (!ok)
                    out.push_back({at, "type",
                                   "must be " + names + ", not " + typeName(v) +
                                       (v.kind == K::Object || v.kind == K::Array
                                            ? ""
                                            : " (" + describeJson(v) + ")")});
            } else if (k == "enum") {
                if (std::none_of(kw.array.begin(), kw.array.end(),
                                 [&](const JsonValue& e) { return equal(v, e); }))
                    out.push_back({at, "enum", describeJson(v) + " is not one of: " + listOf(kw)});
            } else if (k == "const") {
                if (!equal(v, kw))
                    out.push_back({at, "const", describeJson(v) + " is not " + describeJson(kw)});
            } else if (k == "allOf") {
                for (const auto& sub : kw.array)
                    check(v, sub, docId, at, out, depth + 1);
            } else if (k == "anyOf") {
                std::string why;
                bool any = false;
                for (const auto& sub : kw.array) {
                    std::vector<Problem> p;
                    check(v, sub, docId, at, p, depth + 1);
                    if (p.empty()) {
                        any = true;
                        break;
                    }
                    why += (why.empty() ? "" : "; or ") + p.front().pointer + " " + p.front().rule +
                           ": " + p.front().message;
                }
                if (!any)
                    out.push_back({at, "anyOf", "matches none of the alternatives (" + why + ")"});
            } else if (k == "not") {
                std::vector<Problem> p;
                check(v, kw, docId, at, p, depth + 1);
                if (p.empty()) out.push_back({at, "not", "matches a schema it must not match"});
            } else if (k == "if") {
                std::vector<Problem> p;
                check(v, kw, docId, at, p, depth + 1);
                const JsonValue* branch = s.find(p.empty() ? "then" : "else");
                if (branch) check(v, *branch, docId, at, out, depth + 1);
            } else if (k == "properties" && v.kind == K::Object) {
                for (const auto& [name, sub] : kw.object)
                    if (const JsonValue* pv = v.find(name))
                        check(*pv, sub, docId, at + "/" + escapePointerToken(name), out, depth + 1);
            } else if (k == "required" && v.kind == K::Object) {
                for (const auto& name : kw.array)
                    if (!v.find(name.string))
                        out.push_back({at + "/" + escapePointerToken(name.string), "required",
                                       "is required and missing"});
            } else if (k == "additionalProperties" && v.kind == K::Object) {
                const JsonValue* props = s.find("properties");
                for (const auto& [name, pv] : v.object) {
                    if (props && props->find(name)) continue;
                    const std::string where = at + "/" + escapePointerToken(name);
                    if (kw.kind == K::Bool && !kw.boolean)
                        out.push_back({where, "additionalProperties",
                                       "is not a property this schema allows"});
                    else
                        check(pv, kw, docId, where, out, depth + 1);
                }
            } else if (k == "items" && v.kind == K::Array) {
                for (std::size_t i = 0; i < v.array.size(); ++i)
                    check(v.array[i], kw, docId, at + "/" + std::to_string(i), out, depth + 1);
            } else if ((k == "minItems" || k == "maxItems") && v.kind == K::Array) {
                const auto n = static_cast<std::int64_t>(v.array.size());
                if (k == "minItems" ? n < kw.integer : n > kw.integer)
                    out.push_back({at, k,
                                   "has " + std::to_string(n) + " items, " +
                                       (k == "minItems" ? "at least " : "at most ") +
                                       std::to_string(kw.integer) + " allowed"});
            } else if ((k == "minLength" || k == "maxLength") && v.kind == K::String) {
                const auto n = static_cast<std::int64_t>(codePoints(v.string));
                if (k == "minLength" ? n < kw.integer : n > kw.integer)
                    out.push_back({at, k,
                                   describeJson(v) + " has " + std::to_string(n) + " characters, " +
                                       (k == "minLength" ? "at least " : "at most ") +
                                       std::to_string(kw.integer) + " allowed"});
            } else if (k == "pattern" && v.kind == K::String) {
                if (!std::regex_search(v.string, *patterns_.at(kw.string)))
                    out.push_back(
                        {at, "pattern", describeJson(v) + " does not match " + kw.string});
            } else if ((k == "minimum" || k == "maximum") && v.isNumber()) {
                const bool below = v.kind == K::Integer && kw.kind == K::Integer
                                       ? v.integer < kw.integer
                                       : v.number < kw.number;
                const bool above = v.kind == K::Integer && kw.kind == K::Integer
                                       ? v.integer > kw.integer
                                       : v.number > kw.number;
                if (k == "minimum" ? below : above)
                    out.push_back(
                        {at, k,
                         describeJson(v) + " is " +
                             (k == "minimum" ? "below the minimum " : "above the maximum ") +
                             describeJson(kw)});
            }
        }
    }

    std::map<std::string, JsonValue> docs_;
    std::map<std::string, std::string> origins_;
    /// Compiled `pattern`s, by their text (shared: a pattern used twice is compiled once).
    std::map<std::string, std::shared_ptr<std::regex>> patterns_;
};

} // namespace onewindow::sdk::catalog
