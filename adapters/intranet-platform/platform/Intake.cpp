#include "adapters/intranet-platform/platform/Intake.h"

#include <nlohmann/json.hpp>

#include "plugins/cases/data/Rfc3339.h"

namespace sdk = onewindow::sdk;
using nlohmann::json;

namespace ow::adapters::platform {
namespace {

// Applications happen once per case; a correction re-sends them with a higher data_version.
bool isApplication(const std::string& type) {
    return type == "gov.case.submitted" || type == "gov.case.received" ||
           type == "gov.case.accepted";
}

std::optional<std::string> extension(const sdk::Event& e, const char* name) {
    auto it = e.extensions.find(name);
    if (it == e.extensions.end()) return std::nullopt;
    return it->second;
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
    std::string out;
    for (const auto& p : parts)
        out += (out.empty() ? "" : separator) + p;
    return out;
}

// Collects every problem of one submission, so the window corrects them all at once.
class Reasons {
public:
    explicit Reasons(std::vector<std::string>& out) : out_(out) {}
    void add(std::string r) { out_.push_back(std::move(r)); }

    /// data.<key> as text: nullopt when absent or null; a value of another type is a reason.
    std::optional<std::string> text(const json& data, const char* key) {
        auto it = data.find(key);
        if (it == data.end() || it->is_null()) return std::nullopt;
        if (!it->is_string()) {
            add(std::string("data.") + key + " must be a string, not " +
                quote(it->dump(-1, ' ', false, json::error_handler_t::replace)));
            return std::nullopt;
        }
        return it->get<std::string>();
    }

private:
    std::vector<std::string>& out_;
};

int daysInMonth(int year, int month) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

} // namespace

bool wellFormedCaseNo(const std::string& caseNo, const std::string& regionCode) {
    if (caseNo.size() != regionCode.size() + 14 || caseNo.compare(0, regionCode.size(), regionCode))
        return false;
    for (char c : caseNo)
        if (c < '0' || c > '9') return false;
    const int year = std::stoi(caseNo.substr(regionCode.size(), 4));
    const int month = std::stoi(caseNo.substr(regionCode.size() + 4, 2));
    const int day = std::stoi(caseNo.substr(regionCode.size() + 6, 2));
    return year >= 2000 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

std::string quote(const std::string& value) {
    constexpr std::size_t Max = 64;
    std::string cut = value;
    bool shortened = false;
    if (cut.size() > Max) {
        std::size_t n = Max;
        while (n > 0 && (static_cast<unsigned char>(cut[n]) & 0xC0) == 0x80)
            --n; // not inside a UTF-8 sequence
        cut.resize(n);
        shortened = true;
    }
    return json(cut).dump(-1, ' ', false, json::error_handler_t::replace) + (shortened ? "…" : "");
}

Intake::Intake(const cases::Catalog& catalog, IntakeSettings settings)
    : catalog_(catalog), s_(std::move(settings)) {}

Finding Intake::check(const sdk::Event& e) const {
    Finding f;
    // Loop guard: whatever this adapter emitted is never a submission, even if a route that
    // matches too much brings it back.
    if (e.source.rfind(OwnSourcePrefix, 0) == 0) {
        f.ownEvent = true;
        return f;
    }
    Reasons why(f.reasons);
    if (e.type.rfind("gov.case.", 0) != 0)
        why.add("the intake checks gov.case.* submissions, not " + quote(e.type));

    json data = json::object();
    if (!e.data.empty()) {
        const json parsed = e.dataIsJson ? json::parse(e.data, nullptr, false) : json();
        if (parsed.is_object())
            data = parsed;
        else
            why.add("data is not a JSON object");
    }

    std::string caseNo = e.subject;
    if (auto given = why.text(data, "case_no")) {
        if (!caseNo.empty() && *given != caseNo)
            why.add("subject " + quote(caseNo) + " and data.case_no " + quote(*given) +
                    " name different cases");
        else
            caseNo = *given;
    }
    f.caseNo = caseNo;
    if (caseNo.empty())
        why.add("no case number (subject or data.case_no)");
    else if (!wellFormedCaseNo(caseNo, s_.regionCode))
        why.add("case number " + quote(caseNo) + " is not in the center's form " + s_.regionCode +
                " + yyyyMMdd + a 6-digit serial");

    const auto dataItem = why.text(data, "item_code");
    const auto extItem = extension(e, "itemcode");
    if (dataItem && extItem && *dataItem != *extItem)
        why.add("data.item_code " + quote(*dataItem) + " and the itemcode extension " +
                quote(*extItem) + " differ");
    const std::string itemCode = dataItem ? *dataItem : extItem.value_or("");
    const auto department = extension(e, "department");
    const cases::ServiceItem* item = nullptr;
    if (!itemCode.empty()) {
        item = catalog_.item(itemCode);
        if (!item)
            why.add("item " + quote(itemCode) + " is not in the center's catalog");
        else if (department && *department != item->department)
            why.add("department " + quote(*department) + " is not the department of item " +
                    itemCode + " (" + item->department + ")");
    } else if (isApplication(e.type)) {
        why.add(e.type + " needs the item code (data.item_code)");
    } else if (!department) {
        why.add("no department: give data.item_code or the department extension");
    } else if (!catalog_.unit(*department)) {
        why.add("department " + quote(*department) + " is not a unit of the hall");
    }

    if (e.type == "gov.case.accepted") {
        // Without any item code the application rule above has said so already.
        if ((!dataItem || dataItem->empty()) && !itemCode.empty())
            why.add("gov.case.accepted needs data.item_code");
        const auto applicant = data.find("applicant");
        const bool named =
            applicant != data.end() && applicant->is_object() && applicant->contains("name") &&
            (*applicant)["name"].is_string() &&
            (*applicant)["name"].get<std::string>().find_first_not_of(" \t") != std::string::npos;
        if (!named) why.add("gov.case.accepted needs data.applicant.name");
        if (!data.contains("occurred_at"))
            why.add("gov.case.accepted needs data.occurred_at (when it was accepted)");
    }
    if (auto at = why.text(data, "occurred_at"); at && !cases::parseRfc3339(*at))
        why.add("data.occurred_at " + quote(*at) + " is not an RFC 3339 time");
    if (auto v = data.find("data_version"); v != data.end()) {
        if (!v->is_number_integer() || v->get<long long>() < 1 || v->get<long long>() > 1000000)
            why.add("data.data_version must be a whole number from 1 to 1000000");
        else
            f.dataVersion = v->get<int>();
    }
    if (!f.reasons.empty()) return f;

    f.checked = e;
    f.checked.id.clear(); // the hub's: the same each time this event is handled
    f.checked.source = CheckedSource;
    f.checked.subject = caseNo;
    f.checked.extensions["department"] = item ? item->department : *department;
    if (!itemCode.empty()) f.checked.extensions["itemcode"] = itemCode;
    if (isApplication(e.type)) f.factKey = "fact/" + caseNo + "/" + e.type.substr(9);
    return f;
}

sdk::Result Intake::gate(const sdk::Event& e, sdk::ProcessContext& ctx, bool& repeat) const {
    repeat = false;
    Finding f = check(e);
    if (f.ownEvent) return sdk::Result::ok();
    if (!f.reasons.empty())
        return sdk::Result::reject("submission refused: " + join(f.reasons, "; "));
    if (!f.factKey.empty()) {
        // The platform re-sending an application under a new id must not reach the
        // department twice; a correction (higher data_version) must.
        const auto seen = ctx.get(f.factKey);
        if (seen && std::stoi(*seen) >= f.dataVersion) {
            repeat = true;
            return sdk::Result::ok();
        }
        ctx.put(f.factKey, std::to_string(f.dataVersion));
    }
    ctx.emit(std::move(f.checked));
    return sdk::Result::ok();
}

std::optional<sdk::Event> Intake::notice(const sdk::Event& e, const Finding& f) {
    if (f.ownEvent || f.reasons.empty() || !addressable(f.caseNo)) return std::nullopt;
    sdk::Event n;
    n.type = RefusedType;
    n.source = RefusedSource;
    n.subject = f.caseNo;
    n.dataContentType = "application/json";
    n.data = json{{"case_no", f.caseNo},
                  {"reasons", f.reasons},
                  {"refused", {{"type", e.type}, {"id", e.id}, {"source", e.source}}}}
                 .dump(-1, ' ', false, json::error_handler_t::replace);
    return n;
}

} // namespace ow::adapters::platform
