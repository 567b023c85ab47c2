#include "core/audit/AuditLog.h"

namespace ow::audit {
namespace {

const char* const Schema = R"sql(
CREATE TABLE IF NOT EXISTS audit(
  seq INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  record TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_checkpoints(
  seq INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  hash TEXT NOT NULL,
  hash_algorithm TEXT NOT NULL,
  signature_algorithm TEXT NOT NULL,
  key_id TEXT NOT NULL,
  signature TEXT NOT NULL);
)sql";

const std::string ZeroHash(32, '\0');

} // namespace

std::string checkpointMessage(const Checkpoint& c) {
    return "onewindow audit checkpoint\nseq=" + std::to_string(c.seq) + "\nhash=" + c.hash +
           "\nhash_algorithm=" + c.hashAlgorithm + "\nat_ms=" + std::to_string(c.atMs) + "\n";
}

struct AuditLog::Statements {
    explicit Statements(store::Database& db)
        : head(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"),
          insert(db, "INSERT INTO audit(seq, at_ms, record, hash) VALUES(?1, ?2, ?3, ?4)"),
          lastCheckpoint(db, "SELECT seq, at_ms FROM audit_checkpoints ORDER BY seq DESC LIMIT 1"),
          checkpoint(db, "INSERT OR IGNORE INTO audit_checkpoints(seq, at_ms, hash, "
                         "hash_algorithm, signature_algorithm, key_id, signature) "
                         "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
          anchor(db, "SELECT max(seq) FROM audit_checkpoints WHERE at_ms < ?1"),
          oldest(db, "SELECT min(seq) FROM audit"),
          deleteRecords(db, "DELETE FROM audit WHERE seq <= ?1"),
          deleteCheckpoints(db, "DELETE FROM audit_checkpoints WHERE seq < ?1") {}
    store::Statement head, insert, lastCheckpoint, checkpoint, anchor, oldest, deleteRecords,
        deleteCheckpoints;
};

void AuditLog::createTables(store::Database& db) {
    db.exec(Schema);
}

AuditLog::AuditLog(store::Database& db, Settings settings)
    : db_(db), s_(std::move(settings)), st_(std::make_unique<Statements>(db)) {}

AuditLog::~AuditLog() = default;

void AuditLog::readHead() {
    auto& h = st_->head;
    if (h.step()) {
        headSeq_ = h.int64(0);
        auto raw = fromHex(h.text(1));
        headHash_ = raw ? *raw : std::string();
    } else {
        headSeq_ = 0;
        headHash_ = ZeroHash;
    }
    h.reset();
    auto& c = st_->lastCheckpoint;
    if (c.step()) {
        lastCheckpointSeq_ = c.int64(0);
        if (lastCheckpointMs_ == 0) lastCheckpointMs_ = c.int64(1);
    } else {
        lastCheckpointSeq_ = 0;
    }
    c.reset();
    headKnown_ = true;
}

void AuditLog::append(const char* kind, std::int64_t atMs, nlohmann::json fields) {
    if (!headKnown_) readHead();
    fields["kind"] = kind;
    fields["seq"] = headSeq_ + 1;
    fields["at_ms"] = atMs;
    std::string text = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string hash = digest(s_.hash, headHash_ + text);
    st_->insert.bind(1, headSeq_ + 1).bind(2, atMs).bind(3, text).bind(4, toHex(hash)).run();
    ++headSeq_;
    headHash_ = std::move(hash);
}

void AuditLog::checkpointIfDue(std::int64_t nowMs, bool force) {
    if (!headKnown_) readHead();
    if (headSeq_ == 0 || headSeq_ == lastCheckpointSeq_) return;
    if (lastCheckpointMs_ == 0) lastCheckpointMs_ = nowMs; // the first interval starts now
    const bool due = force || headSeq_ - lastCheckpointSeq_ >= s_.checkpointEvery ||
                     nowMs - lastCheckpointMs_ >= s_.checkpointIntervalMs;
    if (!due) return;
    Checkpoint c;
    c.seq = headSeq_;
    c.atMs = nowMs;
    c.hash = toHex(headHash_);
    c.hashAlgorithm = toString(s_.hash);
    c.signatureAlgorithm = s_.key ? s_.key->algorithm() : "none";
    c.keyId = s_.key ? s_.key->keyId() : "";
    c.signature = s_.key ? toHex(s_.key->sign(checkpointMessage(c))) : "";
    st_->checkpoint.bind(1, c.seq)
        .bind(2, c.atMs)
        .bind(3, c.hash)
        .bind(4, c.hashAlgorithm)
        .bind(5, c.signatureAlgorithm)
        .bind(6, c.keyId)
        .bind(7, c.signature)
        .run();
    lastCheckpointSeq_ = c.seq;
    lastCheckpointMs_ = nowMs;
}

int AuditLog::prune(std::int64_t beforeMs, int limit) {
    auto& a = st_->anchor;
    a.bind(1, beforeMs);
    std::int64_t anchor = 0;
    if (a.step() && !a.isNull(0)) anchor = a.int64(0);
    a.reset();
    if (anchor == 0) return 0;
    auto& o = st_->oldest;
    std::int64_t oldest = 0;
    if (o.step() && !o.isNull(0)) oldest = o.int64(0);
    o.reset();
    if (oldest == 0 || oldest > anchor) return 0;
    const std::int64_t upTo = std::min(anchor, oldest + limit - 1);
    st_->deleteRecords.bind(1, upTo).run();
    const int removed = db_.changes();
    // Older checkpoints anchor nothing once the records up to the anchor are gone.
    if (upTo == anchor) st_->deleteCheckpoints.bind(1, anchor).run();
    return removed;
}

std::vector<Checkpoint> AuditLog::checkpoints(store::Database& db) {
    std::vector<Checkpoint> out;
    store::Statement s(db, "SELECT seq, at_ms, hash, hash_algorithm, signature_algorithm, key_id, "
                           "signature FROM audit_checkpoints ORDER BY seq");
    while (s.step())
        out.push_back(
            {s.int64(0), s.int64(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6)});
    return out;
}

std::vector<Record> AuditLog::records(store::Database& db, std::int64_t after, int limit) {
    std::vector<Record> out;
    store::Statement s(db, "SELECT seq, at_ms, record, hash FROM audit WHERE seq > ?1 ORDER BY "
                           "seq LIMIT ?2");
    s.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
    while (s.step())
        out.push_back({s.int64(0), s.int64(1), s.text(2), s.text(3)});
    return out;
}

} // namespace ow::audit
