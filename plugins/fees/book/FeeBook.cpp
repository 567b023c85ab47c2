#include "plugins/fees/book/FeeBook.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "plugins/cases/data/Rfc3339.h"
#include "plugins/cases/data/Sha256.h"

namespace sdk = onewindow::sdk;
using nlohmann::json;

namespace ow::fees {

namespace {

// Fee event types this book only announces or that other parts announce: passing by a broad
// route is fine, they are not the book's to take.
const std::set<std::string> Informational = {
    "gov.fee.notice_issued",      "gov.fee.notice_cancelled", "gov.fee.payment_refused",
    "gov.fee.assessment_refused", "gov.fee.share_adjusted",   "gov.fee.refund_refused",
    "gov.fee.receipt_issued",     "gov.fee.reconciled",       "gov.fee.reconciliation_mismatch"};

// What moves money: accepted only from the ways in the settings name (signed terminals).
const std::set<std::string> MovesMoney = {"gov.fee.paid", "gov.fee.payment_reversed",
                                          "gov.fee.refunded"};

std::string text(const json& d, const std::string& key, std::size_t maxLen = 128) {
    auto it = d.find(key);
    if (it == d.end() || it->is_null()) throw BadEvent(key + " is missing");
    if (!it->is_string()) throw BadEvent(key + " must be a string, got " + it->dump());
    auto s = it->get<std::string>();
    if (s.empty()) throw BadEvent(key + " is empty");
    if (s.size() > maxLen)
        throw BadEvent(key + " is longer than " + std::to_string(maxLen) + " bytes");
    // Keys of the state are built from these: a '/' would make one key look like another.
    if (maxLen <= 128 && s.find('/') != std::string::npos)
        throw BadEvent(key + " must not contain '/': " + s);
    return s;
}

std::string optionalText(const json& d, const std::string& key, std::size_t maxLen = 2000) {
    if (!d.contains(key) || d[key].is_null()) return {};
    if (!d[key].is_string()) throw BadEvent(key + " must be a string");
    auto s = d[key].get<std::string>();
    if (s.size() > maxLen) throw BadEvent(key + " is too long");
    return s;
}

std::optional<json> load(sdk::ProcessContext& ctx, const std::string& key) {
    auto v = ctx.get(key);
    if (!v) return std::nullopt;
    return json::parse(*v);
}

void save(sdk::ProcessContext& ctx, const std::string& key, const json& doc) {
    ctx.put(key, doc.dump());
}

std::string noticeKey(const std::string& no) {
    return "notice/" + no;
}
std::string caseKey(const std::string& no) {
    return "case/" + no;
}
std::string refundKey(const std::string& no) {
    return "refund/" + no;
}
std::string serialKey(const std::string& bank, const std::string& serial) {
    return "serial/" + bank + "/" + serial;
}
std::string paymentKey(const std::string& day, const std::string& notice, const std::string& bank,
                       const std::string& serial) {
    return "payments/" + day + "/" + notice + "/" + bank + "/" + serial;
}

} // namespace

const cases::FieldReads& FeeBook::fieldsRead() {
    static const cases::FieldReads reads = {
        {"gov.fee.assessed",
         {{"case_no", "string", false},
          {"department", "string", false},
          {"charge_id", "string", true},
          {"item_code", "string", true},
          {"data_version", "integer", false},
          {"lines", "array", true},
          {"waiver_fen", "integer", false},
          {"waiver_reason", "string", false},
          {"total_fen", "integer", false}}},
        {"gov.fee.assessment_cancelled",
         {{"case_no", "string", true}, {"charge_id", "string", true}, {"reason", "string", false}}},
        {"gov.fee.paid",
         {{"notice_no", "string", true},
          {"check_code", "string", true},
          {"amount_fen", "integer", true},
          {"late_fee_fen", "integer", false},
          {"bank_code", "string", true},
          {"bank_serial", "string", true},
          {"channel", "string", false},
          {"paid_at", "string", false}}},
        {"gov.fee.payment_reversed",
         {{"notice_no", "string", true},
          {"bank_code", "string", true},
          {"bank_serial", "string", true},
          {"reason", "string", false},
          {"reversed_at", "string", false}}},
        {"gov.fee.refund_requested",
         {{"refund_no", "string", true},
          {"notice_no", "string", true},
          {"department", "string", true},
          {"amount_fen", "integer", true},
          {"reason", "string", false},
          {"requested_at", "string", false}}},
        {"gov.fee.refund_verified",
         {{"refund_no", "string", true}, {"verified_at", "string", false}}},
        {"gov.fee.refund_approved",
         {{"refund_no", "string", true}, {"approved_at", "string", false}}},
        {"gov.fee.refunded",
         {{"refund_no", "string", true},
          {"refunded_at", "string", false},
          {"bank_serial", "string", false}}},
        {"gov.fee.refund_rejected", {{"refund_no", "string", true}, {"reason", "string", false}}},
    };
    return reads;
}

FeeBook::FeeBook(const cases::Catalog& catalog, const cases::WorkCalendar& calendar,
                 FeeSettings settings)
    : catalog_(catalog), cal_(calendar), s_(std::move(settings)) {}

std::string FeeBook::localDate(Instant t) const {
    int y = 0;
    unsigned m = 0, d = 0;
    cases::WorkCalendar::civilFromDay(cal_.dayOf(t), y, m, d);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
    return buf;
}

std::string FeeBook::checkCode(const std::string& noticeNo, int revision, Fen total) const {
    const std::string msg =
        noticeNo + "\n" + std::to_string(revision) + "\n" + std::to_string(total);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), s_.checkCodeKey.data(), static_cast<int>(s_.checkCodeKey.size()),
         reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v = (v << 8) | mac[i];
    char buf[16];
    std::snprintf(buf, sizeof buf, "%06u", static_cast<unsigned>(v % 1000000));
    return buf;
}

Fen FeeBook::lateFee(const json& notice, Instant paidAt) const {
    if (s_.lateFeePermillePerDay <= 0) return 0;
    const auto days = cal_.dayOf(paidAt) - cal_.dayOf(notice.at("due_ms").get<Instant>());
    if (days <= 0) return 0;
    const Fen total = notice.at("total_fen").get<Fen>();
    const auto fee = static_cast<__int128>(total) * s_.lateFeePermillePerDay * days / 1000;
    return static_cast<Fen>(std::min<__int128>(fee, total));
}

std::string FeeBook::departmentName(const std::string& id) const {
    const auto* u = catalog_.unit(id);
    return u ? u->name : id;
}

sdk::Event FeeBook::event(const std::string& type, const std::string& id,
                          const std::string& subject, const std::string& department, json data,
                          Instant now) const {
    sdk::Event e;
    e.type = type;
    e.id = id;
    e.source = s_.source;
    e.subject = subject;
    e.time = cases::formatRfc3339(now, cal_.hours().utcOffsetMinutes);
    if (!department.empty()) e.extensions["department"] = department;
    e.data = data.dump();
    return e;
}

void FeeBook::alert(Ctx& ctx, const std::string& alertId, const std::string& level,
                    const std::string& rule, int trigger, const std::string& caseNo,
                    const std::string& department, const std::string& message, json extra,
                    Instant now) const {
    json d = {{"alert_id", alertId},
              {"case_no", caseNo},
              {"level", level},
              {"category", "04"}, // 收费异常
              {"rule", rule},
              {"trigger", trigger},
              {"department", department},
              {"message", message},
              {"raised_at", cases::formatRfc3339(now, cal_.hours().utcOffsetMinutes)}};
    if (!department.empty()) d["department_name"] = departmentName(department);
    for (auto& [k, v] : extra.items())
        d[k] = v;
    auto e =
        event("gov.supervision.alert", "alert-" + alertId, caseNo, department, std::move(d), now);
    e.extensions["alertlevel"] = level;
    ctx.emit(std::move(e));
}

sdk::Result FeeBook::process(const sdk::Event& e, Ctx& ctx, Instant now) {
    if (e.source == s_.source) return sdk::Result::ok(); // our own event, routed back
    if (Informational.count(e.type)) return sdk::Result::ok();
    if (!e.dataIsJson) return sdk::Result::reject(e.type + ": the data must be JSON");
    json d;
    try {
        d = json::parse(e.data);
    } catch (const std::exception& x) {
        return sdk::Result::reject(e.type + ": the data is not JSON: " + x.what());
    }
    if (!d.is_object()) return sdk::Result::reject(e.type + ": the data must be a JSON object");
    if (MovesMoney.count(e.type) && !s_.moneyFrom.count(sdk::authMethodOf(e))) {
        std::string ways;
        for (const auto& w : s_.moneyFrom)
            ways += (ways.empty() ? "" : ", ") + w;
        return sdk::Result::reject(
            e.type + " " + e.id + " came from '" + sdk::principalOf(e) + "' through input '" +
            sdk::inputOf(e) + "' (authenticated by " +
            (sdk::authMethodOf(e).empty() ? "nothing" : sdk::authMethodOf(e)) +
            "); the fee book takes money movements only from: " + ways);
    }
    const auto reads = fieldsRead().find(e.type);
    if (reads == fieldsRead().end())
        return sdk::Result::reject(e.type + " is not a fee event the fee book takes");
    d = cases::onlyFieldsRead(d, reads->second); // the handlers see only what the list names
    try {
        if (e.type == "gov.fee.assessed")
            assessed(e, d, ctx, now);
        else if (e.type == "gov.fee.assessment_cancelled")
            cancelled(d, ctx, now);
        else if (e.type == "gov.fee.paid")
            paid(e, d, ctx, now);
        else if (e.type == "gov.fee.payment_reversed")
            reversed(d, ctx, now);
        else // the refund chain: the rest of fieldsRead()
            refundEvent(e.type.substr(8), d, ctx, now);
    } catch (const BadEvent& x) {
        return sdk::Result::reject(e.type + " " + e.id + ": " + x.what());
    } catch (const std::out_of_range& x) {
        // A refund event ahead of its request: the request is on its way.
        return sdk::Result::retry(x.what(), 5000);
    }
    return sdk::Result::ok();
}

// ---- assessment ---------------------------------------------------------------------------

void FeeBook::assessed(const sdk::Event& e, const json& d, Ctx& ctx, Instant now) {
    const std::string caseNo = d.contains("case_no") ? text(d, "case_no") : e.subject;
    if (caseNo.empty()) throw BadEvent("case_no is missing");
    std::string department = optionalText(d, "department", 64);
    if (department.empty() && e.extensions.count("department"))
        department = e.extensions.at("department");
    if (department.empty()) throw BadEvent("department is missing");
    const std::string chargeId = text(d, "charge_id");
    const std::string itemCode = text(d, "item_code");
    const int version = d.value("data_version", 1);
    if (!d.contains("lines") || !d["lines"].is_array() || d["lines"].empty())
        throw BadEvent("lines must be a non-empty array of fee lines");
    if (d["lines"].size() > 200) throw BadEvent("more than 200 fee lines");

    std::vector<std::string> problems;
    const auto* item = catalog_.item(itemCode);
    std::vector<const cases::FeeItem*> allowed;
    if (!catalog_.unit(department))
        problems.push_back("department " + department + " is not a unit of the hall");
    if (!item) {
        problems.push_back("item " + itemCode + " is not in the catalog");
    } else if (item->department == department) {
        for (const auto& f : item->fees)
            allowed.push_back(&f);
    } else if (std::any_of(item->joint.begin(), item->joint.end(),
                           [&](const auto& j) { return j.department == department; })) {
        // A co-department of a joint item charges the fees it publishes for its own items.
        for (const auto& i : catalog_.items())
            if (i.department == department)
                for (const auto& f : i.fees)
                    allowed.push_back(&f);
    } else {
        problems.push_back("item " + itemCode + " belongs to " + item->department + ", and " +
                           department + " is not one of its co-departments");
    }

    json lines = json::array();
    Fen sum = 0;
    for (std::size_t i = 0; i < d["lines"].size(); ++i) {
        const auto& l = d["lines"][i];
        const std::string where = "lines[" + std::to_string(i) + "]";
        if (!l.is_object()) throw BadEvent(where + " must be an object");
        if (!l.contains("code") || !l["code"].is_string())
            throw BadEvent(where + ".code is missing");
        const std::string code = l["code"];
        if (!l.contains("quantity") || !l["quantity"].is_number_integer() ||
            l["quantity"].get<std::int64_t>() < 1 || l["quantity"].get<std::int64_t>() > 100000)
            throw BadEvent(where + ".quantity must be a whole number from 1 to 100000");
        const auto qty = l["quantity"].get<std::int64_t>();
        const Fen standard = readFen(l, "standard_fen", where);
        const Fen amount = readFen(l, "amount_fen", where);
        const auto fee = std::find_if(allowed.begin(), allowed.end(),
                                      [&](const auto* f) { return f->code == code; });
        json line = {
            {"code", code}, {"quantity", qty}, {"standard_fen", standard}, {"amount_fen", amount}};
        if (item && fee == allowed.end()) {
            problems.push_back(
                where + ": fee " + code + " is not a published fee of " +
                (item->department == department ? "item " + itemCode : "department " + department));
        } else if (fee != allowed.end()) {
            line["name"] = (*fee)->name;
            line["unit"] = (*fee)->unit;
            line["basis"] = (*fee)->basis;
            if (standard != (*fee)->standardFen)
                problems.push_back(where + ": fee " + code + " charged at " + yuan(standard) +
                                   " per " + (*fee)->unit + ", the published standard is " +
                                   yuan((*fee)->standardFen));
        }
        if (amount != standard * qty)
            problems.push_back(where + ": amount " + yuan(amount) + " is not the standard " +
                               yuan(standard) + " × " + std::to_string(qty));
        sum += amount;
        lines.push_back(std::move(line));
    }
    const Fen waiver = readFenOr0(d, "waiver_fen", "");
    const std::string waiverReason = optionalText(d, "waiver_reason");
    if (waiver > sum)
        problems.push_back("the waiver " + yuan(waiver) + " is more than the lines " + yuan(sum));
    if (waiver > 0 && waiverReason.empty())
        problems.push_back("a waiver of " + yuan(waiver) + " needs its waiver_reason");
    const Fen total = sum - std::min(waiver, sum);
    if (d.contains("total_fen") && readFen(d, "total_fen", "") != total)
        problems.push_back("total_fen " + yuan(readFen(d, "total_fen", "")) +
                           " is not the lines less the waiver, " + yuan(total));

    json caseDoc = load(ctx, caseKey(caseNo))
                       .value_or(json{{"case_no", caseNo},
                                      {"open", json::object()},
                                      {"done", json::object()},
                                      {"notice", ""}});
    if (caseDoc["done"].contains(chargeId))
        problems.push_back("charge " + chargeId + " is on notice " +
                           caseDoc["done"][chargeId].get<std::string>() +
                           ", already paid: a change after payment is a refund");
    if (caseDoc["open"].contains(chargeId) &&
        caseDoc["open"][chargeId].value("version", 1) >= version)
        return; // this version (or a newer one) is already on the notice
    if (!problems.empty()) {
        json r = {{"case_no", caseNo},     {"charge_id", chargeId},   {"department", department},
                  {"item_code", itemCode}, {"data_version", version}, {"problems", problems}};
        ctx.emit(
            event("gov.fee.assessment_refused",
                  "assessment-refused-" + caseNo + "-" + chargeId + "-v" + std::to_string(version),
                  caseNo, department, r, now));
        std::string message = "办件" + caseNo + "的收费核定（" + chargeId +
                              "）不符合公布的收费项目或标准: " + problems.front();
        alert(ctx, caseNo + "/fee/" + chargeId + "/v" + std::to_string(version), "red",
              "charge_outside_published_fees", 7, caseNo, department, message,
              {{"charge_id", chargeId}, {"problems", problems}}, now);
        return;
    }
    caseDoc["open"][chargeId] = {
        {"charge_id", chargeId},
        {"department", department},
        {"item_code", itemCode},
        {"lines", lines},
        {"waiver_fen", waiver},
        {"waiver_reason", waiverReason},
        {"total_fen", total},
        {"version", version},
        {"assessed_at", cases::formatRfc3339(now, cal_.hours().utcOffsetMinutes)}};
    consolidate(caseDoc, ctx, now, "assessed");
    save(ctx, caseKey(caseNo), caseDoc);
}

void FeeBook::cancelled(const json& d, Ctx& ctx, Instant now) {
    const std::string caseNo = text(d, "case_no");
    const std::string chargeId = text(d, "charge_id");
    auto caseDoc = load(ctx, caseKey(caseNo));
    if (!caseDoc || !(*caseDoc)["open"].contains(chargeId)) {
        if (caseDoc && (*caseDoc)["done"].contains(chargeId))
            ctx.emit(event("gov.fee.assessment_refused",
                           "cancel-refused-" + caseNo + "-" + chargeId, caseNo, "",
                           {{"case_no", caseNo},
                            {"charge_id", chargeId},
                            {"problems",
                             {"the charge is paid: a cancellation after payment is "
                              "a refund (gov.fee.refund_requested)"}}},
                           now));
        return; // nothing open to cancel: a repeat, or cancelled before it was assessed
    }
    (*caseDoc)["open"].erase(chargeId);
    consolidate(*caseDoc, ctx, now, "cancelled: " + optionalText(d, "reason"));
    save(ctx, caseKey(caseNo), *caseDoc);
}

void FeeBook::consolidate(json& caseDoc, Ctx& ctx, Instant now, const std::string& why) {
    const std::string caseNo = caseDoc["case_no"];
    std::string no = caseDoc["notice"];
    Fen total = 0;
    for (const auto& [_, c] : caseDoc["open"].items())
        total += c["total_fen"].get<Fen>();
    if (caseDoc["open"].empty() || total == 0) {
        if (no.empty()) return;
        auto notice = load(ctx, noticeKey(no)).value();
        notice["status"] = "cancelled";
        save(ctx, noticeKey(no), notice);
        savePublic(notice, ctx);
        caseDoc["notice"] = "";
        ctx.emit(event("gov.fee.notice_cancelled",
                       "notice-" + no + "-r" + std::to_string(notice["revision"].get<int>()) +
                           "-cancelled",
                       caseNo, "", {{"notice_no", no}, {"case_no", caseNo}, {"reason", why}}, now));
        return;
    }
    json notice;
    if (no.empty()) {
        const auto seq = std::stoll(ctx.get("seq/notice").value_or("0")) + 1;
        ctx.put("seq/notice", std::to_string(seq));
        char digits[24];
        std::snprintf(digits, sizeof digits, "%08lld", seq);
        no = s_.noticePrefix + localDate(now).substr(0, 4) + digits;
        notice = {{"notice_no", no}, {"case_no", caseNo}, {"revision", 0}, {"status", "open"}};
        caseDoc["notice"] = no;
    } else {
        notice = load(ctx, noticeKey(no)).value();
    }
    const int revision = notice["revision"].get<int>() + 1;
    std::map<std::string, json> shares;
    for (const auto& [id, c] : caseDoc["open"].items()) {
        auto& s = shares[c["department"].get<std::string>()];
        if (s.is_null())
            s = {{"department", c["department"]},
                 {"department_name", departmentName(c["department"])},
                 {"amount_fen", 0},
                 {"charges", json::array()}};
        s["amount_fen"] = s["amount_fen"].get<Fen>() + c["total_fen"].get<Fen>();
        s["charges"].push_back(c);
    }
    json shareList = json::array();
    for (auto& [_, s] : shares)
        shareList.push_back(std::move(s));
    const Instant due = cal_.addWorkingDays(now, s_.paymentDays);
    notice["revision"] = revision;
    notice["total_fen"] = total;
    notice["check_code"] = checkCode(no, revision, total);
    notice["shares"] = shareList;
    notice["issued_at"] = cases::formatRfc3339(now, cal_.hours().utcOffsetMinutes);
    notice["due_ms"] = due;
    notice["due_at"] = cases::formatRfc3339(due, cal_.hours().utcOffsetMinutes);
    save(ctx, noticeKey(no), notice);
    savePublic(notice, ctx);
    json out = {{"notice_no", no},
                {"check_code", notice["check_code"]},
                {"revision", revision},
                {"case_no", caseNo},
                {"total_fen", total},
                {"due_at", notice["due_at"]},
                {"late_fee_permille_per_day", s_.lateFeePermillePerDay},
                {"shares", shareList},
                {"reason", why}};
    ctx.emit(event("gov.fee.notice_issued", "notice-" + no + "-r" + std::to_string(revision),
                   caseNo, "", std::move(out), now));
}

void FeeBook::savePublic(const json& notice, Ctx& ctx) const {
    // What the bank's notice query (缴款书查询) answers: the amounts and items, never the payer.
    json shares = json::array();
    for (const auto& s : notice["shares"]) {
        json lines = json::array();
        for (const auto& c : s["charges"])
            for (const auto& l : c["lines"])
                lines.push_back(l);
        shares.push_back({{"department", s["department"]},
                          {"department_name", s["department_name"]},
                          {"amount_fen", s["amount_fen"]},
                          {"lines", lines}});
    }
    const std::string no = notice["notice_no"];
    json pub = {
        {"notice_no", no},
        {"secret_sha256", cases::sha256Hex(no + ":" + notice["check_code"].get<std::string>())},
        {"status", notice["status"]},
        {"revision", notice["revision"]},
        {"total_fen", notice["total_fen"]},
        {"due_at", notice["due_at"]},
        {"late_fee_permille_per_day", s_.lateFeePermillePerDay},
        {"shares", shares}};
    if (notice.contains("payment") && !notice["payment"].is_null())
        pub["paid_at"] = notice["payment"]["paid_at"];
    save(ctx, "public/" + no, pub);
}

// ---- payments -----------------------------------------------------------------------------

void FeeBook::paid(const sdk::Event& e, const json& d, Ctx& ctx, Instant now) {
    json pay = {{"notice_no", text(d, "notice_no")},
                {"check_code", text(d, "check_code")},
                {"amount_fen", readFen(d, "amount_fen", "")},
                {"late_fee_fen", readFenOr0(d, "late_fee_fen", "")},
                {"bank_code", text(d, "bank_code")},
                {"bank_serial", text(d, "bank_serial")},
                {"channel", optionalText(d, "channel", 32)},
                {"terminal", e.source},
                {"event_id", e.id}};
    const std::string paidAtText = d.contains("paid_at") ? text(d, "paid_at", 64) : e.time;
    const auto paidAt = cases::parseRfc3339(paidAtText);
    if (!paidAt) throw BadEvent("paid_at is not an RFC 3339 time: '" + paidAtText + "'");
    pay["paid_at"] = cases::formatRfc3339(*paidAt, cal_.hours().utcOffsetMinutes);
    pay["day"] = localDate(*paidAt);
    const std::string no = pay["notice_no"], bank = pay["bank_code"], serial = pay["bank_serial"];

    if (auto seen = load(ctx, serialKey(bank, serial))) {
        // The same bank transaction told again (a new message id): it has its verdict.
        if ((*seen)["notice_no"] == no) return;
        refusePayment(pay, "serial_reused",
                      "bank serial " + serial + " of " + bank + " was already used for notice " +
                          (*seen)["notice_no"].get<std::string>(),
                      nullptr, ctx, now);
        return;
    }
    auto notice = load(ctx, noticeKey(no));
    if (!notice) {
        refusePayment(pay, "unknown_notice", "no notice " + no + " was issued", nullptr, ctx, now);
        return;
    }
    auto& n = *notice;
    if (pay["check_code"] != n["check_code"]) {
        refusePayment(pay, "check_code_mismatch",
                      "check code does not match notice " + no + " (revision " +
                          std::to_string(n["revision"].get<int>()) +
                          "): the notice may have been revised, query it again",
                      &n, ctx, now);
        return;
    }
    if (n["status"] == "cancelled") {
        refusePayment(pay, "notice_cancelled", "notice " + no + " was cancelled", &n, ctx, now);
        return;
    }
    if (n["status"] == "paid") {
        const auto& p = n["payment"];
        refusePayment(pay, "already_paid",
                      "notice " + no + " was already paid at " + p["paid_at"].get<std::string>() +
                          " (bank serial " + p["bank_serial"].get<std::string>() +
                          "): this second payment is not taken and must be returned",
                      &n, ctx, now);
        return;
    }
    const Fen total = n["total_fen"], late = lateFee(n, *paidAt);
    if (pay["late_fee_fen"].get<Fen>() != late) {
        refusePayment(pay, "late_fee_mismatch",
                      "late fee " + yuan(pay["late_fee_fen"]) + " is not the " + yuan(late) +
                          " due on notice " + no + " paid on " + pay["day"].get<std::string>(),
                      &n, ctx, now);
        return;
    }
    if (pay["amount_fen"].get<Fen>() != total + late) {
        refusePayment(
            pay, "amount_mismatch",
            "amount " + yuan(pay["amount_fen"]) + " is not the notice total " + yuan(total) +
                (late ? " plus the late fee " + yuan(late) + " = " + yuan(total + late) : ""),
            &n, ctx, now);
        return;
    }

    // The split: each department its assessed amount; the late fee in proportion.
    std::vector<Fen> weights;
    for (const auto& s : n["shares"])
        weights.push_back(s["amount_fen"].get<Fen>());
    const auto lateParts = splitProportionally(late, weights);
    json shares = json::array();
    for (std::size_t i = 0; i < weights.size(); ++i)
        shares.push_back({{"department", n["shares"][i]["department"]},
                          {"principal_fen", weights[i]},
                          {"late_fee_fen", lateParts[i]},
                          {"amount_fen", weights[i] + lateParts[i]}});
    pay["status"] = "accepted";
    pay["shares"] = shares;
    n["status"] = "paid";
    n["payment"] = pay;
    save(ctx, noticeKey(no), n);
    savePublic(n, ctx);
    save(ctx, paymentKey(pay["day"], no, bank, serial), pay);
    save(ctx, serialKey(bank, serial),
         {{"notice_no", no}, {"day", pay["day"]}, {"status", "accepted"}});

    const std::string caseNo = n["case_no"];
    auto caseDoc = load(ctx, caseKey(caseNo)).value();
    for (const auto& s : n["shares"])
        for (const auto& c : s["charges"]) {
            caseDoc["open"].erase(c["charge_id"].get<std::string>());
            caseDoc["done"][c["charge_id"].get<std::string>()] = no;
        }
    if (caseDoc["notice"] == no) caseDoc["notice"] = "";
    save(ctx, caseKey(caseNo), caseDoc);

    for (std::size_t i = 0; i < shares.size(); ++i) {
        const auto& s = shares[i];
        const std::string dept = s["department"];
        json out = {{"case_no", caseNo},
                    {"notice_no", no},
                    {"department", dept},
                    {"department_name", departmentName(dept)},
                    {"amount_fen", s["amount_fen"]},
                    {"principal_fen", s["principal_fen"]},
                    {"late_fee_fen", s["late_fee_fen"]},
                    {"notice_total_fen", total},
                    {"charges", n["shares"][i]["charges"]},
                    {"bank_code", bank},
                    {"bank_serial", serial},
                    {"channel", pay["channel"]},
                    {"terminal", pay["terminal"]},
                    {"paid_at", pay["paid_at"]}};
        ctx.emit(event("gov.fee.paid", "paid-" + no + "-" + bank + "-" + serial + "-" + dept,
                       caseNo, dept, std::move(out), now));
    }
}

void FeeBook::refusePayment(const json& pay, const std::string& code, const std::string& reason,
                            const json* notice, Ctx& ctx, Instant now) {
    const std::string no = pay["notice_no"], bank = pay["bank_code"], serial = pay["bank_serial"];
    json rec = pay;
    rec["status"] = "refused";
    rec["reason_code"] = code;
    rec["reason"] = reason;
    const auto key = paymentKey(pay["day"], no, bank, serial);
    if (ctx.get(key)) return; // refused before: once is enough
    save(ctx, key, rec);
    if (!ctx.get(serialKey(bank, serial)))
        save(ctx, serialKey(bank, serial),
             {{"notice_no", no}, {"day", pay["day"]}, {"status", "refused"}});
    const std::string caseNo = notice ? (*notice)["case_no"].get<std::string>() : "";
    json out = rec;
    out.erase("check_code");
    if (notice) out["notice_total_fen"] = (*notice)["total_fen"];
    ctx.emit(event("gov.fee.payment_refused", "payment-refused-" + bank + "-" + serial, caseNo, "",
                   out, now));
    alert(ctx, "payment/" + bank + "/" + serial, code == "already_paid" ? "red" : "yellow",
          "payment_" + code, 8, caseNo, "",
          "缴款被拒收（" + bank + " 流水号 " + serial + "）: " + reason,
          {{"notice_no", no}, {"bank_serial", serial}, {"reason_code", code}}, now);
}

void FeeBook::reversed(const json& d, Ctx& ctx, Instant now) {
    const std::string no = text(d, "notice_no"), bank = text(d, "bank_code"),
                      serial = text(d, "bank_serial");
    const std::string reason = optionalText(d, "reason");
    const std::string atText = d.contains("reversed_at")
                                   ? text(d, "reversed_at", 64)
                                   : cases::formatRfc3339(now, cal_.hours().utcOffsetMinutes);
    const auto at = cases::parseRfc3339(atText);
    if (!at) throw BadEvent("reversed_at is not an RFC 3339 time: '" + atText + "'");
    auto refuse = [&](const std::string& code, const std::string& why, const std::string& caseNo) {
        json r = {{"notice_no", no},
                  {"bank_code", bank},
                  {"bank_serial", serial},
                  {"reason_code", code},
                  {"reason", why}};
        ctx.emit(event("gov.fee.payment_refused", "reversal-refused-" + bank + "-" + serial, caseNo,
                       "", r, now));
        alert(ctx, "reversal/" + bank + "/" + serial, "yellow", "reversal_" + code, 8, caseNo, "",
              "冲销被拒绝（" + bank + " 流水号 " + serial + "）: " + why,
              {{"notice_no", no}, {"bank_serial", serial}}, now);
    };
    auto seen = load(ctx, serialKey(bank, serial));
    if (!seen || (*seen)["notice_no"] != no || (*seen)["status"] == "refused") {
        refuse("unknown_payment",
               "no accepted payment with bank serial " + serial + " on notice " + no, "");
        return;
    }
    const std::string day = (*seen)["day"];
    auto rec = load(ctx, paymentKey(day, no, bank, serial)).value();
    if (rec["status"] == "reversed") return; // told again
    auto n = load(ctx, noticeKey(no)).value();
    const std::string caseNo = n["case_no"];
    if (localDate(*at) != day) {
        refuse("not_same_day",
               "a reversal (冲销) is only possible on the payment day " + day +
                   "; later the money goes back through the refund chain",
               caseNo);
        return;
    }
    for (const auto& s : n["payment"]["shares"])
        if (s.value("refunded_fen", Fen{0}) + s.value("pending_fen", Fen{0}) > 0) {
            refuse("refund_open", "notice " + no + " has refunds; it cannot be reversed", caseNo);
            return;
        }
    rec["status"] = "reversed";
    rec["reversed_at"] = cases::formatRfc3339(*at, cal_.hours().utcOffsetMinutes);
    rec["reversal_reason"] = reason;
    save(ctx, paymentKey(day, no, bank, serial), rec);
    save(ctx, serialKey(bank, serial), {{"notice_no", no}, {"day", day}, {"status", "reversed"}});
    n["reversals"].push_back(rec);
    n["status"] = "open";
    n.erase("payment");
    save(ctx, noticeKey(no), n);
    savePublic(n, ctx);
    // The charges are open again, on this notice, with its number and check code.
    auto caseDoc = load(ctx, caseKey(caseNo)).value();
    for (const auto& s : n["shares"])
        for (const auto& c : s["charges"]) {
            caseDoc["done"].erase(c["charge_id"].get<std::string>());
            if (caseDoc["notice"] == "" || caseDoc["notice"] == no)
                caseDoc["open"][c["charge_id"].get<std::string>()] = c;
        }
    if (caseDoc["notice"] == "") caseDoc["notice"] = no;
    save(ctx, caseKey(caseNo), caseDoc);
    for (const auto& s : rec["shares"]) {
        const std::string dept = s["department"];
        ctx.emit(event("gov.fee.payment_reversed",
                       "reversed-" + no + "-" + bank + "-" + serial + "-" + dept, caseNo, dept,
                       {{"case_no", caseNo},
                        {"notice_no", no},
                        {"department", dept},
                        {"department_name", departmentName(dept)},
                        {"amount_fen", s["amount_fen"]},
                        {"bank_code", bank},
                        {"bank_serial", serial},
                        {"reason", reason},
                        {"reversed_at", rec["reversed_at"]}},
                       now));
    }
}

// ---- refunds ------------------------------------------------------------------------------

void FeeBook::refundEvent(const std::string& kind, const json& d, Ctx& ctx, Instant now) {
    const std::string refundNo = text(d, "refund_no");
    const int offset = cal_.hours().utcOffsetMinutes;
    auto at = [&](const std::string& key) {
        if (!d.contains(key)) return now;
        const std::string t = text(d, key, 64);
        auto v = cases::parseRfc3339(t);
        if (!v) throw BadEvent(key + " is not an RFC 3339 time: '" + t + "'");
        return *v;
    };
    auto existing = load(ctx, refundKey(refundNo));
    if (kind == "refund_requested") {
        if (existing) return; // told again
        const std::string no = text(d, "notice_no"), dept = text(d, "department", 64);
        const Fen amount = readFen(d, "amount_fen", "");
        const Instant requested = at("requested_at");
        auto n = load(ctx, noticeKey(no));
        json* share = nullptr;
        std::string why;
        if (!n)
            why = "no notice " + no + " was issued";
        else if ((*n)["status"] != "paid")
            why = "notice " + no + " is not paid (" + (*n)["status"].get<std::string>() + ")";
        else {
            for (auto& s : (*n)["payment"]["shares"])
                if (s["department"] == dept) share = &s;
            if (!share)
                why = dept + " has no share of notice " + no;
            else if (amount == 0)
                why = "a refund of 0";
            else {
                const Fen left = (*share)["amount_fen"].get<Fen>() -
                                 share->value("refunded_fen", Fen{0}) -
                                 share->value("pending_fen", Fen{0});
                if (amount > left)
                    why = "amount " + yuan(amount) + " is more than the " + yuan(left) + " of " +
                          dept + "'s share still refundable";
            }
        }
        const std::string caseNo = n ? (*n)["case_no"].get<std::string>() : "";
        if (!why.empty()) {
            ctx.emit(event("gov.fee.refund_refused", "refund-refused-" + refundNo, caseNo, dept,
                           {{"refund_no", refundNo}, {"notice_no", no}, {"reason", why}}, now));
            return;
        }
        (*share)["pending_fen"] = share->value("pending_fen", Fen{0}) + amount;
        save(ctx, noticeKey(no), *n);
        const Instant verifyDue = cal_.addWorkingDays(requested, s_.refundVerifyDays);
        json r = {{"refund_no", refundNo},
                  {"notice_no", no},
                  {"case_no", caseNo},
                  {"department", dept},
                  {"amount_fen", amount},
                  {"reason", optionalText(d, "reason")},
                  {"stage", "requested"},
                  {"requested_at", cases::formatRfc3339(requested, offset)},
                  {"due",
                   {{"verify", verifyDue},
                    {"approve", cal_.addWorkingDays(verifyDue, s_.refundApproveDays)}}},
                  {"alerts", json::object()}};
        save(ctx, refundKey(refundNo), r);
        scheduleRefund(r, ctx);
        return;
    }
    if (!existing) throw std::out_of_range("refund " + refundNo + " has not been requested (yet)");
    auto& r = *existing;
    const std::string stage = r["stage"];
    if (stage == "refunded" || stage == "rejected") return; // closed; told again
    auto clearAlerts = [&](const std::string& reason) {
        for (auto& [id, a] : r["alerts"].items()) {
            if (a.value("cleared", false)) continue;
            a["cleared"] = true;
            ctx.emit(event("gov.supervision.alert_cleared", "cleared-" + id, r["case_no"],
                           r["department"],
                           {{"alert_id", id},
                            {"case_no", r["case_no"]},
                            {"level", "red"},
                            {"reason", reason},
                            {"cleared_at", cases::formatRfc3339(now, offset)}},
                           now));
        }
    };
    auto n = load(ctx, noticeKey(r["notice_no"])).value();
    json* share = nullptr;
    for (auto& s : n["payment"]["shares"])
        if (s["department"] == r["department"]) share = &s;
    const Fen amount = r["amount_fen"];
    if (kind == "refund_verified") {
        if (stage != "requested") return;
        const Instant v = at("verified_at");
        r["stage"] = "verified";
        r["verified_at"] = cases::formatRfc3339(v, offset);
        r["due"]["approve"] = cal_.addWorkingDays(v, s_.refundApproveDays);
        clearAlerts("verified");
    } else if (kind == "refund_approved") {
        if (stage != "requested" && stage != "verified") return;
        const Instant a = at("approved_at");
        r["stage"] = "approved";
        r["approved_at"] = cases::formatRfc3339(a, offset);
        r["due"]["pay"] = cal_.addWorkingDays(a, s_.refundPayDays);
        clearAlerts("approved");
    } else if (kind == "refunded") {
        if (stage != "approved")
            throw std::out_of_range("refund " + refundNo + " is paid before it is approved");
        r["stage"] = "refunded";
        r["refunded_at"] = cases::formatRfc3339(at("refunded_at"), offset);
        r["bank_serial"] = optionalText(d, "bank_serial", 64);
        (*share)["pending_fen"] = share->value("pending_fen", Fen{0}) - amount;
        (*share)["refunded_fen"] = share->value("refunded_fen", Fen{0}) + amount;
        save(ctx, noticeKey(r["notice_no"]), n);
        clearAlerts("refunded");
        ctx.emit(event("gov.fee.share_adjusted", "refunded-" + refundNo, r["case_no"],
                       r["department"],
                       {{"kind", "refund"},
                        {"refund_no", refundNo},
                        {"notice_no", r["notice_no"]},
                        {"case_no", r["case_no"]},
                        {"department", r["department"]},
                        {"department_name", departmentName(r["department"])},
                        {"delta_fen", -amount},
                        {"share_after_fen",
                         (*share)["amount_fen"].get<Fen>() - (*share)["refunded_fen"].get<Fen>()},
                        {"refunded_at", r["refunded_at"]}},
                       now));
    } else if (kind == "refund_rejected") {
        r["stage"] = "rejected";
        r["rejected_reason"] = optionalText(d, "reason");
        (*share)["pending_fen"] = share->value("pending_fen", Fen{0}) - amount;
        save(ctx, noticeKey(r["notice_no"]), n);
        clearAlerts("rejected");
    } else {
        throw BadEvent("gov.fee." + kind + " is not a step of the refund chain");
    }
    save(ctx, refundKey(refundNo), r);
    scheduleRefund(r, ctx);
}

void FeeBook::scheduleRefund(const json& r, Ctx& ctx) const {
    const std::string stage = r["stage"];
    const auto& due = r["due"];
    std::optional<Instant> next;
    auto consider = [&](const char* which) {
        if (due.contains(which) &&
            !r["alerts"].contains(r["refund_no"].get<std::string>() + "/" + which))
            next = next ? std::min(*next, due[which].get<Instant>()) : due[which].get<Instant>();
    };
    if (stage == "requested") {
        consider("verify");
        consider("approve");
    } else if (stage == "verified") {
        consider("approve");
    } else if (stage == "approved") {
        consider("pay");
    }
    const std::string name = "refund/" + r["refund_no"].get<std::string>();
    if (next)
        ctx.setTimer(name, *next, "");
    else
        ctx.cancelTimer(name);
}

sdk::Result FeeBook::onTimer(const std::string& name, Ctx& ctx, Instant now) {
    if (name.rfind("refund/", 0) != 0) return sdk::Result::ok();
    auto r = load(ctx, name);
    if (!r) return sdk::Result::ok();
    const std::string stage = (*r)["stage"], no = (*r)["refund_no"];
    const int offset = cal_.hours().utcOffsetMinutes;
    struct Limit {
        const char* which;
        const char* label;
        bool applies;
    };
    const Limit limits[] = {
        {"verify", "执收单位审核", stage == "requested"},
        {"approve", "财政部门审批", stage == "requested" || stage == "verified"},
        {"pay", "退付到账", stage == "approved"},
    };
    for (const auto& l : limits) {
        const std::string id = no + "/" + l.which;
        if (!l.applies || !(*r)["due"].contains(l.which) || (*r)["alerts"].contains(id)) continue;
        const Instant due = (*r)["due"][l.which];
        if (due > now) continue;
        (*r)["alerts"][id] = {{"raised_at", cases::formatRfc3339(now, offset)}};
        alert(ctx, id, "red", std::string("refund_") + l.which + "_overdue", 8, (*r)["case_no"],
              (*r)["department"],
              "退付申请" + no + "的" + l.label + "期限已于" +
                  cases::formatLocalMinute(due, offset) + "届满",
              {{"refund_no", no},
               {"notice_no", (*r)["notice_no"]},
               {"due", cases::formatRfc3339(due, offset)}},
              now);
    }
    save(ctx, name, *r);
    scheduleRefund(*r, ctx);
    return sdk::Result::ok();
}

} // namespace ow::fees
