// The intranet approval platform (内网审批管理信息系统): the reference adapter for a system that
// speaks the hub's canonical CloudEvents both ways. Its submissions come in through the hub's
// own HTTP input (bearer token); this plugin checks them and carries case status back:
//   intake (processor)     a submission checked against the catalog passes on as a "checked"
//                          event; a bad one is dead-lettered with its reasons
//   refusals (processor)   the same check: a bad submission's gov.case.submission_refused
//   sequencer (processor)  numbers each case's status changes gaplessly, for the platform
//   status (sink)          posts each to the case's address; the platform's 409 waits
#include <onewindow/sdk/Plugin.h>

#include <memory>

#include "adapters/intranet-platform/platform/Intake.h"
#include "adapters/intranet-platform/platform/Status.h"
#include "plugins/cases/catalog/CatalogFiles.h"

namespace sdk = onewindow::sdk;
using namespace ow::adapters::platform;

namespace {

// Both checking components read the catalog the same way, so they judge alike.
class CatalogCheck {
public:
    explicit CatalogCheck(sdk::Services& s) : s_(s) {}

    sdk::Result load() {
        const auto& c = s_.config;
        try {
            catalog_ =
                ow::cases::loadCatalog(c.get<std::string>("catalog_dir", "config/catalog"),
                                       c.get<std::string>("units_file", "config/units.yaml"));
        } catch (const std::exception& e) {
            return sdk::Result::retry(std::string("cannot load the catalog:\n") + e.what());
        }
        IntakeSettings settings;
        settings.regionCode = c.get<std::string>("region_code", settings.regionCode);
        intake_ = std::make_unique<Intake>(catalog_, settings);
        s_.log.log(sdk::LogLevel::Info, "intake ready",
                   {{"items", std::to_string(catalog_.items().size())},
                    {"units", std::to_string(catalog_.units().size())}});
        return sdk::Result::ok();
    }
    [[nodiscard]] const Intake& intake() const { return *intake_; }

private:
    sdk::Services& s_;
    ow::cases::Catalog catalog_;
    std::unique_ptr<Intake> intake_;
};

class IntakeProcessor final : public sdk::Processor {
public:
    explicit IntakeProcessor(sdk::Services& s)
        : check_(s), passed_(s.metrics.counter("platform_submissions_passed_total",
                                               "Submissions that passed the intake's checks")),
          refused_(s.metrics.counter("platform_submissions_refused_total",
                                     "Submissions refused into the dead-letter queue")),
          repeated_(s.metrics.counter("platform_submissions_repeated_total",
                                      "Application facts sent again at the same data_version")) {}

    sdk::Result start() override { return check_.load(); }

    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        bool repeat = false;
        auto r = check_.intake().gate(e, ctx, repeat);
        if (r.kind == sdk::Result::Kind::Reject)
            refused_.add();
        else if (repeat)
            repeated_.add();
        else if (r.kind == sdk::Result::Kind::Ok && e.source.rfind(OwnSourcePrefix, 0) != 0)
            passed_.add();
        return r;
    }

private:
    CatalogCheck check_;
    sdk::Counter &passed_, &refused_, &repeated_;
};

class RefusalsProcessor final : public sdk::Processor {
public:
    explicit RefusalsProcessor(sdk::Services& s) : s_(s), check_(s) {}

    sdk::Result start() override { return check_.load(); }

    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        const Finding f = check_.intake().check(e);
        if (auto n = Intake::notice(e, f)) {
            ctx.emit(std::move(*n));
        } else if (!f.ownEvent && !f.reasons.empty()) {
            s_.log.warn("a refused submission without a case number to address: only the "
                        "dead-letter queue has it (id " +
                        quote(e.id) + ")");
        }
        return sdk::Result::ok();
    }

private:
    sdk::Services& s_;
    CatalogCheck check_;
};

class SequencerProcessor final : public sdk::Processor {
public:
    explicit SequencerProcessor(sdk::Services& s)
        : clock_(s.clock),
          forgetAfterMs_(s.config.get<std::int64_t>("forget_after_days") * 24 * 3600 * 1000),
          stamped_(s.metrics.counter("platform_status_numbered_total",
                                     "Case status changes numbered for the platform")),
          forgotten_(s.metrics.counter("platform_status_cases_forgotten_total",
                                       "Cases whose per-event sequencer entries were cleared")) {}

    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        std::int64_t n = 0;
        auto r = stamp(e, ctx, n, Retention{clock_.nowMs(), forgetAfterMs_});
        if (r.kind == sdk::Result::Kind::Ok && n > 0) stamped_.add();
        return r;
    }

    sdk::Result onTimer(const std::string& name, const std::string& payload,
                        sdk::ProcessContext& ctx) override {
        auto r = forget(name, payload, ctx);
        if (r.kind == sdk::Result::Kind::Ok) forgotten_.add();
        return r;
    }

private:
    sdk::Clock& clock_;
    std::int64_t forgetAfterMs_;
    sdk::Counter& stamped_;
    sdk::Counter& forgotten_;
};

class StatusSink final : public sdk::Sink {
public:
    explicit StatusSink(sdk::Services& s)
        : s_(s), baseUrl_(s.config.get<std::string>("base_url")),
          token_(s.config.get<std::string>("token")),
          timeoutMs_(s.config.get<std::int64_t>("timeout_ms", 10000)),
          duplicates_(s.metrics.counter("platform_status_duplicates_total",
                                        "Status posts the platform had applied already")),
          outOfOrder_(s.metrics.counter("platform_status_out_of_order_total",
                                        "Status posts the platform answered 409 (expects an "
                                        "earlier one)")) {
        while (!baseUrl_.empty() && baseUrl_.back() == '/')
            baseUrl_.pop_back();
    }

    sdk::Result deliver(const sdk::Event& e) override {
        auto post = statusPost(e);
        if (auto* why = std::get_if<std::string>(&post)) return sdk::Result::reject(*why);
        const auto& p = std::get<StatusPost>(post);
        sdk::HttpRequest q;
        q.method = "POST";
        q.url = baseUrl_ + p.path;
        q.body = p.body;
        q.timeoutMs = timeoutMs_;
        q.headers.emplace_back("Content-Type", "application/cloudevents+json");
        if (!token_.empty()) q.headers.emplace_back("Authorization", "Bearer " + token_);
        const auto v = readStatusAnswer(s_.http.send(q), p.sequence);
        if (v.duplicate) duplicates_.add();
        if (v.outOfOrder) outOfOrder_.add();
        return v.result;
    }

private:
    sdk::Services& s_;
    std::string baseUrl_, token_;
    std::int64_t timeoutMs_;
    sdk::Counter &duplicates_, &outOfOrder_;
};

sdk::ConfigSpec checkSpec(std::string summary) {
    using sdk::Field;
    return std::move(
        sdk::ConfigSpec(std::move(summary))
            .field(Field::string("catalog_dir")
                       .defaultsTo("config/catalog")
                       .describe("Folder of the service catalog (<unit>.yaml files)"))
            .field(Field::string("units_file")
                       .defaultsTo("config/units.yaml")
                       .describe("The units of the hall"))
            .field(Field::string("region_code")
                       .defaultsTo("350581")
                       .describe("The region code every case number starts with (case "
                                 "numbers are region + yyyyMMdd + a 6-digit serial)")));
}

void registerComponents(sdk::Registry& r) {
    using sdk::Field;
    r.processor(
        {sdk::ComponentKind::Processor, "intake",
         checkSpec("Checks the platform's gov.case.* submissions against the catalog (the item "
                   "exists, the department is the item's, the case number is the center's, an "
                   "acceptance names the item, the applicant and the time) and passes a good "
                   "one on, type unchanged, from " +
                   std::string(CheckedSource) +
                   " with the department and itemcode extensions filled in; a bad one is "
                   "refused into the dead-letter queue with every reason.")},
        [](sdk::Services& s) { return std::make_unique<IntakeProcessor>(s); });
    r.processor({sdk::ComponentKind::Processor, "refusals",
                 checkSpec("The intake's check again, on the same route: for a bad submission, "
                           "gov.case.submission_refused (case_no, reasons) from " +
                           std::string(RefusedSource) + " for the platform; good ones pass by.")},
                [](sdk::Services& s) { return std::make_unique<RefusalsProcessor>(s); });
    r.processor({sdk::ComponentKind::Processor, "sequencer",
                 sdk::ConfigSpec("Numbers each case's status changes (gov.case.*, "
                                 "gov.supervision.alert*) 1, 2, 3, ... without a gap and emits "
                                 "each as " +
                                 std::string(StatusType) +
                                 " (subject the case, the platform's CloudEvent as data with "
                                 "the sequence extension); an event handled again keeps its "
                                 "number. Give its output ordering_key: subject.")
                     .field(Field::integer("forget_after_days")
                                .defaultsTo(30)
                                .range(1, 3650)
                                .describe("Days after a case's last status change that its "
                                          "per-event entries (\"handled again\") are kept; "
                                          "the case's count is kept for good. Keep it longer "
                                          "than journal.retention_hours, within which the "
                                          "hub itself drops repeats"))},
                [](sdk::Services& s) { return std::make_unique<SequencerProcessor>(s); });
    r.sink({sdk::ComponentKind::Sink, "status",
            sdk::ConfigSpec(
                "Posts each " + std::string(StatusType) +
                " as a structured CloudEvent to {base_url}/api/cases/{case_no}/events: 200 "
                "delivered (a repeat too), 409 (the platform expects an earlier sequence) and "
                "5xx/408/429/no answer retried, other answers rejected with the platform's "
                "message.")
                .field(Field::string("base_url")
                           .required()
                           .describe("The platform's API root, e.g. https://10.1.1.5:8443"))
                .field(Field::secret("token").describe("Sent as Authorization: Bearer <token>"))
                .field(Field::integer("timeout_ms")
                           .defaultsTo(10000)
                           .range(100, 120000)
                           .describe("Per request"))},
           [](sdk::Services& s) { return std::make_unique<StatusSink>(s); });
}

} // namespace

ONEWINDOW_PLUGIN("intranet-platform", "1.0.0",
                 "内网审批管理信息系统 (the intranet approval platform): submissions checked "
                 "against the catalog, each case's status back in gapless sequence",
                 registerComponents)
