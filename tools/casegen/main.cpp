// ow-casegen: the center's case traffic as canonical CloudEvents, one per line (NDJSON), in
// business-time order — for benchmarks of the case ledger and for simulations. Each case picks
// an item of the catalog (busy departments more often), is received on a working day of the
// month and runs the item's steps on the working-day calendar: most on time, some late, some
// with supplements, extensions or a refusal, some left open at the end of the month.
//
//   ow-casegen --cases 100000 --month 2026-03 [--seed 1] [--open 20] [--accepted-only]
//              [--catalog config/catalog] [--units config/units.yaml]
//              [--calendar config/calendar] > month.ndjson
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugins/cases/calendar/CalendarFiles.h"
#include "plugins/cases/catalog/CatalogFiles.h"
#include "plugins/cases/data/Rfc3339.h"

using namespace ow::cases;
using nlohmann::json;

namespace {

struct Args {
    long cases = 1000;
    std::string month = "2026-03";
    unsigned seed = 1;
    int openPercent = 20;
    bool acceptedOnly = false;
    std::string catalog = "config/catalog", units = "config/units.yaml",
                calendar = "config/calendar";
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "ow-casegen: " << why
              << "\nusage: ow-casegen --cases N --month YYYY-MM [--seed S] [--open PERCENT]\n"
                 "                  [--accepted-only] [--catalog DIR] [--units FILE]\n"
                 "                  [--calendar DIR]\n";
    std::exit(2);
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string o = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(o + " needs a value");
            return argv[++i];
        };
        try {
            if (o == "--cases")
                a.cases = std::stol(value());
            else if (o == "--month")
                a.month = value();
            else if (o == "--seed")
                a.seed = static_cast<unsigned>(std::stoul(value()));
            else if (o == "--open")
                a.openPercent = std::stoi(value());
            else if (o == "--accepted-only")
                a.acceptedOnly = true;
            else if (o == "--catalog")
                a.catalog = value();
            else if (o == "--units")
                a.units = value();
            else if (o == "--calendar")
                a.calendar = value();
            else
                usage("unknown option " + o);
        } catch (const std::invalid_argument&) {
            usage(o + " needs a number");
        }
    }
    if (a.cases < 1 || a.month.size() != 7 || a.openPercent < 0 || a.openPercent > 100)
        usage("--cases >= 1, --month YYYY-MM, --open 0..100");
    return a;
}

struct Out {
    Instant at;
    std::string line;
};

class Generator {
public:
    Generator(const Args& a, const Catalog& catalog, const WorkCalendar& cal)
        : a_(a), catalog_(catalog), cal_(cal), rng_(a.seed) {
        // Busy departments get more cases, as in the hall.
        for (const auto& item : catalog.items()) {
            int weight = 1;
            for (const char* busy : {"industry-commerce", "public-security",
                                     "planning-construction", "land-resources"})
                if (item.department == busy) weight = 6;
            for (int w = 0; w < weight; ++w)
                weighted_.push_back(&item);
        }
        const int y = std::stoi(a.month.substr(0, 4));
        const auto m = static_cast<unsigned>(std::stoi(a.month.substr(5, 2)));
        for (unsigned d = 1; d <= 31; ++d) {
            const Day day = WorkCalendar::dayFromCivil(y, m, d);
            int ry = 0;
            unsigned rm = 0, rd = 0;
            WorkCalendar::civilFromDay(day, ry, rm, rd);
            if (rm == m && cal.isWorkingDay(day)) days_.push_back(day);
        }
        if (days_.empty()) usage("no working day in " + a.month);
    }

    void generate(long n, std::vector<Out>& out) {
        const ServiceItem& item = *weighted_[pick(weighted_.size())];
        const Day day = days_[pick(days_.size())];
        char no[40];
        int y = 0;
        unsigned m = 0, d = 0;
        WorkCalendar::civilFromDay(day, y, m, d);
        std::snprintf(no, sizeof no, "350581%04d%02u%02u%06ld", y, m, d, n);
        caseNo_ = no;
        seq_ = 0;
        out_ = &out;
        // Received between 09:00 and 16:30 local.
        Instant t = cal_.closeOf(day) - 8 * 3600000LL + minutes(0, 450);
        if (!a_.acceptedOnly && chance(80)) emit("submitted", t - minutes(60, 600), item, {});
        emit("received", t, item, {});
        if (!a_.acceptedOnly && chance(3)) {
            emit("not_accepted", t + minutes(10, 60), item, {{"reason", "不属于本机关职权范围"}});
            return;
        }
        if (!a_.acceptedOnly && chance(10)) {
            emit("supplement_requested", t + minutes(10, 30), item,
                 {{"phase", "pre"}, {"reason", "材料不齐全"}});
            t = cal_.addWorkingDays(t, 1 + static_cast<int>(pick(3))) - minutes(60, 420);
            emit("supplement_received", t, item, {});
        }
        t += minutes(5, 40);
        emit("accepted", t, item, {{"query_password", std::to_string(100000 + pick(900000))}});
        if (a_.acceptedOnly) return;
        const bool open = chance(a_.openPercent);
        // Joint items: a sub-task per co-department, in parallel; one in ten is late.
        Instant jointDone = t;
        for (const auto& part : item.joint) {
            const Instant sent = t + minutes(10, 40);
            emit("joint_task_dispatched", sent, item, {{"co_department", part.department}});
            const int days =
                chance(90) ? static_cast<int>(pick(part.limitDays + 1)) : part.limitDays + 2;
            const Instant done = cal_.addWorkingDays(sent, days) - minutes(30, 420);
            if (!open)
                emit("joint_task_completed", done, item, {{"co_department", part.department}});
            jointDone = std::max(jointDone, done);
        }
        t = std::max(t, jointDone);
        const std::size_t stepsToRun = open ? pick(item.steps.size() + 1) : item.steps.size();
        for (std::size_t s = 0; s < stepsToRun; ++s) {
            const auto& step = item.steps[s];
            if (s == 1 && chance(5)) {
                emit("supplement_requested", t + minutes(30, 120), item,
                     {{"phase", "post"}, {"reason", "需补充说明材料"}});
                t = cal_.addWorkingDays(t, 2) - minutes(60, 300);
                emit("supplement_received", t, item, {});
            }
            // Most steps take less than their limit; one in ten overruns it.
            const int days = std::max(
                0, step.limitDays - (chance(90) ? static_cast<int>(pick(step.limitDays + 1)) : -1));
            t = std::max(t + minutes(20, 90), cal_.addWorkingDays(t, days) - minutes(30, 420));
            emit("step_completed", t, item, {{"step_code", step.code}, {"decision", "agree"}});
        }
        if (open) return;
        if (item.handling == HandlingType::Reported) {
            // Forwarded to the higher authority, which replies a week or two later.
            t += minutes(30, 240);
            emit("forwarded", t, item, {{"higher_authority", item.reportedTo}});
            t = cal_.addWorkingDays(t, 5 + static_cast<int>(pick(6))) - minutes(60, 400);
            emit("higher_authority_replied", t, item, {});
        }
        if (chance(2)) emit("extension_approved", t + minutes(10, 30), item, {{"working_days", 5}});
        const bool refused = chance(3);
        t += minutes(20, 120);
        emit("decided", t, item,
             refused ? json{{"decision", "refuse"}, {"reason", "不符合法定条件"}}
                     : json{{"decision", "approve"}});
        t += minutes(10, 60);
        emit("concluded", t, item,
             refused ? json{{"result_code", 1}, {"reason", "不符合法定条件"}}
                     : json{{"result_code", 0}});
        emit("delivered", cal_.addWorkingDays(t, 0) + minutes(-420, -30) + 86400000LL, item,
             {{"way", chance(30) ? "post" : "window"}});
    }

private:
    std::size_t pick(std::size_t n) { return n == 0 ? 0 : rng_() % n; }
    bool chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }
    Instant minutes(int lo, int hi) { return (lo + static_cast<int>(pick(hi - lo + 1))) * 60000LL; }

    void emit(const std::string& type, Instant at, const ServiceItem& item, json data) {
        data["item_code"] = item.code;
        data["occurred_at"] = formatRfc3339(at, cal_.hours().utcOffsetMinutes);
        json e = {{"specversion", "1.0"},
                  {"id", caseNo_ + "-" + std::to_string(++seq_)},
                  {"source", "/intranet-platform"},
                  {"type", "gov.case." + type},
                  {"subject", caseNo_},
                  {"department", item.department},
                  {"datacontenttype", "application/json"},
                  {"data", std::move(data)}};
        out_->push_back({at, e.dump()});
    }

    const Args& a_;
    const Catalog& catalog_;
    const WorkCalendar& cal_;
    std::mt19937 rng_;
    std::vector<const ServiceItem*> weighted_;
    std::vector<Day> days_;
    std::string caseNo_;
    int seq_ = 0;
    std::vector<Out>* out_ = nullptr;
};

} // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    try {
        const auto catalog = loadCatalog(a.catalog, a.units);
        const auto cal = loadCalendar(a.calendar, BusinessHours{});
        Generator g(a, catalog, cal);
        std::vector<Out> out;
        out.reserve(static_cast<std::size_t>(a.cases) * 10);
        for (long n = 1; n <= a.cases; ++n)
            g.generate(n, out);
        std::stable_sort(out.begin(), out.end(),
                         [](const Out& x, const Out& y) { return x.at < y.at; });
        std::ios::sync_with_stdio(false);
        for (const auto& o : out)
            std::cout << o.line << '\n';
        std::cerr << "ow-casegen: " << a.cases << " cases, " << out.size() << " events\n";
    } catch (const std::exception& e) {
        std::cerr << "ow-casegen: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
