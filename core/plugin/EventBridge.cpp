#include "core/plugin/EventBridge.h"

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/event/Encoding.h"
#include "core/event/JsonScan.h"
#include "core/security/AllowList.h"
#include "core/util/Clock.h"

namespace ow::plugin {
namespace sdk = onewindow::sdk;

namespace {

// A plugin's event as a CloudEvent, for the codec to validate like any input's.
nlohmann::json toCloudEvent(const sdk::Event& e, std::int64_t nowMs) {
    nlohmann::json j = {
        {"specversion", "1.0"}, {"id", e.id}, {"source", e.source}, {"type", e.type}};
    if (!e.subject.empty()) j["subject"] = e.subject;
    j["time"] = e.time.empty() ? util::formatRfc3339Ms(nowMs) : e.time;
    if (!e.dataContentType.empty()) j["datacontenttype"] = e.dataContentType;
    if (!e.dataSchema.empty()) j["dataschema"] = e.dataSchema;
    for (const auto& [k, v] : e.extensions)
        j[k] = v;
    if (!e.data.empty()) {
        if (e.dataIsJson) {
            j["data"] = nlohmann::json::parse(e.data); // throws: reported as an invalid event
            if (e.dataContentType.empty()) j["datacontenttype"] = "application/json";
        } else {
            j["data"] = e.data;
        }
    }
    return j;
}

} // namespace

sdk::Event toSdkEvent(const std::string& text, const store::Provenance& from) {
    sdk::Event e;
    std::optional<std::string> base64;
    bool hasData = false, dataIsString = false;
    std::string dataText; // the string value of `data`, when it is one
    std::string_view dataRaw;
    event::forEachMember(text, [&](const event::JsonMember& m) {
        // Attributes are strings; anything else (an integer extension) keeps its JSON text.
        auto str = [&m] { return m.isString ? m.text : std::string(m.raw); };
        const std::string& k = m.key;
        if (k == "id")
            e.id = str();
        else if (k == "source")
            e.source = str();
        else if (k == "type")
            e.type = str();
        else if (k == "subject")
            e.subject = str();
        else if (k == "time")
            e.time = str();
        else if (k == "datacontenttype")
            e.dataContentType = str();
        else if (k == "dataschema")
            e.dataSchema = str();
        else if (k == "data_base64")
            base64 = str();
        else if (k == "data") {
            hasData = true;
            dataIsString = m.isString;
            dataText = m.text;
            dataRaw = m.raw; // points into `text`, which outlives this function's use of it
        } else if (k != "specversion")
            e.extensions[k] = str();
    });
    if (base64) {
        e.data = event::base64Decode(*base64).value_or("");
        e.dataIsJson = false;
    } else if (hasData) {
        const bool jsonType =
            e.dataContentType.empty() || e.dataContentType.find("json") != std::string::npos;
        if (dataIsString && !jsonType) {
            e.data = std::move(dataText);
            e.dataIsJson = false;
        } else {
            e.data = std::string(dataRaw);
        }
    } else {
        e.dataIsJson = false;
    }
    // Who sent it, as the hub knows (a body never carries these: the inputs refuse them).
    if (!from.input.empty()) {
        const auto who = security::principalOf(from);
        e.extensions["owinput"] = who.input;
        e.extensions["owauth"] = security::toString(who.method);
        e.extensions["authid"] = who.id;
        e.extensions["authtype"] = who.authType();
    }
    return e;
}

pipeline::AcceptItem toAcceptItem(const sdk::Event& e, std::int64_t nowMs,
                                  const event::JsonLimits& limits, const security::Principal& who,
                                  const config::AllowSpec* allow) {
    event::Event parsed = event::parseStructured(toCloudEvent(e, nowMs).dump(), limits);
    if (allow)
        if (auto refusal = security::checkAllowed(parsed, who.input, *allow, who.id, nullptr))
            throw std::runtime_error(refusal->detail);
    // The hub's attributes a plugin copied from another event go: the stored body holds what
    // this plugin says, the hub's view says who it is.
    for (std::string_view name : security::ReservedAttributes)
        parsed.json.erase(std::string(name));
    std::string body = event::toStructured(parsed);
    security::stamp(parsed, who);
    return {std::make_shared<const event::Event>(std::move(parsed)), std::move(body)};
}

} // namespace ow::plugin
