// 国土资源局 (land resources): the reference adapter for a department that exchanges through a
// front-end database (前置库, frontdb/FrontDb.h) rather than an API. Three components:
//   writer (sink)       gov.case.accepted -> a QZK_SQ row (REC_FLAG 0) for the department
//   reader (source)     QZK_BL rows the department wrote (REC_FLAG 0) -> journaled as
//                       dept.land-resources.record, then marked REC_FLAG 1 at the VERSION read
//   mapper (processor)  records -> canonical gov.case.* (corrections with data_version)
#include <onewindow/sdk/Plugin.h>

#include <memory>
#include <mutex>
#include <stdexcept>

#include "adapters/common/DeptRecords.h"
#include "adapters/land-resources/frontdb/FrontDb.h"
#include "plugins/cases/calendar/CalendarFiles.h"

namespace sdk = onewindow::sdk;
using nlohmann::json;
using namespace ow::adapters;
using ow::adapters::landres::FrontDb;

namespace {

int offsetOf(const sdk::Config& c) {
    return ow::cases::parseUtcOffset(c.get<std::string>("utc_offset", "+08:00"));
}

/// Which database and how to reach it, checked when the component is made (the hub reports a
/// throw there as a configuration problem of that input or output, before anything runs).
struct DbTarget {
    std::string connector, connection;

    explicit DbTarget(const sdk::Config& c) : connector(c.get<std::string>("connector", "sqlite")) {
        const std::string database = c.get<std::string>("database");
        const std::string conn = c.get<std::string>("connection");
        if (connector == "postgresql") {
            if (conn.empty())
                throw std::invalid_argument(
                    "connector 'postgresql' needs 'connection': a libpq connection string "
                    "(host=... port=... dbname=... user=... password=...) given as ${NAME}");
            if (!database.empty())
                throw std::invalid_argument(
                    "'database' is the SQLite file; with connector 'postgresql' the database "
                    "is named in 'connection' (dbname=...)");
            connection = conn;
        } else {
            if (database.empty())
                throw std::invalid_argument(
                    "connector 'sqlite' needs 'database': the SQLite file shared with the "
                    "department");
            if (!conn.empty())
                throw std::invalid_argument(
                    "'connection' is for connector 'postgresql'; a SQLite front-end database is "
                    "given as 'database'");
            connection = database;
        }
    }
    [[nodiscard]] std::unique_ptr<FrontDb> open() const {
        return std::make_unique<FrontDb>(connector, connection);
    }
};

class WriterSink final : public sdk::Sink {
public:
    explicit WriterSink(sdk::Services& s) : s_(s), target_(s.config) {}
    sdk::Result start() override {
        try {
            db_ = target_.open();
        } catch (const std::exception& e) {
            return sdk::Result::retry(e.what(), 5000);
        }
        return sdk::Result::ok();
    }
    sdk::Result deliver(const sdk::Event& e) override {
        if (e.type != "gov.case.accepted")
            return sdk::Result::reject("only gov.case.accepted is written for the department, "
                                       "not " +
                                       e.type);
        const json d = json::parse(e.data, nullptr, false);
        if (!d.is_object()) return sdk::Result::reject("the data must be a JSON object");
        const std::string caseNo = d.value("case_no", e.subject);
        if (caseNo.empty()) return sdk::Result::reject("no case number (subject or case_no)");
        if (!d.contains("item_code")) return sdk::Result::reject("item_code is missing");
        json row = {{"SBLSH", caseNo},
                    {"SXBM", d["item_code"]},
                    {"XZQHDM", s_.config.get<std::string>("region_code", "350581")}};
        if (d.contains("item_name")) row["SXMC"] = d["item_name"];
        if (d.contains("applicant") && d["applicant"].is_object()) {
            row["SQRMC"] = d["applicant"].value("name", "");
            const std::string t = d["applicant"].value("type", "");
            row["SQRLX"] = t == "person" ? "1" : t == "enterprise" || t == "company" ? "2" : "3";
        }
        try {
            const std::string at = d.value("occurred_at", e.time);
            if (!at.empty()) row["SLSJ"] = toWireTime(at, offsetOf(s_.config));
            std::lock_guard lock(mu_);
            db_->putApplication(row, d.value("data_version", 1));
        } catch (const WireError& x) {
            return sdk::Result::reject(x.what());
        } catch (const std::exception& x) {
            return sdk::Result::retry(x.what()); // busy, disk: the row is written later
        }
        return sdk::Result::ok();
    }

private:
    sdk::Services& s_;
    DbTarget target_;
    std::mutex mu_; // deliveries may run concurrently; one connection
    std::unique_ptr<FrontDb> db_;
};

// Each failure to reach the front-end database is the department's system being unavailable:
// the hub backs off and tells the operator (ctx.unavailable); the connection is opened again.
class ReaderSource final : public sdk::Source {
public:
    explicit ReaderSource(sdk::Services& s) : s_(s), target_(s.config) {}
    sdk::Result run(sdk::SourceContext& ctx) override {
        std::unique_ptr<FrontDb> db;
        while (!ctx.stopping()) {
            try {
                if (!db) db = target_.open();
                poll(*db, ctx);
            } catch (const landres::FrontDbError& e) {
                db.reset();
                ctx.unavailable(std::string("国土资源局: ") + e.what()); // says what and where
            } catch (const std::exception&) {
                db.reset();
                ctx.unavailable("国土资源局: the front-end database's records could not be read");
            }
        }
        return sdk::Result::ok();
    }

private:
    void poll(FrontDb& db, sdk::SourceContext& ctx) {
        const auto pollMs = s_.config.get<std::int64_t>("poll_ms", 1000);
        const auto batch = static_cast<int>(s_.config.get<std::int64_t>("batch", 100));
        const std::vector<json> rows = db.newRecords(batch);
        ctx.available();
        if (rows.empty()) {
            ctx.waitFor(pollMs);
            return;
        }
        std::vector<sdk::Event> events;
        std::vector<std::pair<std::int64_t, int>> taken;
        for (const auto& r : rows) {
            const auto xh = r.value("XH", std::int64_t{0});
            const int version = static_cast<int>(r.value("VERSION", std::int64_t{1}));
            sdk::Event e;
            e.type = "dept.land-resources.record";
            e.source = "dept:land-resources";
            // A correction (VERSION + 1) is a new event; the same row read twice is not.
            e.id = "land-record-" + std::to_string(xh) + "-v" + std::to_string(version);
            e.subject = r.value("SBLSH", "");
            e.dataContentType = "application/json";
            e.data = r.dump();
            events.push_back(std::move(e));
            taken.emplace_back(xh, version);
        }
        if (!ctx.emit(events)) {
            ctx.waitFor(pollMs);
            return;
        }
        db.markTaken(taken); // only now: what is marked is journaled (a failure: read again)
    }

    sdk::Services& s_;
    DbTarget target_;
};

class Mapper final : public sdk::Processor {
public:
    explicit Mapper(sdk::Services& s) : offset_(offsetOf(s.config)) {}
    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        if (e.type != "dept.land-resources.record") return sdk::Result::ok();
        const json r = json::parse(e.data, nullptr, false);
        if (!r.is_object()) return sdk::Result::reject("the record is not a JSON object");
        const std::string caseNo = r.value("SBLSH", "");
        if (caseNo.empty()) return sdk::Result::reject("record without SBLSH");
        static const DeptIdentity who{"land-resources", "dept:land-resources", "land-"};
        try {
            // Records without SPBZH are numbered per case and kind, once per record.
            const std::string counter = "count/" + caseNo + "/" + r.value("LX", "");
            const std::string seen = "seen/" + std::to_string(r.value("XH", std::int64_t{0}));
            int n = std::stoi(ctx.get(seen).value_or("0"));
            if (n == 0) {
                n = std::stoi(ctx.get(counter).value_or("0")) + 1;
                ctx.put(counter, std::to_string(n));
                ctx.put(seen, std::to_string(n));
            }
            if (auto ev = canonicalFromRecord(r, caseNo, n, offset_, who)) ctx.emit(std::move(*ev));
        } catch (const WireError& x) {
            return sdk::Result::reject(x.what());
        }
        return sdk::Result::ok();
    }

private:
    int offset_;
};

sdk::ConfigSpec dbSpec(std::string summary) {
    using sdk::Field;
    return std::move(
        sdk::ConfigSpec(std::move(summary))
            .field(Field::oneOf("connector", {"sqlite", "postgresql"})
                       .defaultsTo("sqlite")
                       .describe("The front-end database's kind (POCO Data connector)"))
            .field(
                Field::string("database")
                    .describe(
                        "connector sqlite: the SQLite file shared with the department (required)"))
            .field(Field::secret("connection")
                       .describe("connector postgresql: a libpq connection string "
                                 "(host=... port=... dbname=... user=... password=...), as "
                                 "${NAME} (required)"))
            .field(Field::string("region_code").defaultsTo("350581").describe("XZQHDM"))
            .field(
                Field::string("utc_offset")
                    .defaultsTo("+08:00")
                    .describe("The department's local time (times in the rows have no offset)")));
}

void registerComponents(sdk::Registry& r) {
    using sdk::Field;
    r.sink({sdk::ComponentKind::Sink, "writer",
            dbSpec("Writes gov.case.accepted as a QZK_SQ row (REC_FLAG 0) of the front-end "
                   "database; a higher data_version replaces the row and flags it new again.")},
           [](sdk::Services& s) { return std::make_unique<WriterSink>(s); });
    r.source({sdk::ComponentKind::Source, "reader",
              std::move(dbSpec("Reads the department's QZK_BL rows with REC_FLAG 0, journals each "
                               "as dept.land-resources.record and only then sets REC_FLAG 1 (at "
                               "the VERSION read: a correction made meanwhile is read again).")
                            .field(Field::integer("poll_ms")
                                       .defaultsTo(1000)
                                       .range(10, 600000)
                                       .describe("Wait between reads when nothing is new"))
                            .field(Field::integer("batch").defaultsTo(100).range(1, 1000).describe(
                                "Rows per read")))},
             [](sdk::Services& s) { return std::make_unique<ReaderSource>(s); });
    r.processor({sdk::ComponentKind::Processor, "mapper",
                 sdk::ConfigSpec("Turns dept.land-resources.record into gov.case.step_completed / "
                                 "supplement_requested / concluded (corrections carry "
                                 "data_version).")
                     .field(Field::string("utc_offset")
                                .defaultsTo("+08:00")
                                .describe("The department's local time"))},
                [](sdk::Services& s) { return std::make_unique<Mapper>(s); });
}

} // namespace

ONEWINDOW_PLUGIN("land-resources", "1.0.0",
                 "国土资源局 (land resources): exchange through a front-end database (前置库) with "
                 "REC_FLAG and VERSION",
                 registerComponents)
