#include "adapters/public-security/gongan/Wire.h"

#include <set>

using nlohmann::json;
namespace sdk = onewindow::sdk;

namespace ow::adapters::gongan {

namespace {

// The department keeps numbers as decimal text; the journal and the feed want integers.
bool integerText(const std::string& s) {
    return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos;
}

} // namespace

std::string applicationXml(const sdk::Event& e, const std::string& region, int off) {
    const json d = json::parse(e.data, nullptr, false);
    if (!d.is_object()) throw WireError("the data of " + e.type + " must be a JSON object");
    std::string caseNo = fieldText(d, "case_no");
    if (caseNo.empty()) caseNo = e.subject;
    if (caseNo.empty()) throw WireError("no case number (subject or case_no)");
    const std::string item = fieldText(d, "item_code");
    if (item.empty()) throw WireError("item_code is missing");
    std::string name, type, idType, idNo;
    if (d.contains("applicant") && d["applicant"].is_object()) {
        const auto& a = d["applicant"];
        name = fieldText(a, "name");
        const std::string t = fieldText(a, "type");
        type = t == "person" ? "1" : t == "enterprise" || t == "company" ? "2" : "3";
        idType = fieldText(a, "id_type");
        idNo = fieldText(a, "id_no");
    }
    const std::string at =
        fieldText(d, "occurred_at").empty() ? e.time : fieldText(d, "occurred_at");
    std::string x = R"(<?xml version="1.0" encoding="UTF-8"?>)";
    x += "<SQXX>";
    try {
        appendElement(x, "SBLSH", caseNo);
        appendElement(x, "SXBM", item);
        appendElement(x, "SXMC", fieldText(d, "item_name"));
        appendElement(x, "SQRMC", name);
        appendElement(x, "SQRLX", type);
        appendElement(x, "SQRZJLX", idType);
        appendElement(x, "SQRZJHM", idNo);
        appendElement(x, "SLSJ", at.empty() ? std::string() : toWireTime(at, off));
        appendElement(x, "XZQHDM", region);
    } catch (const XmlError& bad) {
        throw WireError(std::string("the application cannot be written as XML: ") + bad.what());
    }
    x += "</SQXX>";
    return x;
}

std::string acknowledgementXml(long long last) {
    return R"(<?xml version="1.0" encoding="UTF-8"?><QRXX><XH>)" + std::to_string(last) +
           "</XH></QRXX>";
}

Answer readAnswer(int status, const std::string& body) {
    Answer a;
    if (status == 0 || status >= 500 || status == 429 || status == 408) {
        a.message = status == 0 ? "the department's system did not answer"
                                : "the department's system answered HTTP " + std::to_string(status);
        return a;
    }
    a.verdict = Verdict::Refused;
    const std::string http = "HTTP " + std::to_string(status);
    XmlElement root;
    try {
        // Its answers are a handful of fields, or one page of records: 1 MiB is plenty.
        root = parseXml(body, XmlLimits{1 << 20, 4, 50000});
    } catch (const XmlError& bad) {
        a.message = http + ", an answer that is not acceptable XML (" + bad.what() + ")";
        if (status >= 400 && !body.empty())
            a.message = http + ": " + body.substr(0, 200) + " (not XML: " + bad.what() + ")";
        return a;
    }
    const std::string code = root.childText("FHDM"), msg = root.childText("FHMS");
    if (root.name != "FHXX" || code.empty()) {
        a.message = http + ", an answer without <FHXX><FHDM> (root <" + root.name + ">)";
        return a;
    }
    if (status >= 400) {
        a.message = http + ", FHDM " + code + ": " + msg;
        return a;
    }
    if (code == "0") {
        a.verdict = Verdict::Done;
        a.body = std::move(root);
        return a;
    }
    if (code == kBusyCode) a.verdict = Verdict::TryAgain;
    a.message = "FHDM " + code + ": " + msg;
    return a;
}

json updateRecords(const XmlElement& answer) {
    json out = json::array();
    const XmlElement* list = answer.child("JLS");
    if (!list) return out; // nothing new
    for (const auto& r : list->children) {
        const std::string where = "record " + std::to_string(out.size() + 1) + " <" + r.name + ">";
        if (r.name != "JL") throw WireError(where + " is not a <JL>");
        json fields = json::object();
        std::set<std::string> seen;
        for (const auto& f : r.children) {
            if (!f.children.empty()) throw WireError(where + ": <" + f.name + "> is not a field");
            if (!seen.insert(f.name).second)
                throw WireError(where + ": <" + f.name + "> appears twice");
            if ((f.name == "XH" || f.name == "VERSION") && integerText(f.text))
                fields[f.name] = std::stoll(f.text);
            else
                fields[f.name] = f.text;
        }
        out.push_back(std::move(fields));
    }
    return out;
}

const DeptIdentity& deptIdentity() {
    static const DeptIdentity who{"public-security", "dept:public-security", "gongan-"};
    return who;
}

} // namespace ow::adapters::gongan
