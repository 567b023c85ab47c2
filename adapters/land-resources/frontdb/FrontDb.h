// The front-end database (前置库, DOMAIN §8.2) shared with 国土资源局: the hub writes the
// applications the department is to handle into QZK_SQ; the department writes its handling
// records into QZK_BL. Each side marks what it has taken with REC_FLAG (0 new, 1 taken) and a
// correction re-sends a row with VERSION + 1 and REC_FLAG 0 again. A SQLite file by default
// (WAL, a busy timeout: the department's process writes to it too), or a PostgreSQL database,
// both through POCO Data; the SQL differs only where the dialects do (FrontDb.cpp, Dialect).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace Poco::Data {
class Session;
}

namespace ow::adapters::landres {

struct FrontDbDialect; // FrontDb.cpp: what SQLite and PostgreSQL spell differently

class FrontDbError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class FrontDb {
public:
    /// A SQLite file (created with both tables if absent). Throws FrontDbError.
    explicit FrontDb(const std::string& path);
    /// `connector` "sqlite" (`connection` is the file) or "postgresql" (`connection` is a libpq
    /// connection string in key=value form: "host=... port=... dbname=... user=...
    /// password=..."). Creates both tables if absent. Throws FrontDbError, whose message never
    /// contains the connection string's password.
    FrontDb(const std::string& connector, const std::string& connection);
    ~FrontDb();
    FrontDb(const FrontDb&) = delete;
    FrontDb& operator=(const FrontDb&) = delete;

    /// Writes an application row (keyed by SBLSH). A higher VERSION replaces the row and sets
    /// REC_FLAG 0 again; the same or a lower one changes nothing. True if the row changed.
    bool putApplication(const nlohmann::json& fields, int version);

    /// Handling records with REC_FLAG 0, oldest first: column (upper case) -> value (nulls left
    /// out).
    std::vector<nlohmann::json> newRecords(int limit);
    /// Marks records taken, each only at the VERSION read (a correction written meanwhile
    /// stays new). One transaction.
    void markTaken(const std::vector<std::pair<std::int64_t, int>>& xhAndVersion);

    /// For the simulator and tests: the department's side.
    std::vector<nlohmann::json> newApplications(int limit);
    void markApplicationsTaken(const std::vector<std::string>& sblsh);
    std::int64_t addRecord(const nlohmann::json& fields);
    void correctRecord(std::int64_t xh, const nlohmann::json& changes);

private:
    template <typename F> auto guarded(const char* what, F&& f);

    const FrontDbDialect* dialect_;
    std::string where_;  ///< for messages: the file, or the connection string without password
    std::string secret_; ///< the password, to take out of any message
    std::unique_ptr<Poco::Data::Session> session_;
};

} // namespace ow::adapters::landres
