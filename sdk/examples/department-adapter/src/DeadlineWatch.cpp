#include "DeadlineWatch.h"

#include "Json.h"

namespace dept_market {
namespace sdk = onewindow::sdk;

namespace {

// State key of a watched case: its due time (epoch ms). Present exactly while the timer is.
std::string dueKey(const std::string& caseNo) {
    return "due/" + caseNo;
}

} // namespace

sdk::ConfigSpec DeadlineWatch::spec() {
    return sdk::ConfigSpec("Raises a supervision alert when an accepted case is not concluded "
                           "within the promised time limit.")
        .field(sdk::Field::integer(FieldLimitHours)
                   .defaultsTo(DefaultLimitHours)
                   .range(1, 8760)
                   .describe("Promised limit, in hours from acceptance"));
}

DeadlineWatch::DeadlineWatch(sdk::Services& services)
    : services_(services),
      limitMs_(services.config.get<std::int64_t>(FieldLimitHours, DefaultLimitHours) * 3600 *
               1000) {}

sdk::Result DeadlineWatch::process(const sdk::Event& event, sdk::ProcessContext& ctx) {
    const bool starts = event.type == "gov.case.accepted";
    const bool stops = event.type == "gov.case.concluded" || event.type == "gov.case.withdrawn" ||
                       event.type == "gov.case.terminated";
    if (!starts && !stops) return sdk::Result::ok(); // other case events do not move the clock
    if (event.subject.empty()) return sdk::Result::reject("a case event without a case number");

    if (stops) {
        ctx.cancelTimer(event.subject);
        ctx.erase(dueKey(event.subject));
        return sdk::Result::ok();
    }
    // A repeated acceptance (a resend, a correction) keeps the first due time: the promise
    // runs from the first acceptance.
    if (ctx.get(dueKey(event.subject))) return sdk::Result::ok();
    std::string itemCode;
    if (auto it = event.extensions.find("itemcode"); it != event.extensions.end())
        itemCode = it->second;
    // The hub's clock, not the event's time: a test's fake clock then drives it, and an event
    // routed late after a restart does not raise an alert on arrival.
    const std::int64_t due = services_.clock.nowMs() + limitMs_;
    ctx.put(dueKey(event.subject), std::to_string(due));
    ctx.setTimer(event.subject, due, itemCode);
    return sdk::Result::ok();
}

sdk::Result DeadlineWatch::onTimer(const std::string& caseNo, const std::string& itemCode,
                                   sdk::ProcessContext& ctx) {
    const auto due = ctx.get(dueKey(caseNo));
    if (!due) return sdk::Result::ok(); // concluded meanwhile
    ctx.erase(dueKey(caseNo));

    sdk::Event alert;
    // Derived from the case, so an alert raised again after a crash has the same identity and
    // the hub's deduplication drops the copy.
    alert.id = "dept-market-overdue-" + caseNo;
    alert.source = "/plugins/dept-market/" + services_.instance;
    alert.type = AlertType;
    alert.subject = caseNo;
    alert.dataContentType = "application/json";
    alert.extensions["department"] = "market";
    alert.extensions["alertlevel"] = "red";
    if (!itemCode.empty()) alert.extensions["itemcode"] = itemCode;
    // The fields the event catalog's gov.supervision.alert requires (the SDK's
    // share/onewindow/catalog/gov.supervision.md), and the deadline it was about.
    alert.data = "{\"alert_id\":" + json::quote(caseNo + "/promised_limit/red") +
                 ",\"case_no\":" + json::quote(caseNo) +
                 ",\"rule\":\"promised_limit\",\"level\":\"red\",\"message\":" +
                 json::quote("办件" + caseNo + "承诺时限已届满") + ",\"due_ms\":" + *due + "}";
    ctx.emit(std::move(alert));
    services_.log.warn("case " + caseNo + " passed its promised limit");
    return sdk::Result::ok();
}

} // namespace dept_market
