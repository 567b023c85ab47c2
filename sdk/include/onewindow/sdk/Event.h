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

// Who put an event into the hub. The hub sets these attributes on every event it journals
// (a client that sends them is refused), so a processor can trust them:
//   owinput  the input it came through ("terminals", "processor:ledger", ...)
//   owauth   how the sender was authenticated: "token", "signature", "certificate", "mqtt",
//            "source", "processor", "command" or "none"
//   authid   the principal: the client's name, a certificate's subject, "processor:<output>"
// Events a plugin emits get the plugin's own values, whatever it copies into `extensions`.

/// The value of the hub-set attribute `name` ("owinput", "owauth", "authid"); "" if absent.
inline std::string hubAttribute(const Event& e, const std::string& name) {
    const auto it = e.extensions.find(name);
    return it == e.extensions.end() ? std::string() : it->second;
}
inline std::string inputOf(const Event& e) {
    return hubAttribute(e, "owinput");
}
inline std::string authMethodOf(const Event& e) {
    return hubAttribute(e, "owauth");
}
inline std::string principalOf(const Event& e) {
    return hubAttribute(e, "authid");
}

} // namespace onewindow::sdk
