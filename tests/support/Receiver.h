// An HTTP endpoint standing for a department system that the hub delivers to. It records
// every request and answers as the test programs it (accept, fail N times, be down, reject).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tests/support/HttpClient.h"

namespace Poco {
class ThreadPool;
}
namespace Poco::Net {
class HTTPServer;
}

namespace ow::testkit {

struct EventIdentity {
    std::string id;
    std::string source;
};

struct ReceivedRequest {
    /// How the body carried CloudEvents: not at all, one structured event, binary mode
    /// (ce-* headers), or a batch (application/cloudevents-batch+json).
    enum class Mode { None, Structured, Binary, Batch };

    std::uint64_t sequence = 0; ///< arrival order, from 0
    std::string method;
    std::string path; ///< request target, with query
    Headers headers;
    std::string body;
    std::chrono::steady_clock::time_point at;
    std::chrono::system_clock::time_point wallTime;
    Mode mode = Mode::None;
    std::vector<EventIdentity> events; ///< empty unless the body held events
    int status = 0;                    ///< answered; 0 = connection closed (or reset) instead

    /// First value of header `name` (case-insensitive), "" if absent.
    [[nodiscard]] std::string header(const std::string& name) const;
    /// id of the first event, "" if none.
    [[nodiscard]] std::string firstId() const { return events.empty() ? "" : events.front().id; }
};

struct Reply {
    int status = 200;
    Headers headers;
    std::string body;
    std::chrono::milliseconds delay{0}; ///< wait before answering (a slow system, or a timeout)
    bool closeConnection = false;       ///< drop the connection without answering
    bool resetConnection = false;       ///< with closeConnection: a TCP reset instead of a FIN
};

/// Decides the answer. `seen` counts the requests so far, this one included, that carried
/// the request's first event id (1 on the first attempt); 0 for requests without events.
/// Called on the connection's thread without the receiver's lock held, so it may query the
/// receiver; it must be thread-safe itself.
using ReplyFunction = std::function<Reply(const ReceivedRequest& request, int seen)>;

struct ReceiverOptions {
    std::uint16_t port = 0;   ///< 0: pick a free one (see port())
    bool keepRequests = true; ///< store every request for snapshot()/countFor()
    bool keepHeaders = false; ///< without keepRequests: still give reply functions the headers
    bool parseEvents = true;  ///< extract event identities; off: a bare HTTP server
    int maxThreads = 128;     ///< each keep-alive connection holds one thread
    std::string recordFile;   ///< append every 2xx-answered id as a line ("" = off)
    /// HTTPS instead of HTTP when set: the server's certificate and key, and the CA that must
    /// have issued the certificate every client presents (mutual TLS; "" = none asked for).
    std::string tlsCertFile, tlsKeyFile, tlsClientCaFile;
};

struct ReceiverStats {
    std::uint64_t requests = 0;
    std::uint64_t answered2xx = 0;        ///< requests answered 2xx
    std::uint64_t eventsDelivered = 0;    ///< event identities in 2xx answers, duplicates included
    std::uint64_t distinctDelivered = 0;  ///< distinct ids answered 2xx at least once
    std::int64_t firstDeliveryUnixMs = 0; ///< wall time of the first/last 2xx answer (0: none)
    std::int64_t lastDeliveryUnixMs = 0;
};

class ReceiverRequestHandler;

class Receiver {
public:
    enum class DownMode { Status503, CloseConnection };

    /// Listens on 127.0.0.1 and serves at once. Throws if the port cannot be bound.
    explicit Receiver(ReceiverOptions options = {});
    /// Stops serving; requests still in progress are aborted.
    ~Receiver();
    Receiver(const Receiver&) = delete;
    Receiver& operator=(const Receiver&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    /// "http://127.0.0.1:<port><path>" (https:// with TLS).
    [[nodiscard]] std::string url(const std::string& path = "/events") const;

    // Programming the answers. Precedence: down, then id rules, then the reply function.
    void setReply(ReplyFunction reply);
    /// Every request gets `status` (the default is always(200)).
    void always(int status);
    /// Each event id gets `status` on its first `n` attempts, then 200.
    void failFirstN(int n, int status = 503);
    /// The first `n` requests overall get `status`, whatever they carry; then 200.
    void failFirstRequests(int n, int status = 503);
    /// Down: 503 with Retry-After: 1, or the connection closed without an answer.
    void setDown(bool down, DownMode mode = DownMode::Status503);
    /// A request carrying an id that contains `substring` gets `status` (e.g. "perm" -> 400).
    void addIdRule(const std::string& substring, int status);
    void clearIdRules();

    /// Appends every 2xx-answered id to `path` from now on, one per line, flushed at once.
    void recordDeliveredTo(const std::string& path);

    // Queries, all thread-safe.
    [[nodiscard]] std::uint64_t totalRequests() const { return requests_.load(); }
    /// Distinct ids answered 2xx at least once, in the order of their first delivery.
    [[nodiscard]] std::vector<std::string> deliveredIds() const;
    [[nodiscard]] std::size_t deliveredCount() const;
    /// How many times `id` was answered 2xx (>1 means a duplicate delivery).
    [[nodiscard]] int multiplicity(const std::string& id) const;
    /// How many requests carried `id`, whatever the answer.
    [[nodiscard]] int attempts(const std::string& id) const;
    /// Stored requests that satisfy `predicate` (needs keepRequests).
    [[nodiscard]] std::size_t
    countFor(const std::function<bool(const ReceivedRequest&)>& predicate) const;
    /// Copy of the stored requests, in arrival order (needs keepRequests).
    [[nodiscard]] std::vector<ReceivedRequest> snapshot() const;
    [[nodiscard]] ReceiverStats stats() const;
    /// Waits until `distinct` ids have been delivered or `deadline` passes.
    bool waitForDelivered(std::size_t distinct, std::chrono::milliseconds deadline) const;

    /// Stops serving (idempotent; the destructor calls it).
    void stop();

private:
    friend class ReceiverRequestHandler;

    /// Numbers and records the request, and decides the answer.
    Reply decide(ReceivedRequest& request);
    /// Accounts for the answer actually given (after any delay).
    void finish(ReceivedRequest&& request, const Reply& reply);
    /// Waits `delay`; returns false if the receiver is stopping meanwhile.
    bool pause(std::chrono::milliseconds delay);

    struct IdState {
        int seen = 0;
        int delivered = 0;
    };
    struct IdRule {
        std::string substring;
        int status;
    };

    ReceiverOptions options_;
    std::uint16_t port_ = 0;
    std::atomic<std::uint64_t> requests_{0};

    mutable std::mutex mutex_;
    std::shared_ptr<const ReplyFunction> reply_; ///< requests copy the pointer, not the function
    bool down_ = false;
    DownMode downMode_ = DownMode::Status503;
    std::vector<IdRule> idRules_;
    std::vector<ReceivedRequest> log_;
    std::unordered_map<std::string, IdState> ids_;
    std::vector<std::string> deliveredOrder_;
    ReceiverStats stats_;
    std::FILE* record_ = nullptr;

    std::mutex stopMutex_;
    std::condition_variable stopCv_;
    bool stopping_ = false;

    // Declared last so they are torn down first, while the state above is still alive.
    std::unique_ptr<Poco::ThreadPool> pool_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

} // namespace ow::testkit
