#include "adapters/e-supervision/exchange/ExchangeObjects.h"

#include <cstdio>
#include <map>

#include "plugins/cases/data/Rfc3339.h"

using nlohmann::json;

namespace ow::adapters::esupervision {

namespace {

std::string str(const json& d, const char* key) {
    auto it = d.find(key);
    if (it == d.end() || it->is_null()) return {};
    if (it->is_string()) return it->get<std::string>();
    return it->dump();
}

std::string nested(const json& d, const char* object, const char* key) {
    auto it = d.find(object);
    return it != d.end() && it->is_object() ? str(*it, key) : std::string();
}

/// Puts the non-empty values only: the receiver's optional fields are absent, not "".
void put(json& f, const char* wire, const std::string& value) {
    if (!value.empty()) f[wire] = value;
}

// 承办 / 审核 / 批准 (SPHJDM 1 / 2 / 3); other steps are reported as 9 with their name.
const std::map<std::string, std::pair<const char*, const char*>> StepCodes = {
    {"undertake", {"1", "承办"}}, {"review", {"2", "审核"}}, {"approve", {"3", "批准"}}};

// SQRLX: 1 person, 2 enterprise (legal entity), 3 other.
std::string applicantType(const std::string& t) {
    if (t == "person" || t == "individual" || t == "1") return "1";
    if (t == "enterprise" || t == "company" || t == "legal_entity" || t == "2") return "2";
    return t.empty() ? "" : "3";
}

} // namespace

std::string code(ObjectType t) {
    switch (t) {
    case ObjectType::YuJing:
        return "YJ";
    case ObjectType::YuJingJieChu:
        return "YJJC";
    default:
        return std::to_string(static_cast<int>(t));
    }
}

const char* pinyin(ObjectType t) {
    switch (t) {
    case ObjectType::ShenBan:
        return "ShenBan";
    case ObjectType::YuShouLi:
        return "YuShouLi";
    case ObjectType::ShouLi:
        return "ShouLi";
    case ObjectType::ShenPi:
        return "ShenPi";
    case ObjectType::BanJie:
        return "BanJie";
    case ObjectType::TeBieChengXuQiDong:
        return "TeBieChengXuQiDong";
    case ObjectType::TeBieChengXuBanJie:
        return "TeBieChengXuBanJie";
    case ObjectType::BuJiaoGaoZhi:
        return "BuJiaoGaoZhi";
    case ObjectType::BuJiaoShouLi:
        return "BuJiaoShouLi";
    case ObjectType::LingQuDengJi:
        return "LingQuDengJi";
    case ObjectType::YuJing:
        return "YuJing";
    case ObjectType::YuJingJieChu:
        return "YuJingJieChu";
    }
    return "";
}

Tier tierOf(ObjectType t) {
    switch (t) {
    case ObjectType::ShenBan:
    case ObjectType::YuShouLi:
    case ObjectType::ShouLi:
        return Tier::Basic;
    case ObjectType::BanJie:
    case ObjectType::LingQuDengJi:
        return Tier::Conclusion;
    case ObjectType::YuJing:
    case ObjectType::YuJingJieChu:
        return Tier::Free;
    default:
        return Tier::Step;
    }
}

std::string wireTime(const std::string& rfc3339, int utcOffsetMinutes) {
    if (rfc3339.empty()) return {};
    auto t = cases::parseRfc3339(rfc3339);
    if (!t) throw MappingError("'" + rfc3339 + "' is not an RFC 3339 time");
    return cases::formatLocalMinute(*t, utcOffsetMinutes) + ":" + [&] {
        char s[4];
        std::snprintf(s, sizeof s, "%02d", static_cast<int>(((*t % 60000) + 60000) % 60000 / 1000));
        return std::string(s);
    }();
}

std::string wireYuan(long long fen) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%lld.%02lld", fen / 100, fen % 100);
    return buf;
}

std::optional<ExchangeObject> toExchange(const onewindow::sdk::Event& e, const MappingSettings& s,
                                         long long feeFen) {
    static const std::map<std::string, ObjectType> Types = {
        {"gov.case.submitted", ObjectType::ShenBan},
        {"gov.case.prereview_completed", ObjectType::YuShouLi},
        {"gov.case.accepted", ObjectType::ShouLi},
        {"gov.case.not_accepted", ObjectType::ShouLi},
        {"gov.case.step_completed", ObjectType::ShenPi},
        {"gov.case.concluded", ObjectType::BanJie},
        {"gov.case.withdrawn", ObjectType::BanJie},
        {"gov.case.terminated", ObjectType::BanJie},
        {"gov.case.special_procedure_started", ObjectType::TeBieChengXuQiDong},
        {"gov.case.special_procedure_ended", ObjectType::TeBieChengXuBanJie},
        {"gov.case.supplement_requested", ObjectType::BuJiaoGaoZhi},
        {"gov.case.supplement_received", ObjectType::BuJiaoShouLi},
        {"gov.case.delivered", ObjectType::LingQuDengJi},
        {"gov.supervision.alert", ObjectType::YuJing},
        {"gov.supervision.alert_cleared", ObjectType::YuJingJieChu}};
    auto it = Types.find(e.type);
    if (it == Types.end()) return std::nullopt;
    const json d = e.dataIsJson ? json::parse(e.data, nullptr, false) : json();
    if (!d.is_object()) throw MappingError(e.type + ": the data must be a JSON object");

    ExchangeObject o;
    o.type = it->second;
    o.caseNo = str(d, "case_no");
    if (o.caseNo.empty()) o.caseNo = e.subject;
    if (o.caseNo.empty()) throw MappingError(e.type + ": no case number (subject or case_no)");
    o.department = str(d, "department");
    if (o.department.empty() && e.extensions.count("department"))
        o.department = e.extensions.at("department");
    o.version = d.value("data_version", 1);
    const int off = s.utcOffsetMinutes;
    const std::string at =
        wireTime(str(d, "occurred_at").empty() ? e.time : str(d, "occurred_at"), off);

    json& f = o.fields;
    f["SPTYPE"] = code(o.type);
    f["SPTYPE_MC"] = pinyin(o.type);
    f["SBLSH"] = o.caseNo;
    put(f, "SXBM", str(d, "item_code"));
    put(f, "SXMC", str(d, "item_name"));
    put(f, "YWLSH", str(d, "dept_case_no"));
    f["XZQHDM"] = s.regionCode;
    f["VERSION"] = o.version;
    const std::string actor = nested(d, "actor", "name");

    switch (o.type) {
    case ObjectType::ShenBan:
        o.factKey = "0";
        put(f, "SQRLX", applicantType(nested(d, "applicant", "type")));
        put(f, "SQRMC", nested(d, "applicant", "name"));
        put(f, "SQRZJLX", nested(d, "applicant", "id_type"));
        put(f, "SQRZJHM", nested(d, "applicant", "id_no"));
        put(f, "LXRXM", nested(d, "contact", "name"));
        put(f, "LXRSJ", nested(d, "contact", "mobile"));
        put(f, "SBXMMC", str(d, "title"));
        put(f, "TJFS", str(d, "channel"));
        f["SBSJ"] = at;
        break;
    case ObjectType::YuShouLi: {
        o.factKey = "1";
        const std::string r = str(d, "result");
        f["YSLZTDM"] = r == "passed" ? "1" : r == "returned" ? "2" : "3";
        put(f, "YSLYJ", str(d, "reason"));
        f["YSLSJ"] = at;
        break;
    }
    case ObjectType::ShouLi:
        o.factKey = "2";
        if (e.type == "gov.case.accepted") {
            f["SLZTDM"] = "1";
        } else {
            // 不受理 (not for this window) is 2, 不予受理 (refused under the law) 4.
            f["SLZTDM"] =
                str(d, "kind") == "not_admissible" || str(d, "kind") == "不予受理" ? "4" : "2";
            f["BSLYY"] = str(d, "reason");
        }
        put(f, "SLBMMC", str(d, "department_name"));
        put(f, "SLBMZZJGDM", str(d, "org_code"));
        put(f, "BLRXM", actor);
        put(f, "BLRGH", nested(d, "actor", "staff_no"));
        put(f, "SLHZH", str(d, "receipt_no"));
        f["SLSJ"] = at;
        break;
    case ObjectType::ShenPi: {
        const std::string step = str(d, "step_code");
        const std::string seq = str(d, "sequence");
        o.factKey = "3/" + (seq.empty() ? step : seq);
        auto known = StepCodes.find(step);
        f["SPHJDM"] = known != StepCodes.end() ? known->second.first : "9";
        const std::string name = str(d, "step_name");
        f["SPHJMC"] = !name.empty() ? name : known != StepCodes.end() ? known->second.second : step;
        put(f, "SPRXM", !str(d, "handler").empty() ? str(d, "handler") : actor);
        put(f, "SPRZWMC", !str(d, "post").empty() ? str(d, "post") : nested(d, "actor", "post"));
        put(f, "SPYJ", str(d, "opinion"));
        const std::string decision = str(d, "decision");
        f["SPHJZTDM"] = decision == "disagree" ? "0" : decision == "return" ? "7" : "1";
        put(f, "SPBZH", seq);
        f["SPSJ"] = str(d, "ended_at").empty() ? at : wireTime(str(d, "ended_at"), off);
        break;
    }
    case ObjectType::BanJie: {
        o.factKey = "4";
        std::string result = str(d, "result_code");
        if (e.type == "gov.case.withdrawn") result = "2";  // 作废办结
        if (e.type == "gov.case.terminated") result = "6"; // 办结 (other)
        if (result.empty()) throw MappingError(e.type + ": result_code is missing");
        f["BJJGDM"] = result;
        put(f, "BJJGMS", str(d, "description"));
        put(f, "ZFHTHYY", str(d, "reason"));
        put(f, "ZJGZMC", nested(d, "certificate", "name"));
        put(f, "ZJBH", nested(d, "certificate", "no"));
        put(f, "ZJYXQX", nested(d, "certificate", "validity"));
        put(f, "FZGZDW", nested(d, "certificate", "issuer"));
        // Mandatory when a licence is issued (BJJGDM 0): what was paid on the case, or what
        // the event says, else 0.00 (no fee).
        long long fee = feeFen;
        if (d.contains("fee_fen") && d["fee_fen"].is_number_integer())
            fee = d["fee_fen"].get<long long>();
        f["SFJE"] = wireYuan(fee);
        f["JEDWDM"] = "CNY";
        f["BJSJ"] = at;
        break;
    }
    case ObjectType::TeBieChengXuQiDong:
        o.factKey = "5/" + str(d, "sequence");
        f["TBCXZL"] = str(d, "kind").empty() ? "A" : str(d, "kind");
        f["TBCXKSRQ"] = at;
        put(f, "TBCXPZR", str(d, "approver"));
        put(f, "TBCXQDLY", str(d, "reason"));
        put(f, "TBCXSX", str(d, "length"));
        f["TBCXSXDW"] = str(d, "unit") == "calendar" || str(d, "unit") == "Z" ? "Z" : "G";
        break;
    case ObjectType::TeBieChengXuBanJie:
        o.factKey = "6/" + str(d, "sequence");
        put(f, "TBCXJG", str(d, "result"));
        f["TBCXJSRQ"] = at;
        if (d.contains("fee_fen") && d["fee_fen"].is_number_integer())
            f["TBCXSFJE"] = wireYuan(d["fee_fen"].get<long long>());
        break;
    case ObjectType::BuJiaoGaoZhi: {
        o.factKey = "7/" + str(d, "round");
        put(f, "BZGZFCRXM", actor);
        put(f, "BZGZYY", str(d, "reason"));
        std::string materials;
        if (d.contains("materials") && d["materials"].is_array())
            for (const auto& m : d["materials"])
                materials += (materials.empty() ? "" : "；") +
                             (m.is_string() ? m.get<std::string>() : str(m, "name"));
        put(f, "BZCLQD", materials);
        f["BZGZSJ"] = at;
        break;
    }
    case ObjectType::BuJiaoShouLi:
        o.factKey = "8/" + str(d, "round");
        f["BZSJ"] = at;
        break;
    case ObjectType::LingQuDengJi:
        o.factKey = "9";
        put(f, "LQFS", str(d, "way"));
        put(f, "LQRXM", str(d, "collected_by"));
        put(f, "YJDH", str(d, "tracking_no"));
        f["LQSJ"] = at;
        break;
    case ObjectType::YuJing:
    case ObjectType::YuJingJieChu:
        o.factKey = code(o.type) + "/" + str(d, "alert_id");
        put(f, "YJID", str(d, "alert_id"));
        put(f, "YJJB", str(d, "level"));
        put(f, "YJLB", str(d, "category"));
        put(f, "YJGZ", str(d, "rule"));
        put(f, "YJNR", str(d, "message"));
        put(f, "YJSJ",
            wireTime(str(d, o.type == ObjectType::YuJing ? "raised_at" : "cleared_at"), off));
        put(f, "JZSJ", wireTime(str(d, "due"), off));
        put(f, "BMDM", o.department);
        break;
    }
    return o;
}

} // namespace ow::adapters::esupervision
