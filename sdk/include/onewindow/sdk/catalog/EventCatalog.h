// The center's event catalog (sdk/catalog/): one JSON Schema per event type, of the whole
// CloudEvent with its data, checked with the std-only validator of SchemaSet.h. The hub's
// `onewindow event validate` and the test kit's catalogProblems() both use this, so a
// department's test and the hub judge an event alike.
//
//   auto catalog = EventCatalog::load("/opt/onewindow-sdk/share/onewindow/catalog");
//   for (const auto& p : catalog.check(event)) std::cerr << p.pointer << ": " << p.message;
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "onewindow/sdk/Event.h"
#include "onewindow/sdk/catalog/JsonValue.h"
#include "onewindow/sdk/catalog/SchemaSet.h"

namespace onewindow::sdk::catalog {

/// Every schema of the catalog is named `urn:onewindow:catalog:<name>`; an event type's
/// schema is `urn:onewindow:catalog:<type>` (names without a dot are shared parts).
inline constexpr const char* SchemaIdPrefix = "urn:onewindow:catalog:";

/// `e` as the structured CloudEvent the hub journals: data parsed when it is JSON, the
/// extensions as string attributes. An empty `id` or `source` (a processor's emitted event,
/// which the hub fills in) is given a placeholder so that only the event's own content is
/// judged.
inline JsonValue toCloudEvent(const Event& e) {
    JsonValue ce = JsonValue::makeObject();
    ce.set("specversion", JsonValue::makeString("1.0"));
    ce.set("id", JsonValue::makeString(e.id.empty() ? "(given by the hub)" : e.id));
    ce.set("source",
           JsonValue::makeString(e.source.empty() ? "onewindow://processor/(output)" : e.source));
    ce.set("type", JsonValue::makeString(e.type));
    if (!e.subject.empty()) ce.set("subject", JsonValue::makeString(e.subject));
    if (!e.time.empty()) ce.set("time", JsonValue::makeString(e.time));
    if (!e.dataContentType.empty())
        ce.set("datacontenttype", JsonValue::makeString(e.dataContentType));
    if (!e.dataSchema.empty()) ce.set("dataschema", JsonValue::makeString(e.dataSchema));
    for (const auto& [k, v] : e.extensions)
        ce.set(k, JsonValue::makeString(v));
    if (!e.data.empty()) {
        if (e.dataIsJson) {
            try {
                ce.set("data", parseJson(e.data));
            } catch (const JsonError&) {
                ce.set("data", JsonValue::makeString(e.data)); // the schema says what it wants
            }
        } else {
            ce.set("data", JsonValue::makeString(e.data));
        }
    }
    return ce;
}

class EventCatalog {
public:
    /// Reads every `<dir>/schemas/*.schema.json`. Throws SchemaError naming the file at fault
    /// (not JSON, a keyword outside the subset, a `$ref` to nothing).
    static EventCatalog load(const std::string& dir) {
        namespace fs = std::filesystem;
        EventCatalog c;
        const fs::path schemas = fs::path(dir) / "schemas";
        std::error_code ec;
        if (!fs::is_directory(schemas, ec))
            throw SchemaError(schemas.string() + " is not a folder of the event catalog");
        std::vector<fs::path> files;
        for (const auto& f : fs::directory_iterator(schemas))
            if (f.path().filename().string().size() > 12 &&
                f.path().filename().string().rfind(".schema.json") ==
                    f.path().filename().string().size() - 12)
                files.push_back(f.path());
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            std::ifstream in(f, std::ios::binary);
            std::stringstream text;
            text << in.rdbuf();
            if (!in) throw SchemaError(f.string() + ": cannot be read");
            try {
                c.set_.add(parseJson(text.str()), f.string());
            } catch (const JsonError& e) {
                throw SchemaError(f.string() + ": not JSON: " + e.what());
            }
        }
        const auto unresolved = c.set_.unresolvedRefs();
        if (!unresolved.empty())
            throw SchemaError(unresolved.front() + ": this $ref names no schema of the catalog");
        if (c.types().empty()) throw SchemaError(schemas.string() + " holds no event schema");
        return c;
    }

    /// The event types the catalog has a schema for, sorted.
    [[nodiscard]] std::vector<std::string> types() const {
        std::vector<std::string> out;
        const std::string prefix = SchemaIdPrefix;
        for (const auto& id : set_.ids())
            if (id.rfind(prefix, 0) == 0 && id.find('.', prefix.size()) != std::string::npos)
                out.push_back(id.substr(prefix.size()));
        return out;
    }
    [[nodiscard]] const JsonValue* schemaOf(const std::string& type) const {
        return set_.document(SchemaIdPrefix + type);
    }
    [[nodiscard]] const SchemaSet& schemas() const { return set_; }

    /// The problems of a structured CloudEvent against the schema of its `type` (empty:
    /// valid). A type the catalog does not have is one problem at /type.
    [[nodiscard]] std::vector<Problem> check(const JsonValue& event) const {
        if (event.kind != JsonValue::Kind::Object)
            return {{"", "type", "an event must be a JSON object"}};
        const JsonValue* type = event.find("type");
        if (!type || type->kind != JsonValue::Kind::String)
            return {{"/type", "required", "the event has no type"}};
        if (!schemaOf(type->string))
            return {{"/type", "catalog",
                     quoteJson(type->string) + " is not a type of the center's event catalog"}};
        return set_.validate(event, SchemaIdPrefix + type->string);
    }
    /// As above, for the text of one event; text that is not JSON is one problem.
    [[nodiscard]] std::vector<Problem> check(const std::string& jsonText) const {
        JsonValue v;
        try {
            v = parseJson(jsonText);
        } catch (const JsonError& e) {
            return {{"", "json", std::string("not JSON: ") + e.what()}};
        }
        return check(v);
    }
    [[nodiscard]] std::vector<Problem> check(const Event& e) const {
        return check(toCloudEvent(e));
    }

private:
    SchemaSet set_;
};

/// Problems as lines "<pointer> <rule>: <message>", for test output and the command line.
inline std::string describe(const std::vector<Problem>& problems) {
    std::string out;
    for (const auto& p : problems)
        out += (p.pointer.empty() ? "/" : p.pointer) + " " + p.rule + ": " + p.message + "\n";
    return out;
}

} // namespace onewindow::sdk::catalog
