// The audit trail: an append-only list of records in the journal file, each linked to the one
// before by a hash, with signed checkpoints. Records say who did what: every accepted event
// (in the transaction that journals it, so there is never one without the other), every
// refused request, every operator action. `onewindow audit verify` recomputes the chain.
//
//   audit(seq, at_ms, record, hash)   hash = H(previous hash || record), hex; seq 1, 2, 3, ...
//   audit_checkpoints(seq, at_ms, hash, hash_algorithm, signature_algorithm, key_id, signature)
//
// `record` is the JSON text exactly as hashed. The first record's previous hash is 32 zero
// bytes; after retention removed the oldest records, the newest removed checkpoint's hash
// anchors the first record that is left (the checkpoint is kept for that).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/audit/AuditCrypto.h"
#include "core/store/Sqlite.h"

namespace ow::audit {

struct Record {
    std::int64_t seq = 0;
    std::int64_t atMs = 0;
    std::string text; ///< the JSON as hashed
    std::string hash; ///< hex
};

struct Checkpoint {
    std::int64_t seq = 0;
    std::int64_t atMs = 0;
    std::string hash; ///< hex: the hash of record `seq`
    std::string hashAlgorithm;
    std::string signatureAlgorithm; ///< "ed25519", "sm2", or "none"
    std::string keyId;
    std::string signature; ///< hex
};

/// The text a checkpoint's signature covers.
std::string checkpointMessage(const Checkpoint& c);

class AuditLog {
public:
    struct Settings {
        HashAlgorithm hash = HashAlgorithm::Sha256;
        std::shared_ptr<const SigningKey> key; ///< null: checkpoints are not signed
        int checkpointEvery = 1000;            ///< records
        std::int64_t checkpointIntervalMs = 60000;
    };

    /// Creates the tables if needed (an older journal simply gains them).
    static void createTables(store::Database& db);

    AuditLog(store::Database& db, Settings settings);
    ~AuditLog();

    /// Call at the start of each transaction that may append: another process (a CLI command)
    /// may have appended since, so the head is read again at the next append.
    void beginTransaction() { headKnown_ = false; }
    /// Appends a record of `kind` ("accepted", "refused", "operator") with `fields`, inside
    /// the caller's transaction. Throws store::StoreError when it cannot be written.
    void append(const char* kind, std::int64_t atMs, nlohmann::json fields);
    /// The digest of an accepted event's stored body, hex, in the log's algorithm.
    [[nodiscard]] std::string bodyHash(std::string_view body) const {
        return toHex(digest(s_.hash, body));
    }
    /// Writes a checkpoint when `checkpointEvery` records or `checkpointIntervalMs` passed
    /// since the last one (or `force`, at stop), inside the caller's transaction.
    void checkpointIfDue(std::int64_t nowMs, bool force = false);
    /// Removes records older than `beforeMs` up to the newest checkpoint older than that
    /// (kept as the anchor), at most `limit` records; returns how many.
    int prune(std::int64_t beforeMs, int limit);

    // --- reading (audit verify, audit export)
    static std::vector<Checkpoint> checkpoints(store::Database& db);
    /// Records with seq > `after`, in seq order, at most `limit`.
    static std::vector<Record> records(store::Database& db, std::int64_t after, int limit);

private:
    void readHead();

    store::Database& db_;
    Settings s_;
    struct Statements;
    std::unique_ptr<Statements> st_;
    bool headKnown_ = false;
    std::int64_t headSeq_ = 0;
    std::string headHash_; // raw bytes
    std::int64_t lastCheckpointSeq_ = -1;
    std::int64_t lastCheckpointMs_ = 0;
};

} // namespace ow::audit
