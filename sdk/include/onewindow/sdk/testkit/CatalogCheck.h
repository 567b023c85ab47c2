// Checking events against the center's event catalog in a plugin's tests: the JSON Schemas
// installed with the SDK (share/onewindow/catalog), read by the std-only validator the hub's
// `onewindow event validate` uses. Link OneWindow::testkit: it tells where the catalog is.
//
//   for (const auto& e : ctx.emitted()) CHECK(testkit::catalogProblems(e) == "");
//
// An event of a type the catalog does not have is a problem too: the catalog is the center's
// vocabulary (gov.case.*, gov.fee.*, gov.supervision.*, ...), not a department's own types.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "onewindow/sdk/Event.h"
#include "onewindow/sdk/catalog/EventCatalog.h"

namespace onewindow::sdk::testkit {

/// The catalog installed with the SDK, read once.
inline const catalog::EventCatalog& centerCatalog() {
#ifdef OW_SDK_CATALOG_DIR
    static const catalog::EventCatalog c = catalog::EventCatalog::load(OW_SDK_CATALOG_DIR);
    return c;
#else
    throw std::logic_error("link OneWindow::testkit: it defines OW_SDK_CATALOG_DIR, where the "
                           "event catalog is installed");
#endif
}

/// "" when `e` is valid against the schema of its type; otherwise one line per problem:
/// "<JSON pointer> <rule>: <message>", e.g. "/data/decision enum: "approved" is not one of:
/// "approve", "refuse"". An emitted event's empty id and source (the hub fills them in) are
/// not problems.
inline std::string catalogProblems(const Event& e) {
    return catalog::describe(centerCatalog().check(e));
}

/// The problems of each event of `events` whose type is of the center's vocabulary (`gov.*`),
/// each headed by its type and id: for what a component emitted in a test. A department's own
/// types (`dept.*`) are left alone.
inline std::string catalogProblems(const std::vector<Event>& events) {
    std::string out;
    for (const auto& e : events)
        if (e.type.rfind("gov.", 0) == 0)
            if (auto p = catalogProblems(e); !p.empty()) out += e.type + " " + e.id + ":\n" + p;
    return out;
}

/// The same for the text of a structured CloudEvent.
inline std::string catalogProblems(const std::string& cloudEventJson) {
    return catalog::describe(centerCatalog().check(cloudEventJson));
}

} // namespace onewindow::sdk::testkit
