// ow-frontdb-sim: 国土资源局's side of the front-end database (前置库) the land-resources adapter
// shares with it: it takes the applications the hub wrote (QZK_SQ, REC_FLAG 0 -> 1) and writes
// its handling records into QZK_BL over time, one every --step-ms: 承办, 审核, 批准 (SP, with
// SPBZH), then 办结 (BJ). Every --correct-every-th case later corrects its 承办 record
// (VERSION 2, REC_FLAG 0 again), every --poison-every-th case gets a record of an unknown kind
// (LX "XX"), which the hub must dead-letter. On SIGTERM/SIGINT a summary line goes to stdout.
// The database: a SQLite file (--db FILE), or --connector postgresql --connection "host=...
// port=... dbname=... user=..." (a password there is visible to ps: libpq also reads
// PGPASSWORD).
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <iostream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/land-resources/frontdb/FrontDb.h"
#include "tests/support/Simulator.h"

using nlohmann::json;
using ow::adapters::landres::FrontDb;

namespace {

struct Arguments {
    std::string db, connector = "sqlite", connection;
    int stepMs = 30, correctEvery = 0, poisonEvery = 0;
};

std::int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

struct Due {
    std::int64_t at;
    json record;           ///< to add; or, with correctXhOf, a correction
    std::string correctOf; ///< "SBLSH" whose first record is corrected
};

} // namespace

int main(int argc, char** argv) {
    Arguments a;
    ow::testkit::SimulatorOptions o(
        "ow-frontdb-sim",
        "ow-frontdb-sim (--db FILE | --connector sqlite|postgresql --connection STRING) "
        "[--step-ms M] [--correct-every N] [--poison-every N]");
    o.parse(argc, argv, [&](const std::string& name) {
        if (name == "--db")
            a.db = o.text();
        else if (name == "--connector")
            a.connector = o.text();
        else if (name == "--connection")
            a.connection = o.text();
        else if (name == "--step-ms")
            a.stepMs = o.number();
        else if (name == "--correct-every")
            a.correctEvery = o.number();
        else if (name == "--poison-every")
            a.poisonEvery = o.number();
        else
            return false;
        return true;
    });
    if (a.connector != "sqlite" && a.connector != "postgresql")
        o.fail("--connector is sqlite or postgresql");
    if (!a.db.empty() && !a.connection.empty())
        o.fail("--db and --connection are one or the other");
    if (a.connector == "sqlite" && a.connection.empty()) a.connection = a.db;
    if (a.connection.empty())
        o.fail(a.connector == "sqlite" ? "--db (or --connection) is required"
                                       : "--connection is required with --connector postgresql");
    const sigset_t stop = ow::testkit::blockStopSignals();
    try {
        FrontDb db(a.connector, a.connection);
        std::cerr << "ow-frontdb-sim: handling a " << a.connector << " front-end database"
                  << (a.connector == "sqlite" ? " " + a.connection : std::string()) << std::endl;
        std::deque<Due> due;
        std::map<std::string, std::int64_t> firstRecord;
        long cases = 0, records = 0, corrections = 0, poisons = 0;
        const timespec tick{0, 10'000'000};
        while (sigtimedwait(&stop, nullptr, &tick) < 0) {
            const auto apps = db.newApplications(100);
            std::vector<std::string> taken;
            for (const auto& app : apps) {
                const std::string sblsh = app["SBLSH"];
                taken.push_back(sblsh);
                ++cases;
                char ywlsh[48];
                std::snprintf(ywlsh, sizeof ywlsh, "GT2026%06ld", cases);
                const std::int64_t t0 = nowMs();
                int k = 1;
                const char* names[] = {"承办", "审核", "批准"};
                for (int s = 1; s <= 3; ++s)
                    due.push_back({t0 + a.stepMs * k++,
                                   {{"SBLSH", sblsh},
                                    {"YWLSH", ywlsh},
                                    {"LX", "SP"},
                                    {"SPHJDM", std::to_string(s)},
                                    {"SPHJMC", names[s - 1]},
                                    {"SPRXM", "国土经办人"},
                                    {"SPYJ", "同意"},
                                    {"SPJG", "1"},
                                    {"SPBZH", std::to_string(s)}},
                                   ""});
                if (a.poisonEvery > 0 && cases % a.poisonEvery == 0)
                    due.push_back({t0 + a.stepMs * k++,
                                   {{"SBLSH", sblsh}, {"YWLSH", ywlsh}, {"LX", "XX"}},
                                   ""});
                due.push_back({t0 + a.stepMs * k++,
                               {{"SBLSH", sblsh},
                                {"YWLSH", ywlsh},
                                {"LX", "BJ"},
                                {"BJJGDM", "0"},
                                {"BJJGMS", "准予变更登记"},
                                {"ZJBH", std::string("闽2026石狮不动产权第") + (ywlsh + 6) + "号"}},
                               ""});
                if (a.correctEvery > 0 && cases % a.correctEvery == 0)
                    due.push_back({t0 + a.stepMs * k++, json::object(), sblsh});
            }
            if (!taken.empty()) db.markApplicationsTaken(taken);
            const std::int64_t now = nowMs();
            while (!due.empty() && due.front().at <= now) {
                Due d = std::move(due.front());
                due.pop_front();
                if (!d.correctOf.empty()) {
                    db.correctRecord(firstRecord[d.correctOf],
                                     {{"SPYJ", "同意（更正：补录审批意见）"},
                                      {"SPSJ", ow::testkit::chinaLocalTime()}});
                    ++corrections;
                    continue;
                }
                const std::string lx = d.record["LX"];
                if (lx == "SP") d.record["SPSJ"] = ow::testkit::chinaLocalTime();
                if (lx == "BJ") d.record["BJSJ"] = ow::testkit::chinaLocalTime();
                if (lx == "XX") ++poisons;
                const auto xh = db.addRecord(d.record);
                firstRecord.try_emplace(d.record["SBLSH"].get<std::string>(), xh);
                ++records;
            }
        }
        std::cout << json{{"cases", cases},
                          {"records", records},
                          {"corrections", corrections},
                          {"poisons", poisons},
                          {"pending", due.size()}}
                         .dump()
                  << std::endl;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "ow-frontdb-sim: " << e.what() << "\n";
        return 1;
    }
}
