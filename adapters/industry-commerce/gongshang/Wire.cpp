#include "adapters/industry-commerce/gongshang/Wire.h"

#include <cstdio>
#include <cstdlib>

#include "plugins/cases/data/Rfc3339.h"

using nlohmann::json;
namespace sdk = onewindow::sdk;

namespace ow::adapters::gongshang {

namespace {

std::string str(const json& d, const char* key) {
    auto it = d.find(key);
    if (it == d.end() || it->is_null()) return {};
    return it->is_string() ? it->get<std::string>() : it->dump();
}

} // namespace

std::string toWireTime(const std::string& rfc3339, int off) {
    auto t = cases::parseRfc3339(rfc3339);
    if (!t) throw WireError("'" + rfc3339 + "' is not an RFC 3339 time");
    const long long secs = ((*t % 60000) + 60000) % 60000 / 1000;
    char s[8];
    std::snprintf(s, sizeof s, ":%02lld", secs);
    return cases::formatLocalMinute(*t, off) + s;
}

std::string fromWireTime(const std::string& wire, int off) {
    // "yyyy-MM-dd HH:mm:ss" is RFC 3339 with a space and without the offset.
    if (wire.size() != 19 || wire[10] != ' ')
        throw WireError("'" + wire + "' is not a time yyyy-MM-dd HH:mm:ss");
    char sign = off < 0 ? '-' : '+';
    char zone[24];
    std::snprintf(zone, sizeof zone, "%c%02d:%02d", sign, std::abs(off) / 60, std::abs(off) % 60);
    const std::string text = wire.substr(0, 10) + "T" + wire.substr(11) + zone;
    if (!cases::parseRfc3339(text)) throw WireError("'" + wire + "' is not a valid time");
    return text;
}

json applicationBody(const sdk::Event& e, const std::string& region, int off) {
    const json d = json::parse(e.data, nullptr, false);
    if (!d.is_object()) throw WireError("the data of " + e.type + " must be a JSON object");
    std::string caseNo = str(d, "case_no");
    if (caseNo.empty()) caseNo = e.subject;
    if (caseNo.empty()) throw WireError("no case number (subject or case_no)");
    const std::string item = str(d, "item_code");
    if (item.empty()) throw WireError("item_code is missing");
    json b = {{"SBLSH", caseNo}, {"SXBM", item}, {"XZQHDM", region}};
    if (!str(d, "item_name").empty()) b["SXMC"] = str(d, "item_name");
    if (d.contains("applicant") && d["applicant"].is_object()) {
        const auto& a = d["applicant"];
        if (!str(a, "name").empty()) b["SQRMC"] = str(a, "name");
        const std::string t = str(a, "type");
        b["SQRLX"] = t == "person" ? "1" : t == "enterprise" || t == "company" ? "2" : "3";
    }
    const std::string at = str(d, "occurred_at").empty() ? e.time : str(d, "occurred_at");
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
    const std::string code = j.is_object() ? str(j, "code") : "";
    const std::string msg = j.is_object() ? str(j, "msg") : "";
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
    const std::string kind = str(item, "LX");
    const std::string xh = str(item, "XH");
    sdk::Event e;
    e.id = "gongshang-" + xh;
    e.source = "dept:industry-commerce";
    e.subject = caseNo;
    e.extensions["department"] = "industry-commerce";
    json d = {{"case_no", caseNo}, {"dept_case_no", str(item, "YWLSH")}};
    auto when = [&](const char* key) {
        const std::string t = str(item, key);
        if (t.empty()) throw WireError(std::string("update ") + xh + ": " + key + " is missing");
        return fromWireTime(t, off);
    };
    if (kind == "DJ") return std::nullopt;
    if (kind == "SP") {
        static const char* steps[] = {"", "undertake", "review", "approve"};
        const std::string code = str(item, "SPHJDM");
        const int c = code.size() == 1 && code[0] >= '1' && code[0] <= '3' ? code[0] - '0' : 0;
        e.type = "gov.case.step_completed";
        d["step_code"] = c ? steps[c] : "dept-" + code;
        d["step_name"] = str(item, "SPHJMC");
        d["sequence"] = sequence;
        d["handler"] = str(item, "SPRXM");
        d["opinion"] = str(item, "SPYJ");
        d["decision"] = str(item, "SPJG") == "0" ? "disagree" : "agree";
        d["occurred_at"] = when("SPSJ");
    } else if (kind == "BZ") {
        e.type = "gov.case.supplement_requested";
        d["phase"] = "post";
        d["reason"] = str(item, "BZYY");
        json materials = json::array();
        std::string list = str(item, "BZCL");
        for (std::size_t p = 0; !list.empty();) {
            const auto q = list.find("；", p);
            materials.push_back(list.substr(p, q == std::string::npos ? std::string::npos : q - p));
            if (q == std::string::npos) break;
            p = q + std::string("；").size();
        }
        d["materials"] = materials;
        d["round"] = sequence;
        d["occurred_at"] = when("BZSJ");
    } else if (kind == "BJ") {
        e.type = "gov.case.concluded";
        const std::string result = str(item, "BJJGDM");
        if (result.empty()) throw WireError("update " + xh + ": BJJGDM is missing");
        d["result_code"] = result;
        d["description"] = str(item, "BJJGMS");
        if (!str(item, "ZJBH").empty())
            d["certificate"] = {{"no", str(item, "ZJBH")}, {"name", str(item, "ZJMC")}};
        d["occurred_at"] = when("BJSJ");
    } else {
        throw WireError("update " + xh + ": unknown LX '" + kind + "'");
    }
    e.time = d["occurred_at"];
    e.data = d.dump();
    return e;
}

} // namespace ow::adapters::gongshang
