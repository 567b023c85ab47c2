// `onewindow event validate`: events checked against the center's event catalog (sdk/catalog/,
// the JSON Schemas shipped with the SDK), with the same std-only validator the SDK's test kit
// uses, so the command and a department's tests judge an event alike.
#pragma once

#include <iosfwd>
#include <string>

namespace ow::app {

/// Where the catalog is when --catalog is not given: <binary>/../share/onewindow/catalog if
/// it exists (an installed hub), else the source tree's sdk/catalog this binary was built from.
std::string defaultCatalogDir();

/// Validates `text`: one event (a JSON object), a batch (a JSON array) or NDJSON (one event
/// per line; blank lines skipped). Writes one line per problem naming the event (its number,
/// line, id and type), the JSON pointer at fault and the rule, then a summary line to `out`.
/// Returns the number of invalid events (1 for an input without any event). Throws
/// onewindow::sdk::catalog::SchemaError when the catalog cannot be loaded.
int validateEvents(const std::string& text, const std::string& catalogDir, std::ostream& out);

/// `onewindow event validate [--catalog DIR] FILE|-`; the exit code (0 valid, 1 invalid or
/// unreadable, 2 usage).
int cmdEvent(int argc, char** argv);

} // namespace ow::app
