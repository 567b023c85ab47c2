// Rows of the journal as the rest of core sees them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace ow::store {

/// An event as committed: its journal sequence number and canonical structured JSON.
/// Who put an event into the hub: its input, its principal and how that was authenticated
/// (security/Principal.h). Kept beside the event, not in its body, so that receivers get the
/// event as it was sent; the hub sets them as attributes wherever it looks at the event
/// (routing, plugins).
struct Provenance {
    std::string input;
    std::string client;
    std::string auth; ///< "token", "signature", ...; "" for events journaled before it was kept
};

struct StoredEvent {
    std::int64_t seq = 0;
    std::string source;
    std::string id;
    std::string type;
    std::int64_t acceptedAtMs = 0;
    std::shared_ptr<const std::string> body; ///< structured-mode JSON, shared with deliveries
    Provenance from;
};

/// A signed request's id or signature ("id:<id>", "sig:<sig>") and the Unix second after which
/// its timestamp is outside the window anyway, so it need not be remembered.
using SeenSignature = std::pair<std::string, std::int64_t>;

/// An event handed to the journal by another process (a CLI command): the running hub (or
/// the next one to start) takes it in like an accepted event.
struct SubmittedEvent {
    std::string source;
    std::string id;
    std::string type;
    std::string input; ///< recorded as the event's input, e.g. "command:fees-reconcile"
    std::string body;  ///< structured-mode JSON
};

/// One (event, output) delivery.
struct OutboxRow {
    std::int64_t id = 0;
    std::int64_t eventSeq = 0;
    std::string output;
    std::string route;
    std::string orderingKey; ///< "" = unordered
    int attempts = 0;
    std::int64_t nextAtMs = 0;
    std::string lastError;
    std::shared_ptr<const std::string> body;
    bool replayed = false; ///< moved back from the dead-letter queue by `dlq replay`
    Provenance from;       ///< of the event
};

/// A dead-lettered delivery as shown by `onewindow dlq`.
struct DeadLetter {
    OutboxRow row;
    std::string eventSource;
    std::string eventId;
    std::string eventType;
    std::int64_t deadAtMs = 0;
};

/// Outcome of one event offered to the journal.
struct AcceptOutcome {
    enum class Status { Accepted, Duplicate };
    Status status = Status::Accepted;
    std::int64_t seq = 0;
    std::int64_t acceptedAtMs = 0; ///< for a duplicate: when the original was accepted
};

} // namespace ow::store
