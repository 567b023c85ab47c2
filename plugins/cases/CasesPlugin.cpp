// The center's cases as a plugin: the `ledger` processor follows every case from its
// gov.case.* events and raises gov.supervision.alert events (DOMAIN §3–§5). The catalog and
// the working-day calendar are data files read at start(); a mistake in them keeps the
// processor from starting, with every problem at its file:line:column in the plugin's health
// and log, rather than raising wrong alerts.
#include <onewindow/sdk/Plugin.h>

#include <memory>
#include <mutex>

#include "plugins/cases/data/CaseDataConfig.h"
#include "plugins/cases/data/DataProblem.h"
#include "plugins/cases/data/WatchedContext.h"
#include "plugins/cases/ledger/CaseLedger.h"

namespace sdk = onewindow::sdk;
using namespace ow::cases;

namespace {

class LedgerProcessor final : public sdk::Processor {
public:
    explicit LedgerProcessor(sdk::Services& s)
        : s_(s), alertsRaised_(s.metrics.counter("cases_alerts_raised_total",
                                                 "Supervision alerts raised by the ledger")),
          refused_(s.metrics.counter("cases_events_refused_total",
                                     "Case events the ledger refused (no case number, bad data)")) {
    }

    sdk::Result start() override {
        const auto& c = s_.config;
        try {
            loadCaseData(c, calendar_, catalog_);
        } catch (const std::exception& e) {
            return sdk::Result::retry(std::string("cannot load the case data:\n") + e.what());
        }
        LedgerSettings settings;
        settings.rules.acceptanceDays = static_cast<int>(c.get<std::int64_t>("acceptance_days", 5));
        settings.rules.forwardDays = static_cast<int>(c.get<std::int64_t>("forward_days", 3));
        settings.rules.answerDays = static_cast<int>(c.get<std::int64_t>("answer_days", 2));
        settings.alerts.convention = c.get<std::string>("convention", "quanzhou") == "zhanjiang"
                                         ? Convention::Zhanjiang
                                         : Convention::Quanzhou;
        settings.alerts.yellowDaysLeft =
            static_cast<int>(c.get<std::int64_t>("yellow_days_left", 1));
        settings.alerts.reminderPercent =
            static_cast<int>(c.get<std::int64_t>("reminder_percent", 0));
        settings.alerts.orderDays = static_cast<int>(c.get<std::int64_t>("order_days", 5));
        ledger_ = std::make_unique<CaseLedger>(catalog_, calendar_, settings);
        const auto years = calendar_.years();
        s_.log.log(sdk::LogLevel::Info, "case ledger ready",
                   {{"items", std::to_string(catalog_.items().size())},
                    {"units", std::to_string(catalog_.units().size())},
                    {"sample_catalog", catalog_.sampleData() ? "true" : "false"},
                    {"calendar_years",
                     std::to_string(years.front()) + "-" + std::to_string(years.back())}});
        return sdk::Result::ok();
    }

    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        WatchedContext counting(ctx, countAlerts());
        auto r = ledger_->process(e, counting, s_.clock.nowMs());
        if (r.kind == sdk::Result::Kind::Reject) refused_.add();
        return r;
    }

    sdk::Result onTimer(const std::string& name, const std::string&,
                        sdk::ProcessContext& ctx) override {
        WatchedContext counting(ctx, countAlerts());
        return ledger_->onTimer(name, counting, s_.clock.nowMs());
    }

private:
    std::function<void(const sdk::Event&)> countAlerts() {
        return [this](const sdk::Event& e) {
            if (e.type == "gov.supervision.alert") alertsRaised_.add();
        };
    }

    sdk::Services& s_;
    sdk::Counter& alertsRaised_;
    sdk::Counter& refused_;
    WorkCalendar calendar_;
    Catalog catalog_;
    std::unique_ptr<CaseLedger> ledger_;
};

void registerComponents(sdk::Registry& r) {
    using sdk::Field;
    r.processor(
        {sdk::ComponentKind::Processor, "ledger",
         withCaseDataFields(
             sdk::ConfigSpec(
                 "Follows each case from its gov.case.* events (and gov.supervision.order_* for "
                 "supervision orders) and raises gov.supervision.alert / alert_cleared events when "
                 "a "
                 "time limit of the case, a step, a joint sub-task, the acceptance, the forwarding "
                 "or the answer of a reported case is near or past, or a refusal lacks its "
                 "reason."))
             .field(Field::oneOf("convention", {"quanzhou", "zhanjiang"})
                        .defaultsTo("quanzhou")
                        .describe("quanzhou: yellow near the limit, red past it; zhanjiang: "
                                  "yellow card past the limit, red card order_days later"))
             .field(Field::integer("yellow_days_left")
                        .defaultsTo(1)
                        .range(0, 30)
                        .describe("Working days left when the yellow light (zhanjiang: the "
                                  "reminder) is raised; 0: none"))
             .field(Field::integer("reminder_percent")
                        .defaultsTo(0)
                        .range(0, 99)
                        .describe("quanzhou: a reminder when this share of the limit is used; "
                                  "0: none"))
             .field(Field::integer("order_days")
                        .defaultsTo(5)
                        .range(1, 60)
                        .describe("zhanjiang: working days from the yellow card to the red"))
             .field(Field::integer("acceptance_days")
                        .defaultsTo(5)
                        .range(1, 60)
                        .describe("Working days to accept or refuse a received case"))
             .field(Field::integer("forward_days")
                        .defaultsTo(3)
                        .range(1, 60)
                        .describe("Reported cases: working days to forward after acceptance"))
             .field(Field::integer("answer_days")
                        .defaultsTo(2)
                        .range(1, 60)
                        .describe("Reported cases: working days to answer after the reply"))},
        [](sdk::Services& s) { return std::make_unique<LedgerProcessor>(s); });
}

} // namespace

ONEWINDOW_PLUGIN("cases", "1.0.0",
                 "The center's cases: case ledger, working-day time limits, supervision alerts",
                 registerComponents)
