// One combined payment as a plugin: the `book` processor takes fee assessments, issues the
// consolidated payment notices, matches the payments the counters and terminals send, splits
// them to the departments and follows reversals and refunds (see book/FeeBook.h). It reads the
// same catalog and calendar as the case ledger; a mistake in them keeps it from starting.
#include <onewindow/sdk/Plugin.h>

#include <memory>
#include <utility>

#include "plugins/cases/data/CaseDataConfig.h"
#include "plugins/cases/data/WatchedContext.h"
#include "plugins/fees/book/FeeBook.h"

namespace sdk = onewindow::sdk;
using namespace ow::fees;

namespace {

class BookProcessor final : public sdk::Processor {
public:
    explicit BookProcessor(sdk::Services& s)
        : s_(s), refused_(s.metrics.counter("fees_events_refused_total",
                                            "Fee events the book could not read (dead-lettered)")),
          payments_(s.metrics.counter("fees_payments_accepted_total",
                                      "Payments matched to their notice and split")),
          paymentsRefused_(s.metrics.counter("fees_payments_refused_total",
                                             "Payments refused (unknown notice, wrong amount, "
                                             "double payment, ...)")) {}

    sdk::Result start() override {
        const auto& c = s_.config;
        try {
            ow::cases::loadCaseData(c, calendar_, catalog_);
        } catch (const std::exception& e) {
            return sdk::Result::retry(std::string("cannot load the case data:\n") + e.what());
        }
        FeeSettings fs;
        fs.source = c.get<std::string>("source", fs.source);
        fs.noticePrefix = c.get<std::string>("notice_prefix", fs.noticePrefix);
        fs.checkCodeKey = c.get<std::string>("check_code_key");
        if (fs.checkCodeKey.size() < 16)
            return sdk::Result::reject("check_code_key must be at least 16 characters: it keys "
                                       "the check codes printed on the payment notices");
        auto days = [&](const char* key, int fallback) {
            return static_cast<int>(c.get<std::int64_t>(key, fallback));
        };
        fs.paymentDays = days("payment_days", fs.paymentDays);
        fs.lateFeePermillePerDay = days("late_fee_permille_per_day", fs.lateFeePermillePerDay);
        fs.refundVerifyDays = days("refund_verify_days", fs.refundVerifyDays);
        fs.refundApproveDays = days("refund_approve_days", fs.refundApproveDays);
        fs.refundPayDays = days("refund_pay_days", fs.refundPayDays);
        const auto from = c.get<std::vector<std::string>>("money_from", {"signature"});
        fs.moneyFrom = {from.begin(), from.end()};
        book_ = std::make_unique<FeeBook>(catalog_, calendar_, fs);
        std::size_t fees = 0;
        for (const auto& i : catalog_.items())
            fees += i.fees.size();
        s_.log.log(sdk::LogLevel::Info, "fee book ready",
                   {{"items", std::to_string(catalog_.items().size())},
                    {"published_fee_lines", std::to_string(fees)},
                    {"sample_catalog", catalog_.sampleData() ? "true" : "false"}});
        return sdk::Result::ok();
    }

    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        bool counted = false; // one payment, several shares
        ow::cases::WatchedContext counting(ctx, [&](const sdk::Event& out) {
            if (out.type == "gov.fee.payment_refused") paymentsRefused_.add();
            if (out.type == "gov.fee.paid" && !std::exchange(counted, true)) payments_.add();
        });
        auto r = book_->process(e, counting, s_.clock.nowMs());
        if (r.kind == sdk::Result::Kind::Reject) {
            refused_.add();
            s_.log.log(sdk::LogLevel::Warn, "fee event refused",
                       {{"type", e.type}, {"id", e.id}, {"reason", r.reason}});
        }
        return r;
    }

    sdk::Result onTimer(const std::string& name, const std::string&,
                        sdk::ProcessContext& ctx) override {
        return book_->onTimer(name, ctx, s_.clock.nowMs());
    }

private:
    sdk::Services& s_;
    sdk::Counter& refused_;
    sdk::Counter& payments_;
    sdk::Counter& paymentsRefused_;
    ow::cases::WorkCalendar calendar_;
    ow::cases::Catalog catalog_;
    std::unique_ptr<FeeBook> book_;
};

void registerComponents(sdk::Registry& r) {
    using sdk::Field;
    r.processor(
        {sdk::ComponentKind::Processor, "book",
         ow::cases::withCaseDataFields(
             sdk::ConfigSpec(
                 "One combined payment (一次性收费): checks gov.fee.assessed against the catalog's "
                 "published fees, consolidates a case's assessments into one payment notice "
                 "(gov.fee.notice_issued), matches gov.fee.paid from the counters by notice "
                 "number, "
                 "check code and amount, emits one gov.fee.paid per department share, and follows "
                 "reversals (gov.fee.payment_reversed) and the refund chain (gov.fee.refund_*). "
                 "Refusals come back as gov.fee.payment_refused / assessment_refused with a "
                 "gov.supervision.alert (category 04 收费异常)."))
             .field(Field::secret("check_code_key")
                        .required()
                        .describe("Keys the six-digit check codes of the notices (at least 16 "
                                  "characters; write ${NAME} to take it from the environment)"))
             .field(Field::string("notice_prefix")
                        .defaultsTo("350581")
                        .describe("Notice numbers are this (the region code), the year and "
                                  "eight digits"))
             .field(Field::string("source")
                        .defaultsTo("onewindow://fees")
                        .describe("Source of the events the book emits; events of this source "
                                  "reaching the book are ignored"))
             .field(Field::integer("payment_days")
                        .defaultsTo(15)
                        .range(1, 365)
                        .describe("Working days from a notice's issue to its due date"))
             .field(Field::integer("late_fee_permille_per_day")
                        .defaultsTo(0)
                        .range(0, 1000)
                        .describe("Late fee per day past the due date, in ‰ of the total "
                                  "(never more than the total); 0: none"))
             .field(Field::integer("refund_verify_days")
                        .defaultsTo(10)
                        .range(1, 60)
                        .describe("Working days the charging unit has to verify a refund "
                                  "request (DOMAIN §7.3)"))
             .field(Field::integer("refund_approve_days")
                        .defaultsTo(10)
                        .range(1, 60)
                        .describe("Working days finance has to approve it after verification"))
             .field(Field::integer("refund_pay_days")
                        .defaultsTo(10)
                        .range(1, 60)
                        .describe("Working days to pay it after approval"))
             .field(Field::stringList("money_from")
                        .defaultsTo(std::vector<std::string>{"signature"})
                        .describe("How payments, reversals and refunds paid out must have been "
                                  "authenticated (the hub's owauth attribute: signature, mqtt, "
                                  "token, certificate); others are dead-lettered, whatever the "
                                  "routes let through"))},
        [](sdk::Services& s) { return std::make_unique<BookProcessor>(s); });
}

} // namespace

ONEWINDOW_PLUGIN("fees", "1.0.0",
                 "One combined payment: fee notices, payments split to departments, reversals, "
                 "refunds",
                 registerComponents)
