#include "plugins/cases/ledger/PublicView.h"

#include "plugins/cases/data/Rfc3339.h"

namespace ow::cases {

const char* statusText(CaseState s) {
    switch (s) {
    case CaseState::None:
        return "未登记";
    case CaseState::Submitted:
        return "已申报";
    case CaseState::Received:
        return "已收件";
    case CaseState::AwaitingSupplementPre:
        return "待补齐材料";
    case CaseState::Accepted:
        return "已受理";
    case CaseState::InReview:
        return "审查中";
    case CaseState::SupplementPending:
        return "待补正";
    case CaseState::Suspended:
        return "特别程序中";
    case CaseState::Forwarded:
        return "已转报上级机关";
    case CaseState::JointInProgress:
        return "联合办理中";
    case CaseState::Decided:
        return "已作出决定";
    case CaseState::Concluded:
        return "已办结";
    case CaseState::Delivered:
        return "已送达";
    case CaseState::NotAccepted:
        return "不予受理";
    case CaseState::Withdrawn:
        return "已撤回";
    case CaseState::Terminated:
        return "已终止";
    }
    return "";
}

nlohmann::json publicView(const CaseView& v, const Catalog& catalog, const WorkCalendar& cal) {
    const int offset = cal.hours().utcOffsetMinutes;
    auto time = [&](const std::optional<Instant>& t) {
        return t ? nlohmann::json(formatRfc3339(*t, offset)) : nlohmann::json(nullptr);
    };
    nlohmann::json j = {{"case_no", v.caseNo},
                        {"item_code", v.itemCode},
                        {"status", toString(v.state)},
                        {"status_text", statusText(v.state)},
                        {"received_at", time(v.receivedAt)},
                        {"accepted_at", time(v.acceptedAt)},
                        {"concluded_at", time(v.concludedAt)}};
    if (v.item) j["item_name"] = v.item->name;
    j["department"] = v.department;
    if (const auto* u = catalog.unit(v.department)) j["department_name"] = u->name;
    if (const auto* s = v.currentStep(); s && !isTerminal(v.state)) j["current_step"] = s->def.name;
    if (auto clock = v.caseClock(); clock && !isTerminal(v.state)) {
        auto due = dueOf(cal, *clock);
        j["promised_due"] = time(due);
        j["clock_paused"] = !due.has_value();
    }
    if (v.resultCode) j["result_code"] = *v.resultCode;
    if (!v.passwordHash.empty()) j["secret_sha256"] = v.passwordHash;
    return j;
}

} // namespace ow::cases
