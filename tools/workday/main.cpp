// ow-workday: a working day of the center, played against a running hub at an accelerated
// clock. It is the center's side of the day: the intranet platform (applications received and
// accepted at the windows; the approval steps of the departments that approve on the platform),
// the departments' fee assessments, the website's complaints, the window printer (it receives
// the payment notices) and the bank's terminal (it pays them, signed). Departments with their
// own systems (--adapters) answer through their adapters and simulators instead.
//
// Business time runs `rate` times as fast as the wall clock from `--at` (Unix seconds) on,
// starting at --date --start: the hub must run with the same hub.business_clock. Planted
// along the way: backlog cases accepted long ago and still open (they are overdue: red
// alerts), a terminal that sends one payment twice (the bank's serial is the same: recorded
// once), and with --poison one application for an item the catalog does not have.
//
// At the end it writes, into --out: statement-<date>.csv (the bank's statement of the day, for
// `onewindow fees reconcile`) and plan.json (what was sent: cases per department and category,
// the overdue cases, payments), and prints the plan's totals as one JSON line.
//
//   ow-workday --hub http://127.0.0.1:8080 --token T --terminal-key K [--terminal ID]
//              [--cases 300] [--date 2026-03-02] [--start 09:00] [--end 16:30] [--rate 600]
//              [--at UNIX_S] [--overdue 3] [--adapters industry-commerce,...] [--poison]
//              [--seed 1] [--port 0] [--port-file F] [--out DIR]
//              [--catalog config/catalog] [--units config/units.yaml] [--calendar config/calendar]
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugins/cases/calendar/CalendarFiles.h"
#include "plugins/cases/catalog/CatalogFiles.h"
#include "plugins/cases/data/Rfc3339.h"
#include "tests/support/HttpClient.h"
#include "tests/support/Simulator.h"

using namespace ow::cases;
using nlohmann::json;
using Clock = std::chrono::system_clock;

namespace {

struct Arguments {
    std::string hub, token, terminal = "cib-terminal-01", terminalKey;
    int cases = 300, overdue = 3, port = 0;
    std::string date = "2026-03-02", start = "09:00", end = "16:30";
    double rate = 600;
    std::int64_t at = 0;
    std::set<std::string> adapters = {"industry-commerce", "public-security", "land-resources"};
    bool poison = false;
    unsigned seed = 1;
    std::string portFile, out = ".";
    std::string catalog = "config/catalog", units = "config/units.yaml",
                calendar = "config/calendar";
    /// Each unit posts its own fee events on its own channel with its own token,
    /// <dir>/dept-<id>.token; without it they go with --token to the platform's path.
    std::string departmentTokens;
};

Arguments parse(int argc, char** argv) {
    Arguments a;
    ow::testkit::SimulatorOptions o(
        "ow-workday",
        "ow-workday --hub URL --token T --terminal-key K [--terminal ID] [--cases N]\n"
        "           [--date YYYY-MM-DD] [--start HH:MM] [--end HH:MM] [--rate R] [--at UNIX_S]\n"
        "           [--overdue N] [--adapters a,b,...] [--poison] [--seed S] [--port P]\n"
        "           [--port-file F] [--out DIR] [--catalog DIR] [--units FILE] [--calendar DIR]\n"
        "           [--department-tokens DIR]");
    o.parse(argc, argv, [&](const std::string& n) {
        if (n == "--hub")
            a.hub = o.text();
        else if (n == "--token")
            a.token = o.text();
        else if (n == "--terminal")
            a.terminal = o.text();
        else if (n == "--terminal-key")
            a.terminalKey = o.text();
        else if (n == "--cases")
            a.cases = o.number();
        else if (n == "--overdue")
            a.overdue = o.number();
        else if (n == "--date")
            a.date = o.text();
        else if (n == "--start")
            a.start = o.text();
        else if (n == "--end")
            a.end = o.text();
        else if (n == "--rate")
            a.rate = o.number();
        else if (n == "--at")
            a.at = std::stoll(o.text());
        else if (n == "--adapters") {
            a.adapters.clear();
            std::stringstream list(o.text());
            for (std::string d; std::getline(list, d, ',');)
                if (!d.empty()) a.adapters.insert(d);
        } else if (n == "--poison")
            a.poison = true;
        else if (n == "--seed")
            a.seed = static_cast<unsigned>(o.number());
        else if (n == "--port")
            a.port = o.number();
        else if (n == "--port-file")
            a.portFile = o.text();
        else if (n == "--out")
            a.out = o.text();
        else if (n == "--catalog")
            a.catalog = o.text();
        else if (n == "--units")
            a.units = o.text();
        else if (n == "--calendar")
            a.calendar = o.text();
        else if (n == "--department-tokens")
            a.departmentTokens = o.text();
        else
            return false;
        return true;
    });
    if (a.hub.empty() || a.token.empty() || a.terminalKey.empty())
        o.fail("--hub, --token and --terminal-key are required");
    if (a.cases < 1 || a.rate < 1 || a.overdue < 0) o.fail("--cases >= 1, --rate >= 1");
    while (!a.hub.empty() && a.hub.back() == '/')
        a.hub.pop_back();
    return a;
}

std::int64_t wallMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
        .count();
}

std::string base64(const unsigned char* data, unsigned n) {
    std::string out(4 * ((n + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
    return out;
}

/// One thing the day does at a business instant: post `event` to `path` (as the platform, or
/// signed as the terminal).
/// The HMAC key a terminal's secret stands for: a Standard Webhooks secret (whsec_<base64>)
/// is its decoded bytes, any other text the text itself (as the hub reads its keys).
std::string hmacKey(const std::string& secret) {
    if (secret.rfind("whsec_", 0) != 0) return secret;
    const std::string b64 = secret.substr(6);
    std::string out(b64.size(), '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(b64.data()),
                                  static_cast<int>(b64.size()));
    if (n < 0) throw std::runtime_error("the terminal key is not whsec_<base64>");
    const auto pad = static_cast<std::size_t>(
        std::count(b64.end() - std::min<std::size_t>(2, b64.size()), b64.end(), '='));
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
}

struct Action {
    Instant at = 0;
    std::uint64_t order = 0; ///< ties keep the order they were planned in (a case's sequence)
    std::string path;
    json event;
    bool signedByTerminal = false;
    std::string token; ///< "" = the platform's
    int copies = 1;    ///< >1: the same request again (a terminal's network retry)
    bool operator>(const Action& o) const { return at != o.at ? at > o.at : order > o.order; }
};

class WorkingDay {
public:
    WorkingDay(const Arguments& a, const Catalog& catalog, const WorkCalendar& cal)
        : a_(a), catalog_(catalog), cal_(cal), rng_(a.seed) {
        const auto day = WorkCalendar::dayFromCivil(
            std::stoi(a.date.substr(0, 4)), static_cast<unsigned>(std::stoi(a.date.substr(5, 2))),
            static_cast<unsigned>(std::stoi(a.date.substr(8, 2))));
        if (!cal.isWorkingDay(day)) throw std::runtime_error(a.date + " is not a working day");
        const auto offset = cal.hours().utcOffsetMinutes;
        char sign = offset < 0 ? '-' : '+';
        char zone[32];
        std::snprintf(zone, sizeof zone, "%c%02d:%02d", sign, std::abs(offset) / 60,
                      std::abs(offset) % 60);
        auto at = [&](const std::string& hhmm) {
            const auto t = parseRfc3339(a.date + "T" + hhmm + ":00" + zone);
            if (!t) throw std::runtime_error("bad time " + hhmm);
            return *t;
        };
        start_ = at(a.start);
        end_ = at(a.end);
        if (end_ <= start_) throw std::runtime_error("--end must be after --start");
        wallStart_ = a.at > 0 ? a.at * 1000 : wallMs();
        for (const auto& item : catalog.items())
            byHandling_[item.handling].push_back(&item);
    }

    /// Business time now, on the hub's accelerated clock.
    [[nodiscard]] Instant now() const {
        return start_ + static_cast<Instant>(static_cast<double>(wallMs() - wallStart_) * a_.rate);
    }
    [[nodiscard]] std::int64_t wallAt(Instant business) const {
        return wallStart_ +
               static_cast<std::int64_t>(static_cast<double>(business - start_) / a_.rate);
    }

    void plan() {
        // Every category at least once, then the hall's mix (busy departments more often).
        std::vector<const ServiceItem*> weighted;
        for (const auto& item : catalog_.items()) {
            const bool busy = a_.adapters.count(item.department) > 0 ||
                              item.department == "planning-construction";
            for (int w = 0; w < (busy ? 4 : 1); ++w)
                weighted.push_back(&item);
        }
        std::vector<const ServiceItem*> firsts;
        for (const auto& [handling, items] : byHandling_)
            firsts.push_back(items[pick(items.size())]);
        for (const auto* joint : {catalog_.item("350581003785042N000109")})
            if (joint) firsts.push_back(joint);
        for (int n = 1; n <= a_.cases; ++n) {
            const ServiceItem& item = static_cast<std::size_t>(n) <= firsts.size()
                                          ? *firsts[static_cast<std::size_t>(n) - 1]
                                          : *weighted[pick(weighted.size())];
            planCase(n, item);
        }
        planBacklog();
        for (int c = 1; c <= 3; ++c) {
            const Instant t = start_ + (end_ - start_) * c / 4;
            schedule(t, "/v1/platform/events",
                     event("complaint-" + std::to_string(c), "/website",
                           "gov.supervision.complaint_received", "", "",
                           {{"channel", "website"},
                            {"content", "窗口人员答复不清楚，要求说明办理时限"},
                            {"occurred_at", formatRfc3339(t, offset())}}));
        }
        if (a_.poison) {
            // An item the catalog does not have: the platform's checks or the department
            // refuse it; it must end in the dead-letter queue, not anywhere else.
            const Instant t = start_ + (end_ - start_) / 2;
            const std::string no = caseNumber(99999);
            schedule(t, "/v1/platform/events",
                     event(no + "-accepted", "/intranet-platform", "gov.case.accepted", no,
                           "industry-commerce",
                           {{"item_code", "350581003785001X999999"},
                            {"applicant", {{"type", "company"}, {"name", "石狮市某某公司"}}},
                            {"occurred_at", formatRfc3339(t, offset())}}));
            plan_["poison"].push_back(no);
        }
    }

    /// Sends what is due until the day is planned out and every notice paid (or stop).
    void run(const std::atomic<bool>& stop) {
        std::unique_lock lock(mu_);
        while (!stop) {
            if (queue_.empty()) {
                if (now() > end_ && notices_.empty()) break;
                cv_.wait_for(lock, std::chrono::milliseconds(200));
                continue;
            }
            const std::int64_t due = wallAt(queue_.top().at);
            if (due > wallMs()) {
                cv_.wait_for(
                    lock, std::chrono::milliseconds(std::min<std::int64_t>(due - wallMs(), 200)));
                continue;
            }
            Action action = queue_.top();
            queue_.pop();
            lock.unlock();
            send(action, stop);
            lock.lock();
        }
    }

    /// The window printer: a notice (or a revision of it) to be paid.
    ow::testkit::Reply printed(const ow::testkit::ReceivedRequest& q) {
        ow::testkit::Reply r;
        const json e = json::parse(q.body, nullptr, false);
        if (!e.is_object() || !e.contains("data") || !e["data"].is_object()) {
            r.status = 400;
            r.body = "a structured CloudEvent is expected";
            return r;
        }
        const json& d = e["data"];
        const std::string type = e.value("type", "");
        std::lock_guard lock(mu_);
        const std::string no = d.value("notice_no", "");
        if (type == "gov.fee.notice_cancelled") {
            notices_.erase(no);
        } else if (type == "gov.fee.notice_issued" && !no.empty()) {
            const bool first = notices_.count(no) == 0 && paid_.count(no) == 0;
            auto& n = notices_[no];
            if (!n.is_object() || d.value("revision", 0) >= n.value("revision", 0)) n = d;
            if (first) {
                // The applicant walks to the terminal a quarter of an hour later (business
                // time), when every department's assessment is on the notice.
                Action pay;
                pay.at = now() + 15 * 60000LL;
                pay.order = order_++;
                pay.path = "pay:" + no;
                queue_.push(std::move(pay));
                cv_.notify_all();
            }
        }
        return r;
    }

    void finish() {
        std::lock_guard lock(mu_);
        std::filesystem::create_directories(a_.out);
        // The bank's statement of the day: what the terminal took, once per transaction.
        std::ofstream csv(a_.out + "/statement-" + a_.date + ".csv");
        csv << "notice_no,bank_serial,amount,bank_code,channel,paid_at\n";
        for (const auto& p : plan_["payments"])
            csv << p["notice_no"].get<std::string>() << "," << p["bank_serial"].get<std::string>()
                << "," << p["amount_fen"].get<long long>() << ",CIB,card,"
                << p["paid_at"].get<std::string>() << "\n";
        plan_["unpaid_notices"] = json::array();
        for (const auto& [no, _] : notices_)
            plan_["unpaid_notices"].push_back(no);
        plan_["sent"] = sent_;
        plan_["refused"] = refused_;
        std::ofstream(a_.out + "/plan.json") << plan_.dump(1) << "\n";
    }

    [[nodiscard]] json totals() const {
        json t = {{"cases", plan_["cases"].size()},
                  {"overdue", plan_["overdue"].size()},
                  {"payments", plan_["payments"].size()},
                  {"sent", sent_},
                  {"refused", refused_},
                  {"unpaid_notices", plan_.value("unpaid_notices", json::array()).size()}};
        json perCategory = json::object();
        for (const auto& c : plan_["cases"])
            perCategory[c["handling"].get<std::string>()] =
                perCategory.value(c["handling"].get<std::string>(), 0) + 1;
        t["categories"] = perCategory;
        return t;
    }

private:
    [[nodiscard]] int offset() const { return cal_.hours().utcOffsetMinutes; }
    std::size_t pick(std::size_t n) { return n == 0 ? 0 : rng_() % n; }
    bool chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }
    Instant minutes(int lo, int hi) {
        return (lo + static_cast<int>(pick(static_cast<std::size_t>(hi - lo + 1)))) * 60000LL;
    }

    std::string caseNumber(int n) const {
        std::string d = a_.date;
        d.erase(std::remove(d.begin(), d.end(), '-'), d.end());
        char no[48];
        std::snprintf(no, sizeof no, "350581%s%06d", d.c_str(), n);
        return no;
    }

    static json event(const std::string& id, const std::string& source, const std::string& type,
                      const std::string& subject, const std::string& department, json data) {
        json e = {{"specversion", "1.0"},
                  {"id", id},
                  {"source", source},
                  {"type", type},
                  {"datacontenttype", "application/json"},
                  {"data", std::move(data)}};
        if (!subject.empty()) e["subject"] = subject;
        if (!department.empty()) e["department"] = department;
        return e;
    }

    void schedule(Instant at, std::string path, json e, bool signedByTerminal = false,
                  std::string token = "") {
        Action x;
        x.at = at;
        x.order = order_++;
        x.path = std::move(path);
        x.event = std::move(e);
        x.signedByTerminal = signedByTerminal;
        x.token = std::move(token);
        queue_.push(std::move(x));
    }

    /// A unit's own channel and token for what it sends itself (its fee assessments), or
    /// the platform's path when no unit tokens were given.
    std::pair<std::string, std::string> channelOf(const std::string& unit) {
        if (a_.departmentTokens.empty()) return {"/v1/platform/events", ""};
        auto it = unitTokens_.find(unit);
        if (it == unitTokens_.end()) {
            const std::string file = a_.departmentTokens + "/dept-" + unit + ".token";
            std::ifstream in(file);
            std::string token;
            if (!std::getline(in, token) || token.empty())
                throw std::runtime_error("cannot read the token of " + unit + " from " + file);
            it = unitTokens_.emplace(unit, token).first;
        }
        return {"/v1/departments/events", it->second};
    }

    // --- realistic applicants: every person has a name, a resident ID number (valid check
    // digit) and a mobile; every company a contact person with a mobile.
    std::string personName() {
        static const char* surnames[] = {"陈", "林", "黄", "张", "李",
                                         "王", "吴", "蔡", "许", "郑"};
        static const char* given[] = {"志明", "秀英", "建华", "丽娟", "伟", "芳",
                                      "文杰", "淑珍", "国强", "美玲", "宏", "静"};
        return std::string(surnames[pick(std::size(surnames))]) + given[pick(std::size(given))];
    }
    std::string residentId() {
        char body[18];
        std::snprintf(body, sizeof body, "350581%04d%02d%02d%03d",
                      1950 + static_cast<int>(pick(55)), 1 + static_cast<int>(pick(12)),
                      1 + static_cast<int>(pick(28)), static_cast<int>(pick(1000)));
        static const int weights[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
        int sum = 0;
        for (int i = 0; i < 17; ++i)
            sum += (body[i] - '0') * weights[i];
        return std::string(body, 17) + "10X98765432"[sum % 11];
    }
    std::string mobile() {
        static const char* prefixes[] = {"138", "139", "137", "135", "150", "159", "186", "189"};
        char rest[9];
        std::snprintf(rest, sizeof rest, "%08u", static_cast<unsigned>(pick(100000000)));
        return std::string(prefixes[pick(std::size(prefixes))]) + rest;
    }

    void planCase(int n, const ServiceItem& item) {
        const std::string no = caseNumber(n);
        int seq = 0;
        auto emit = [&](const std::string& type, Instant t, json data,
                        const std::string& source = "/intranet-platform") {
            data["case_no"] = no;
            data["item_code"] = item.code;
            data["occurred_at"] = formatRfc3339(t, offset());
            schedule(t, "/v1/platform/events",
                     event(no + "-" + std::to_string(++seq), source, "gov.case." + type, no,
                           item.department, std::move(data)));
        };
        Instant t = start_ + static_cast<Instant>(pick(static_cast<std::size_t>(
                                 std::max<Instant>(1, (end_ - start_) * 3 / 4))));
        const bool company = chance(60);
        const std::string person = personName();
        char uscc[24];
        std::snprintf(uscc, sizeof uscc, "91350581MA%08dQ", n);
        const json applicant = company
                                   ? json{{"type", "company"},
                                          {"name", "石狮市" + std::to_string(n) + "号服装有限公司"},
                                          {"id_type", "统一社会信用代码"},
                                          {"id_no", uscc}}
                                   : json{{"type", "person"},
                                          {"name", person},
                                          {"id_type", "居民身份证"},
                                          {"id_no", residentId()},
                                          {"mobile", mobile()}};
        const json contact = {
            {"name", company ? personName() : person},
            {"mobile", company ? mobile() : applicant["mobile"].get<std::string>()}};
        emit("submitted", t,
             {{"item_name", item.name}, {"applicant", applicant}, {"contact", contact}});
        t += minutes(2, 10);
        emit("received", t,
             {{"item_name", item.name}, {"applicant", applicant}, {"contact", contact}});
        t += minutes(3, 15);
        // The applicant's password for the public progress query (on the acceptance notice).
        const std::string password = std::to_string(100000 + pick(900000));
        emit("accepted", t,
             {{"item_name", item.name},
              {"applicant", applicant},
              {"contact", contact},
              {"query_password", password}});
        json record = {{"case_no", no},
                       {"query_password", password},
                       {"item_code", item.code},
                       {"department", item.department},
                       {"handling", toString(item.handling)},
                       {"own_system", a_.adapters.count(item.department) > 0},
                       {"fee_departments", json::array()}};
        // Fees: each charging department assesses at its published standard.
        std::map<std::string, std::vector<const FeeItem*>> charges;
        if (!item.fees.empty()) charges[item.department].push_back(&item.fees.front());
        if (item.code == "350581003785042N000109") {
            // The joint property transfer: each co-department charges its own published fee.
            for (const auto& other : catalog_.items())
                if (!other.fees.empty() &&
                    std::any_of(
                        item.joint.begin(), item.joint.end(),
                        [&](const JointPart& p) { return p.department == other.department; }) &&
                    charges.count(other.department) == 0)
                    charges[other.department].push_back(&other.fees.front());
        }
        for (const auto& [dept, fees] : charges) {
            json lines = json::array();
            long long total = 0;
            for (const auto* f : fees) {
                lines.push_back({{"code", f->code},
                                 {"quantity", 1},
                                 {"standard_fen", f->standardFen},
                                 {"amount_fen", f->standardFen}});
                total += f->standardFen;
            }
            t += minutes(1, 5);
            auto [path, token] = channelOf(dept);
            schedule(t, path,
                     event(no + "-fee-" + dept, "dept:" + dept, "gov.fee.assessed", no, dept,
                           {{"case_no", no},
                            {"department", dept},
                            {"item_code", item.code},
                            {"charge_id", no + "-" + dept},
                            {"lines", lines},
                            {"total_fen", total},
                            {"data_version", 1}}),
                     false, token);
            record["fee_departments"].push_back(dept);
        }
        plan_["cases"].push_back(record);
        if (a_.adapters.count(item.department)) return; // its own system answers
        // The platform's approval module, for departments without a system of their own: the
        // steps take business minutes, not days, so the day's cases conclude within the day.
        for (const auto& part : item.joint) {
            emit("joint_task_dispatched", t + minutes(1, 5), {{"co_department", part.department}});
            emit("joint_task_completed", t + minutes(20, 40), {{"co_department", part.department}});
        }
        if (!item.joint.empty()) t += minutes(41, 45);
        if (chance(8)) {
            t += minutes(5, 20);
            emit("supplement_requested", t, {{"phase", "post"}, {"reason", "需补充说明材料"}});
            t += minutes(20, 60);
            emit("supplement_received", t, {});
        }
        for (const auto& step : item.steps) {
            t += minutes(3, 20);
            emit("step_completed", t, {{"step_code", step.code}, {"decision", "agree"}});
        }
        if (item.handling == HandlingType::Reported) {
            t += minutes(5, 20);
            emit("forwarded", t, {{"higher_authority", item.reportedTo}});
            t += minutes(30, 60);
            emit("higher_authority_replied", t, {});
        }
        const bool returned = chance(4);
        t += minutes(3, 15);
        emit("decided", t,
             returned ? json{{"decision", "refuse"}, {"reason", "不符合法定条件"}}
                      : json{{"decision", "approve"}});
        t += minutes(2, 10);
        const bool byPost = !returned && chance(30);
        json concluded = returned ? json{{"result_code", 1}, {"reason", "不符合法定条件"}}
                                  : json{{"result_code", 0}};
        if (byPost) {
            concluded["delivery_way"] = "post";
            concluded["delivery"] = {
                {"name", contact["name"]},
                {"mobile", contact["mobile"]},
                {"address", "福建省石狮市湖滨街道" + std::to_string(n) + "号"}};
        }
        emit("concluded", t, concluded);
    }

    /// Cases accepted some working days ago at departments that approve on the platform, still
    /// open today although their promise has passed: each is overdue.
    void planBacklog() {
        std::vector<const ServiceItem*> promised;
        for (const auto* item : byHandling_[HandlingType::Promised])
            if (a_.adapters.count(item->department) == 0 && item->fees.empty() &&
                item->promisedLimit.unit == LimitUnit::WorkingDays &&
                item->promisedLimit.days > 0 && item->promisedLimit.days <= 10)
                promised.push_back(item);
        if (promised.empty()) return;
        const auto today = cal_.dayOf(start_);
        for (int k = 1; k <= a_.overdue; ++k) {
            const ServiceItem& item = *promised[pick(promised.size())];
            // Accepted (promise + 3) working days before today, at 10:00.
            auto day = today;
            for (int back = 0; back < item.promisedLimit.days + 3;)
                if (cal_.isWorkingDay(--day)) ++back;
            const Instant acceptedAt = cal_.closeOf(day) - 7 * 3600000LL - 30 * 60000LL;
            const std::string no = caseNumber(90000 + k);
            const std::string name = personName();
            json data = {{"case_no", no},
                         {"item_code", item.code},
                         {"item_name", item.name},
                         {"applicant",
                          {{"type", "person"},
                           {"name", name},
                           {"id_type", "居民身份证"},
                           {"id_no", residentId()},
                           {"mobile", mobile()}}},
                         {"query_password", "246810"}};
            int seq = 0;
            for (const char* type : {"received", "accepted"}) {
                data["occurred_at"] = formatRfc3339(acceptedAt, offset());
                schedule(start_ + k * 60000LL, "/v1/platform/events",
                         event(no + "-" + std::to_string(++seq), "/intranet-platform",
                               std::string("gov.case.") + type, no, item.department, data));
            }
            plan_["overdue"].push_back({{"case_no", no},
                                        {"item_code", item.code},
                                        {"department", item.department},
                                        {"accepted_at", formatRfc3339(acceptedAt, offset())}});
        }
    }

    void send(Action& x, const std::atomic<bool>& stop) {
        if (x.path.rfind("pay:", 0) == 0 && !preparePayment(x)) return;
        const std::string body = x.event.dump();
        ow::testkit::Headers headers = {{"Content-Type", "application/cloudevents+json"}};
        if (x.signedByTerminal) {
            const std::string id = x.event["id"], ts = std::to_string(wallMs() / 1000);
            const std::string content = id + "." + ts + "." + body;
            const std::string key = hmacKey(a_.terminalKey);
            unsigned char mac[EVP_MAX_MD_SIZE];
            unsigned n = 0;
            HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                 reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &n);
            headers.insert(headers.end(), {{"webhook-id", id},
                                           {"webhook-timestamp", ts},
                                           {"webhook-signature", "v1," + base64(mac, n)}});
        } else {
            headers.emplace_back("Authorization",
                                 "Bearer " + (x.token.empty() ? a_.token : x.token));
        }
        for (int copy = 0; copy < x.copies; ++copy) {
            if (x.signedByTerminal && copy > 0) {
                // The terminal's second message about the same bank transaction: a new
                // message id, the same bank serial.
                x.event["id"] = x.event["id"].get<std::string>() + "-again";
                send(x.event, stop);
                continue;
            }
            postUntilAnswered(x.path, body, headers, stop);
        }
    }

    void send(json& e, const std::atomic<bool>& stop) {
        Action again;
        again.path = "/v1/payments";
        again.event = e;
        again.signedByTerminal = true;
        send(again, stop);
    }

    /// Retries until the hub answers (it may be starting, or restarting): a 2xx or a 4xx is
    /// an answer; a 4xx is counted as refused.
    void postUntilAnswered(const std::string& path, const std::string& body,
                           const ow::testkit::Headers& headers, const std::atomic<bool>& stop) {
        for (int attempt = 0; !stop; ++attempt) {
            try {
                const auto r = ow::testkit::httpRequest("POST", a_.hub + path, body, headers,
                                                        std::chrono::seconds(10));
                if (r.status >= 200 && r.status < 300) {
                    ++sent_;
                    return;
                }
                if (r.status >= 400 && r.status < 500 && r.status != 408 && r.status != 429) {
                    ++refused_;
                    std::cerr << "ow-workday: " << path << " refused " << r.status << ": "
                              << r.body.substr(0, 300) << "\n";
                    return;
                }
            } catch (const std::exception& e) {
                if (attempt % 20 == 0)
                    std::cerr << "ow-workday: cannot reach the hub (" << e.what()
                              << "), retrying\n";
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(250)); // a retry's backoff
        }
    }

    /// The payment for a printed notice, at its latest revision; the first one is sent twice.
    bool preparePayment(Action& x) {
        std::lock_guard lock(mu_);
        const std::string no = x.path.substr(4);
        const auto it = notices_.find(no);
        if (it == notices_.end()) return false; // cancelled meanwhile
        const json notice = it->second;
        notices_.erase(it);
        paid_.insert(no);
        char serial[64];
        std::snprintf(serial, sizeof serial, "CIB%s%06zu", a_.date.c_str(), paid_.size());
        const Instant at = now();
        json payment = {{"notice_no", no},
                        {"check_code", notice.value("check_code", "")},
                        {"amount_fen", notice.value("total_fen", 0LL)},
                        {"late_fee_fen", 0},
                        {"bank_code", "CIB"},
                        {"bank_serial", serial},
                        {"channel", "card"},
                        {"paid_at", formatRfc3339(at, offset())}};
        x.event = event("pay-" + std::string(serial), "bank:" + a_.terminal, "gov.fee.paid", "", "",
                        payment);
        x.path = "/v1/payments";
        x.signedByTerminal = true;
        x.copies = paid_.size() == 1 ? 2 : 1;
        plan_["payments"].push_back(payment);
        return true;
    }

    const Arguments& a_;
    const Catalog& catalog_;
    const WorkCalendar& cal_;
    std::mt19937 rng_;
    std::map<HandlingType, std::vector<const ServiceItem*>> byHandling_;
    Instant start_ = 0, end_ = 0;
    std::int64_t wallStart_ = 0;
    std::mutex mu_;
    std::condition_variable cv_;
    std::priority_queue<Action, std::vector<Action>, std::greater<>> queue_;
    std::uint64_t order_ = 0;
    std::map<std::string, json> notices_;           ///< printed, not paid yet
    std::map<std::string, std::string> unitTokens_; ///< unit -> its channel's token
    std::set<std::string> paid_;
    json plan_ = {{"cases", json::array()},
                  {"overdue", json::array()},
                  {"payments", json::array()},
                  {"poison", json::array()}};
    int sent_ = 0, refused_ = 0;
};

} // namespace

int main(int argc, char** argv) {
    const Arguments a = parse(argc, argv);
    const sigset_t stopSignals = ow::testkit::blockStopSignals();
    try {
        const auto catalog = loadCatalog(a.catalog, a.units);
        const auto cal = loadCalendar(a.calendar, BusinessHours{});
        WorkingDay day(a, catalog, cal);
        day.plan();
        ow::testkit::ReceiverOptions options;
        options.port = static_cast<std::uint16_t>(a.port);
        options.keepRequests = false;
        ow::testkit::Receiver printer(options);
        printer.setReply([&](const ow::testkit::ReceivedRequest& q, int) {
            try {
                return day.printed(q);
            } catch (const std::exception& e) {
                ow::testkit::Reply r;
                r.status = 400;
                r.body = e.what();
                return r;
            }
        });
        if (!a.portFile.empty()) {
            std::ofstream(a.portFile + ".tmp") << printer.port() << "\n";
            std::filesystem::rename(a.portFile + ".tmp", a.portFile);
        }
        std::cerr << "ow-workday: " << a.cases << " cases, the window printer at "
                  << printer.url("/notices") << std::endl;
        std::atomic<bool> stop{false};
        std::thread signals([&] {
            int s = 0;
            sigwait(&stopSignals, &s);
            stop = true;
        });
        day.run(stop);
        day.finish();
        if (!stop) pthread_kill(signals.native_handle(), SIGTERM);
        signals.join();
        printer.stop();
        std::cout << day.totals().dump() << std::endl;
    } catch (const std::exception& e) {
        std::cerr << "ow-workday: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
