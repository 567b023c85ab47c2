// Small helpers for feeding events to components: an event with sensible defaults, and a
// Sink call that treats an escaping exception the way the hub does.
#pragma once

#include <atomic>
#include <exception>
#include <map>
#include <string>
#include <utility>

#include "onewindow/sdk/Components.h"

namespace onewindow::sdk::testkit {

/// A JSON event of `type` about `subject` (the case number for gov.case.*), with a fresh id
/// ("testkit-1", "testkit-2", ...) and source "/testkit". Change any field afterwards.
inline Event makeEvent(std::string type, std::string subject = {}, std::string jsonData = "{}",
                       std::map<std::string, std::string> extensions = {}) {
    static std::atomic<unsigned long> counter{0};
    Event e;
    e.id = "testkit-" + std::to_string(++counter);
    e.source = "/testkit";
    e.type = std::move(type);
    e.subject = std::move(subject);
    e.dataContentType = "application/json";
    e.data = std::move(jsonData);
    e.dataIsJson = true;
    e.extensions = std::move(extensions);
    return e;
}

/// sink.deliver(event), with an escaping exception turned into Retry(what()) as the hub does.
/// (A sink that throws still works, but the operator sees a retry storm instead of a clear
/// Reject; a test can assert that deliver() answers on its own.)
inline Result deliver(Sink& sink, const Event& event) {
    try {
        return sink.deliver(event);
    } catch (const std::exception& e) {
        return Result::retry(e.what());
    } catch (...) {
        return Result::retry("unknown exception");
    }
}

/// A Result as text for test messages: "ok", "retry(reason, after 30000 ms)", "reject(reason)".
inline std::string describe(const Result& r) {
    switch (r.kind) {
    case Result::Kind::Ok:
        return "ok";
    case Result::Kind::Retry:
        return "retry(" + r.reason +
               (r.retryAfterMs ? ", after " + std::to_string(*r.retryAfterMs) + " ms" : "") + ")";
    case Result::Kind::Reject:
        return "reject(" + r.reason + ")";
    }
    return "?";
}

} // namespace onewindow::sdk::testkit
