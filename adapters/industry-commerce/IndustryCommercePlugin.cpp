// 工商局 (industry and commerce): the reference adapter for a department with a REST/JSON API
// of its own field names and codes (gongshang/Wire.h). Three components:
//   applications (sink)   gov.case.accepted -> the department's application API
//   updates (source)      polls the department's updates, journals them, then acknowledges
//   mapper (processor)    update items -> canonical gov.case.* events, keeping the mapping
//                         YWLSH (the department's serial) -> SBLSH (the center's) in state
#include <onewindow/sdk/Plugin.h>

#include <memory>

#include "adapters/common/AcknowledgedFeed.h"
#include "adapters/common/FeedAnswer.h"
#include "adapters/common/FeedSpecs.h"
#include "adapters/common/HttpEndpoint.h"
#include "adapters/common/RecordMapper.h"
#include "adapters/industry-commerce/gongshang/Wire.h"
#include "plugins/cases/calendar/CalendarFiles.h"

namespace sdk = onewindow::sdk;
using nlohmann::json;
using namespace ow::adapters::gongshang;

namespace {

// 工商局's API takes the key in a `token` header (as Shandong's provincial interfaces do).
struct Endpoint : ow::adapters::HttpEndpoint {
    std::string region;
    int utcOffset = 480;
    explicit Endpoint(const sdk::Config& c)
        : HttpEndpoint(c, "token"), region(c.get<std::string>("region_code", "350581")),
          utcOffset(ow::cases::parseUtcOffset(c.get<std::string>("utc_offset", "+08:00"))) {}
};

class ApplicationSink final : public sdk::Sink {
public:
    explicit ApplicationSink(sdk::Services& s) : s_(s), ep_(s.config) {}
    sdk::Result deliver(const sdk::Event& e) override {
        if (e.type != "gov.case.accepted")
            return sdk::Result::reject("only gov.case.accepted goes to the department's "
                                       "application API, not " +
                                       e.type);
        std::string body;
        try {
            body = applicationBody(e, ep_.region, ep_.utcOffset).dump();
        } catch (const std::exception& x) {
            return sdk::Result::reject(x.what());
        }
        const auto r = ep_.call(s_.http, "POST", "/api/v1/applications", body);
        const auto a = readAnswer(r.status, r.body);
        if (a.verdict == Verdict::Done) return sdk::Result::ok();
        if (a.verdict == Verdict::Refused) return sdk::Result::reject("工商局: " + a.message);
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
            return readUpdates(
                ep_.call(s_.http, "GET", "/api/v1/updates?limit=" + std::to_string(batch_)));
        };
        feed.toEvent = [](const json& item, long long xh) {
            sdk::Event e;
            e.type = "dept.industry-commerce.update";
            e.source = "dept:industry-commerce";
            e.id = "gongshang-update-" + std::to_string(xh);
            e.dataContentType = "application/json";
            e.data = item.dump();
            return e;
        };
        feed.acknowledge = [&](long long last) -> std::string {
            const auto ack =
                ep_.call(s_.http, "POST", "/api/v1/updates/ack", json{{"XH", last}}.dump());
            const auto a = readAnswer(ack.status, ack.body);
            return a.verdict == Verdict::Done
                       ? ""
                       : std::string(kSystem) + " did not take the acknowledgement: " + a.message;
        };
        feed.run(ctx);
        return sdk::Result::ok();
    }

private:
    static constexpr const char* kSystem = "工商局";

    // A page of updates, or why 工商局 cannot be read: every answer that is not
    // {"code":"0","data":[...]} says what it was instead.
    static ow::adapters::FeedPage readUpdates(const sdk::HttpResponse& r) {
        using ow::adapters::FeedPage;
        if (auto bad = ow::adapters::unreadable(kSystem, r)) return *bad;
        json body;
        if (auto bad = ow::adapters::parseJsonBody(kSystem, r, body)) return *bad;
        const auto a = readAnswer(r.status, r.body);
        if (a.verdict != Verdict::Done)
            return FeedPage::down(std::string(kSystem) + ": " + a.message);
        if (!a.data.is_array())
            return FeedPage::down(std::string(kSystem) + " answered HTTP " +
                                  std::to_string(r.status) +
                                  " with JSON that is not its answer ('data' is not a list)");
        return FeedPage{true, a.data, {}, std::nullopt};
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
        if (e.type != "dept.industry-commerce.update") return sdk::Result::ok();
        static const ow::adapters::DeptIdentity who{"industry-commerce", "dept:industry-commerce",
                                                    "gongshang-"};
        return ow::adapters::mapDeptRecord(json::parse(e.data, nullptr, false), ctx, offset_, who);
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
                       .describe(
                           "The department's API, e.g. https://10.1.2.3:8443 (paths /api/v1/...)"))
            .field(Field::secret("api_key").describe("Sent as the `token` header"))
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
            endpointSpec("Sends gov.case.accepted to 工商局's application API with its field "
                         "names (SBLSH, SXBM, SQRMC, SLSJ, ...); its business codes decide: 0 "
                         "delivered, 9999 retry, others rejected with its message.")},
           [](sdk::Services& s) { return std::make_unique<ApplicationSink>(s); });
    r.source({sdk::ComponentKind::Source, "updates",
              ow::adapters::withFeedFields(
                  endpointSpec("Polls 工商局's updates (登记, 审批, 补正, 办结), journals each as "
                               "dept.industry-commerce.update and only then acknowledges it."))},
             [](sdk::Services& s) { return std::make_unique<UpdatesSource>(s); });
    r.processor({sdk::ComponentKind::Processor, "mapper",
                 ow::adapters::recordMapperSpec("dept.industry-commerce.update")},
                [](sdk::Services& s) { return std::make_unique<Mapper>(s); });
}

} // namespace

ONEWINDOW_PLUGIN("industry-commerce", "1.0.0",
                 "工商局 (industry and commerce): applications out, approval steps and conclusions "
                 "back, in its own field names",
                 registerComponents)
