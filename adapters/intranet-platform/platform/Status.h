// A case's status changes on their way to the intranet platform (README "Status"): the
// sequencer numbers each case's changes 1, 2, 3, ... without a gap, the sink posts each as a
// structured CloudEvent to the case's address and reads the platform's verdict.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/Components.h>

#include "adapters/intranet-platform/platform/Names.h"

namespace ow::adapters::platform {

/// gov.case.* and gov.supervision.alert*: what the platform follows of a case.
bool isStatusChange(const std::string& type);

/// How long the sequencer remembers which events it numbered.
struct Retention {
    std::int64_t nowMs = 0;
    /// After a case's last numbered change, its per-event entries are kept this long; the
    /// case's count is kept for good (a later change continues it).
    std::int64_t forgetAfterMs = 30LL * 24 * 3600 * 1000;
};

/// The sequencer. A status change gets its case's next number and is emitted as a
/// StatusType event carrying the platform's CloudEvent; the number and the event are one
/// commit, so a crash repeats both or neither. The same event (source and id) handled again
/// within the retention gets no second number. Other types pass by. `sequence` is the number
/// given, 0 if none. State: `last/<case>` (the count), `stamped/<case>/<source> <id>` (its
/// number), `ids/<case>` (the stamped entries, a JSON array); timer `forget/<case>`.
onewindow::sdk::Result stamp(const onewindow::sdk::Event& e, onewindow::sdk::ProcessContext& ctx,
                             std::int64_t& sequence, const Retention& retention = {});

/// The timer `forget/<case>`: erases the case's per-event entries, keeps its count. Other
/// timer names are not the sequencer's: rejected.
onewindow::sdk::Result forget(const std::string& timer, const std::string& caseNo,
                              onewindow::sdk::ProcessContext& ctx);

/// The structured CloudEvent the platform receives: `e` as it was (id, source, type, time,
/// extensions, data), the case as subject, and the CloudEvents `sequence` extension.
nlohmann::json platformEvent(const onewindow::sdk::Event& e, const std::string& caseNo,
                             std::int64_t sequence);

/// What the sink posts for a stamped event.
struct StatusPost {
    std::string path; ///< /api/cases/{case_no, percent-encoded}/events
    std::string body; ///< the platform's CloudEvent
    std::int64_t sequence = 0;
};
/// The post, or why this event cannot be one (then it is rejected).
std::variant<StatusPost, std::string> statusPost(const onewindow::sdk::Event& e);

/// The platform's answer to a post of `sequence`.
struct StatusVerdict {
    onewindow::sdk::Result result;
    bool duplicate = false;  ///< 200 with "duplicate": the platform had it already
    bool outOfOrder = false; ///< 409: it expects an earlier one first
};
StatusVerdict readStatusAnswer(const onewindow::sdk::HttpResponse& r, std::int64_t sequence);

/// A path segment with everything but RFC 3986's unreserved characters percent-encoded.
std::string percentEncode(const std::string& segment);

} // namespace ow::adapters::platform
