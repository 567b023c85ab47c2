#include "plugins/cases/ledger/CaseLedger.h"

#include <algorithm>
#include <set>

#include "plugins/cases/data/Rfc3339.h"
#include "plugins/cases/ledger/CaseEvents.h"
#include "plugins/cases/ledger/CaseStats.h"
#include "plugins/cases/ledger/PublicView.h"

namespace ow::cases {
namespace sdk = onewindow::sdk;

namespace {

const char* const TimerPrefix = "case/";

std::optional<CaseRecord> load(sdk::ProcessContext& ctx, const std::string& caseNo) {
    auto text = ctx.get(CaseLedger::caseKey(caseNo));
    if (!text) return std::nullopt;
    return CaseRecord::fromJson(nlohmann::json::parse(*text));
}

/// Keeps the newest version of each fact; between two versions alike, the event with the
/// smaller id, so the outcome never depends on arrival order. False: nothing changed.
bool merge(CaseRecord& r, Fact f) {
    for (auto& existing : r.facts) {
        if (existing.key != f.key) continue;
        const bool newer = f.version > existing.version ||
                           (f.version == existing.version && f.event < existing.event);
        if (!newer) return false;
        existing = std::move(f);
        return true;
    }
    r.facts.push_back(std::move(f));
    return true;
}

} // namespace

CaseLedger::CaseLedger(const Catalog& catalog, const WorkCalendar& calendar,
                       LedgerSettings settings)
    : catalog_(catalog), cal_(calendar), s_(settings) {}

sdk::Result CaseLedger::process(const sdk::Event& e, sdk::ProcessContext& ctx, Instant now) {
    if (e.type.rfind("gov.fee.", 0) == 0) return feeEvent(e, ctx, now);
    auto read = readCaseEvent(e, now);
    if (std::holds_alternative<NotFollowed>(read)) return sdk::Result::ok();
    if (auto* why = std::get_if<std::string>(&read)) return sdk::Result::reject(*why);
    auto& [caseNo, fact] = std::get<CaseFact>(read);
    CaseRecord record = load(ctx, caseNo).value_or(CaseRecord{});
    record.caseNo = caseNo;
    if (!merge(record, std::move(fact))) {
        ++record.stale; // a repeat, or an older version of a fact the ledger has
        ctx.put(caseKey(caseNo), record.toJson().dump());
        return sdk::Result::ok();
    }
    settle(record, ctx, now);
    return sdk::Result::ok();
}

sdk::Result CaseLedger::feeEvent(const sdk::Event& e, sdk::ProcessContext& ctx, Instant now) {
    // The fee book's notices and splits (plugins/fees): what the case waits for, and when it
    // is paid. A terminal's own gov.fee.paid names only the notice and is not the ledger's.
    const auto reads = ledgerReads().find(e.type);
    const auto given = nlohmann::json::parse(e.data, nullptr, false);
    if (reads == ledgerReads().end() || !given.is_object()) return sdk::Result::ok();
    nlohmann::json d = onlyFieldsRead(given, reads->second);
    if (!d.contains("case_no") || !d["case_no"].is_string() || !d.contains("notice_no"))
        return sdk::Result::ok();
    std::string status;
    if (e.type == "gov.fee.notice_issued")
        status = "awaiting_payment";
    else if (e.type == "gov.fee.notice_cancelled")
        status = "cancelled";
    else if (e.type == "gov.fee.paid")
        status = "paid";
    else // gov.fee.payment_reversed, the last fee type of ledgerReads()
        status = "awaiting_payment";
    const std::string caseNo = d["case_no"];
    CaseRecord record = load(ctx, caseNo).value_or(CaseRecord{});
    record.caseNo = caseNo;
    auto& p = record.payment;
    // A later revision of another notice does not undo a paid one; a newer notice replaces.
    if (p.is_object() && p.value("status", "") == "paid" && p["notice_no"] == d["notice_no"] &&
        status != "paid" && e.type != "gov.fee.payment_reversed")
        return sdk::Result::ok();
    p = {{"status", status}, {"notice_no", d["notice_no"]}};
    if (d.contains("total_fen")) p["total_fen"] = d["total_fen"];
    if (d.contains("notice_total_fen")) p["total_fen"] = d["notice_total_fen"];
    if (d.contains("due_at")) p["due_at"] = d["due_at"];
    if (d.contains("paid_at") && status == "paid") p["paid_at"] = d["paid_at"];
    settle(record, ctx, now);
    return sdk::Result::ok();
}

sdk::Result CaseLedger::onTimer(const std::string& name, sdk::ProcessContext& ctx, Instant now) {
    if (name.rfind(TimerPrefix, 0) != 0)
        return sdk::Result::reject("not a case timer: '" + name + "'");
    auto record = load(ctx, name.substr(std::char_traits<char>::length(TimerPrefix)));
    if (!record) return sdk::Result::ok(); // the case is gone; nothing to watch
    record->wake.reset();                  // this timer has fired
    settle(*record, ctx, now);
    return sdk::Result::ok();
}

void CaseLedger::settle(CaseRecord& record, sdk::ProcessContext& ctx, Instant now) {
    const CaseView view = foldCase(record, catalog_, cal_, s_.rules, now);
    const auto watches = watchesOf(view, cal_, s_.rules);
    auto decision = evaluate(cal_, s_.alerts, watches, record.raised, now);
    // Clears first (an alert that moved may be raised again at once), each watch's from its
    // lowest level up; then raises in the order they fell due.
    auto levelRank = [](const std::string& id) {
        const std::string level = id.substr(id.rfind('/') + 1);
        for (Level l : {Level::Reminder, Level::Yellow, Level::Red, Level::Serious})
            if (level == toString(l)) return static_cast<int>(l);
        return 99;
    };
    std::stable_sort(decision.clear.begin(), decision.clear.end(),
                     [&](const Clear& a, const Clear& b) {
                         const auto wa = a.alertId.substr(0, a.alertId.rfind('/'));
                         const auto wb = b.alertId.substr(0, b.alertId.rfind('/'));
                         if (wa != wb) return wa < wb;
                         return levelRank(a.alertId) < levelRank(b.alertId);
                     });
    for (const auto& c : decision.clear) {
        auto it = record.raised.find(c.alertId);
        if (it == record.raised.end()) continue;
        ctx.emit(clearedEvent(view, c.alertId, it->second, c.reason, now));
        record.raised.erase(it);
    }
    std::stable_sort(decision.raise.begin(), decision.raise.end(),
                     [](const Raise& a, const Raise& b) {
                         return a.at != b.at ? a.at < b.at : a.level < b.level;
                     });
    for (const auto& r : decision.raise) {
        ctx.emit(alertEvent(view, r, now));
        record.raised[alertId(*r.watch, r.level)] = {now, r.watch->due.value_or(r.at)};
        record.alertLog.emplace_back(toString(r.level), now);
    }
    updateStats(view, record, ctx);
    const std::string timer = std::string(TimerPrefix) + record.caseNo;
    if (decision.wake != record.wake) {
        if (decision.wake)
            ctx.setTimer(timer, *decision.wake, "");
        else if (record.wake)
            ctx.cancelTimer(timer);
        record.wake = decision.wake;
    }
    ctx.put(caseKey(record.caseNo), record.toJson().dump());
    auto pub = publicView(view, catalog_, cal_);
    if (!record.payment.is_null()) pub["payment"] = record.payment;
    ctx.put(publicKey(record.caseNo), pub.dump());
}

void CaseLedger::updateStats(const CaseView& view, CaseRecord& record, sdk::ProcessContext& ctx) {
    if (!columnsWritten_) {
        // Once per start, until it is seen committed: the report reads the columns from here.
        const std::string columns = statsColumns().dump();
        if (ctx.get("stats/_columns") == columns)
            columnsWritten_ = true;
        else
            ctx.put("stats/_columns", columns);
    }
    auto next = contributionsOf(view, record, cal_);
    if (next == record.contributed) return;
    std::set<std::string> rows;
    for (const auto& [row, _] : next)
        rows.insert(row);
    for (const auto& [row, _] : record.contributed)
        rows.insert(row);
    for (const auto& row : rows) {
        const auto& after = next[row];
        const auto& before = record.contributed[row];
        std::map<std::string, std::int64_t> delta;
        for (const auto& [m, n] : after)
            delta[m] += n;
        for (const auto& [m, n] : before)
            delta[m] -= n;
        std::erase_if(delta, [](const auto& kv) { return kv.second == 0; });
        if (delta.empty()) continue;
        const std::string key = "stats/" + row;
        auto stored = ctx.get(key);
        nlohmann::json j = stored ? nlohmann::json::parse(*stored) : nlohmann::json::object();
        if (!stored) {
            // "2026-03/<department>/<item>": labels for the report, from the catalog.
            const auto a = row.find('/'), b = row.find('/', a + 1);
            j["month"] = row.substr(0, a);
            j["department"] = row.substr(a + 1, b - a - 1);
            j["item_code"] = row.substr(b + 1);
            if (const auto* u = catalog_.unit(j["department"])) j["department_name"] = u->name;
            if (const auto* i = catalog_.item(j["item_code"])) j["item_name"] = i->name;
        }
        for (const auto& [m, n] : delta)
            j[m] = j.value(m, std::int64_t{0}) + n;
        ctx.put(key, j.dump());
    }
    std::erase_if(next, [](const auto& kv) { return kv.second.empty(); });
    record.contributed = std::move(next);
}

sdk::Event CaseLedger::alertEvent(const CaseView& v, const Raise& r, Instant now) const {
    const int offset = cal_.hours().utcOffsetMinutes;
    const Watch& w = *r.watch;
    const std::string item = v.item ? v.item->name : v.itemCode;
    const std::string who = "办件" + v.caseNo + (item.empty() ? "" : "（" + item + "）");
    nlohmann::json d = {
        {"alert_id", v.caseNo + "/" + alertId(w, r.level)},
        {"case_no", v.caseNo},
        {"level", toString(r.level)},
        {"level_code", levelCode(r.level)},
        {"convention", s_.alerts.convention == Convention::Quanzhou ? "quanzhou" : "zhanjiang"},
        {"rule", w.rule},
        {"trigger", w.trigger},
        {"category", "01"}, // 时效异常
        {"watch", w.id},
        {"item_code", v.itemCode},
        {"department", v.department},
        {"state", toString(v.state)},
        {"alert_at", formatRfc3339(r.at, offset)},
        {"raised_at", formatRfc3339(now, offset)}};
    if (const auto* u = catalog_.unit(v.department)) d["department_name"] = u->name;
    if (!item.empty()) d["item_name"] = item;
    std::string message;
    switch (w.kind) {
    case WatchKind::Limit: {
        const std::string due = formatLocalMinute(*w.due, offset);
        d["due"] = formatRfc3339(*w.due, offset);
        message = r.at >= *w.due ? who + w.label + "已于" + due + "届满"
                                 : who + w.label + "将于" + due + "届满";
        break;
    }
    case WatchKind::Order:
        d["due"] = formatRfc3339(w.at, offset);
        message = who + "督办回复期限已于" + formatLocalMinute(w.at, offset) + "届满";
        break;
    case WatchKind::Violation:
        d["category"] = "02"; // 流程异常
        message = who + w.label;
        break;
    }
    d["message"] = message;
    sdk::Event e;
    e.type = "gov.supervision.alert";
    e.subject = v.caseNo;
    e.time = formatRfc3339(now, offset);
    if (!v.department.empty()) e.extensions["department"] = v.department;
    e.extensions["alertlevel"] = toString(r.level);
    e.data = d.dump();
    return e;
}

sdk::Event CaseLedger::clearedEvent(const CaseView& v, const std::string& id, const RaisedAlert& a,
                                    const std::string& reason, Instant now) const {
    const int offset = cal_.hours().utcOffsetMinutes;
    const std::string level = id.substr(id.rfind('/') + 1);
    nlohmann::json d = {{"alert_id", v.caseNo + "/" + id},
                        {"case_no", v.caseNo},
                        {"level", level},
                        {"watch", id.substr(0, id.rfind('/'))},
                        {"reason", reason},
                        {"state", toString(v.state)},
                        {"department", v.department},
                        {"raised_at", formatRfc3339(a.raisedAt, offset)},
                        {"cleared_at", formatRfc3339(now, offset)}};
    sdk::Event e;
    e.type = "gov.supervision.alert_cleared";
    e.subject = v.caseNo;
    e.time = formatRfc3339(now, offset);
    if (!v.department.empty()) e.extensions["department"] = v.department;
    e.extensions["alertlevel"] = level;
    e.data = d.dump();
    return e;
}

} // namespace ow::cases
