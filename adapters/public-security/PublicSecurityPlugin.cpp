// 公安局 (public security): the reference adapter for a department whose interface speaks XML
// over HTTPS with mutual TLS (gongan/Wire.h). The client certificate is not configured here:
// the hub hands each component an HTTP client with the `tls` settings of its output (the sink)
// or input (the source). Three components:
//   applications (sink)   gov.case.accepted -> <SQXX> to the department's application interface
//   updates (source)      polls the department's update records, journals them, then
//                         acknowledges
//   mapper (processor)    update records -> canonical gov.case.* events, keeping the mapping
//                         YWLSH (the department's serial) -> SBLSH (the center's) in state
#include <onewindow/sdk/Plugin.h>

#include <memory>

#include "adapters/common/AcknowledgedFeed.h"
#include "adapters/common/FeedAnswer.h"
#include "adapters/common/FeedSpecs.h"
#include "adapters/common/HttpEndpoint.h"
#include "adapters/common/RecordMapper.h"
#include "adapters/public-security/gongan/Wire.h"
#include "plugins/cases/calendar/CalendarFiles.h"

namespace sdk = onewindow::sdk;
using nlohmann::json;
using namespace ow::adapters::gongan;

namespace {

// No API key: the interface knows the hub by its client certificate.
struct Endpoint : ow::adapters::HttpEndpoint {
    std::string region;
    int utcOffset = 480;
    explicit Endpoint(const sdk::Config& c)
        : HttpEndpoint(c, "", kContentType), region(c.get<std::string>("region_code", "350581")),
          utcOffset(ow::cases::parseUtcOffset(c.get<std::string>("utc_offset", "+08:00"))) {}
};

class ApplicationSink final : public sdk::Sink {
public:
    explicit ApplicationSink(sdk::Services& s) : s_(s), ep_(s.config) {}
    sdk::Result deliver(const sdk::Event& e) override {
        if (e.type != "gov.case.accepted")
            return sdk::Result::reject("only gov.case.accepted goes to the department's "
                                       "application interface, not " +
                                       e.type);
        std::string body;
        try {
            body = applicationXml(e, ep_.region, ep_.utcOffset);
        } catch (const std::exception& x) {
            return sdk::Result::reject(x.what());
        }
        const auto r = ep_.call(s_.http, "POST", kApplicationPath, body);
        const auto a = readAnswer(r.status, r.body);
        if (a.verdict == Verdict::Done) return sdk::Result::ok();
        if (a.verdict == Verdict::Refused) return sdk::Result::reject("公安局: " + a.message);
        return sdk::Result::retry(a.message + (r.error.empty() ? "" : " (" + r.error + ")"));
    }

private:
    sdk::Services& s_;
    Endpoint ep_;
};

class UpdatesSource final : public sdk::Source {
public:
    explicit UpdatesSource(sdk::Services& s)
        : s_(s), ep_(s.config), pollMs_(s.config.get<std::int64_t>("poll_ms", 1000)),
          batch_(s.config.get<std::int64_t>("batch", 100)) {}

    sdk::Result run(sdk::SourceContext& ctx) override {
        ow::adapters::AcknowledgedFeed feed;
        feed.system = kSystem;
        feed.seqField = "XH";
        feed.pollMs = pollMs_;
        feed.read = [&] {
            return readUpdates(ep_.call(
                s_.http, "GET", std::string(kUpdatesPath) + "?limit=" + std::to_string(batch_)));
        };
        feed.toEvent = [](const json& record, long long xh) {
            sdk::Event e;
            e.type = "dept.public-security.update";
            e.source = "dept:public-security";
            e.id = "gongan-update-" + std::to_string(xh);
            e.dataContentType = "application/json";
            e.data = record.dump();
            return e;
        };
        feed.acknowledge = [&](long long last) -> std::string {
            const auto ack = ep_.call(s_.http, "POST", kAcknowledgePath, acknowledgementXml(last));
            const auto a = readAnswer(ack.status, ack.body);
            return a.verdict == Verdict::Done
                       ? ""
                       : std::string(kSystem) + " did not take the acknowledgement: " + a.message;
        };
        feed.run(ctx);
        return sdk::Result::ok();
    }

private:
    static constexpr const char* kSystem = "公安局";

    // A page of update records, or why 公安局 cannot be read: every answer that is not its
    // <FHXX> with FHDM 0 and flat <JL> records says what it was instead.
    static ow::adapters::FeedPage readUpdates(const sdk::HttpResponse& r) {
        using ow::adapters::FeedPage;
        if (auto bad = ow::adapters::unreadable(kSystem, r)) return *bad;
        const auto a = readAnswer(r.status, r.body);
        if (a.verdict != Verdict::Done)
            return FeedPage::down(std::string(kSystem) + ": " + a.message);
        try {
            return FeedPage{true, updateRecords(a.body), {}, std::nullopt};
        } catch (const WireError& bad) {
            return FeedPage::down(std::string(kSystem) + ": " + bad.what());
        }
    }

    sdk::Services& s_;
    Endpoint ep_;
    std::int64_t pollMs_, batch_;
};

class Mapper final : public sdk::Processor {
public:
    explicit Mapper(sdk::Services& s)
        : offset_(ow::cases::parseUtcOffset(s.config.get<std::string>("utc_offset", "+08:00"))) {}

    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        if (e.type != "dept.public-security.update") return sdk::Result::ok();
        return ow::adapters::mapDeptRecord(json::parse(e.data, nullptr, false), ctx, offset_,
                                           deptIdentity());
    }

private:
    int offset_;
};

sdk::ConfigSpec endpointSpec(std::string summary) {
    using sdk::Field;
    return std::move(
        sdk::ConfigSpec(std::move(summary))
            .field(Field::string("base_url")
                       .required()
                       .describe("The department's interface, e.g. https://10.1.9.20:9443 (paths "
                                 "/ga/...); its CA and the hub's client certificate are the "
                                 "`tls` of the output or input"))
            .field(Field::string("region_code").defaultsTo("350581").describe("XZQHDM"))
            .field(Field::string("utc_offset")
                       .defaultsTo("+08:00")
                       .describe("The department's local time (its wire times have no offset)"))
            .field(Field::integer("timeout_ms")
                       .defaultsTo(10000)
                       .range(100, 120000)
                       .describe("Per request")));
}

void registerComponents(sdk::Registry& r) {
    using sdk::Field;
    r.sink({sdk::ComponentKind::Sink, "applications",
            endpointSpec("Sends gov.case.accepted to 公安局's application interface as <SQXX> "
                         "XML (SBLSH, SXBM, SQRMC, SQRZJHM, SLSJ, ...); its return code FHDM "
                         "decides: 0 delivered, 99 retry, others rejected with its FHMS.")},
           [](sdk::Services& s) { return std::make_unique<ApplicationSink>(s); });
    r.source({sdk::ComponentKind::Source, "updates",
              ow::adapters::withFeedFields(endpointSpec(
                  "Polls 公安局's update records (登记, 审批, 补正, 办结), journals each as "
                  "dept.public-security.update and only then acknowledges it."))},
             [](sdk::Services& s) { return std::make_unique<UpdatesSource>(s); });
    r.processor({sdk::ComponentKind::Processor, "mapper",
                 ow::adapters::recordMapperSpec("dept.public-security.update")},
                [](sdk::Services& s) { return std::make_unique<Mapper>(s); });
}

} // namespace

ONEWINDOW_PLUGIN("public-security", "1.0.0",
                 "公安局 (public security): applications out and approval steps and conclusions "
                 "back as XML over mutual TLS",
                 registerComponents)
