#include "plugins/cases/ledger/CaseEvents.h"

#include <algorithm>
#include <array>

#include "plugins/cases/data/Rfc3339.h"
#include "plugins/cases/data/Sha256.h"

namespace ow::cases {
namespace {

constexpr std::array<const char*, 19> CaseTypes = {"submitted",
                                                   "received",
                                                   "accepted",
                                                   "not_accepted",
                                                   "supplement_requested",
                                                   "supplement_received",
                                                   "step_completed",
                                                   "joint_task_dispatched",
                                                   "joint_task_completed",
                                                   "forwarded",
                                                   "higher_authority_replied",
                                                   "special_procedure_started",
                                                   "special_procedure_ended",
                                                   "extension_approved",
                                                   "decided",
                                                   "concluded",
                                                   "delivered",
                                                   "withdrawn",
                                                   "terminated"};

// The fields a fact keeps, by name; anything else in the event (applicant details, opinions)
// stays in the journal and is not copied into the ledger's state.
constexpr std::array<const char*, 19> KeptFields = {
    "item_code",    "department",  "handling_type", "promised_days", "reason",  "phase",  "round",
    "step_code",    "decision",    "co_department", "limit_days",    "kind",    "length", "unit",
    "working_days", "result_code", "order_no",      "reply_days",    "sequence"};

std::string qualifier(const std::string& type, const nlohmann::json& d) {
    auto str = [&](const char* k) {
        auto it = d.find(k);
        if (it == d.end()) return std::string();
        return it->is_string() ? it->get<std::string>() : it->dump();
    };
    if (type == "step_completed") return str("step_code");
    if (type == "joint_task_dispatched" || type == "joint_task_completed")
        return str("co_department");
    if (type == "order_issued" || type == "order_replied") return str("order_no");
    if (type == "supplement_requested" || type == "supplement_received") {
        auto r = str("round");
        return r.empty() ? "1" : r;
    }
    if (type == "special_procedure_started" || type == "special_procedure_ended" ||
        type == "extension_approved") {
        auto s = str("sequence");
        return s.empty() ? "1" : s;
    }
    return {};
}

} // namespace

std::variant<CaseFact, NotFollowed, std::string> readCaseEvent(const onewindow::sdk::Event& e,
                                                               Instant now) {
    std::string type;
    if (e.type.rfind("gov.case.", 0) == 0) {
        type = e.type.substr(9);
        if (std::find(CaseTypes.begin(), CaseTypes.end(), type) == CaseTypes.end())
            return NotFollowed{};
    } else if (e.type == "gov.supervision.order_issued" ||
               e.type == "gov.supervision.order_replied") {
        type = e.type.substr(16);
    } else {
        return NotFollowed{};
    }
    nlohmann::json data = nlohmann::json::object();
    if (!e.data.empty()) {
        if (!e.dataIsJson) return std::string("data must be a JSON object");
        data = nlohmann::json::parse(e.data, nullptr, false);
        if (data.is_discarded() || !data.is_object())
            return std::string("data must be a JSON object");
    }
    CaseFact out;
    out.caseNo = e.subject;
    if (auto it = data.find("case_no"); it != data.end() && it->is_string()) {
        if (!out.caseNo.empty() && out.caseNo != it->get<std::string>())
            return "subject '" + out.caseNo + "' and data.case_no '" + it->get<std::string>() +
                   "' name different cases";
        out.caseNo = it->get<std::string>();
    }
    if (out.caseNo.empty()) return std::string("no case number (subject or data.case_no)");
    if (out.caseNo.size() > 64) return std::string("the case number is longer than 64 characters");

    Fact& f = out.fact;
    f.type = type;
    f.at = now;
    if (auto it = data.find("occurred_at"); it != data.end()) {
        auto at = it->is_string() ? parseRfc3339(it->get<std::string>()) : std::nullopt;
        if (!at) return std::string("data.occurred_at is not an RFC 3339 time");
        f.at = *at;
    } else if (!e.time.empty()) {
        if (auto at = parseRfc3339(e.time)) f.at = *at;
    }
    if (auto it = data.find("data_version"); it != data.end()) {
        if (!it->is_number_integer() || it->get<std::int64_t>() < 1 ||
            it->get<std::int64_t>() > 1000000)
            return std::string("data.data_version must be a whole number from 1");
        f.version = it->get<int>();
    }
    for (const char* k : KeptFields)
        if (auto it = data.find(k); it != data.end()) f.data[k] = *it;
    if (auto it = data.find("reply_due"); it != data.end()) {
        auto due = it->is_string() ? parseRfc3339(it->get<std::string>()) : std::nullopt;
        if (!due) return std::string("data.reply_due is not an RFC 3339 time");
        f.data["reply_due_ms"] = *due;
    }
    if (type == "step_completed" && !f.data.contains("step_code"))
        return std::string("gov.case.step_completed needs data.step_code");
    if ((type == "joint_task_dispatched" || type == "joint_task_completed") &&
        !f.data.contains("co_department"))
        return "gov.case." + type + " needs data.co_department";
    if ((type == "order_issued" || type == "order_replied") && !f.data.contains("order_no"))
        return "gov.supervision." + type + " needs data.order_no";
    // The query password (YWCXMM) the applicant got at acceptance: only its hash is kept.
    if (auto it = data.find("query_password"); it != data.end()) {
        if (!it->is_string() || it->get<std::string>().empty() ||
            it->get<std::string>().size() > 64)
            return std::string("data.query_password must be a string of 1 to 64 characters");
        f.data["pw"] = sha256Hex(out.caseNo + ":" + it->get<std::string>());
    }
    const std::string q = qualifier(type, f.data);
    f.key = q.empty() ? type : type + "/" + q;
    f.event = e.source + " " + e.id;
    return out;
}

} // namespace ow::cases
