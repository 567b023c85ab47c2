#include "adapters/intranet-platform/platform/Status.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "adapters/intranet-platform/platform/Intake.h"

namespace sdk = onewindow::sdk;
using nlohmann::json;

namespace ow::adapters::platform {
namespace {

// Attribute names of CloudEvents itself: an extension never takes their place.
bool coreAttribute(const std::string& k) {
    for (const char* a : {"specversion", "id", "source", "type", "subject", "time",
                          "datacontenttype", "dataschema", "data", "data_base64", "sequence"})
        if (k == a) return true;
    return false;
}

std::optional<std::int64_t> wholeNumber(const std::string& text) {
    std::int64_t v = 0;
    const auto* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc() || p != end || v < 1) return std::nullopt;
    return v;
}

std::optional<std::int64_t> wholeNumber(const json& v) {
    if (v.is_number_integer()) return v.get<std::int64_t>();
    if (v.is_string()) return wholeNumber(v.get<std::string>());
    return std::nullopt;
}

std::string header(const sdk::HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (std::equal(k.begin(), k.end(), name.begin(), name.end(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            }))
            return v;
    return "";
}

// The platform's own words for a refusal: its `error` or `message`, else the body itself.
std::string platformMessage(const std::string& body) {
    const json j = json::parse(body, nullptr, false);
    if (j.is_object())
        for (const char* k : {"error", "message", "msg"})
            if (j.contains(k) && j[k].is_string()) return j[k].get<std::string>();
    return body.empty() ? "(no body)" : quote(body);
}

} // namespace

bool isStatusChange(const std::string& type) {
    return type.rfind("gov.case.", 0) == 0 || type.rfind("gov.supervision.alert", 0) == 0;
}

json platformEvent(const sdk::Event& e, const std::string& caseNo, std::int64_t sequence) {
    json ce = {{"specversion", "1.0"},
               {"id", e.id},
               {"source", e.source},
               {"type", e.type},
               {"subject", caseNo}};
    if (!e.time.empty()) ce["time"] = e.time;
    if (!e.dataContentType.empty()) ce["datacontenttype"] = e.dataContentType;
    if (!e.dataSchema.empty()) ce["dataschema"] = e.dataSchema;
    for (const auto& [k, v] : e.extensions)
        if (!coreAttribute(k)) ce[k] = v;
    // The CloudEvents sequence extension is a string; its digits are the case's count.
    ce["sequence"] = std::to_string(sequence);
    if (!e.data.empty()) {
        json data = e.dataIsJson ? json::parse(e.data, nullptr, false) : json();
        ce["data"] = data.is_discarded() || !e.dataIsJson ? json(e.data) : std::move(data);
    }
    return ce;
}

namespace {
constexpr const char* ForgetTimer = "forget/";
} // namespace

sdk::Result stamp(const sdk::Event& e, sdk::ProcessContext& ctx, std::int64_t& sequence,
                  const Retention& retention) {
    sequence = 0;
    if (e.source == StatusSource || e.type == StatusType || !isStatusChange(e.type))
        return sdk::Result::ok();
    std::string caseNo = e.subject;
    if (caseNo.empty() && e.dataIsJson) {
        const json data = json::parse(e.data, nullptr, false);
        if (data.is_object() && data.contains("case_no") && data["case_no"].is_string())
            caseNo = data["case_no"].get<std::string>();
    }
    if (caseNo.empty())
        return sdk::Result::reject(
            "no case number (subject or data.case_no): the platform takes status per case");
    if (!addressable(caseNo))
        return sdk::Result::reject("case number " + quote(caseNo) +
                                   " cannot be addressed (1 to 64 bytes, no control characters)");
    const std::string identity = e.source + " " + e.id;
    const std::string seenKey = "stamped/" + caseNo + "/" + identity;
    if (ctx.get(seenKey)) return sdk::Result::ok(); // numbered and sent already
    const std::string lastKey = "last/" + caseNo;
    const auto last = ctx.get(lastKey);
    const auto previous = last ? wholeNumber(*last) : std::optional<std::int64_t>(0);
    if (!previous)
        return sdk::Result::retry("the state of case " + caseNo + " holds " + quote(*last) +
                                  " as its last sequence: not a number");
    sequence = *previous + 1;
    ctx.put(lastKey, std::to_string(sequence));
    ctx.put(seenKey, std::to_string(sequence));
    // Which entries to forget, and when: a case's changes stop at its conclusion (or after a
    // late correction), and the timer, moved on by each change, then clears them. The count
    // stays, so a change after that continues the numbering the platform expects.
    const std::string idsKey = "ids/" + caseNo;
    json ids = json::array();
    if (auto listed = ctx.get(idsKey)) {
        ids = json::parse(*listed, nullptr, false);
        if (!ids.is_array()) ids = json::array(); // unreadable: those entries are kept for good
    }
    ids.push_back(identity);
    ctx.put(idsKey, ids.dump(-1, ' ', false, json::error_handler_t::replace));
    ctx.setTimer(ForgetTimer + caseNo, retention.nowMs + retention.forgetAfterMs, caseNo);

    sdk::Event out;
    out.type = StatusType;
    out.source = StatusSource;
    out.subject = caseNo;
    out.dataContentType = "application/json";
    out.data =
        platformEvent(e, caseNo, sequence).dump(-1, ' ', false, json::error_handler_t::replace);
    out.extensions["sequence"] = std::to_string(sequence);
    if (auto d = e.extensions.find("department"); d != e.extensions.end())
        out.extensions["department"] = d->second;
    ctx.emit(std::move(out));
    return sdk::Result::ok();
}

sdk::Result forget(const std::string& timer, const std::string& caseNo, sdk::ProcessContext& ctx) {
    if (timer != ForgetTimer + caseNo)
        return sdk::Result::reject("timer " + quote(timer) + " is not the sequencer's");
    const std::string idsKey = "ids/" + caseNo;
    if (auto listed = ctx.get(idsKey)) {
        const json ids = json::parse(*listed, nullptr, false);
        if (ids.is_array())
            for (const auto& id : ids)
                if (id.is_string()) ctx.erase("stamped/" + caseNo + "/" + id.get<std::string>());
        ctx.erase(idsKey);
    }
    return sdk::Result::ok();
}

std::variant<StatusPost, std::string> statusPost(const sdk::Event& e) {
    if (e.type != StatusType)
        return "the status sink sends " + std::string(StatusType) +
               " events (numbered by the sequencer), not " + quote(e.type);
    if (!addressable(e.subject)) return "no case number to address: subject " + quote(e.subject);
    const auto seq = e.extensions.find("sequence");
    const auto n = seq == e.extensions.end() ? std::nullopt : wholeNumber(seq->second);
    if (!n)
        return std::string("no sequence extension: the event was not numbered by the sequencer");
    const json body = json::parse(e.data, nullptr, false);
    if (!body.is_object() || !body.contains("specversion") ||
        body.value("subject", "") != e.subject)
        return std::string("the data is not the case's CloudEvent");
    return StatusPost{"/api/cases/" + percentEncode(e.subject) + "/events", e.data, *n};
}

StatusVerdict readStatusAnswer(const sdk::HttpResponse& r, std::int64_t sequence) {
    StatusVerdict v;
    const std::string n = std::to_string(sequence);
    if (r.status == 0) {
        v.result = sdk::Result::retry("the platform did not answer: " + r.error);
        return v;
    }
    if (r.status >= 200 && r.status < 300) {
        const json j = json::parse(r.body, nullptr, false);
        v.duplicate = j.is_object() && j.value("duplicate", false) == true;
        v.result = sdk::Result::ok();
        return v;
    }
    if (r.status == 409) {
        v.outOfOrder = true;
        const json j = json::parse(r.body, nullptr, false);
        const auto expected =
            j.is_object() && j.contains("expected") ? wholeNumber(j["expected"]) : std::nullopt;
        if (expected && *expected > sequence) {
            // It has this one (it expects a later one) yet did not answer it as a repeat:
            // trying again cannot change that.
            v.result = sdk::Result::reject("the platform expects sequence " +
                                           std::to_string(*expected) + ", past this status's " + n +
                                           ", yet did not take it as a repeat");
            return v;
        }
        v.result = sdk::Result::retry(
            "the platform expects sequence " + (expected ? std::to_string(*expected) : "?") +
            " of the case before " + n + ": an earlier status is still on its way");
        return v;
    }
    if (r.status == 408 || r.status == 429 || r.status >= 500) {
        std::optional<std::int64_t> after;
        if (auto s = wholeNumber(header(r, "Retry-After")))
            after = std::min<std::int64_t>(*s, 3600) * 1000;
        v.result = sdk::Result::retry("the platform answered HTTP " + std::to_string(r.status) +
                                          ": " + platformMessage(r.body),
                                      after);
        return v;
    }
    v.result = sdk::Result::reject("the platform refused status " + n + " (HTTP " +
                                   std::to_string(r.status) + "): " + platformMessage(r.body));
    return v;
}

std::string percentEncode(const std::string& segment) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : segment) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

} // namespace ow::adapters::platform
