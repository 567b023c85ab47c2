#include "core/plugin/EventBridge.h"

#include <nlohmann/json.hpp>

#include "core/event/Encoding.h"
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

sdk::Event toSdkEvent(const std::string& text) {
    auto j = nlohmann::json::parse(text);
    sdk::Event e;
    auto str = [](const nlohmann::json& v) {
        return v.is_string() ? v.get<std::string>() : v.dump();
    };
    for (const auto& [k, v] : j.items()) {
        if (k == "id")
            e.id = str(v);
        else if (k == "source")
            e.source = str(v);
        else if (k == "type")
            e.type = str(v);
        else if (k == "subject")
            e.subject = str(v);
        else if (k == "time")
            e.time = str(v);
        else if (k == "datacontenttype")
            e.dataContentType = str(v);
        else if (k == "dataschema")
            e.dataSchema = str(v);
        else if (k == "specversion" || k == "data" || k == "data_base64")
            continue;
        else
            e.extensions[k] = str(v);
    }
    if (j.contains("data_base64")) {
        auto bytes = event::base64Decode(j["data_base64"].get<std::string>());
        e.data = bytes.value_or("");
        e.dataIsJson = false;
    } else if (j.contains("data")) {
        const auto& d = j["data"];
        const bool jsonType =
            e.dataContentType.empty() || e.dataContentType.find("json") != std::string::npos;
        if (d.is_string() && !jsonType) {
            e.data = d.get<std::string>();
            e.dataIsJson = false;
        } else {
            e.data = d.dump();
        }
    } else {
        e.dataIsJson = false;
    }
    return e;
}

pipeline::AcceptItem toAcceptItem(const sdk::Event& e, std::int64_t nowMs,
                                  const event::JsonLimits& limits) {
    auto ev = std::make_shared<const event::Event>(
        event::parseStructured(toCloudEvent(e, nowMs).dump(), limits));
    return {ev, event::toStructured(*ev)};
}

} // namespace ow::plugin
