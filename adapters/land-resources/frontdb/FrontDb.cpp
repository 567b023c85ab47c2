#include "adapters/land-resources/frontdb/FrontDb.h"

#include <sqlite3.h>

#include <set>

using nlohmann::json;

namespace ow::adapters::landres {

namespace {

const char* const Schema = R"sql(
CREATE TABLE IF NOT EXISTS QZK_SQ(
  SBLSH TEXT PRIMARY KEY, SXBM TEXT NOT NULL, SXMC TEXT, SQRMC TEXT, SQRLX TEXT, SLSJ TEXT,
  XZQHDM TEXT, VERSION INTEGER NOT NULL, REC_FLAG INTEGER NOT NULL DEFAULT 0, XRSJ TEXT);
CREATE TABLE IF NOT EXISTS QZK_BL(
  XH INTEGER PRIMARY KEY AUTOINCREMENT, SBLSH TEXT NOT NULL, YWLSH TEXT, LX TEXT NOT NULL,
  SPHJDM TEXT, SPHJMC TEXT, SPRXM TEXT, SPYJ TEXT, SPJG TEXT, SPSJ TEXT, SPBZH TEXT,
  BZYY TEXT, BZCL TEXT, BZSJ TEXT, BJJGDM TEXT, BJJGMS TEXT, ZJBH TEXT, ZJMC TEXT, BJSJ TEXT,
  VERSION INTEGER NOT NULL DEFAULT 1, REC_FLAG INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS QZK_BL_NEW ON QZK_BL(REC_FLAG, XH);
CREATE INDEX IF NOT EXISTS QZK_SQ_NEW ON QZK_SQ(REC_FLAG);
)sql";

const std::set<std::string> RecordColumns = {
    "SBLSH", "YWLSH", "LX",   "SPHJDM", "SPHJMC", "SPRXM",  "SPYJ", "SPJG", "SPSJ",
    "SPBZH", "BZYY",  "BZCL", "BZSJ",   "BJJGDM", "BJJGMS", "ZJBH", "ZJMC", "BJSJ"};

class Stmt {
public:
    Stmt(sqlite3* db, const std::string& sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK)
            throw FrontDbError(std::string("front-end database: ") + sqlite3_errmsg(db));
    }
    ~Stmt() { sqlite3_finalize(s_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    void bind(int i, const std::string& v) {
        sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void bind(int i, std::int64_t v) { sqlite3_bind_int64(s_, i, v); }
    bool step() {
        const int rc = sqlite3_step(s_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw FrontDbError(std::string("front-end database: ") + sqlite3_errmsg(db_));
    }
    void reset() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }
    json row() {
        json r = json::object();
        for (int c = 0; c < sqlite3_column_count(s_); ++c) {
            const char* name = sqlite3_column_name(s_, c);
            switch (sqlite3_column_type(s_, c)) {
            case SQLITE_NULL:
                break;
            case SQLITE_INTEGER:
                r[name] = static_cast<std::int64_t>(sqlite3_column_int64(s_, c));
                break;
            default:
                r[name] = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
            }
        }
        return r;
    }

private:
    sqlite3* db_;
    sqlite3_stmt* s_ = nullptr;
};

std::string text(const json& v) {
    return v.is_string() ? v.get<std::string>() : v.dump();
}

} // namespace

FrontDb::FrontDb(const std::string& path) : path_(path) {
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
        const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw FrontDbError("cannot open the front-end database " + path + ": " + why);
    }
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec(Schema);
}

FrontDb::~FrontDb() {
    sqlite3_close(db_);
}

void FrontDb::exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        const std::string why = err ? err : "unknown error";
        sqlite3_free(err);
        throw FrontDbError("front-end database " + path_ + ": " + why);
    }
}

bool FrontDb::putApplication(const json& fields, int version) {
    Stmt s(db_, "INSERT INTO QZK_SQ(SBLSH,SXBM,SXMC,SQRMC,SQRLX,SLSJ,XZQHDM,VERSION,REC_FLAG,XRSJ) "
                "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,0,datetime('now','+8 hours')) "
                "ON CONFLICT(SBLSH) DO UPDATE SET SXBM=excluded.SXBM, SXMC=excluded.SXMC, "
                "SQRMC=excluded.SQRMC, SQRLX=excluded.SQRLX, SLSJ=excluded.SLSJ, "
                "XZQHDM=excluded.XZQHDM, VERSION=excluded.VERSION, REC_FLAG=0, XRSJ=excluded.XRSJ "
                "WHERE excluded.VERSION > QZK_SQ.VERSION");
    int i = 1;
    for (const char* c : {"SBLSH", "SXBM", "SXMC", "SQRMC", "SQRLX", "SLSJ", "XZQHDM"}) {
        if (fields.contains(c)) s.bind(i, text(fields[c]));
        ++i;
    }
    s.bind(8, static_cast<std::int64_t>(version));
    s.step();
    return sqlite3_changes(db_) > 0;
}

std::vector<json> FrontDb::newRecords(int limit) {
    Stmt s(db_, "SELECT * FROM QZK_BL WHERE REC_FLAG=0 ORDER BY XH LIMIT ?1");
    s.bind(1, static_cast<std::int64_t>(limit));
    std::vector<json> out;
    while (s.step())
        out.push_back(s.row());
    return out;
}

void FrontDb::markTaken(const std::vector<std::pair<std::int64_t, int>>& rows) {
    exec("BEGIN IMMEDIATE");
    try {
        Stmt s(db_, "UPDATE QZK_BL SET REC_FLAG=1 WHERE XH=?1 AND VERSION=?2");
        for (const auto& [xh, version] : rows) {
            s.bind(1, xh);
            s.bind(2, static_cast<std::int64_t>(version));
            s.step();
            s.reset();
        }
        exec("COMMIT");
    } catch (...) {
        exec("ROLLBACK");
        throw;
    }
}

std::vector<json> FrontDb::newApplications(int limit) {
    Stmt s(db_, "SELECT * FROM QZK_SQ WHERE REC_FLAG=0 LIMIT ?1");
    s.bind(1, static_cast<std::int64_t>(limit));
    std::vector<json> out;
    while (s.step())
        out.push_back(s.row());
    return out;
}

void FrontDb::markApplicationsTaken(const std::vector<std::string>& sblsh) {
    Stmt s(db_, "UPDATE QZK_SQ SET REC_FLAG=1 WHERE SBLSH=?1");
    for (const auto& k : sblsh) {
        s.bind(1, k);
        s.step();
        s.reset();
    }
}

std::int64_t FrontDb::addRecord(const json& fields) {
    std::string cols, marks;
    std::vector<std::string> values;
    for (const auto& [k, v] : fields.items()) {
        if (!RecordColumns.count(k)) continue;
        cols += (cols.empty() ? "" : ",") + k;
        values.push_back(text(v));
        marks += (marks.empty() ? "?" : ",?") + std::to_string(values.size());
    }
    Stmt s(db_, "INSERT INTO QZK_BL(" + cols + ") VALUES(" + marks + ")");
    for (std::size_t i = 0; i < values.size(); ++i)
        s.bind(static_cast<int>(i + 1), values[i]);
    s.step();
    return sqlite3_last_insert_rowid(db_);
}

void FrontDb::correctRecord(std::int64_t xh, const json& changes) {
    std::string sets;
    std::vector<std::string> values;
    for (const auto& [k, v] : changes.items()) {
        if (!RecordColumns.count(k)) continue;
        values.push_back(text(v));
        sets += k + "=?" + std::to_string(values.size()) + ",";
    }
    Stmt s(db_, "UPDATE QZK_BL SET " + sets + "VERSION=VERSION+1, REC_FLAG=0 WHERE XH=?" +
                    std::to_string(values.size() + 1));
    for (std::size_t i = 0; i < values.size(); ++i)
        s.bind(static_cast<int>(i + 1), values[i]);
    s.bind(static_cast<int>(values.size() + 1), xh);
    s.step();
}

} // namespace ow::adapters::landres
