// The durable store: events, the routing cursor, the outbox, dead letters and idempotency
// records, in one SQLite file in WAL mode. One Journal = one connection; it is not
// thread-safe. The hub's JournalWriter owns the writing one; the CLI opens its own.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/store/AckedSeqRecord.h"
#include "core/store/Records.h"
#include "core/store/Sqlite.h"
#include "core/store/VfsFile.h"

namespace ow::store {

/// A stored answer for an Idempotency-Key.
struct IdempotencyRecord {
    std::string fingerprint; ///< SHA-256 of method, path and body
    int status = 0;
    std::string response; ///< the body that was answered
    std::int64_t createdAtMs = 0;
};

/// What the hub's own connection checks and keeps when it opens the journal. Other
/// connections (the hub's second one, the CLI's) open without: one keeper per data dir.
struct JournalChecks {
    /// PRAGMA quick_check before anything is written: a damaged journal is refused.
    bool verify = false;
    /// Compare the journal with the record of acknowledged events (AckedSeqRecord): refuse it
    /// when acknowledged events are missing, and keep the record from then on.
    bool keepAckedSeq = false;
    /// With keepAckedSeq: start although acknowledged events are missing, logged as an error;
    /// sequence numbers then continue after the highest acknowledged one.
    bool acceptLoss = false;
};

class Journal {
public:
    /// Opens or creates `<dataDir>/journal.db`; `synchronous` is full|extra|normal. Throws
    /// StoreError naming the file and what to do when it cannot be opened, is damaged or (with
    /// checks.keepAckedSeq) lacks acknowledged events.
    Journal(const std::string& dataDir, const std::string& synchronous, JournalChecks checks = {});
    ~Journal();

    static std::string fileName(const std::string& dataDir);

    /// WAL size in pages after the last commit (for the Checkpointer).
    [[nodiscard]] int walPages() const { return walPages_; }

    /// For the next transactions: relaxed = without fsync at commit. Only for transactions
    /// whose loss in a power cut costs nothing but work done again (delivery results: the
    /// delivery is repeated, at least once as promised); never for accepted events.
    void setRelaxedCommit(bool relaxed);

    /// From now on commits do not fsync the WAL themselves: the caller makes them durable with
    /// syncWal() (the journal writer does, on a thread of its own, so that the next
    /// transaction is written while the disk flushes this one). Returns false, and changes
    /// nothing, when the configured mode is `normal` (no fsync is wanted at all).
    bool deferSync();
    /// Makes every transaction committed before the call durable: fdatasync of the WAL file
    /// (its folder is synced once, so that the file itself survives a power cut), through the
    /// connection's VFS like every other write of the journal. The WAL's own header is synced
    /// by SQLite when the file is reused after a checkpoint. Callable from another thread than
    /// the one that commits; throws StoreError when the disk fails.
    void syncWal();

    /// Events up to `seq` are durable and about to be acknowledged: the record of
    /// acknowledged events is raised to it (written, not synced). No-op without
    /// keepAckedSeq. Call from one thread at a time (the one that makes commits durable).
    void recordAcked(std::int64_t seq);
    /// Syncs that record at most once a second (after the answers, off their path).
    void syncAckedRecordIfDue();
    /// The highest sequence number the journal ever handed out (deleted events included).
    std::int64_t highestSeq();

    void begin();
    void commit();
    void rollback() noexcept;

    // --- events
    [[nodiscard]] std::optional<AcceptOutcome> findEvent(const std::string& source,
                                                         const std::string& id);
    /// The new event's seq, or 0 if an event with this source and id already exists.
    std::int64_t insertEvent(const std::string& source, const std::string& id,
                             const std::string& type, const std::string& input,
                             const std::string& client, std::int64_t acceptedAtMs,
                             const std::string& body, const std::string& auth = "");
    /// Committed events with seq > `after`, oldest first.
    std::vector<StoredEvent> eventsAfter(std::int64_t after, int limit);
    std::int64_t routedCursor();
    void setRoutedCursor(std::int64_t seq);
    std::int64_t lastSeq();

    // --- outbox (state 0 pending, 1 dead, 2 replay requested, 3 discard requested)
    std::int64_t insertOutbox(const OutboxRow& row, int state, std::int64_t nowMs);
    /// False when there was no such row (already delivered or handled).
    bool deleteOutbox(std::int64_t id);
    void updateRetry(std::int64_t id, int attempts, std::int64_t nextAtMs,
                     const std::string& error);
    void markDead(std::int64_t id, int attempts, const std::string& error, std::int64_t nowMs);
    /// Pending rows with their event bodies, oldest first (loaded at start-up).
    std::vector<OutboxRow> pendingOutbox();
    /// Pending rows of one output with id > afterId, oldest first (the dispatcher reads its
    /// backlog in windows, so a long outage does not have to fit in memory).
    std::vector<OutboxRow> pendingOutboxFor(const std::string& output, std::int64_t afterId,
                                            int limit);
    std::int64_t countPending(const std::string& output);
    /// Dead-letters pending rows of outputs no longer configured; returns how many.
    int deadLetterOrphans(const std::set<std::string>& outputs, std::int64_t nowMs);
    /// Moves rows whose replay was requested back to pending and returns them.
    std::vector<OutboxRow> takeReplayRequests(std::int64_t nowMs);
    std::int64_t countOutbox(int state);

    // --- signed requests seen (replay protection that survives a restart)
    void rememberSigned(const std::string& input, const std::vector<SeenSignature>& seen);
    /// Those of `input` still inside their window at `nowS`.
    std::vector<SeenSignature> signedSeen(const std::string& input, std::int64_t nowS);
    void pruneSigned(std::int64_t nowS);

    // --- events submitted by other processes (CLI commands)
    /// Adds events to the inbox in one transaction (safe while a hub runs: SQLite locks).
    void submit(const std::vector<SubmittedEvent>& events, std::int64_t nowMs);
    /// Takes up to `limit` inbox rows, oldest first, and removes them (inside the caller's
    /// transaction, so they are removed exactly when they are journaled).
    std::vector<SubmittedEvent> takeSubmitted(int limit);
    [[nodiscard]] bool hasSubmitted();

    // --- dead letters (for the CLI)
    std::vector<DeadLetter> deadLetters(const std::string& output, int limit);
    std::optional<DeadLetter> deadLetter(std::int64_t id);
    /// Marks dead rows for replay (id 0 = all dead rows, optionally of one output).
    int requestReplay(std::int64_t id, const std::string& output);
    /// Marks dead rows to be discarded (id 0 = all, optionally of one output): they leave the
    /// dead-letter queue now, and the writer deletes them (takeDiscardRequests).
    int requestDiscard(std::int64_t id, const std::string& output);
    /// Deletes the rows whose discard was requested; returns how many.
    int takeDiscardRequests();

    // --- idempotency keys
    std::optional<IdempotencyRecord> findIdempotency(const std::string& client,
                                                     const std::string& key);
    void putIdempotency(const std::string& client, const std::string& key,
                        const IdempotencyRecord& r);

    /// Deletes up to `limit` events older than `eventsBeforeMs` that no outbox row needs, and
    /// up to `limit` idempotency records older than `keysBeforeMs`. Returns the larger of the
    /// two counts: when it equals `limit`, more may be left.
    int prune(std::int64_t eventsBeforeMs, std::int64_t keysBeforeMs, int limit = 500);

    Database& database() { return db_; }

private:
    // What was on disk before the connection was opened (opening creates journal.db).
    struct Found {
        std::optional<std::int64_t> acked; ///< the record's number
        bool db = false, wal = false;
    };
    static Found look(const std::string& dataDir, const JournalChecks& checks);
    static std::string lossDescription(const std::string& db, const std::string& record,
                                       std::int64_t high, std::int64_t acked, const Found& f);
    static std::string lossRefusal(const std::string& db, const std::string& record,
                                   std::int64_t high, std::int64_t acked, const Found& f);
    static Database openDatabase(const std::string& path);
    [[nodiscard]] StoreError openFailure(const StoreError& e) const;
    /// Marks dead letters (one id, or all with id 0; of one output, or all) with `request`.
    int markDeadLetters(std::int64_t id, const std::string& output, int request);
    void leaveAsFound(); // before a refusal
    void verify();
    void keepAcked(const std::string& record, std::int64_t high);
    void migrate();
    OutboxRow readOutbox(Statement& s);
    DeadLetter
    readDeadLetter(Statement& s); // columns of readOutbox, then source, id, type, dead_at

    std::string path_;
    Found found_;
    Database db_;
    struct Statements;
    std::unique_ptr<Statements> st_;
    int walPages_ = 0;
    std::string durableSync_ = "FULL";
    bool relaxed_ = false;
    bool deferredSync_ = false;
    sqlite3_vfs* vfs_ = nullptr;
    std::unique_ptr<VfsFile> walFile_;      // opened by the first syncWal()
    std::unique_ptr<AckedSeqRecord> acked_; // with checks.keepAckedSeq
    bool ackedFailed_ = false;              // a write of the record failed (logged once)
};

} // namespace ow::store
