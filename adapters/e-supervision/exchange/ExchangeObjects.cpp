#include "adapters/e-supervision/exchange/ExchangeObjects.h"

#include <cstdio>
#include <map>

using nlohmann::json;

namespace ow::adapters::esupervision {

namespace {

std::string nested(const json& d, const char* object, const char* key) {
    auto it = d.find(object);
    return it != d.end() && it->is_object() ? fieldText(*it, key) : std::string();
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
    return rfc3339.empty() ? std::string() : ow::adapters::toWireTime(rfc3339, utcOffsetMinutes);
}

std::string wireYuan(long long fen) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%lld.%02lld", fen / 100, fen % 100);
    return buf;
}

std::optional<ExchangeObject> toExchange(const onewindow::sdk::Event& e, const MappingSettings& s) {
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
    o.caseNo = fieldText(d, "case_no");
    if (o.caseNo.empty()) o.caseNo = e.subject;
    if (o.caseNo.empty()) throw MappingError(e.type + ": no case number (subject or case_no)");
    o.department = fieldText(d, "department");
    if (o.department.empty() && e.extensions.count("department"))
        o.department = e.extensions.at("department");
    o.version = d.value("data_version", 1);
    const int off = s.utcOffsetMinutes;
    const std::string at =
        wireTime(fieldText(d, "occurred_at").empty() ? e.time : fieldText(d, "occurred_at"), off);

    json& f = o.fields;
    f["SPTYPE"] = code(o.type);
    f["SPTYPE_MC"] = pinyin(o.type);
    f["SBLSH"] = o.caseNo;
    put(f, "SXBM", fieldText(d, "item_code"));
    put(f, "SXMC", fieldText(d, "item_name"));
    put(f, "YWLSH", fieldText(d, "dept_case_no"));
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
        put(f, "SBXMMC", fieldText(d, "title"));
        put(f, "TJFS", fieldText(d, "channel"));
        f["SBSJ"] = at;
        break;
    case ObjectType::YuShouLi: {
        o.factKey = "1";
        const std::string r = fieldText(d, "result");
        f["YSLZTDM"] = r == "passed" ? "1" : r == "returned" ? "2" : "3";
        put(f, "YSLYJ", fieldText(d, "reason"));
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
                fieldText(d, "kind") == "not_admissible" || fieldText(d, "kind") == "不予受理"
                    ? "4"
                    : "2";
            f["BSLYY"] = fieldText(d, "reason");
        }
        put(f, "SLBMMC", fieldText(d, "department_name"));
        put(f, "SLBMZZJGDM", fieldText(d, "org_code"));
        put(f, "BLRXM", actor);
        put(f, "BLRGH", nested(d, "actor", "staff_no"));
        put(f, "SLHZH", fieldText(d, "receipt_no"));
        f["SLSJ"] = at;
        break;
    case ObjectType::ShenPi: {
        const std::string step = fieldText(d, "step_code");
        const std::string seq = fieldText(d, "sequence");
        o.factKey = "3/" + (seq.empty() ? step : seq);
        auto known = StepCodes.find(step);
        f["SPHJDM"] = known != StepCodes.end() ? known->second.first : "9";
        const std::string name = fieldText(d, "step_name");
        f["SPHJMC"] = !name.empty() ? name : known != StepCodes.end() ? known->second.second : step;
        put(f, "SPRXM", !fieldText(d, "handler").empty() ? fieldText(d, "handler") : actor);
        put(f, "SPRZWMC",
            !fieldText(d, "post").empty() ? fieldText(d, "post") : nested(d, "actor", "post"));
        put(f, "SPYJ", fieldText(d, "opinion"));
        const std::string decision = fieldText(d, "decision");
        f["SPHJZTDM"] = decision == "disagree" ? "0" : decision == "return" ? "7" : "1";
        put(f, "SPBZH", seq);
        f["SPSJ"] = fieldText(d, "ended_at").empty() ? at : wireTime(fieldText(d, "ended_at"), off);
        break;
    }
    case ObjectType::BanJie: {
        o.factKey = "4";
        std::string result = fieldText(d, "result_code");
        if (e.type == "gov.case.withdrawn") result = "2";  // 作废办结
        if (e.type == "gov.case.terminated") result = "6"; // 办结 (other)
        if (result.empty()) throw MappingError(e.type + ": result_code is missing");
        f["BJJGDM"] = result;
        put(f, "BJJGMS", fieldText(d, "description"));
        put(f, "ZFHTHYY", fieldText(d, "reason"));
        put(f, "ZJGZMC", nested(d, "certificate", "name"));
        put(f, "ZJBH", nested(d, "certificate", "no"));
        put(f, "ZJYXQX", nested(d, "certificate", "validity"));
        put(f, "FZGZDW", nested(d, "certificate", "issuer"));
        // Mandatory when a licence is issued (BJJGDM 0): what the event says; without it,
        // ExchangeOrder puts what was paid on the case.
        if (d.contains("fee_fen") && d["fee_fen"].is_number_integer())
            f["SFJE"] = wireYuan(d["fee_fen"].get<long long>());
        f["JEDWDM"] = "CNY";
        f["BJSJ"] = at;
        break;
    }
    case ObjectType::TeBieChengXuQiDong:
        o.factKey = "5/" + fieldText(d, "sequence");
        f["TBCXZL"] = fieldText(d, "kind").empty() ? "A" : fieldText(d, "kind");
        f["TBCXKSRQ"] = at;
        put(f, "TBCXPZR", fieldText(d, "approver"));
        put(f, "TBCXQDLY", fieldText(d, "reason"));
        put(f, "TBCXSX", fieldText(d, "length"));
        f["TBCXSXDW"] =
            fieldText(d, "unit") == "calendar" || fieldText(d, "unit") == "Z" ? "Z" : "G";
        break;
    case ObjectType::TeBieChengXuBanJie:
        o.factKey = "6/" + fieldText(d, "sequence");
        put(f, "TBCXJG", fieldText(d, "result"));
        f["TBCXJSRQ"] = at;
        if (d.contains("fee_fen") && d["fee_fen"].is_number_integer())
            f["TBCXSFJE"] = wireYuan(d["fee_fen"].get<long long>());
        break;
    case ObjectType::BuJiaoGaoZhi: {
        o.factKey = "7/" + fieldText(d, "round");
        put(f, "BZGZFCRXM", actor);
        put(f, "BZGZYY", fieldText(d, "reason"));
        std::string materials;
        if (d.contains("materials") && d["materials"].is_array())
            for (const auto& m : d["materials"])
                materials += (materials.empty() ? "" : "；") +
                             (m.is_string() ? m.get<std::string>() : fieldText(m, "name"));
        put(f, "BZCLQD", materials);
        f["BZGZSJ"] = at;
        break;
    }
    case ObjectType::BuJiaoShouLi:
        o.factKey = "8/" + fieldText(d, "round");
        f["BZSJ"] = at;
        break;
    case ObjectType::LingQuDengJi:
        o.factKey = "9";
        put(f, "LQFS", fieldText(d, "way"));
        put(f, "LQRXM", fieldText(d, "collected_by"));
        put(f, "YJDH", fieldText(d, "tracking_no"));
        f["LQSJ"] = at;
        break;
    case ObjectType::YuJing:
    case ObjectType::YuJingJieChu:
        o.factKey = code(o.type) + "/" + fieldText(d, "alert_id");
        put(f, "YJID", fieldText(d, "alert_id"));
        put(f, "YJJB", fieldText(d, "level"));
        put(f, "YJLB", fieldText(d, "category"));
        put(f, "YJGZ", fieldText(d, "rule"));
        put(f, "YJNR", fieldText(d, "message"));
        put(f, "YJSJ",
            wireTime(fieldText(d, o.type == ObjectType::YuJing ? "raised_at" : "cleared_at"), off));
        put(f, "JZSJ", wireTime(fieldText(d, "due"), off));
        put(f, "BMDM", o.department);
        break;
    }
    return o;
}

} // namespace ow::adapters::esupervision
