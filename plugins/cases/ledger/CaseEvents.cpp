#include "plugins/cases/ledger/CaseEvents.h"

#include "plugins/cases/data/Rfc3339.h"
#include "plugins/cases/data/Sha256.h"

namespace ow::cases {
namespace {

// Read from every case event: the case, the fact's time and version, and the item and
// department the fold identifies the case by (from whichever fact names them first).
std::vector<FieldRead> withCommon(std::vector<FieldRead> own) {
    std::vector<FieldRead> all = {{"case_no", "string", false},
                                  {"occurred_at", "string", false},
                                  {"data_version", "integer", false},
                                  {"item_code", "string", false},
                                  {"department", "string", false}};
    all.insert(all.end(), own.begin(), own.end());
    return all;
}

FieldReads makeReads() {
    FieldReads r;
    const std::vector<FieldRead> none;
    for (const char* t : {"submitted", "received", "forwarded", "higher_authority_replied",
                          "delivered", "withdrawn", "terminated"})
        r[std::string("gov.case.") + t] = withCommon(none);
    r["gov.case.accepted"] = withCommon({{"handling_type", "string", false},
                                         {"promised_days", "integer", false},
                                         {"query_password", "string", false}});
    r["gov.case.not_accepted"] = withCommon({{"reason", "string", false}});
    r["gov.case.supplement_requested"] =
        withCommon({{"phase", "string", false}, {"round", "integer", false}});
    r["gov.case.supplement_received"] = withCommon({{"round", "integer", false}});
    r["gov.case.step_completed"] =
        withCommon({{"step_code", "string", true}, {"decision", "string", false}});
    r["gov.case.joint_task_dispatched"] =
        withCommon({{"co_department", "string", true}, {"limit_days", "integer", false}});
    r["gov.case.joint_task_completed"] = withCommon({{"co_department", "string", true}});
    r["gov.case.special_procedure_started"] = withCommon(
        {{"kind", "string", false}, {"length", "integer", false}, {"sequence", "integer", false}});
    r["gov.case.special_procedure_ended"] =
        withCommon({{"kind", "string", false}, {"sequence", "integer", false}});
    r["gov.case.extension_approved"] =
        withCommon({{"working_days", "integer", false}, {"sequence", "integer", false}});
    r["gov.case.decided"] =
        withCommon({{"decision", "string", false}, {"reason", "string", false}});
    r["gov.case.concluded"] =
        withCommon({{"result_code", "integer", false}, {"reason", "string", false}});
    r["gov.supervision.order_issued"] = withCommon({{"order_no", "string", true},
                                                    {"reply_due", "string", false},
                                                    {"reply_days", "integer", false}});
    r["gov.supervision.order_replied"] = withCommon({{"order_no", "string", true}});
    // The fee book's notices and shares: the case's payment status (CaseLedger::feeEvent).
    r["gov.fee.notice_issued"] = {{"case_no", "string", true},
                                  {"notice_no", "string", true},
                                  {"total_fen", "integer", false},
                                  {"due_at", "string", false}};
    r["gov.fee.notice_cancelled"] = {{"case_no", "string", true}, {"notice_no", "string", true}};
    r["gov.fee.paid"] = {{"case_no", "string", true},
                         {"notice_no", "string", true},
                         {"notice_total_fen", "integer", false},
                         {"paid_at", "string", false}};
    r["gov.fee.payment_reversed"] = {{"case_no", "string", true}, {"notice_no", "string", true}};
    return r;
}

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

const FieldReads& ledgerReads() {
    static const auto reads = makeReads();
    return reads;
}

std::variant<CaseFact, NotFollowed, std::string> readCaseEvent(const onewindow::sdk::Event& e,
                                                               Instant now) {
    const auto read = ledgerReads().find(e.type);
    if (read == ledgerReads().end() || e.type.rfind("gov.fee.", 0) == 0) return NotFollowed{};
    // The fact's type: gov.case.<type>, gov.supervision.<order_...>.
    const std::string type = e.type.substr(e.type.find('.', 4) + 1);
    nlohmann::json data = nlohmann::json::object();
    if (!e.data.empty()) {
        if (!e.dataIsJson) return std::string("data must be a JSON object");
        const auto given = nlohmann::json::parse(e.data, nullptr, false);
        if (given.is_discarded() || !given.is_object())
            return std::string("data must be a JSON object");
        // Only the fields of the type's list: whatever else the event carries (applicant
        // details, opinions) stays in the journal and is never read here.
        data = onlyFieldsRead(given, read->second);
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
    for (const auto& field : read->second) {
        const std::string k = field.name;
        if (field.required && !data.contains(k)) return e.type + " needs data." + k;
        if (k == "case_no" || k == "occurred_at" || k == "data_version" || k == "reply_due" ||
            k == "query_password")
            continue; // read above or below, not kept as they are
        if (auto it = data.find(k); it != data.end()) f.data[k] = *it;
    }
    if (auto it = data.find("reply_due"); it != data.end()) {
        auto due = it->is_string() ? parseRfc3339(it->get<std::string>()) : std::nullopt;
        if (!due) return std::string("data.reply_due is not an RFC 3339 time");
        f.data["reply_due_ms"] = *due;
    }
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
