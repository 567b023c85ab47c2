#include "core/store/Journal.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <sqlite3.h>

#include "core/observability/Log.h"
#include "core/store/PluginState.h"
#include "core/store/StorageAdvice.h"

namespace ow::store {

using observability::Log;

namespace {

// 2: events.seq and outbox.id are AUTOINCREMENT. Plain INTEGER PRIMARY KEY reuses the largest
// id once that row is deleted (delivered outbox rows are; pruned events are), and both the
// routing cursor and the dispatcher's "read the backlog after id N" rely on ids only growing.
constexpr int SchemaVersion = 2;

const char* const Schema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  source TEXT NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  input TEXT NOT NULL,
  client TEXT NOT NULL,
  accepted_at INTEGER NOT NULL,
  body TEXT NOT NULL,
  auth TEXT NOT NULL DEFAULT '',
  UNIQUE(source, id));
CREATE TABLE IF NOT EXISTS outbox(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_seq INTEGER NOT NULL REFERENCES events(seq),
  output TEXT NOT NULL,
  route TEXT NOT NULL,
  okey TEXT NOT NULL,
  state INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  dead_at INTEGER,
  UNIQUE(event_seq, output));
CREATE INDEX IF NOT EXISTS outbox_state ON outbox(state, id);
CREATE TABLE IF NOT EXISTS idempotency(
  client TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  status INTEGER NOT NULL,
  response TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY(client, key));
CREATE INDEX IF NOT EXISTS events_accepted ON events(accepted_at);
CREATE TABLE IF NOT EXISTS signed_seen(
  input TEXT NOT NULL,
  key TEXT NOT NULL,
  forget_after INTEGER NOT NULL,
  PRIMARY KEY(input, key));
CREATE TABLE IF NOT EXISTS inbox(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  source TEXT NOT NULL,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  input TEXT NOT NULL,
  body TEXT NOT NULL,
  submitted_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created_at);
)sql";

const char* const OutboxColumns = "o.id, o.event_seq, o.output, o.route, o.okey, o.attempts, "
                                  "o.next_at, o.last_error, e.body, e.input, e.client, e.auth";

} // namespace

struct Journal::Statements {
    explicit Statements(Database& db)
        : findEvent(db, "SELECT seq, accepted_at FROM events WHERE source=?1 AND id=?2"),
          insertEvent(db, "INSERT INTO events(source,id,type,input,client,accepted_at,body,auth) "
                          "VALUES(?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(source, id) DO NOTHING"),
          eventsAfter(db, "SELECT seq, source, id, type, accepted_at, body, input, client, auth "
                          "FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
          getMeta(db, "SELECT value FROM meta WHERE key=?1"),
          setMeta(db, "INSERT INTO meta(key,value) VALUES(?1,?2) "
                      "ON CONFLICT(key) DO UPDATE SET value=excluded.value"),
          insertOutbox(db, "INSERT INTO outbox(event_seq,output,route,okey,state,attempts,next_at,"
                           "last_error,created_at,dead_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) "
                           "ON CONFLICT(event_seq, output) DO NOTHING"),
          deleteOutbox(db, "DELETE FROM outbox WHERE id=?1"),
          updateRetry(db, "UPDATE outbox SET attempts=?2, next_at=?3, last_error=?4 WHERE id=?1"),
          markDead(db,
                   "UPDATE outbox SET state=1, attempts=?2, last_error=?3, dead_at=?4 WHERE id=?1"),
          findIdem(db, "SELECT fingerprint, status, response, created_at FROM idempotency "
                       "WHERE client=?1 AND key=?2"),
          putIdem(db, "INSERT OR REPLACE INTO idempotency(client,key,fingerprint,status,response,"
                      "created_at) VALUES(?1,?2,?3,?4,?5,?6)"),
          // Prepared once: compiling BEGIN and COMMIT again for every transaction (what
          // sqlite3_exec does) was a tenth of the writer's time at 10,000 events/s.
          begin(db, "BEGIN IMMEDIATE"), commit(db, "COMMIT"), rollback(db, "ROLLBACK") {}
    Statement findEvent, insertEvent, eventsAfter, getMeta, setMeta, insertOutbox, deleteOutbox,
        updateRetry, markDead, findIdem, putIdem, begin, commit, rollback;
};

std::string Journal::fileName(const std::string& dataDir) {
    return (std::filesystem::path(dataDir) / "journal.db").string();
}

Journal::Found Journal::look(const std::string& dataDir, const JournalChecks& checks) {
    const std::string db = fileName(dataDir);
    try {
        std::filesystem::create_directories(dataDir);
    } catch (const std::filesystem::filesystem_error& e) {
        throw StoreError(SQLITE_CANTOPEN, "cannot create the data folder " + dataDir + ": " +
                                              e.code().message() + ". " +
                                              storageAdvice(SQLITE_CANTOPEN, db));
    }
    Found f;
    f.db = std::filesystem::exists(db);
    f.wal = std::filesystem::exists(db + "-wal");
    if (!checks.keepAckedSeq) return f;
    const std::string record = AckedSeqRecord::fileName(dataDir);
    try {
        // Through the default VFS: the one the journal's connection will use.
        f.acked = AckedSeqRecord::read(sqlite3_vfs_find(nullptr), record);
    } catch (const StoreError& e) {
        if (!isDamage(e.code()))
            throw StoreError(e.code(),
                             std::string(e.what()) + ". " + storageAdvice(e.code(), record));
        if (!checks.acceptLoss)
            throw StoreError(e.code(), std::string(e.what()) +
                                           ". Restore it with the rest of the data folder from a "
                                           "backup, or start with --accept-journal-loss to "
                                           "rewrite it from the journal");
        Log::error("journal",
                   "the record of acknowledged events is damaged; rewriting it from "
                   "the journal (--accept-journal-loss)",
                   {{"file", record}, {"error", e.what()}});
    }
    // Refused before SQLite creates an empty journal.db in its place: the operator may still
    // bring the file back.
    if (!f.db && f.acked.value_or(0) > 0 && !checks.acceptLoss)
        throw StoreError(SQLITE_CORRUPT, lossRefusal(db, record, 0, *f.acked, f));
    return f;
}

std::string Journal::lossRefusal(const std::string& db, const std::string& record,
                                 std::int64_t high, std::int64_t acked, const Found& f) {
    return "cannot open the journal: " + lossDescription(db, record, high, acked, f) +
           ". Restore the data folder from a backup (journal.db with its -wal file), or start "
           "with --accept-journal-loss to go on without them; sequence numbers then continue "
           "after " +
           std::to_string(acked);
}

std::string Journal::lossDescription(const std::string& db, const std::string& record,
                                     std::int64_t high, std::int64_t acked, const Found& f) {
    const std::string cause = !f.db ? db + " was deleted or moved"
                              : !f.wal
                                  ? "the WAL " + db + "-wal was deleted before it was checkpointed"
                                  : "the WAL " + db + "-wal is damaged or was truncated, or " + db +
                                        " was replaced by an older copy";
    return db + " holds events up to sequence number " + std::to_string(high) +
           ", but events up to " + std::to_string(acked) + " were acknowledged (" + record +
           "): up to " + std::to_string(acked - high) + " acknowledged events are missing (" +
           cause + ")";
}

Database Journal::openDatabase(const std::string& path) {
    try {
        return Database(path);
    } catch (const StoreError& e) {
        throw StoreError(e.code(), std::string(e.what()) + ". " + storageAdvice(e.code(), path));
    }
}

Journal::Journal(const std::string& dataDir, const std::string& synchronous, JournalChecks checks)
    : path_(fileName(dataDir)), found_(look(dataDir, checks)), db_(openDatabase(path_)) {
    std::string sync = synchronous == "normal"  ? "NORMAL"
                       : synchronous == "extra" ? "EXTRA"
                                                : "FULL";
    const std::string record = AckedSeqRecord::fileName(dataDir);
    std::int64_t high = 0;
    try {
        // Until the checks below pass, closing this connection must leave the files as they
        // are (as the last connection, SQLite would copy the WAL into journal.db and delete
        // it): a refused journal is the operator's to back up, restore or recover.
        sqlite3_db_config(db_.handle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
        db_.exec("PRAGMA journal_mode=WAL");
        // FULL: the WAL is fsynced at every commit, so an answered 202 survives power loss;
        // NORMAL only survives process crashes (see README, "Durability").
        db_.exec("PRAGMA synchronous=" + sync);
        durableSync_ = sync;
        db_.exec("PRAGMA foreign_keys=OFF");
        // Checkpoints run on the Checkpointer's own connection, off the commit path.
        db_.exec("PRAGMA wal_autocheckpoint=0");
        if (checks.verify) verify();
        if (checks.keepAckedSeq) high = highestSeq();
    } catch (const StoreError& e) {
        leaveAsFound();
        throw openFailure(e);
    }
    if (checks.keepAckedSeq && high < found_.acked.value_or(0) && !checks.acceptLoss) {
        leaveAsFound();
        throw StoreError(SQLITE_CORRUPT, lossRefusal(path_, record, high, *found_.acked, found_));
    }
    sqlite3_db_config(db_.handle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, nullptr);
    try {
        db_.exec(Schema);
        db_.exec(PluginStateSchema); // additive: older journals simply gain the tables
        db_.exec("INSERT OR IGNORE INTO meta(key,value) VALUES('schema_version'," +
                 std::to_string(SchemaVersion) + ")");
        db_.exec("INSERT OR IGNORE INTO meta(key,value) VALUES('routed_seq',0)");
        migrate();
    } catch (const StoreError& e) {
        throw openFailure(e);
    }
    st_ = std::make_unique<Statements>(db_);
    vfs_ = VfsFile::vfsOf(db_.handle());
    if (checks.keepAckedSeq) keepAcked(record, high);
    // The WAL hook is the cheap way to learn the WAL size after each commit.
    sqlite3_wal_hook(
        db_.handle(),
        [](void* self, sqlite3*, const char*, int pages) {
            static_cast<Journal*>(self)->walPages_ = pages;
            return SQLITE_OK;
        },
        this);
}

StoreError Journal::openFailure(const StoreError& e) const {
    // The SQLite error names the file; the operator also needs to know what to do.
    const std::string advice = storageAdvice(e.code(), path_);
    return StoreError(e.code(), "cannot open the journal: " + std::string(e.what()) +
                                    (advice.empty() ? "" : ". " + advice));
}

void Journal::leaveAsFound() {
    // Opening made an empty WAL where there was none (a deleted one, say): gone again, the
    // folder is as the operator will describe it to whoever restores it.
    std::error_code ec;
    const std::string wal = path_ + "-wal";
    if (!found_.wal && std::filesystem::file_size(wal, ec) == 0 && !ec)
        std::filesystem::remove(wal, ec);
}

void Journal::verify() {
    // Reads every page once (a few seconds per GB: README, Durability). A damaged page found
    // now stops the start with the file named, instead of a hub that takes events it can
    // never deliver.
    std::string problems;
    try {
        Statement s(db_, "PRAGMA quick_check(10)");
        while (s.step()) {
            const std::string line = s.text(0);
            if (line == "ok") return;
            problems += (problems.empty() ? "" : "; ") + line;
        }
    } catch (const StoreError& e) {
        if (!isDamage(e.code())) throw;
        problems = sqlite3_errstr(e.code()); // so damaged that the check itself stopped
    }
    throw StoreError(SQLITE_CORRUPT, path_ + " failed its check (PRAGMA quick_check): " + problems);
}

std::int64_t Journal::highestSeq() {
    // AUTOINCREMENT remembers the largest seq ever handed out, even once that event is pruned.
    // At the checks before the schema is made, either table may not exist yet.
    bool events = false, sequence = false;
    Statement tables(db_, "SELECT name FROM sqlite_master WHERE type='table' AND "
                          "name IN ('events', 'sqlite_sequence')");
    while (tables.step())
        (tables.text(0) == "events" ? events : sequence) = true;
    std::int64_t high = 0;
    if (sequence) {
        Statement s(db_, "SELECT seq FROM sqlite_sequence WHERE name='events'");
        if (s.step()) high = s.int64(0);
    }
    if (events) {
        Statement s(db_, "SELECT coalesce(max(seq), 0) FROM events");
        if (s.step()) high = std::max(high, s.int64(0));
    }
    return high;
}

void Journal::keepAcked(const std::string& record, std::int64_t high) {
    const std::int64_t acked = found_.acked.value_or(0);
    if (high < acked) {
        // Only with acceptLoss: the constructor refused it otherwise.
        Log::error("journal", "starting without acknowledged events (--accept-journal-loss)",
                   {{"file", path_},
                    {"highest_seq", high},
                    {"acknowledged_seq", acked},
                    {"loss", lossDescription(path_, record, high, acked, found_)}});
        // Never hand out an acknowledged number again: the next event gets acked + 1.
        begin();
        Statement up(db_, "INSERT OR REPLACE INTO sqlite_sequence(rowid, name, seq) VALUES("
                          "(SELECT rowid FROM sqlite_sequence WHERE name='events'), 'events', ?1)");
        up.bind(1, acked);
        up.run();
        commit();
    }
    acked_ = std::make_unique<AckedSeqRecord>(vfs_, record, std::max(high, acked));
}

void Journal::migrate() {
    std::int64_t version = 0;
    {
        Statement s(db_, "SELECT value FROM meta WHERE key='schema_version'");
        if (s.step()) version = s.int64(0);
    }
    if (version > SchemaVersion)
        throw StoreError(0, "the journal was written by a newer OneWindow (schema " +
                                std::to_string(version) + ", this one knows " +
                                std::to_string(SchemaVersion) + "); run that version");
    // How each event's principal was authenticated (`auth`) came after schema 2: older
    // journals gain the column, and their events read "" (not known).
    bool hasAuth = false;
    {
        Statement s(db_, "SELECT 1 FROM pragma_table_info('events') WHERE name='auth'");
        hasAuth = s.step();
    }
    if (!hasAuth && version >= 2)
        db_.exec("ALTER TABLE events ADD COLUMN auth TEXT NOT NULL DEFAULT ''");
    if (version >= 2) return;
    // 1 -> 2: rebuild events and outbox with AUTOINCREMENT, in one transaction, and start
    // their sequences after every id ever handed out that is still remembered (the routing
    // cursor may be past every remaining event).
    db_.exec("BEGIN IMMEDIATE");
    try {
        db_.exec(R"sql(
ALTER TABLE outbox RENAME TO outbox_v1;
ALTER TABLE events RENAME TO events_v1;
DROP INDEX IF EXISTS outbox_state;
DROP INDEX IF EXISTS events_accepted;
)sql");
        db_.exec(Schema);
        db_.exec(R"sql(
INSERT INTO events(seq, source, id, type, input, client, accepted_at, body)
  SELECT seq, source, id, type, input, client, accepted_at, body FROM events_v1;
INSERT INTO outbox SELECT id, event_seq, output, route, okey, state, attempts, next_at,
  last_error, created_at, dead_at FROM outbox_v1;
DROP TABLE outbox_v1;
DROP TABLE events_v1;
DELETE FROM sqlite_sequence WHERE name IN ('events', 'outbox');
INSERT INTO sqlite_sequence(name, seq) VALUES
  ('events', max(coalesce((SELECT max(seq) FROM events), 0),
                 (SELECT value FROM meta WHERE key='routed_seq'))),
  ('outbox', coalesce((SELECT max(id) FROM outbox), 0));
UPDATE meta SET value=2 WHERE key='schema_version';
)sql");
        db_.exec("COMMIT");
    } catch (...) {
        db_.exec("ROLLBACK");
        throw;
    }
}

Journal::~Journal() = default;

bool Journal::deferSync() {
    if (durableSync_ == "NORMAL") return false;
    // NORMAL in WAL mode: a commit writes its frames without fsync; SQLite still syncs the
    // WAL before each checkpoint and its header when the file is reused.
    db_.exec("PRAGMA synchronous=NORMAL");
    relaxed_ = true;
    deferredSync_ = true;
    return true;
}

void Journal::syncWal() {
    // Created with SQLITE_OPEN_CREATE so that the unix VFS also syncs the folder at the first
    // sync (SQLite created the WAL, and syncs its folder only in FULL mode).
    if (!walFile_)
        walFile_ = std::make_unique<VfsFile>(
            vfs_, path_ + "-wal", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_WAL);
    walFile_->sync();
}

void Journal::recordAcked(std::int64_t seq) {
    if (!acked_ || ackedFailed_) return;
    try {
        acked_->store(seq);
    } catch (const StoreError& e) {
        // The events are durable; only the check at the next start is weaker for it.
        ackedFailed_ = true;
        Log::warn("journal",
                  "cannot update the record of acknowledged events; a lost WAL may go "
                  "unnoticed at the next start",
                  {{"error", e.what()}, {"what_to_do", storageAdvice(e.code(), path_)}});
    }
}

void Journal::syncAckedRecordIfDue() {
    if (!acked_ || ackedFailed_) return;
    try {
        acked_->syncIfDue();
    } catch (const StoreError& e) {
        ackedFailed_ = true;
        Log::warn("journal", "cannot sync the record of acknowledged events",
                  {{"error", e.what()}, {"what_to_do", storageAdvice(e.code(), path_)}});
    }
}

void Journal::begin() {
    st_->begin.run();
}

void Journal::setRelaxedCommit(bool relaxed) {
    if (deferredSync_ || relaxed == relaxed_) return;
    // Between transactions only. In WAL mode a NORMAL commit skips the fsync; the next FULL
    // commit fsyncs the WAL up to and including it.
    db_.exec(std::string("PRAGMA synchronous=") + (relaxed ? "NORMAL" : durableSync_));
    relaxed_ = relaxed;
}
void Journal::commit() {
    st_->commit.run();
}
void Journal::rollback() noexcept {
    try {
        st_->rollback.run();
    } catch (...) {
        // A failed COMMIT may already have rolled back; nothing more to undo.
    }
}

std::optional<AcceptOutcome> Journal::findEvent(const std::string& source, const std::string& id) {
    auto& s = st_->findEvent;
    s.bind(1, source).bind(2, id);
    std::optional<AcceptOutcome> out;
    if (s.step()) out = AcceptOutcome{AcceptOutcome::Status::Duplicate, s.int64(0), s.int64(1)};
    s.reset();
    return out;
}

std::int64_t Journal::insertEvent(const std::string& source, const std::string& id,
                                  const std::string& type, const std::string& input,
                                  const std::string& client, std::int64_t acceptedAtMs,
                                  const std::string& body, const std::string& auth) {
    auto& s = st_->insertEvent;
    s.bind(1, source)
        .bind(2, id)
        .bind(3, type)
        .bind(4, input)
        .bind(5, client)
        .bind(6, acceptedAtMs)
        .bind(7, body)
        .bind(8, auth);
    s.run();
    return db_.changes() > 0 ? db_.lastInsertId() : 0;
}

std::vector<StoredEvent> Journal::eventsAfter(std::int64_t after, int limit) {
    auto& s = st_->eventsAfter;
    s.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
    std::vector<StoredEvent> out;
    while (s.step()) {
        StoredEvent e;
        e.seq = s.int64(0);
        e.source = s.text(1);
        e.id = s.text(2);
        e.type = s.text(3);
        e.acceptedAtMs = s.int64(4);
        e.body = std::make_shared<const std::string>(s.text(5));
        e.from = {s.text(6), s.text(7), s.text(8)};
        out.push_back(std::move(e));
    }
    s.reset();
    return out;
}

std::int64_t Journal::routedCursor() {
    auto& s = st_->getMeta;
    s.bind(1, std::string_view("routed_seq"));
    std::int64_t v = s.step() ? s.int64(0) : 0;
    s.reset();
    return v;
}

void Journal::setRoutedCursor(std::int64_t seq) {
    st_->setMeta.bind(1, std::string_view("routed_seq")).bind(2, seq);
    st_->setMeta.run();
}

std::int64_t Journal::lastSeq() {
    Statement s(db_, "SELECT COALESCE(MAX(seq),0) FROM events");
    return s.step() ? s.int64(0) : 0;
}

std::int64_t Journal::insertOutbox(const OutboxRow& row, int state, std::int64_t nowMs) {
    auto& s = st_->insertOutbox;
    s.bind(1, row.eventSeq).bind(2, row.output).bind(3, row.route).bind(4, row.orderingKey);
    s.bind(5, static_cast<std::int64_t>(state)).bind(6, static_cast<std::int64_t>(row.attempts));
    s.bind(7, row.nextAtMs).bind(8, row.lastError).bind(9, nowMs);
    if (state == 1)
        s.bind(10, nowMs);
    else
        s.bindNull(10);
    s.run();
    // 0 when the row already existed (routing replayed after a crash): the caller skips it.
    return db_.changes() > 0 ? db_.lastInsertId() : 0;
}

bool Journal::deleteOutbox(std::int64_t id) {
    st_->deleteOutbox.bind(1, id);
    st_->deleteOutbox.run();
    return db_.changes() > 0;
}

void Journal::updateRetry(std::int64_t id, int attempts, std::int64_t nextAtMs,
                          const std::string& error) {
    st_->updateRetry.bind(1, id)
        .bind(2, static_cast<std::int64_t>(attempts))
        .bind(3, nextAtMs)
        .bind(4, error);
    st_->updateRetry.run();
}

void Journal::markDead(std::int64_t id, int attempts, const std::string& error,
                       std::int64_t nowMs) {
    st_->markDead.bind(1, id)
        .bind(2, static_cast<std::int64_t>(attempts))
        .bind(3, error)
        .bind(4, nowMs);
    st_->markDead.run();
}

OutboxRow Journal::readOutbox(Statement& s) {
    OutboxRow r;
    r.id = s.int64(0);
    r.eventSeq = s.int64(1);
    r.output = s.text(2);
    r.route = s.text(3);
    r.orderingKey = s.text(4);
    r.attempts = static_cast<int>(s.int64(5));
    r.nextAtMs = s.int64(6);
    r.lastError = s.text(7);
    r.body = std::make_shared<const std::string>(s.text(8));
    r.from = {s.text(9), s.text(10), s.text(11)};
    return r;
}

DeadLetter Journal::readDeadLetter(Statement& s) {
    DeadLetter d;
    d.row = readOutbox(s);
    d.eventSource = s.text(12);
    d.eventId = s.text(13);
    d.eventType = s.text(14);
    d.deadAtMs = s.int64(15);
    return d;
}

std::vector<OutboxRow> Journal::pendingOutbox() {
    Statement s(
        db_, std::string("SELECT ") + OutboxColumns +
                 " FROM outbox o JOIN events e ON e.seq=o.event_seq WHERE o.state=0 ORDER BY o.id");
    std::vector<OutboxRow> out;
    while (s.step())
        out.push_back(readOutbox(s));
    return out;
}

std::vector<OutboxRow> Journal::pendingOutboxFor(const std::string& output, std::int64_t afterId,
                                                 int limit) {
    Statement s(db_, std::string("SELECT ") + OutboxColumns +
                         " FROM outbox o JOIN events e ON e.seq=o.event_seq WHERE o.state=0 AND "
                         "o.output=?1 AND o.id>?2 ORDER BY o.id LIMIT ?3");
    s.bind(1, output).bind(2, afterId).bind(3, static_cast<std::int64_t>(limit));
    std::vector<OutboxRow> out;
    while (s.step())
        out.push_back(readOutbox(s));
    return out;
}

std::int64_t Journal::countPending(const std::string& output) {
    Statement s(db_, "SELECT COUNT(*) FROM outbox WHERE state=0 AND output=?1");
    s.bind(1, output);
    return s.step() ? s.int64(0) : 0;
}

int Journal::deadLetterOrphans(const std::set<std::string>& outputs, std::int64_t nowMs) {
    std::vector<std::string> orphans;
    {
        Statement s(db_, "SELECT DISTINCT output FROM outbox WHERE state=0");
        while (s.step())
            if (!outputs.count(s.text(0))) orphans.push_back(s.text(0));
    }
    int n = 0;
    for (const auto& o : orphans) {
        Statement u(
            db_,
            "UPDATE outbox SET state=1, dead_at=?2, last_error=?3 WHERE state=0 AND output=?1");
        u.bind(1, o).bind(2, nowMs).bind(3, "output '" + o +
                                                "' is not defined in the current configuration");
        u.run();
        n += db_.changes();
    }
    return n;
}

std::vector<OutboxRow> Journal::takeReplayRequests(std::int64_t nowMs) {
    Statement s(
        db_, std::string("SELECT ") + OutboxColumns +
                 " FROM outbox o JOIN events e ON e.seq=o.event_seq WHERE o.state=2 ORDER BY o.id");
    std::vector<OutboxRow> out;
    while (s.step()) {
        out.push_back(readOutbox(s));
        out.back().attempts = 0;
        out.back().nextAtMs = nowMs;
        out.back().replayed = true;
    }
    if (!out.empty()) {
        Statement u(
            db_, "UPDATE outbox SET state=0, attempts=0, next_at=?1, dead_at=NULL WHERE state=2");
        u.bind(1, nowMs);
        u.run();
    }
    return out;
}

void Journal::submit(const std::vector<SubmittedEvent>& events, std::int64_t nowMs) {
    db_.exec("BEGIN IMMEDIATE");
    try {
        Statement s(db_, "INSERT INTO inbox(source,event_id,type,input,body,submitted_at) "
                         "VALUES(?1,?2,?3,?4,?5,?6)");
        for (const auto& e : events) {
            s.bind(1, e.source).bind(2, e.id).bind(3, e.type).bind(4, e.input);
            s.bind(5, e.body).bind(6, nowMs);
            s.run();
            s.reset();
        }
        db_.exec("COMMIT");
    } catch (...) {
        db_.exec("ROLLBACK");
        throw;
    }
}

std::vector<SubmittedEvent> Journal::takeSubmitted(int limit) {
    Statement s(db_,
                "SELECT id, source, event_id, type, input, body FROM inbox ORDER BY id LIMIT ?1");
    s.bind(1, static_cast<std::int64_t>(limit));
    std::vector<SubmittedEvent> out;
    std::int64_t last = 0;
    while (s.step()) {
        last = s.int64(0);
        out.push_back({s.text(1), s.text(2), s.text(3), s.text(4), s.text(5)});
    }
    if (!out.empty()) {
        Statement d(db_, "DELETE FROM inbox WHERE id<=?1");
        d.bind(1, last);
        d.run();
    }
    return out;
}

void Journal::rememberSigned(const std::string& input, const std::vector<SeenSignature>& seen) {
    Statement s(db_, "INSERT OR REPLACE INTO signed_seen(input,key,forget_after) VALUES(?1,?2,?3)");
    for (const auto& [key, forgetAfterS] : seen) {
        s.bind(1, input).bind(2, key).bind(3, forgetAfterS);
        s.run();
        s.reset();
    }
}

std::vector<SeenSignature> Journal::signedSeen(const std::string& input, std::int64_t nowS) {
    Statement s(db_,
                "SELECT key, forget_after FROM signed_seen WHERE input=?1 AND forget_after>=?2");
    s.bind(1, input).bind(2, nowS);
    std::vector<SeenSignature> out;
    while (s.step())
        out.emplace_back(s.text(0), s.int64(1));
    return out;
}

void Journal::pruneSigned(std::int64_t nowS) {
    Statement s(db_, "DELETE FROM signed_seen WHERE forget_after < ?1");
    s.bind(1, nowS);
    s.run();
}

bool Journal::hasSubmitted() {
    Statement s(db_, "SELECT EXISTS(SELECT 1 FROM inbox)");
    return s.step() && s.int64(0) != 0;
}

std::int64_t Journal::countOutbox(int state) {
    Statement s(db_, "SELECT COUNT(*) FROM outbox WHERE state=?1");
    s.bind(1, static_cast<std::int64_t>(state));
    return s.step() ? s.int64(0) : 0;
}

std::vector<DeadLetter> Journal::deadLetters(const std::string& output, int limit) {
    Statement s(
        db_,
        std::string("SELECT ") + OutboxColumns +
            ", e.source, e.id, e.type, o.dead_at FROM outbox o JOIN events e ON "
            "e.seq=o.event_seq WHERE o.state=1 AND (?1='' OR o.output=?1) ORDER BY o.id LIMIT ?2");
    s.bind(1, output).bind(2, static_cast<std::int64_t>(limit));
    std::vector<DeadLetter> out;
    while (s.step())
        out.push_back(readDeadLetter(s));
    return out;
}

std::optional<DeadLetter> Journal::deadLetter(std::int64_t id) {
    Statement s(db_, std::string("SELECT ") + OutboxColumns +
                         ", e.source, e.id, e.type, o.dead_at FROM outbox o JOIN events e ON "
                         "e.seq=o.event_seq WHERE o.state=1 AND o.id=?1");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return readDeadLetter(s);
}

int Journal::requestReplay(std::int64_t id, const std::string& output) {
    return markDeadLetters(id, output, 2);
}

int Journal::requestDiscard(std::int64_t id, const std::string& output) {
    return markDeadLetters(id, output, 3);
}

int Journal::markDeadLetters(std::int64_t id, const std::string& output, int request) {
    // Dead letters (state 1) become a request the writer carries out: 2 replay, 3 discard.
    Statement s(db_, "UPDATE outbox SET state=?3 WHERE state=1 AND (?1=0 OR id=?1) AND "
                     "(?2='' OR output=?2)");
    s.bind(1, id).bind(2, output).bind(3, request);
    s.run();
    return db_.changes();
}

int Journal::takeDiscardRequests() {
    Statement s(db_, "DELETE FROM outbox WHERE state=3");
    s.run();
    return db_.changes();
}

std::optional<IdempotencyRecord> Journal::findIdempotency(const std::string& client,
                                                          const std::string& key) {
    auto& s = st_->findIdem;
    s.bind(1, client).bind(2, key);
    std::optional<IdempotencyRecord> out;
    if (s.step())
        out = IdempotencyRecord{s.text(0), static_cast<int>(s.int64(1)), s.text(2), s.int64(3)};
    s.reset();
    return out;
}

void Journal::putIdempotency(const std::string& client, const std::string& key,
                             const IdempotencyRecord& r) {
    auto& s = st_->putIdem;
    s.bind(1, client)
        .bind(2, key)
        .bind(3, r.fingerprint)
        .bind(4, static_cast<std::int64_t>(r.status));
    s.bind(5, r.response).bind(6, r.createdAtMs);
    s.run();
}

int Journal::prune(std::int64_t eventsBeforeMs, std::int64_t keysBeforeMs, int limit) {
    // Only events already routed and without outbox rows may go: their de-duplication window
    // ends here (documented as journal.retention_hours). At most `limit` rows of each kind, so
    // the transaction that carries the pruning stays short.
    Statement e(db_,
                "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE accepted_at < ?1 "
                "AND seq <= (SELECT value FROM meta WHERE key='routed_seq') AND NOT EXISTS "
                "(SELECT 1 FROM outbox o WHERE o.event_seq = events.seq) LIMIT ?2)");
    e.bind(1, eventsBeforeMs).bind(2, static_cast<std::int64_t>(limit));
    e.run();
    int n = db_.changes();
    Statement k(db_, "DELETE FROM idempotency WHERE rowid IN (SELECT rowid FROM idempotency WHERE "
                     "created_at < ?1 LIMIT ?2)");
    k.bind(1, keysBeforeMs).bind(2, static_cast<std::int64_t>(limit));
    k.run();
    return std::max(n, db_.changes());
}

} // namespace ow::store
