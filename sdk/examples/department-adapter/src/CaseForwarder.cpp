#include "CaseForwarder.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <initializer_list>
#include <map>
#include <optional>
#include <stdexcept>

#include "Json.h"

namespace dept_market {
namespace sdk = onewindow::sdk;

namespace {

// The bureau's status codes (BLZT) for the canonical case events it wants to hear about.
const std::map<std::string, std::string>& statusCodes() {
    static const std::map<std::string, std::string> codes{{"gov.case.submitted", "01"},
                                                          {"gov.case.accepted", "02"},
                                                          {"gov.case.supplement_requested", "03"},
                                                          {"gov.case.step_completed", "04"},
                                                          {"gov.case.concluded", "09"},
                                                          {"gov.case.withdrawn", "98"},
                                                          {"gov.case.terminated", "99"}};
    return codes;
}

std::string firstOf(const std::map<std::string, std::string>& m,
                    std::initializer_list<const char*> keys) {
    for (const char* k : keys)
        if (auto it = m.find(k); it != m.end() && !it->second.empty()) return it->second;
    return {};
}

// Retry-After in seconds (the HTTP-date form is rare from these systems and left to backoff).
std::optional<std::int64_t> retryAfterMs(const sdk::HttpResponse& r) {
    for (const auto& [name, value] : r.headers) {
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (lower != "retry-after") continue;
        if (value.empty() || value.size() > 9 ||
            value.find_first_not_of("0123456789") != std::string::npos)
            return std::nullopt;
        return std::stoll(value) * 1000;
    }
    return std::nullopt;
}

// Department answers go into reasons and logs, which must stay readable.
std::string excerpt(const std::string& body) {
    return body.size() <= 200 ? body : body.substr(0, 200) + "...";
}

} // namespace

sdk::ConfigSpec CaseForwarder::spec() {
    return sdk::ConfigSpec(
               "Forwards gov.case.* events to the market regulation bureau's case system "
               "(POST JSON with the bureau's field names: SBLSH, SXBM, SQRMC, BLZT, FSSJ).")
        .field(sdk::Field::string(FieldBaseUrl)
                   .required()
                   .describe("The bureau's REST endpoint, e.g. https://scjg.example.gov.cn"))
        .field(sdk::Field::string(FieldPath)
                   .defaultsTo("/api/v1/cases")
                   .describe("Path of the case call, appended to base_url"))
        .field(sdk::Field::integer(FieldTimeoutMs)
                   .defaultsTo(DefaultTimeoutMs)
                   .range(100, 60000)
                   .describe("How long one call may take"))
        .field(sdk::Field::secret(FieldApiKey).describe("Sent as X-Api-Key when set"))
        .field(sdk::Field::stringList(FieldSuccessCodes)
                   .defaultsTo("200")
                   .describe("Values of the answer's `code` field that mean accepted"));
}

CaseForwarder::CaseForwarder(sdk::Services& services)
    : services_(services),
      timeoutMs_(services.config.get<std::int64_t>(FieldTimeoutMs, DefaultTimeoutMs)),
      apiKey_(services.config.get<std::string>(FieldApiKey)),
      successCodes_(services.config.get<std::vector<std::string>>(FieldSuccessCodes, {"200"})),
      delivered_(services.metrics.counter("cases_delivered_total", "Cases the bureau accepted")),
      retried_(services.metrics.counter("cases_retried_total", "Calls to try again later")),
      rejected_(services.metrics.counter("cases_rejected_total", "Cases dead-lettered")),
      callSeconds_(services.metrics.histogram("call_seconds", "Duration of one bureau call",
                                              {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})) {
    std::string base = services.config.get<std::string>(FieldBaseUrl);
    if (base.rfind("http://", 0) != 0 && base.rfind("https://", 0) != 0)
        throw std::invalid_argument("base_url must start with http:// or https://, got '" + base +
                                    "'");
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    url_ = base + services.config.get<std::string>(FieldPath, "/api/v1/cases");
}

sdk::Result CaseForwarder::deliver(const sdk::Event& event) {
    auto reject = [&](std::string why) {
        rejected_.add();
        services_.log.log(sdk::LogLevel::Warn, "rejected " + event.id + ": " + why,
                          {{"event_id", event.id}, {"subject", event.subject}});
        return sdk::Result::reject(std::move(why));
    };
    auto retry = [&](std::string why, std::optional<std::int64_t> afterMs = std::nullopt) {
        retried_.add();
        services_.log.log(sdk::LogLevel::Warn, "will retry " + event.id + ": " + why,
                          {{"event_id", event.id}, {"subject", event.subject}});
        return sdk::Result::retry(std::move(why), afterMs);
    };

    const auto status = statusCodes().find(event.type);
    if (status == statusCodes().end())
        return reject("the bureau takes no event of type " + event.type);
    std::map<std::string, std::string> data;
    if (event.dataIsJson && !event.data.empty()) {
        auto fields = json::topLevelScalars(event.data);
        if (!fields) return reject("data is not a JSON object");
        data = std::move(*fields);
    }
    // The case number is the subject of gov.case.* events; the item code an extension.
    const std::string caseNo = event.subject.empty() ? firstOf(data, {"case_no"}) : event.subject;
    if (caseNo.empty()) return reject("no case number (subject or data.case_no)");
    std::string itemCode;
    if (auto it = event.extensions.find("itemcode"); it != event.extensions.end())
        itemCode = it->second;
    if (itemCode.empty()) itemCode = firstOf(data, {"item_code", "item"});
    if (itemCode.empty()) return reject("no item code (extension itemcode or data.item_code)");

    std::string body = "{\"SBLSH\":" + json::quote(caseNo) + ",\"SXBM\":" + json::quote(itemCode) +
                       ",\"BLZT\":" + json::quote(status->second) +
                       ",\"FSSJ\":" + json::quote(event.time);
    if (auto name = firstOf(data, {"applicant_name"}); !name.empty())
        body += ",\"SQRMC\":" + json::quote(name);
    if (auto deptNo = firstOf(data, {"dept_case_no"}); !deptNo.empty())
        body += ",\"YWLSH\":" + json::quote(deptNo);
    body += "}";

    sdk::HttpRequest req;
    req.method = "POST";
    req.url = url_;
    req.body = std::move(body);
    req.timeoutMs = timeoutMs_;
    req.headers = {{"Content-Type", "application/json; charset=utf-8"},
                   // The same event may be delivered twice (a retry after a lost answer); the
                   // bureau deduplicates on this key.
                   {"Idempotency-Key", event.source + "/" + event.id}};
    if (!apiKey_.empty()) req.headers.emplace_back("X-Api-Key", apiKey_);

    const auto started = std::chrono::steady_clock::now();
    const sdk::HttpResponse resp = services_.http.send(req);
    callSeconds_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

    if (resp.status == 0) return retry("no answer from " + url_ + ": " + resp.error);
    if (resp.status >= 500 || resp.status == 408 || resp.status == 429)
        return retry("the bureau answered " + std::to_string(resp.status) + ": " +
                         excerpt(resp.body),
                     retryAfterMs(resp));
    if (resp.status < 200 || resp.status >= 300)
        return reject("the bureau answered " + std::to_string(resp.status) + ": " +
                      excerpt(resp.body));
    // Like many government systems the bureau answers 200 with a business code in the body.
    if (auto answer = json::topLevelScalars(resp.body); answer && answer->count("code")) {
        const std::string& code = answer->at("code");
        if (std::find(successCodes_.begin(), successCodes_.end(), code) == successCodes_.end())
            return reject("the bureau refused the case with code " + code + ": " +
                          firstOf(*answer, {"msg", "message"}));
    }
    delivered_.add();
    return sdk::Result::ok();
}

} // namespace dept_market
