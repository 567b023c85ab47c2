// What a dispatcher worker needs from a destination: deliver one outbox row, say how it went.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/store/Records.h"

namespace ow::delivery {

struct DeliveryResult {
    enum class Outcome {
        Delivered, ///< the receiver took it (2xx)
        Retry,     ///< transient: 408, 429, 5xx, timeout, connection failure
        Reject,    ///< permanent: any other 4xx/3xx; goes to the dead-letter queue
    };
    Outcome outcome = Outcome::Retry;
    int status = 0;                           ///< HTTP status, 0 if none was received
    std::optional<std::int64_t> retryAfterMs; ///< from Retry-After
    std::string detail;                       ///< why, for last_error and logs
    /// Delivered, and the row's removal already committed by the client's own transaction
    /// (a processor's effects commit with it): the lane need not record it again.
    bool recorded = false;
};

/// Called exactly once when an asynchronous delivery ends, on whatever thread ended it.
using DeliveryCompletion = std::function<void(DeliveryResult)>;

/// One per worker thread, so an implementation may keep a connection open between calls.
class OutputClient {
public:
    virtual ~OutputClient() = default;
    virtual DeliveryResult deliver(const store::OutboxRow& row) = 0;

    /// True when deliverAsync() returns before the outcome is known, so one thread can keep
    /// several deliveries in flight (MQTT publishes waiting for PUBACK). The lane then uses one
    /// client and keeps up to `concurrency` deliveries in flight instead of one per worker.
    [[nodiscard]] virtual bool asynchronous() const { return false; }
    /// Starts a delivery; `done` gets the outcome. The lane enforces the timeout: a completion
    /// that comes after it is ignored.
    virtual void deliverAsync(const store::OutboxRow& row, DeliveryCompletion done) {
        done(deliver(row));
    }
    /// True when deliverAsync() may also be called on the thread that runs a completion, so
    /// the lane starts the next delivery there instead of waking its own thread for it.
    [[nodiscard]] virtual bool startsFromCompletions() const { return false; }
    /// From another thread, when the hub stops waiting (shutdown, reload): a deliver() in
    /// progress should return now, as a Retry, and the client is not used again. Clients whose
    /// calls end by a deadline of their own need not do anything.
    virtual void abort() noexcept {}
};

using OutputClientFactory = std::function<std::unique_ptr<OutputClient>()>;

} // namespace ow::delivery
