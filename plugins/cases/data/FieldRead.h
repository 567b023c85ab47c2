// A field of an event's `data` that a first-party processor reads. Each processor lists what it
// reads per event type and sees nothing else of the data; the catalog contract test
// (tests/unit/plugins/CatalogContractTest.cpp) checks every list against the SDK's event
// catalog, so a processor cannot start reading a field the catalog does not document.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ow::cases {

struct FieldRead {
    const char* name;
    const char* jsonType; ///< the JSON Schema type it is read as: "string", "integer", "array"
    bool required;        ///< without it the processor refuses (or ignores) the event
};

/// Per event type, the fields read.
using FieldReads = std::map<std::string, std::vector<FieldRead>>;

/// The members of `data` that `reads` lists (`data` must be an object).
inline nlohmann::json onlyFieldsRead(const nlohmann::json& data,
                                     const std::vector<FieldRead>& reads) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& f : reads)
        if (auto it = data.find(f.name); it != data.end()) out[f.name] = *it;
    return out;
}

} // namespace ow::cases
