// A CloudEvents 1.0 event as plugins see it: the attributes as strings, the data as the text
// it was sent as (JSON text when `datacontenttype` is JSON or absent with JSON data).
#pragma once

#include <map>
#include <string>

namespace onewindow::sdk {

struct Event {
    std::string id;
    std::string source;
    std::string type;
    std::string subject;         ///< the case number for gov.case.* events; may be empty
    std::string time;            ///< RFC 3339; the hub fills it in for emitted events if empty
    std::string dataContentType; ///< e.g. "application/json"; empty if none
    std::string dataSchema;
    /// Extension attributes (`department`, `itemcode`, `traceparent`, ...), as strings.
    std::map<std::string, std::string> extensions;
    /// The data: JSON text for JSON events (`{"case_no":"SS-2026-0001"}`), otherwise the
    /// payload itself (binary data arrives base64-decoded).
    std::string data;
    bool dataIsJson = true;
};

} // namespace onewindow::sdk
