// The front-end database (前置库, DOMAIN §8.2) shared with 国土资源局: the hub writes the
// applications the department is to handle into QZK_SQ; the department writes its handling
// records into QZK_BL. Each side marks what it has taken with REC_FLAG (0 new, 1 taken) and a
// correction re-sends a row with VERSION + 1 and REC_FLAG 0 again. A SQLite file by default
// (WAL, a busy timeout: the department's process writes to it too).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct sqlite3;

namespace ow::adapters::landres {

class FrontDbError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class FrontDb {
public:
    /// Opens (creating the file and both tables if absent). Throws FrontDbError.
    explicit FrontDb(const std::string& path);
    ~FrontDb();
    FrontDb(const FrontDb&) = delete;
    FrontDb& operator=(const FrontDb&) = delete;

    /// Writes an application row (keyed by SBLSH). A higher VERSION replaces the row and sets
    /// REC_FLAG 0 again; the same or a lower one changes nothing. True if the row changed.
    bool putApplication(const nlohmann::json& fields, int version);

    /// Handling records with REC_FLAG 0, oldest first: column -> value (nulls left out).
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
    void exec(const std::string& sql);
    sqlite3* db_ = nullptr;
    std::string path_;
};

} // namespace ow::adapters::landres
