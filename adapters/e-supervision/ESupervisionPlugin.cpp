// The e-supervision adapter as a plugin: the `exchange` processor turns the hub's case
// milestones and alerts into the exchange objects of the efficiency office's e-supervision
// system (DOMAIN §1.2) and sends them in the order it requires (exchange/ExchangeOrder.h).
#include <onewindow/sdk/Plugin.h>

#include <memory>

#include "adapters/e-supervision/exchange/ExchangeOrder.h"
#include "plugins/cases/calendar/CalendarFiles.h"

namespace sdk = onewindow::sdk;
using namespace ow::adapters::esupervision;

namespace {

class ExchangeProcessor final : public sdk::Processor {
public:
    explicit ExchangeProcessor(sdk::Services& s) : s_(s) {}

    sdk::Result start() override {
        const auto& c = s_.config;
        OrderSettings o;
        o.mapping.regionCode = c.get<std::string>("region_code", o.mapping.regionCode);
        try {
            o.mapping.utcOffsetMinutes =
                ow::cases::parseUtcOffset(c.get<std::string>("utc_offset", "+08:00"));
        } catch (const std::exception& e) {
            return sdk::Result::reject(e.what());
        }
        o.source = c.get<std::string>("source", o.source);
        o.maxHeldPerCase = static_cast<int>(c.get<std::int64_t>("max_held_per_case", 100));
        order_ = std::make_unique<ExchangeOrder>(o);
        return sdk::Result::ok();
    }

    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        return order_->process(e, ctx);
    }

private:
    sdk::Services& s_;
    std::unique_ptr<ExchangeOrder> order_;
};

void registerComponents(sdk::Registry& r) {
    using sdk::Field;
    r.processor(
        {sdk::ComponentKind::Processor, "exchange",
         sdk::ConfigSpec(
             "Turns gov.case.* milestones and gov.supervision.alert* into e-supervision exchange "
             "objects (申办, 预受理, 受理, 审批, 办结, 特别程序, 补交, 领取; YJ/YJJC for alerts) "
             "with "
             "their wire field names, emitted as gov.supervision.exchange events in the order "
             "the receiver requires: basic information first, held steps right after it.")
             .field(Field::string("region_code")
                        .defaultsTo("350581")
                        .describe("XZQHDM: the administrative region (GB/T 2260)"))
             .field(Field::string("utc_offset")
                        .defaultsTo("+08:00")
                        .describe("Times are sent as local yyyy-MM-dd HH:mm:ss"))
             .field(Field::string("source")
                        .defaultsTo("onewindow://e-supervision")
                        .describe("Source of the exchange events; events of this source are "
                                  "ignored"))
             .field(Field::integer("max_held_per_case")
                        .defaultsTo(100)
                        .range(1, 10000)
                        .describe("Objects held per case waiting for its basic information; "
                                  "one more is refused (dead-letter)"))},
        [](sdk::Services& s) { return std::make_unique<ExchangeProcessor>(s); });
}

} // namespace

ONEWINDOW_PLUGIN(
    "e-supervision", "1.0.0",
    "E-supervision (电子监察): case milestones and alerts as exchange objects, in order",
    registerComponents)
