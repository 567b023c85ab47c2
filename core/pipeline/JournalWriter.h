// The single writer of the journal. HTTP threads hand it events and wait; it commits many
// requests in one transaction (group commit: one fsync for all of them), routes committed
// events into outbox rows in the same loop, applies delivery results, and hands new outbox
// rows to the dispatcher only after they are committed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/audit/AuditLog.h"
#include "core/event/Event.h"
#include "core/observability/Metrics.h"
#include "core/pipeline/AcceptItem.h"
#include "core/pipeline/ProcessorCommit.h"
#include "core/routing/RouteTable.h"
#include "core/store/Journal.h"
#include "core/store/PluginState.h"
#include "core/util/Clock.h"

namespace ow::pipeline {

/// Binds an Idempotency-Key to the answer, stored in the same transaction as the events.
struct IdempotencyBinding {
    std::string client;
    std::string key;
    std::string fingerprint;
    /// Builds (status, body) from the outcomes; called inside the transaction.
    std::function<std::pair<int, std::string>(const std::vector<store::AcceptOutcome>&)> respond;
};

struct AcceptResult {
    bool ok = false;
    std::string error; ///< store failure, when !ok
    std::vector<store::AcceptOutcome> outcomes;
    /// Set when the Idempotency-Key was already used: nothing was written, the caller answers
    /// from this record (same fingerprint) or refuses (other fingerprint).
    std::optional<store::IdempotencyRecord> previous;
};

class JournalWriter {
public:
    using RowsCallback = std::function<void(std::vector<store::OutboxRow>)>;

    JournalWriter(store::Journal& journal, std::shared_ptr<const routing::RouteTable> routes,
                  const util::Clock& clock, observability::Metrics& metrics, int maxBatch,
                  RowsCallback onRows);
    ~JournalWriter();

    /// Loads routing state, hands pending outbox rows to `onRows`, starts the thread.
    void start();
    /// What makes committed transactions durable (set before start(); tests gate it). By
    /// default the journal's syncWal().
    void setWalSync(std::function<void()> sync) { walSync_ = std::move(sync); }
    /// Finishes queued accepts and updates, then stops. Idempotent.
    void stop();

    /// Blocks until the items are committed (or the commit failed). All-or-nothing.
    /// `signatures`: the signed request's id and signature, remembered in the same
    /// transaction, so a replay is refused after a restart too.
    AcceptResult accept(std::vector<AcceptItem> items, const std::string& input,
                        const std::string& client, std::optional<IdempotencyBinding> idem = {},
                        std::vector<store::SeenSignature> signatures = {});

    using AcceptCallback = std::function<void(AcceptResult)>;
    /// accept() without waiting: `done` gets the same result once the items are committed and
    /// synced (or failed), on the writer's thread, in commit order; at once when the writer is
    /// stopping. It must be quick (it delays every later answer) and must not call the writer.
    void acceptAsync(std::vector<AcceptItem> items, const std::string& input,
                     const std::string& client, std::optional<IdempotencyBinding> idem,
                     std::vector<store::SeenSignature> signatures, AcceptCallback done);
    /// The signed requests of `input` still inside their window (call before start()).
    std::vector<store::SeenSignature> signedSeen(const std::string& input, std::int64_t nowS) {
        return journal_.signedSeen(input, nowS);
    }

    /// The audit trail (set before start()): every accepted event gets its record in the
    /// transaction that journals it; refusals and operator actions in a coming one. Records
    /// older than `retentionMs` are pruned, checkpoint by checkpoint.
    void setAudit(std::unique_ptr<audit::AuditLog> audit, std::int64_t retentionMs);
    /// A refused request. Identical refusals (input, principal, address, status, reason)
    /// queued before the next transaction become one record with their count, so a flood of
    /// bad requests cannot flood the disk.
    void auditRefusal(const std::string& input, const std::string& principal,
                      const std::string& remote, int status, const std::string& reason);
    /// An operator action (start, stop, reload, ...), recorded as given in a coming
    /// transaction; the last transaction before the writer stops also signs a checkpoint.
    void auditAction(nlohmann::json fields);

    /// Routes events with `routes` from the next transaction on; returns once the writer
    /// uses them (every event routed by the old table is committed then).
    void replaceRoutes(std::shared_ptr<const routing::RouteTable> routes);

    /// A processor's effects, committed in the next transaction with the row (or timer) they
    /// handle, durably (they may include events). `done` runs after the commit on the
    /// completion thread (not the writer's: waking a lane per event cost the writer, the
    /// pipeline's one serial stage, about a third of its time), in commit order.
    void processed(ProcessorCommit commit, CommitCallback done);

    /// Returns once everything queued before the call (delivery results above all) has been
    /// through a transaction, committed or failed. A reload calls it between the old
    /// dispatcher's last results and the new one's first read of the journal, which would
    /// otherwise find a delivered row still pending and deliver it again.
    void sync();

    // Delivery results from the dispatcher; applied in the next transaction.
    void delivered(std::int64_t rowId);
    void retry(std::int64_t rowId, int attempts, std::int64_t nextAtMs, const std::string& error);
    void dead(std::int64_t rowId, int attempts, const std::string& error);

    /// False from a failed commit until `UnhealthyAfterFailureMs` after the last failure (for
    /// /readyz): one small commit that fits on a nearly full disk does not make it ready again.
    [[nodiscard]] bool healthy() const {
        if (syncFailed_.load()) return false; // for good: see runSync()
        auto last = lastFailureMs_.load();
        return last == 0 || clock_.nowMs() - last >= UnhealthyAfterFailureMs;
    }
    static constexpr std::int64_t UnhealthyAfterFailureMs = 5000;
    [[nodiscard]] std::int64_t unroutedCount() const { return unrouted_.load(); }
    [[nodiscard]] std::int64_t deadLetterCount() const { return deadCount_.load(); }

private:
    struct Request {
        std::vector<AcceptItem> items;
        std::string input;
        std::string client;
        std::optional<IdempotencyBinding> idem;
        std::vector<store::SeenSignature> signatures;
        AcceptCallback done;
        std::vector<store::AcceptOutcome> outcomes;
        std::optional<store::IdempotencyRecord> previous;
    };
    struct Update {
        enum class Kind { Delivered, Retry, Dead } kind;
        std::int64_t id;
        int attempts;
        std::int64_t nextAtMs;
        std::string error;
    };
    struct Processed {
        ProcessorCommit commit;
        CommitCallback done;
    };
    struct Pending {
        store::StoredEvent stored;
        std::shared_ptr<const event::Event> event; // null when loaded back from disk
    };

    void run();
    void loadBacklog();
    /// Applies one processor commit inside the transaction; may throw a StoreError.
    CommitOutcome applyProcessed(const ProcessorCommit& c, std::int64_t now,
                                 std::vector<Pending>& accepted);
    // A processor callback of a committed (or failed) transaction, for the completion thread.
    struct Completion {
        Processed processed;
        CommitOutcome outcome;
        std::string why;
    };
    /// Settles the refusals on the writer; returns the callbacks for the completion thread.
    std::vector<Completion> settleProcessed(std::vector<Processed> processed,
                                            const std::vector<CommitOutcome>& outcomes, bool ok,
                                            const std::string& error);
    void handOff(std::vector<Completion> done);
    void runCompletions();

    // What a transaction does once it is durable: answer its requests, hand its rows to the
    // dispatcher, its processor callbacks to the completion thread, answer sync() calls.
    // Kept in commit order; each waits until every durable transaction before it (and itself,
    // when durable) has been synced.
    struct AfterCommit {
        std::uint64_t needSynced = 0; // syncedUpTo_ must reach this
        bool ok = true;
        std::string error;
        std::vector<std::unique_ptr<Request>> requests;
        std::vector<Completion> completions;
        std::vector<store::OutboxRow> rows;
        std::vector<std::promise<void>> syncs;
    };
    void runReady();      // writer thread: the entries whose sync is done
    void awaitDeferred(); // writer thread, mu_ not held: all entries, waiting for the syncs
    void apply(AfterCommit& a, const std::string& syncError);
    static void answer(Request& req, AcceptResult result);
    void runSync(); // the sync thread
    /// Inside a transaction: the audit records of what it holds (refusals, actions).
    void writePendingAudit(std::int64_t now);
    void auditAccepted(std::int64_t seq, const std::string& input, const std::string& principal,
                       const std::string& auth, const event::Event* e, const std::string& id,
                       const std::string& source, const std::string& type, const std::string& body,
                       std::int64_t now);
    std::vector<store::OutboxRow> routeEvents(const std::vector<Pending>& events);

    store::Journal& journal_;
    std::shared_ptr<const routing::RouteTable> routes_;
    const util::Clock& clock_;
    int maxBatch_;
    RowsCallback onRows_;

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::unique_ptr<Request>> requests_;
    std::vector<Update> updates_;
    std::vector<Processed> processed_;
    std::vector<std::promise<void>> syncs_; // answered after the next transaction
    bool stopping_ = false;
    std::shared_ptr<const routing::RouteTable> nextRoutes_; // handed over by replaceRoutes
    std::condition_variable routesCv_;                      // nextRoutes_ taken
    bool exited_ = false; // the thread has left its loop: nothing queued now would be applied
    std::thread thread_;

    // The completion thread: processor callbacks of committed transactions, one batch per
    // transaction, run in order off the writer thread.
    std::mutex completionMu_;
    std::condition_variable completionCv_;
    std::vector<Completion> completions_;
    bool completionStopping_ = false;
    std::thread completionThread_;

    // Deferred durability (journal `synchronous: full` or `extra`): commits write the WAL
    // without fsync; the sync thread fsyncs it while the writer goes on with the next
    // transaction, and a transaction's effects are released only after a sync that began
    // after its commit.
    std::function<void()> walSync_;
    bool deferredSync_ = false;
    std::uint64_t commitTicket_ = 0;   // writer thread: durable commits so far
    std::deque<AfterCommit> deferred_; // writer thread
    std::atomic<std::uint64_t> syncedUpTo_{0};
    std::mutex syncMu_;
    std::condition_variable syncCv_;
    std::uint64_t syncWanted_ = 0;   // under syncMu_
    std::int64_t syncWantedSeq_ = 0; // under syncMu_: the highest seq committed by that ticket
    std::int64_t committedSeq_ = 0;  // writer thread: the highest seq committed so far
    bool syncStopping_ = false;      // under syncMu_
    std::string syncError_;          // under syncMu_: the first failed sync, for good
    std::atomic<bool> syncFailed_{false};
    std::thread syncThread_;

    // The audit trail. Pending records are under mu_; the log itself is the writer thread's.
    std::unique_ptr<audit::AuditLog> audit_;
    std::int64_t auditRetentionMs_ = 180LL * 24 * 3600 * 1000;
    struct RefusalKey {
        std::string input, principal, remote, reason;
        int status = 0;
        auto operator<=>(const RefusalKey&) const = default;
    };
    std::map<RefusalKey, std::int64_t> pendingRefusals_; // -> count
    std::vector<nlohmann::json> pendingActions_;
    bool auditClosed_ = false; // writer thread: the final checkpoint is written

    // writer-thread state
    std::deque<Pending> unroutedEvents_; // committed, not yet routed, in seq order
    bool backlog_ = false;               // more unrouted events on disk than in memory
    std::int64_t loadedSeq_ = 0;         // highest seq loaded from disk for routing
    // Per processor instance: commits of this generation or older are refused (see
    // ProcessorCommit::generation).
    std::map<std::string, std::uint64_t> refusedUpTo_;
    std::unique_ptr<store::PluginState> state_;
    std::int64_t lastReplayPollMs_ = 0;
    std::int64_t lastInboxPollMs_ = 0;
    std::int64_t lastPruneMs_ = 0;
    std::atomic<std::int64_t> lastFailureMs_{0};
    std::uint64_t failedCommits_ = 0;   // writer thread: commits failed in a row
    std::uint64_t refusedRequests_ = 0; // and the requests they answered 503
    std::atomic<std::int64_t> unrouted_{0};
    std::atomic<std::int64_t> deadCount_{0};

    observability::Histogram& batchEvents_;
    observability::Histogram& commitSeconds_;
    observability::Counter& commitFailures_;
    observability::Counter& routedRows_;
    observability::Counter& unroutable_;
    observability::Counter& unmatched_;

public:
    /// Retention for de-duplication and idempotency keys (set before start()).
    std::int64_t eventRetentionMs = 168LL * 3600 * 1000;
    std::int64_t idempotencyRetentionMs = 24LL * 3600 * 1000;
    /// Called after every successful commit with the WAL size in pages (the Checkpointer).
    std::function<void(int walPages)> afterCommit;
};

} // namespace ow::pipeline
