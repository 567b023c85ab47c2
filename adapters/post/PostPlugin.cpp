// 邮政 (China Post / EMS 政务专递): results delivered by post. The reference adapter for a
// convenience unit that takes orders and reports tracking back:
//   orders (sink)       gov.case.concluded with delivery by post -> an EMS order; the same
//                       case again gets the same mail number (the order number is the case's)
//   traces (source)     polls the tracking records, journals them, then acknowledges
//   tracker (processor) every record -> gov.post.tracked (mail number and status, for the
//                       platform and the applicant's SMS); 妥投 (delivered) -> gov.case.delivered
//
// Wire (JSON): POST /ems/api/orders {orderNo, bizType, receiver{name, mobile, address},
// items} -> {"success":true,"mailNo":"..."} or {"success":false,"errorCode":"B01",
// "errorMsg":"..."} (S99 = busy, try again); GET /ems/api/traces?limit=N ->
// {"success":true,"traces":[{seq, mailNo, orderNo, opCode, opName, opTime, signer}]};
// POST /ems/api/traces/ack {"seq": n}. opCode 10 收寄, 50 投递, 40 妥投, 70 退回. The key goes
// in an `apiKey` header.
#include <onewindow/sdk/Plugin.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "adapters/common/AcknowledgedFeed.h"
#include "adapters/common/DeptRecords.h"
#include "adapters/common/FeedAnswer.h"
#include "adapters/common/FeedSpecs.h"
#include "adapters/common/HttpEndpoint.h"
#include "plugins/cases/calendar/CalendarFiles.h"

namespace sdk = onewindow::sdk;
using nlohmann::json;
using namespace ow::adapters;

namespace {

enum class Verdict { Done, TryAgain, Refused };

std::pair<Verdict, std::string> readAnswer(const sdk::HttpResponse& r, json& body) {
    if (r.status == 0 || r.status >= 500 || r.status == 429 || r.status == 408)
        return {Verdict::TryAgain, r.status ? "EMS answered HTTP " + std::to_string(r.status)
                                            : "EMS did not answer: " + r.error};
    body = json::parse(r.body, nullptr, false);
    if (!body.is_object() || !body.contains("success"))
        return {r.status >= 400 ? Verdict::Refused : Verdict::TryAgain,
                "an answer EMS would not give: HTTP " + std::to_string(r.status) + " " +
                    r.body.substr(0, 200)};
    if (body["success"] == true) return {Verdict::Done, {}};
    const std::string code = fieldText(body, "errorCode");
    return {code == "S99" ? Verdict::TryAgain : Verdict::Refused,
            "EMS " + code + ": " + fieldText(body, "errorMsg")};
}

class OrderSink final : public sdk::Sink {
public:
    explicit OrderSink(sdk::Services& s) : s_(s), ep_(s.config, "apiKey") {}
    sdk::Result deliver(const sdk::Event& e) override {
        if (e.type != "gov.case.concluded")
            return sdk::Result::reject("only gov.case.concluded orders a delivery, not " + e.type);
        const json d = json::parse(e.data, nullptr, false);
        if (!d.is_object()) return sdk::Result::reject("the data must be a JSON object");
        const std::string caseNo = d.value("case_no", e.subject);
        if (caseNo.empty()) return sdk::Result::reject("no case number (subject or case_no)");
        const json to = d.value("delivery", json::object());
        for (const char* f : {"name", "mobile", "address"})
            if (fieldText(to, f).empty())
                return sdk::Result::reject(std::string("delivery.") + f +
                                           " is missing: EMS needs the receiver's name, mobile "
                                           "and address");
        json order = {
            {"orderNo", caseNo},
            {"bizType", "政务专递"},
            {"sender", {{"name", s_.config.get<std::string>("sender_name")}}},
            {"receiver",
             {{"name", to["name"]}, {"mobile", to["mobile"]}, {"address", to["address"]}}},
            {"items", json::array({fieldText(d.value("certificate", json::object()), "name")})}};
        json body;
        const auto [verdict, why] =
            readAnswer(ep_.call(s_.http, "POST", "/ems/api/orders", order.dump()), body);
        if (verdict == Verdict::Done) return sdk::Result::ok();
        if (verdict == Verdict::Refused) return sdk::Result::reject(why);
        return sdk::Result::retry(why);
    }

private:
    sdk::Services& s_;
    HttpEndpoint ep_;
};

class TraceSource final : public sdk::Source {
public:
    explicit TraceSource(sdk::Services& s) : s_(s), ep_(s.config, "apiKey") {}
    sdk::Result run(sdk::SourceContext& ctx) override {
        const auto batch = s_.config.get<std::int64_t>("batch", 100);
        AcknowledgedFeed feed;
        feed.system = "EMS";
        feed.pollMs = s_.config.get<std::int64_t>("poll_ms", 1000);
        feed.read = [&] {
            return readTraces(
                ep_.call(s_.http, "GET", "/ems/api/traces?limit=" + std::to_string(batch)));
        };
        feed.toEvent = [](const json& t, long long seq) {
            sdk::Event e;
            e.type = "dept.post.trace";
            e.source = "dept:post";
            e.id = "post-trace-" + std::to_string(seq);
            e.subject = fieldText(t, "orderNo");
            e.data = t.dump();
            return e;
        };
        feed.acknowledge = [&](long long last) -> std::string {
            json ack;
            const auto [verdict, why] = readAnswer(
                ep_.call(s_.http, "POST", "/ems/api/traces/ack", json{{"seq", last}}.dump()), ack);
            return verdict == Verdict::Done ? "" : "EMS did not take the acknowledgement: " + why;
        };
        feed.run(ctx);
        return sdk::Result::ok();
    }

private:
    // A page of tracking records, or why EMS cannot be read: every answer that is not
    // {"success":true,"traces":[...]} says what it was instead.
    static FeedPage readTraces(const sdk::HttpResponse& r) {
        if (auto bad = unreadable("EMS", r)) return *bad;
        json body;
        if (auto bad = parseJsonBody("EMS", r, body)) return *bad;
        const std::string http = "EMS answered HTTP " + std::to_string(r.status);
        if (!body.is_object() || !body.contains("success"))
            return FeedPage::down(http + " with JSON that is not its answer (no 'success')");
        if (body["success"] != true)
            return FeedPage::down("EMS " + fieldText(body, "errorCode") + ": " +
                                  fieldText(body, "errorMsg"));
        if (!body.contains("traces") || !body["traces"].is_array())
            return FeedPage::down(http + " with JSON that is not its answer ('traces' is not a "
                                         "list)");
        return FeedPage{true, std::move(body["traces"]), {}, std::nullopt};
    }

    sdk::Services& s_;
    HttpEndpoint ep_;
};

class Tracker final : public sdk::Processor {
public:
    explicit Tracker(sdk::Services& s)
        : offset_(ow::cases::parseUtcOffset(s.config.get<std::string>("utc_offset", "+08:00"))) {}
    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        if (e.type != "dept.post.trace") return sdk::Result::ok();
        const json t = json::parse(e.data, nullptr, false);
        if (!t.is_object()) return sdk::Result::reject("the trace is not a JSON object");
        const std::string caseNo = fieldText(t, "orderNo"), mailNo = fieldText(t, "mailNo");
        const std::string op = fieldText(t, "opCode"), seq = fieldText(t, "seq");
        if (caseNo.empty() || mailNo.empty() || op.empty())
            return sdk::Result::reject("a trace needs orderNo, mailNo and opCode");
        std::string at;
        try {
            at = fromWireTime(fieldText(t, "opTime"), offset_);
        } catch (const WireError& x) {
            return sdk::Result::reject(std::string("trace ") + seq + ": " + x.what());
        }
        auto event = [&](const std::string& type, const std::string& id, json data) {
            sdk::Event out;
            out.type = type;
            out.id = id;
            out.source = "dept:post";
            out.subject = caseNo;
            out.time = at;
            out.extensions["department"] = "post";
            out.data = data.dump();
            ctx.emit(std::move(out));
        };
        event("gov.post.tracked", "post-tracked-" + seq,
              {{"case_no", caseNo},
               {"tracking_no", mailNo},
               {"status_code", op},
               {"status", fieldText(t, "opName")},
               {"occurred_at", at}});
        if (op == "40")
            event("gov.case.delivered", "post-delivered-" + caseNo,
                  {{"case_no", caseNo},
                   {"way", "post"},
                   {"tracking_no", mailNo},
                   {"collected_by", fieldText(t, "signer")},
                   {"occurred_at", at}});
        return sdk::Result::ok();
    }

private:
    int offset_;
};

sdk::ConfigSpec endpointSpec(std::string summary) {
    using sdk::Field;
    return std::move(sdk::ConfigSpec(std::move(summary))
                         .field(Field::string("base_url").required().describe("EMS's API root"))
                         .field(Field::secret("api_key").describe("Sent as the `apiKey` header"))
                         .field(Field::integer("timeout_ms")
                                    .defaultsTo(10000)
                                    .range(100, 120000)
                                    .describe("Per request")));
}

void registerComponents(sdk::Registry& r) {
    using sdk::Field;
    r.sink({sdk::ComponentKind::Sink, "orders",
            std::move(endpointSpec("Orders an EMS 政务专递 delivery for gov.case.concluded with a "
                                   "`delivery` {name, mobile, address}; the case number is the "
                                   "order number, so a repeat is the same order.")
                          .field(Field::string("sender_name")
                                     .defaultsTo("石狮市行政服务中心")
                                     .describe("The sender on the waybill")))},
           [](sdk::Services& s) { return std::make_unique<OrderSink>(s); });
    r.source({sdk::ComponentKind::Source, "traces",
              ow::adapters::withFeedFields(
                  endpointSpec("Polls EMS tracking records, journals each as dept.post.trace "
                               "and only then acknowledges them."))},
             [](sdk::Services& s) { return std::make_unique<TraceSource>(s); });
    r.processor(
        {sdk::ComponentKind::Processor, "tracker",
         sdk::ConfigSpec("Tracking records -> gov.post.tracked (mail number, status); 妥投 "
                         "-> gov.case.delivered (way post, tracking number, signer).")
             .field(Field::string("utc_offset").defaultsTo("+08:00").describe("EMS's local time"))},
        [](sdk::Services& s) { return std::make_unique<Tracker>(s); });
}

} // namespace

ONEWINDOW_PLUGIN("post", "1.0.0",
                 "邮政 (EMS 政务专递): results delivered by post, tracking and delivery back",
                 registerComponents)
