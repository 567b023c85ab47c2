#include "adapters/common/DeptRecords.h"

#include <cstdio>
#include <cstdlib>

#include "plugins/cases/data/Rfc3339.h"

using nlohmann::json;
namespace sdk = onewindow::sdk;

namespace ow::adapters {

std::string fieldText(const json& d, const char* key) {
    auto it = d.find(key);
    if (it == d.end() || it->is_null()) return {};
    return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string toWireTime(const std::string& rfc3339, int off) {
    auto t = ow::cases::parseRfc3339(rfc3339);
    if (!t) throw WireError("'" + rfc3339 + "' is not an RFC 3339 time");
    const long long secs = ((*t % 60000) + 60000) % 60000 / 1000;
    char s[8];
    std::snprintf(s, sizeof s, ":%02lld", secs);
    return ow::cases::formatLocalMinute(*t, off) + s;
}

std::string fromWireTime(const std::string& wire, int off) {
    // "yyyy-MM-dd HH:mm:ss" is RFC 3339 with a space and without the offset.
    if (wire.size() != 19 || wire[10] != ' ')
        throw WireError("'" + wire + "' is not a time yyyy-MM-dd HH:mm:ss");
    char sign = off < 0 ? '-' : '+';
    char zone[24];
    std::snprintf(zone, sizeof zone, "%c%02d:%02d", sign, std::abs(off) / 60, std::abs(off) % 60);
    const std::string text = wire.substr(0, 10) + "T" + wire.substr(11) + zone;
    if (!ow::cases::parseRfc3339(text)) throw WireError("'" + wire + "' is not a valid time");
    return text;
}

std::optional<sdk::Event> canonicalFromRecord(const json& item, const std::string& caseNo,
                                              int sequence, int off, const DeptIdentity& who) {
    const std::string kind = fieldText(item, "LX");
    const std::string xh = fieldText(item, "XH");
    sdk::Event e;
    const int version = item.contains("VERSION") && item["VERSION"].is_number_integer()
                            ? item["VERSION"].get<int>()
                            : 1;
    e.id = who.idPrefix + xh + (version > 1 ? "-v" + std::to_string(version) : "");
    e.source = who.source;
    e.subject = caseNo;
    e.extensions["department"] = who.department;
    json d = {{"case_no", caseNo}, {"dept_case_no", fieldText(item, "YWLSH")}};
    if (version > 1) d["data_version"] = version;
    if (!fieldText(item, "SPBZH").empty()) sequence = std::atoi(fieldText(item, "SPBZH").c_str());
    auto when = [&](const char* key) {
        const std::string t = fieldText(item, key);
        if (t.empty()) throw WireError(std::string("update ") + xh + ": " + key + " is missing");
        return fromWireTime(t, off);
    };
    if (kind == "DJ") return std::nullopt;
    if (kind == "SP") {
        static const char* steps[] = {"", "undertake", "review", "approve"};
        const std::string code = fieldText(item, "SPHJDM");
        const int c = code.size() == 1 && code[0] >= '1' && code[0] <= '3' ? code[0] - '0' : 0;
        e.type = "gov.case.step_completed";
        d["step_code"] = c ? steps[c] : "dept-" + code;
        d["step_name"] = fieldText(item, "SPHJMC");
        d["sequence"] = sequence;
        d["handler"] = fieldText(item, "SPRXM");
        d["opinion"] = fieldText(item, "SPYJ");
        d["decision"] = fieldText(item, "SPJG") == "0" ? "disagree" : "agree";
        d["occurred_at"] = when("SPSJ");
    } else if (kind == "BZ") {
        e.type = "gov.case.supplement_requested";
        d["phase"] = "post";
        d["reason"] = fieldText(item, "BZYY");
        json materials = json::array();
        std::string list = fieldText(item, "BZCL");
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
        const std::string result = fieldText(item, "BJJGDM");
        if (result.empty()) throw WireError("update " + xh + ": BJJGDM is missing");
        // A JSON integer, as the event catalog says: the ledger reads "1" (a string) as 0, and
        // a returned case would count as issued.
        if (result.size() != 1 || result[0] < '0' || result[0] > '6')
            throw WireError("update " + xh + ": BJJGDM '" + result + "' is not a result code 0..6");
        d["result_code"] = result[0] - '0';
        d["description"] = fieldText(item, "BJJGMS");
        if (!fieldText(item, "ZJBH").empty())
            d["certificate"] = {{"no", fieldText(item, "ZJBH")}, {"name", fieldText(item, "ZJMC")}};
        d["occurred_at"] = when("BJSJ");
    } else {
        throw WireError("update " + xh + ": unknown LX '" + kind + "'");
    }
    e.time = d["occurred_at"];
    e.data = d.dump();
    return e;
}

} // namespace ow::adapters
