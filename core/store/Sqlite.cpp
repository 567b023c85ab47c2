#include "core/store/Sqlite.h"

#include <sqlite3.h>

#include <mutex>

#include "core/store/DamageMonitor.h"
#include "core/store/StorageAdvice.h"

namespace ow::store {

namespace {

// Process-wide settings, before the first connection. SQLite's memory statistics take a
// global mutex on every allocation, shared by all connections and threads; the hub never
// reads them (sqlite3_memory_used), so they only cost: 3-6 % of the writer's samples.
void configureOnce() {
    static std::once_flag once;
    std::call_once(once, [] {
        // SQLITE_MISUSE if something initialized SQLite first: then it simply stays on.
        (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        (void)sqlite3_initialize();
    });
}

} // namespace

Database::Database(const std::string& path, bool readOnly) : path_(path) {
    configureOnce();
    int flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    flags |= SQLITE_OPEN_NOMUTEX; // each Database is used by one thread at a time
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw StoreError(rc, "cannot open " + path + ": " + msg);
    }
    sqlite3_extended_result_codes(db_, 1);
    // Other processes (the dlq CLI) may hold the write lock briefly.
    sqlite3_busy_timeout(db_, 5000);
}

Database::~Database() {
    sqlite3_close_v2(db_);
}

void Database::exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        raise(sqlite3_extended_errcode(db_), msg + " (in: " + sql.substr(0, 60) + ")");
    }
}

std::int64_t Database::lastInsertId() const {
    return sqlite3_last_insert_rowid(db_);
}
int Database::changes() const {
    return sqlite3_changes(db_);
}

void Database::fail(int rc, std::string_view context) const {
    (void)rc;
    raise(sqlite3_extended_errcode(db_), std::string(context) + ": " + sqlite3_errmsg(db_));
}

void Database::raise(int code, const std::string& what) const {
    if (damage_ && isDamage(code)) damage_->report(path_, what);
    throw StoreError(code, path_ + ": " + what);
}

Statement::Statement(Database& db, const std::string& sql) : db_(db) {
    int rc = sqlite3_prepare_v3(db.handle(), sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) db.fail(rc, "prepare " + sql.substr(0, 60));
}

Statement::~Statement() {
    sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int idx, std::int64_t v) {
    int rc = sqlite3_bind_int64(stmt_, idx, v);
    if (rc != SQLITE_OK) db_.fail(rc, "bind");
    return *this;
}

Statement& Statement::bind(int idx, std::string_view v) {
    int rc = sqlite3_bind_text(stmt_, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) db_.fail(rc, "bind");
    return *this;
}

Statement& Statement::bindNull(int idx) {
    int rc = sqlite3_bind_null(stmt_, idx);
    if (rc != SQLITE_OK) db_.fail(rc, "bind");
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite3_reset(stmt_);
    // The statement's text says which of the journal's operations failed (COMMIT on a full
    // disk, an INSERT on a corrupt page, ...).
    const char* sql = sqlite3_sql(stmt_);
    db_.fail(rc, "step (in: " + std::string(sql ? sql : "?").substr(0, 60) + ")");
}

void Statement::run() {
    while (step()) {
    }
    reset();
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::int64(int col) const {
    return sqlite3_column_int64(stmt_, col);
}

std::string Statement::text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
}

bool Statement::isNull(int col) const {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

} // namespace ow::store
