// Thin RAII over the SQLite C API. The C API is used directly (not Poco::Data) because the
// journal needs SQLite's exact result codes (SQLITE_FULL, SQLITE_IOERR_*) to answer 503 and
// prepared statements it can reuse on the hot path.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace ow::store {

/// A failed SQLite call. `code` is the extended result code.
class StoreError : public std::runtime_error {
public:
    StoreError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    [[nodiscard]] int code() const { return code_; }

private:
    int code_;
};

class Statement;
class DamageMonitor;

class Database {
public:
    /// Opens (creating if needed) the file; `readOnly` opens without write access.
    Database(const std::string& path, bool readOnly = false);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void exec(const std::string& sql);
    [[nodiscard]] sqlite3* handle() const { return db_; }
    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] std::int64_t lastInsertId() const;
    [[nodiscard]] int changes() const;
    [[noreturn]] void fail(int rc, std::string_view context) const;
    /// From now on a damaged page met by this connection is reported to `monitor`.
    void watchDamage(DamageMonitor* monitor) { damage_ = monitor; }

private:
    /// Throws the StoreError, naming the file; reports damage first.
    [[noreturn]] void raise(int code, const std::string& what) const;

    sqlite3* db_ = nullptr;
    std::string path_;
    DamageMonitor* damage_ = nullptr;
};

class Statement {
public:
    Statement(Database& db, const std::string& sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int idx, std::int64_t v);
    Statement& bind(int idx, std::string_view v);
    Statement& bindNull(int idx);
    /// true while a row is available.
    bool step();
    /// Runs to completion (for statements without results) and resets.
    void run();
    void reset();

    [[nodiscard]] std::int64_t int64(int col) const;
    [[nodiscard]] std::string text(int col) const;
    [[nodiscard]] bool isNull(int col) const;

private:
    Database& db_;
    sqlite3_stmt* stmt_ = nullptr;
};

} // namespace ow::store
