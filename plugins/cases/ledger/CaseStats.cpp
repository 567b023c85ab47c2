#include "plugins/cases/ledger/CaseStats.h"

#include "plugins/cases/data/Rfc3339.h"

namespace ow::cases {

Contributions contributionsOf(const CaseView& v, const CaseRecord& r, const WorkCalendar& cal) {
    Contributions out;
    const std::string dept = v.department.empty() ? "-" : v.department;
    const std::string item = v.itemCode.empty() ? "-" : v.itemCode;
    auto add = [&](Instant at, const char* metric, std::int64_t n = 1) {
        const std::string month = formatRfc3339(at, cal.hours().utcOffsetMinutes).substr(0, 7);
        out[month + "/" + dept + "/" + item][metric] += n;
    };
    if (auto first = v.receivedAt ? v.receivedAt : v.acceptedAt) add(*first, "received");
    if (v.acceptedAt) add(*v.acceptedAt, "accepted");
    if (v.state == CaseState::NotAccepted && v.endedAt) add(*v.endedAt, "not_accepted");
    if (v.concludedAt) {
        add(*v.concludedAt, "concluded");
        if (v.resultCode == 1) add(*v.concludedAt, "returned");
        if (auto clock = v.caseClock()) {
            const auto due = dueOf(cal, *clock);
            add(*v.concludedAt, !due || *v.concludedAt <= *due ? "on_time" : "overdue");
            add(*v.concludedAt, "days_sum", cal.workingDaysBetween(clock->start, *v.concludedAt));
        }
    }
    for (Instant at : v.supplementRequests)
        add(at, "supplement_rounds");
    for (const auto& [level, at] : r.alertLog) {
        if (level == "yellow") add(at, "yellow_alerts");
        if (level == "red") add(at, "red_alerts");
    }
    return out;
}

nlohmann::json statsColumns() {
    auto col = [](const char* key, const char* label, bool chart = false) {
        nlohmann::json c = {{"key", key}, {"label", label}};
        if (chart) c["chart"] = true;
        return c;
    };
    return {{"group",
             {{{"key", "department_name"}, {"label", "部门"}},
              {{"key", "item_name"}, {"label", "事项"}},
              {{"key", "item_code"}, {"label", "事项编码"}}}},
            {"columns",
             {col("received", "收件", true),
              col("accepted", "受理"),
              col("not_accepted", "不予受理"),
              col("concluded", "办结", true),
              col("on_time", "按时办结", true),
              col("overdue", "超期办结", true),
              col("returned", "退回"),
              col("supplement_rounds", "补正次数"),
              col("yellow_alerts", "黄灯", true),
              col("red_alerts", "红灯", true),
              {{"key", "avg_working_days"},
               {"label", "平均办结工作日"},
               {"ratio", {"days_sum", "concluded"}}}}}};
}

} // namespace ow::cases
