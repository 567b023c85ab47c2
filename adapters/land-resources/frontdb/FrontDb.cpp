#include "adapters/land-resources/frontdb/FrontDb.h"

#include <Poco/Data/DataException.h>
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <mutex>
#include <set>
#include <sstream>

using nlohmann::json;
// Qualified: an unqualified bind(std::string) would also find std::bind.
namespace kw = Poco::Data::Keywords;

namespace ow::adapters::landres {

/// Everything the two databases spell differently; the rest of the SQL is shared. Oracle or DM
/// (through POCO ODBC) would be one more entry: MERGE for the upsert, a sequence for the key,
/// FETCH FIRST for LIMIT.
struct FrontDbDialect {
    std::string name;               ///< as configured
    std::string pocoConnector;      ///< POCO Data's registered name
    char placeholder;               ///< '?' (?1, ?2: SQLite) or '$' ($1, $2: PostgreSQL)
    std::string autoKey;            ///< QZK_BL.XH: numbered by the database
    std::string insertedKey;        ///< appended to the INSERT, or run after it, to learn XH
    bool keyReturned;               ///< insertedKey is a RETURNING clause (else a query)
    std::vector<std::string> setup; ///< once per connection
    std::string begin;              ///< a write transaction
    std::string upsert;             ///< QZK_SQ by SBLSH, replaced only by a higher VERSION
};

namespace {

// Both speak INSERT ... ON CONFLICT ... DO UPDATE ... WHERE (SQLite >= 3.24, PostgreSQL >= 9.5);
// `%N` is placeholder N, written in the dialect's way by marks().
const char* const UpsertApplication =
    "INSERT INTO QZK_SQ(SBLSH,SXBM,SXMC,SQRMC,SQRLX,SLSJ,XZQHDM,VERSION,REC_FLAG,XRSJ) "
    "VALUES(%1,%2,%3,%4,%5,%6,%7,%8,0,%9) "
    "ON CONFLICT(SBLSH) DO UPDATE SET SXBM=excluded.SXBM, SXMC=excluded.SXMC, "
    "SQRMC=excluded.SQRMC, SQRLX=excluded.SQRLX, SLSJ=excluded.SLSJ, "
    "XZQHDM=excluded.XZQHDM, VERSION=excluded.VERSION, REC_FLAG=0, XRSJ=excluded.XRSJ "
    "WHERE excluded.VERSION > QZK_SQ.VERSION";

const FrontDbDialect SQLite{
    "sqlite",
    "SQLite",
    '?',
    "INTEGER PRIMARY KEY AUTOINCREMENT",
    "SELECT last_insert_rowid()",
    false,
    // The department's process writes the same file: readers never block the writer, and a
    // writer waits for the other's lock instead of failing at once (busy timeout, below).
    {"PRAGMA journal_mode=WAL"},
    // Takes the write lock up front, so the batch cannot fail halfway on a busy database.
    "BEGIN IMMEDIATE",
    UpsertApplication};

const FrontDbDialect PostgreSQL{
    "postgresql",
    "PostgreSQL",
    '$',
    "BIGSERIAL PRIMARY KEY",
    " RETURNING XH",
    true,
    // CREATE ... IF NOT EXISTS on existing tables sends NOTICEs libpq would print to stderr.
    {"SET client_min_messages TO WARNING"},
    "BEGIN",
    UpsertApplication};

const std::set<std::string> RecordColumns = {
    "SBLSH", "YWLSH", "LX",   "SPHJDM", "SPHJMC", "SPRXM",  "SPYJ", "SPJG", "SPSJ",
    "SPBZH", "BZYY",  "BZCL", "BZSJ",   "BJJGDM", "BJJGMS", "ZJBH", "ZJMC", "BJSJ"};

constexpr std::size_t SqliteBusyTimeoutSeconds = 5;
constexpr std::size_t PostgresConnectTimeoutSeconds = 10;

void registerConnectors() {
    // POCO's session factory is process-wide; the hub may start a writer and a reader at once.
    static std::once_flag once;
    std::call_once(once, [] {
        Poco::Data::SQLite::Connector::registerConnector();
        Poco::Data::PostgreSQL::Connector::registerConnector();
    });
}

const FrontDbDialect& dialectFor(const std::string& connector) {
    std::string lower = connector;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const FrontDbDialect* d : {&SQLite, &PostgreSQL})
        if (d->name == lower) return *d;
    throw FrontDbError("unknown front-end database connector '" + connector +
                       "' (sqlite or postgresql)");
}

/// Words separated by single spaces: POCO's PostgreSQL connector splits key=value pairs on
/// each space, so a doubled one or a line break would be an empty pair.
std::vector<std::string> words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> out;
    for (std::string w; in >> w;)
        out.push_back(w);
    return out;
}

bool isSecretKey(const std::string& word) {
    const auto eq = word.find('=');
    return eq != std::string::npos && word.substr(0, eq).find("password") != std::string::npos;
}

std::string text(const json& v) {
    return v.is_string() ? v.get<std::string>() : v.dump();
}

/// `sql` with each `%N` written as the dialect's placeholder N.
std::string marks(const FrontDbDialect& d, std::string sql) {
    for (auto at = sql.find('%'); at != std::string::npos; at = sql.find('%', at + 1))
        sql[at] = d.placeholder;
    return sql;
}

std::string mark(const FrontDbDialect& d, std::size_t n) {
    return d.placeholder + std::to_string(n);
}

/// The hub writes the time in the department's zone (China, no daylight saving), as a row time.
std::string chinaNow() {
    const std::time_t t = std::time(nullptr) + 8 * 3600;
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

/// Column names in upper case whatever the database folds unquoted names to (PostgreSQL:
/// lower case), so both sides read the same keys.
std::vector<json> rows(Poco::Data::Statement& st) {
    Poco::Data::RecordSet rs(st);
    std::vector<std::string> names;
    for (std::size_t c = 0; c < rs.columnCount(); ++c) {
        std::string n = rs.columnName(c);
        std::transform(n.begin(), n.end(), n.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
        names.push_back(std::move(n));
    }
    std::vector<json> out;
    for (std::size_t r = 0; r < rs.rowCount(); ++r) {
        json row = json::object();
        for (std::size_t c = 0; c < names.size(); ++c) {
            if (rs.isNull(c, r)) continue;
            const auto v = rs.value(c, r);
            switch (rs.columnType(c)) {
            case Poco::Data::MetaColumn::FDT_INT8:
            case Poco::Data::MetaColumn::FDT_UINT8:
            case Poco::Data::MetaColumn::FDT_INT16:
            case Poco::Data::MetaColumn::FDT_UINT16:
            case Poco::Data::MetaColumn::FDT_INT32:
            case Poco::Data::MetaColumn::FDT_UINT32:
            case Poco::Data::MetaColumn::FDT_INT64:
            case Poco::Data::MetaColumn::FDT_UINT64:
                row[names[c]] = v.convert<Poco::Int64>();
                break;
            default:
                row[names[c]] = v.convert<std::string>();
            }
        }
        out.push_back(std::move(row));
    }
    return out;
}

} // namespace

namespace {

// POCO 1.11's PostgreSQL SessionHandle::connect never PQfinish()es the connection of a failed
// attempt (ASan shows ~35 KB per attempt), and the reader retries a database that is down
// every poll: a day of an outage would leak gigabytes. So the connection is tried with libpq
// first and finished either way; only a database that answers is handed to POCO.
void tryPostgres(const std::string& target) {
    std::string conninfo = target;
    if (target.find("connect_timeout=") == std::string::npos)
        conninfo += " connect_timeout=" + std::to_string(PostgresConnectTimeoutSeconds);
    PGconn* c = PQconnectdb(conninfo.c_str());
    const bool ok = c != nullptr && PQstatus(c) == CONNECTION_OK;
    std::string why = c ? PQerrorMessage(c) : "out of memory";
    PQfinish(c);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' '))
        why.pop_back();
    if (!ok) throw Poco::Data::ConnectionFailedException(why);
}

} // namespace

template <typename F> auto FrontDb::guarded(const char* what, F&& f) {
    try {
        return f();
    } catch (const Poco::Exception& e) {
        std::string why = e.displayText();
        if (!secret_.empty())
            for (auto at = why.find(secret_); at != std::string::npos; at = why.find(secret_))
                why.replace(at, secret_.size(), "***");
        throw FrontDbError(std::string(what) + " the front-end database " + where_ + ": " + why);
    }
}

FrontDb::FrontDb(const std::string& path) : FrontDb("sqlite", path) {}

FrontDb::FrontDb(const std::string& connector, const std::string& connection)
    : dialect_(&dialectFor(connector)) {
    registerConnectors();
    std::string target = connection;
    if (dialect_ == &PostgreSQL) {
        if (connection.find("://") != std::string::npos)
            throw FrontDbError("the postgresql connection must be a libpq key=value string "
                               "(host=... port=... dbname=... user=... password=...), not a URI");
        target.clear();
        where_ = "(postgresql";
        for (const auto& w : words(connection)) {
            target += (target.empty() ? "" : " ") + w;
            if (isSecretKey(w)) {
                std::string value = w.substr(w.find('=') + 1);
                if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'')
                    value = value.substr(1, value.size() - 2);
                if (secret_.empty()) secret_ = value;
                where_ += " " + w.substr(0, w.find('=')) + "=***";
            } else {
                where_ += " " + w;
            }
        }
        where_ += ")";
        if (target.empty())
            throw FrontDbError("the postgresql connection string is empty (host=... port=... "
                               "dbname=... user=... password=...)");
    } else {
        where_ = connection;
    }
    guarded("cannot open", [&] {
        if (dialect_ == &SQLite) {
            // No login timeout: a file that cannot be opened fails at once, as sqlite3_open does.
            session_ = std::make_unique<Poco::Data::Session>(dialect_->pocoConnector, target, 0);
            session_->setProperty("connectionTimeout", Poco::Any(SqliteBusyTimeoutSeconds));
        } else {
            tryPostgres(target);
            session_ = std::make_unique<Poco::Data::Session>(dialect_->pocoConnector, target,
                                                             PostgresConnectTimeoutSeconds);
        }
        for (const auto& sql : dialect_->setup)
            *session_ << sql, kw::now;
    });
    guarded("cannot create the tables of", [&] {
        const std::vector<std::string> schema = {
            "CREATE TABLE IF NOT EXISTS QZK_SQ("
            "SBLSH TEXT PRIMARY KEY, SXBM TEXT NOT NULL, SXMC TEXT, SQRMC TEXT, SQRLX TEXT, "
            "SLSJ TEXT, XZQHDM TEXT, VERSION INTEGER NOT NULL, "
            "REC_FLAG INTEGER NOT NULL DEFAULT 0, XRSJ TEXT)",
            "CREATE TABLE IF NOT EXISTS QZK_BL(XH " + dialect_->autoKey +
                ", SBLSH TEXT NOT NULL, YWLSH TEXT, LX TEXT NOT NULL, SPHJDM TEXT, SPHJMC TEXT, "
                "SPRXM TEXT, SPYJ TEXT, SPJG TEXT, SPSJ TEXT, SPBZH TEXT, BZYY TEXT, BZCL TEXT, "
                "BZSJ TEXT, BJJGDM TEXT, BJJGMS TEXT, ZJBH TEXT, ZJMC TEXT, BJSJ TEXT, "
                "VERSION INTEGER NOT NULL DEFAULT 1, REC_FLAG INTEGER NOT NULL DEFAULT 0)",
            "CREATE INDEX IF NOT EXISTS QZK_BL_NEW ON QZK_BL(REC_FLAG, XH)",
            "CREATE INDEX IF NOT EXISTS QZK_SQ_NEW ON QZK_SQ(REC_FLAG)"};
        // Two connections creating the tables at the same moment (the hub's writer and reader
        // start together) can collide in PostgreSQL's catalog despite IF NOT EXISTS; the one
        // that lost finds the tables there on its next try.
        for (int attempt = 1;; ++attempt) {
            try {
                for (const auto& sql : schema)
                    *session_ << sql, kw::now;
                return;
            } catch (const Poco::Exception&) {
                if (attempt == 3) throw;
            }
        }
    });
}

FrontDb::~FrontDb() = default;

bool FrontDb::putApplication(const json& fields, int version) {
    return guarded("cannot write an application to", [&] {
        Poco::Data::Statement st(*session_);
        st << marks(*dialect_, dialect_->upsert);
        for (const char* c : {"SBLSH", "SXBM", "SXMC", "SQRMC", "SQRLX", "SLSJ", "XZQHDM"})
            st.addBind(kw::bind(fields.contains(c) ? Poco::Nullable<std::string>(text(fields[c]))
                                                   : Poco::Nullable<std::string>()));
        st.addBind(kw::bind(static_cast<Poco::Int64>(version)));
        st.addBind(kw::bind(chinaNow()));
        return st.execute() > 0;
    });
}

std::vector<json> FrontDb::newRecords(int limit) {
    return guarded("cannot read the records of", [&] {
        Poco::Data::Statement st(*session_);
        st << "SELECT * FROM QZK_BL WHERE REC_FLAG=0 ORDER BY XH LIMIT " + mark(*dialect_, 1),
            kw::bind(static_cast<Poco::Int64>(limit));
        st.execute();
        return rows(st);
    });
}

void FrontDb::markTaken(const std::vector<std::pair<std::int64_t, int>>& xhAndVersion) {
    guarded("cannot mark records taken in", [&] {
        *session_ << dialect_->begin, kw::now;
        try {
            for (const auto& [xh, version] : xhAndVersion)
                *session_ << "UPDATE QZK_BL SET REC_FLAG=1 WHERE XH=" + mark(*dialect_, 1) +
                                 " AND VERSION=" + mark(*dialect_, 2),
                    kw::bind(static_cast<Poco::Int64>(xh)),
                    kw::bind(static_cast<Poco::Int64>(version)), kw::now;
            *session_ << "COMMIT", kw::now;
        } catch (...) {
            try {
                *session_ << "ROLLBACK", kw::now;
            } catch (const Poco::Exception&) {
                // The first error is the one that says what went wrong.
            }
            throw;
        }
    });
}

std::vector<json> FrontDb::newApplications(int limit) {
    return guarded("cannot read the applications of", [&] {
        Poco::Data::Statement st(*session_);
        st << "SELECT * FROM QZK_SQ WHERE REC_FLAG=0 LIMIT " + mark(*dialect_, 1),
            kw::bind(static_cast<Poco::Int64>(limit));
        st.execute();
        return rows(st);
    });
}

void FrontDb::markApplicationsTaken(const std::vector<std::string>& sblsh) {
    guarded("cannot mark applications taken in", [&] {
        for (const auto& k : sblsh)
            *session_ << "UPDATE QZK_SQ SET REC_FLAG=1 WHERE SBLSH=" + mark(*dialect_, 1),
                kw::bind(k), kw::now;
    });
}

std::int64_t FrontDb::addRecord(const json& fields) {
    return guarded("cannot add a record to", [&] {
        std::string cols, values;
        Poco::Data::Statement st(*session_);
        std::size_t n = 0;
        for (const auto& [k, v] : fields.items()) {
            if (!RecordColumns.count(k)) continue;
            cols += (cols.empty() ? "" : ",") + k;
            values += (values.empty() ? "" : ",") + mark(*dialect_, ++n);
            st.addBind(kw::bind(text(v)));
        }
        Poco::Int64 xh = 0;
        const std::string insert = "INSERT INTO QZK_BL(" + cols + ") VALUES(" + values + ")";
        if (dialect_->keyReturned) {
            st << insert + dialect_->insertedKey, kw::into(xh);
            st.execute();
        } else {
            st << insert;
            st.execute();
            *session_ << dialect_->insertedKey, kw::into(xh), kw::now;
        }
        return static_cast<std::int64_t>(xh);
    });
}

void FrontDb::correctRecord(std::int64_t xh, const json& changes) {
    guarded("cannot correct a record in", [&] {
        std::string sets;
        Poco::Data::Statement st(*session_);
        std::size_t n = 0;
        for (const auto& [k, v] : changes.items()) {
            if (!RecordColumns.count(k)) continue;
            sets += k + "=" + mark(*dialect_, ++n) + ",";
            st.addBind(kw::bind(text(v)));
        }
        st << "UPDATE QZK_BL SET " + sets +
                  "VERSION=VERSION+1, REC_FLAG=0 WHERE XH=" + mark(*dialect_, n + 1);
        st.addBind(kw::bind(static_cast<Poco::Int64>(xh)));
        st.execute();
    });
}

} // namespace ow::adapters::landres
