#include "adapters/industry-commerce/gongshang/Wire.h"

#include <cstdio>

#include "plugins/cases/data/Rfc3339.h"

using nlohmann::json;
namespace sdk = onewindow::sdk;

namespace ow::adapters::gongshang {

json applicationBody(const sdk::Event& e, const std::string& region, int off) {
    const json d = json::parse(e.data, nullptr, false);
    if (!d.is_object()) throw WireError("the data of " + e.type + " must be a JSON object");
    std::string caseNo = fieldText(d, "case_no");
    if (caseNo.empty()) caseNo = e.subject;
    if (caseNo.empty()) throw WireError("no case number (subject or case_no)");
    const std::string item = fieldText(d, "item_code");
    if (item.empty()) throw WireError("item_code is missing");
    json b = {{"SBLSH", caseNo}, {"SXBM", item}, {"XZQHDM", region}};
    if (!fieldText(d, "item_name").empty()) b["SXMC"] = fieldText(d, "item_name");
    if (d.contains("applicant") && d["applicant"].is_object()) {
        const auto& a = d["applicant"];
        if (!fieldText(a, "name").empty()) b["SQRMC"] = fieldText(a, "name");
        const std::string t = fieldText(a, "type");
        b["SQRLX"] = t == "person" ? "1" : t == "enterprise" || t == "company" ? "2" : "3";
    }
    const std::string at =
        fieldText(d, "occurred_at").empty() ? e.time : fieldText(d, "occurred_at");
    if (!at.empty()) b["SLSJ"] = toWireTime(at, off);
    return b;
}

Answer readAnswer(int status, const std::string& body) {
    Answer a;
    if (status == 0 || status >= 500 || status == 429 || status == 408) {
        a.message = status == 0 ? "the department's system did not answer"
                                : "the department's system answered HTTP " + std::to_string(status);
        return a;
    }
    const json j = json::parse(body, nullptr, false);
    const std::string code = j.is_object() ? fieldText(j, "code") : "";
    const std::string msg = j.is_object() ? fieldText(j, "msg") : "";
    if (status >= 400 || !j.is_object() || code.empty()) {
        a.verdict = status >= 400 ? Verdict::Refused : Verdict::TryAgain;
        a.message =
            "HTTP " + std::to_string(status) + ": " + (msg.empty() ? body.substr(0, 200) : msg);
        if (status < 400) a.message = "an answer without a business code: " + body.substr(0, 200);
        return a;
    }
    if (code == "0") {
        a.verdict = Verdict::Done;
        a.data = j.value("data", json());
        return a;
    }
    a.verdict = code == "9999" ? Verdict::TryAgain : Verdict::Refused;
    a.message = "code " + code + ": " + msg;
    return a;
}

std::optional<sdk::Event> canonicalEvent(const json& item, const std::string& caseNo, int sequence,
                                         int off) {
    static const DeptIdentity who{"industry-commerce", "dept:industry-commerce", "gongshang-"};
    return canonicalFromRecord(item, caseNo, sequence, off, who);
}

} // namespace ow::adapters::gongshang
