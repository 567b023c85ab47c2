// Builds valid events for tests without going through the HTTP parser.
#pragma once

#include <memory>
#include <string>

#include "core/event/CloudEventCodec.h"

namespace ow::fakes {

inline event::Event makeEvent(const std::string& id, const std::string& type = "gov.case.submitted",
                              const std::string& subject = "",
                              nlohmann::json extra = nlohmann::json::object()) {
    nlohmann::json j = {{"specversion", "1.0"}, {"id", id}, {"source", "/test"}, {"type", type}};
    if (!subject.empty()) j["subject"] = subject;
    for (auto& [k, v] : extra.items())
        j[k] = v;
    return event::fromJson(std::move(j));
}

} // namespace ow::fakes
