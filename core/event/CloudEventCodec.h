// Parsing, validation and serialisation of CloudEvents 1.0 in the HTTP protocol binding.
#pragma once

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/event/Event.h"

namespace ow::event {

/// Bounds applied while parsing, before any of the document is kept.
struct JsonLimits {
    std::size_t maxDepth = 32;   ///< nesting of objects/arrays, the top-level value is depth 1
    std::size_t maxKeys = 10000; ///< object members in the whole document
};

/// Why an event (or a batch) was refused. `attribute` names the CloudEvents attribute at
/// fault ("" when the fault is the document itself, e.g. malformed JSON); `index` is the
/// position in a batch (-1 outside batches). `kind` selects the problem type.
struct EventError : std::runtime_error {
    enum class Kind { MalformedJson, TooDeep, TooManyKeys, InvalidEvent, InvalidBatch };
    EventError(Kind k, std::string attr, std::string detail, int idx = -1)
        : std::runtime_error(detail), kind(k), attribute(std::move(attr)), index(idx) {}
    Kind kind;
    std::string attribute;
    int index;
};

/// HTTP headers as received, names lower-cased. A name may repeat.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

/// Structured mode: `application/cloudevents+json`. Throws EventError.
Event parseStructured(std::string_view body, const JsonLimits& limits);

/// Batch mode: `application/cloudevents-batch+json`, a JSON array of structured events.
/// All-or-nothing: the first bad event throws with its index. An empty array is valid.
std::vector<Event> parseBatch(std::string_view body, const JsonLimits& limits,
                              std::size_t maxEvents);

/// Binary mode: attributes in `ce-` headers (percent-decoded as the HTTP binding says),
/// `content-type` becomes `datacontenttype`, the body is the data. JSON content types
/// ("application/json", "*/*+json", "text/json") are parsed under `limits` and kept as
/// `data`; other bodies are kept as `data_base64`. Throws EventError.
Event parseBinary(const HeaderList& headers, std::string_view body, const JsonLimits& limits);

/// Validates an already parsed structured-mode object (used by the three parsers and when
/// reading the journal back). Throws EventError(InvalidEvent) naming the attribute.
Event fromJson(nlohmann::json object);

/// The structured-mode body.
std::string toStructured(const Event& e);

/// The binary-mode message: `ce-*` headers (percent-encoded), content type and body.
struct BinaryMessage {
    HeaderList headers; ///< includes "content-type" when the event has data
    std::string body;
};
BinaryMessage toBinary(const Event& e);

/// RFC 3339 check used for `time` (also exposed for tests).
bool isRfc3339(std::string_view s);

} // namespace ow::event
