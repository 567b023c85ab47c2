// The fee book driven as the hub drives a processor (the SDK's TestProcessContext, a fake clock),
// on the shipped catalog and the 2026 calendar: a joint case of three departments assessed,
// consolidated into one notice and paid once, split exactly; charges outside the published
// fees; wrong amount, unknown notice, double payment; a revised notice; same-day reversal;
// the refund chain inside and outside its working-day limits; late fees; money that is not
// whole fen.
#include <catch2/catch.hpp>

#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <onewindow/sdk/testkit/CatalogCheck.h>
#include <onewindow/sdk/testkit/FakeClock.h>
#include <onewindow/sdk/testkit/TestProcessContext.h>
#include <string>
#include <vector>

#include "plugins/cases/calendar/CalendarFiles.h"
#include "plugins/cases/catalog/CatalogFiles.h"
#include "plugins/cases/data/Rfc3339.h"
#include "plugins/fees/book/FeeBook.h"

using namespace ow::fees;
using ow::cases::formatRfc3339;
using ow::cases::WorkCalendar;
namespace sdk = onewindow::sdk;
using nlohmann::json;

namespace {

const std::string Joint = "350581003785042N000109"; // planning-construction + land + post
const std::string Transfer = "350581003785042N000106";

const WorkCalendar& calendar() {
    static const WorkCalendar c = ow::cases::loadCalendar(
        std::string(OW_SOURCE_DIR) + "/config/calendar", ow::cases::BusinessHours{});
    return c;
}
const ow::cases::Catalog& catalog() {
    static const ow::cases::Catalog c =
        ow::cases::loadCatalog(std::string(OW_SOURCE_DIR) + "/config/catalog",
                               std::string(OW_SOURCE_DIR) + "/config/units.yaml");
    return c;
}

Instant at(unsigned m, unsigned d, int hh, int mm) {
    return WorkCalendar::dayFromCivil(2026, m, d) * 86400000 + (hh * 60 + mm - 480) * 60000LL;
}

class BookProcessor final : public sdk::Processor {
public:
    BookProcessor(FeeBook& b, sdk::Clock& c) : b_(b), c_(c) {}
    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        return b_.process(e, ctx, c_.nowMs());
    }
    sdk::Result onTimer(const std::string& name, const std::string&,
                        sdk::ProcessContext& ctx) override {
        return b_.onTimer(name, ctx, c_.nowMs());
    }

private:
    FeeBook& b_;
    sdk::Clock& c_;
};

FeeSettings settings(int latePermille = 0) {
    FeeSettings s;
    s.checkCodeKey = "test-check-code-key-0123456789";
    s.lateFeePermillePerDay = latePermille;
    return s;
}

json line(const std::string& code, int qty, Fen standard) {
    return {{"code", code},
            {"quantity", qty},
            {"standard_fen", standard},
            {"amount_fen", standard * qty}};
}

class Book {
public:
    explicit Book(FeeSettings s = settings())
        : book_(catalog(), calendar(), std::move(s)), proc_(book_, clock_) {
        clock_.set(at(3, 2, 10, 0)); // a Monday
    }

    sdk::Result send(const std::string& type, json data, const std::string& source = "/test") {
        sdk::Event e;
        e.id = "e-" + std::to_string(++seq_);
        e.source = source;
        e.type = "gov.fee." + type;
        e.time = formatRfc3339(clock_.nowMs(), 480);
        e.data = data.dump();
        // Who the hub says sent it: by default a signed terminal, as payments must be.
        e.extensions["owauth"] = auth;
        e.extensions["owinput"] = "terminals";
        e.extensions["authid"] = "cib-terminal-01";
        return ctx_.process(proc_, e);
    }
    std::string auth = "signature";

    sdk::Result assess(const std::string& caseNo, const std::string& dept, const std::string& item,
                       const std::string& charge, json lines, json extra = json::object()) {
        json d = {{"case_no", caseNo},
                  {"department", dept},
                  {"item_code", item},
                  {"charge_id", charge},
                  {"lines", std::move(lines)}};
        d.update(extra);
        return send("assessed", d, "dept:" + dept);
    }

    sdk::Result pay(const json& notice, Fen amount, const std::string& serial,
                    json extra = json::object()) {
        json d = {{"notice_no", notice["notice_no"]},
                  {"check_code", notice["check_code"]},
                  {"amount_fen", amount},
                  {"bank_code", "CIB"},
                  {"bank_serial", serial},
                  {"channel", "card"},
                  {"paid_at", formatRfc3339(clock_.nowMs(), 480)}};
        d.update(extra);
        return send("paid", d, "bank:cib/terminal-01");
    }

    /// The events emitted since the last call, as (type, data).
    std::vector<std::pair<std::string, json>> take() {
        std::vector<std::pair<std::string, json>> out;
        const auto emitted = ctx_.takeEmitted();
        CHECK(sdk::testkit::catalogProblems(emitted) == ""); // the event catalog's schemas
        for (auto& e : emitted)
            out.emplace_back(e.type, json::parse(e.data));
        return out;
    }
    static std::vector<json> ofType(const std::vector<std::pair<std::string, json>>& evs,
                                    const std::string& type) {
        std::vector<json> out;
        for (const auto& [t, d] : evs)
            if (t == type) out.push_back(d);
        return out;
    }
    /// The latest notice issued in `evs`.
    static json lastNotice(const std::vector<std::pair<std::string, json>>& evs) {
        auto n = ofType(evs, "gov.fee.notice_issued");
        REQUIRE_FALSE(n.empty());
        return n.back();
    }
    json state(const std::string& key) {
        auto it = ctx_.state().find(key);
        REQUIRE(it != ctx_.state().end());
        return json::parse(it->second);
    }
    bool has(const std::string& key) { return ctx_.state().count(key) != 0; }

    void until(Instant t) {
        clock_.set(t);
        auto r = ctx_.runDueTimers(proc_);
        REQUIRE(r.kind == sdk::Result::Kind::Ok);
    }

    FeeBook book_;
    onewindow::sdk::testkit::FakeClock clock_;
    sdk::testkit::TestProcessContext ctx_{clock_};
    BookProcessor proc_;
    int seq_ = 0;
};

/// The joint case SS-J1: planning-construction 80 yuan, land-resources 20 + 5 yuan, post 15.
json jointNotice(Book& b) {
    REQUIRE(b.assess("SS-J1", "planning-construction", Joint, "C-PC", {line("GJ-F-001", 1, 8000)})
                .kind == sdk::Result::Kind::Ok);
    REQUIRE(b.assess("SS-J1", "land-resources", Joint, "C-LR",
                     {line("GT-F-001", 1, 2000), line("GT-F-003", 1, 500)})
                .kind == sdk::Result::Kind::Ok);
    REQUIRE(b.assess("SS-J1", "post", Joint, "C-PO", {line("YZ-F-001", 1, 1500)}).kind ==
            sdk::Result::Kind::Ok);
    return Book::lastNotice(b.take());
}

} // namespace

TEST_CASE("fees: money moves only on the word of a signed terminal, whatever the routes") {
    Book b;
    const json notice = jointNotice(b);
    for (const char* way : {"token", "mqtt", "certificate", ""}) {
        INFO(way);
        b.auth = way;
        auto r = b.pay(notice, 12000, std::string("S-") + way);
        CHECK(r.kind == sdk::Result::Kind::Reject);
        CHECK(r.reason.find("signature") != std::string::npos);
        CHECK(Book::ofType(b.take(), "gov.fee.paid").empty());
    }
    // Where terminals publish to a broker that authenticates them, the book can be told so.
    FeeSettings s = settings();
    s.moneyFrom = {"signature", "mqtt"};
    Book overMqtt(s);
    const json n2 = jointNotice(overMqtt);
    overMqtt.auth = "mqtt";
    CHECK(overMqtt.pay(n2, 12000, "S-M").kind == sdk::Result::Kind::Ok);
    CHECK(Book::ofType(overMqtt.take(), "gov.fee.paid").size() == 3);
}

TEST_CASE("fees: a joint case of three departments is one notice, paid once, split exactly") {
    Book b;
    const json notice = jointNotice(b);
    CHECK(notice["revision"] == 3); // re-issued as each department assessed
    CHECK(notice["total_fen"] == 12000);
    CHECK(notice["check_code"].get<std::string>().size() == 6);
    const std::string no = notice["notice_no"];
    CHECK(no.rfind("3505812026", 0) == 0);
    CHECK(no.size() == 18);
    REQUIRE(notice["shares"].size() == 3);

    REQUIRE(b.pay(notice, 12000, "S-1").kind == sdk::Result::Kind::Ok);
    const auto evs = b.take();
    const auto shares = Book::ofType(evs, "gov.fee.paid");
    REQUIRE(shares.size() == 3);
    std::map<std::string, Fen> got;
    for (const auto& s : shares)
        got[s["department"]] = s["amount_fen"];
    CHECK(got == std::map<std::string, Fen>{
                     {"land-resources", 2500}, {"planning-construction", 8000}, {"post", 1500}});
    CHECK(Book::ofType(evs, "gov.supervision.alert").empty());
    // Recorded for reconciliation, and the notice query shows it paid.
    const auto rec = b.state("payments/2026-03-02/" + no + "/CIB/S-1");
    CHECK(rec["status"] == "accepted");
    CHECK(rec["amount_fen"] == 12000);
    CHECK(b.state("public/" + no)["status"] == "paid");
    CHECK(b.state("case/SS-J1")["open"].empty());

    SECTION("the same bank transaction told again (a new message id) changes nothing") {
        REQUIRE(b.pay(notice, 12000, "S-1").kind == sdk::Result::Kind::Ok);
        CHECK(b.take().empty());
    }
    SECTION("a second payment of the paid notice is refused, with a red alert") {
        REQUIRE(b.pay(notice, 12000, "S-2").kind == sdk::Result::Kind::Ok);
        const auto again = b.take();
        CHECK(Book::ofType(again, "gov.fee.paid").empty());
        const auto refused = Book::ofType(again, "gov.fee.payment_refused");
        REQUIRE(refused.size() == 1);
        CHECK(refused[0]["reason_code"] == "already_paid");
        CHECK(refused[0]["reason"].get<std::string>().find("S-1") != std::string::npos);
        const auto alerts = Book::ofType(again, "gov.supervision.alert");
        REQUIRE(alerts.size() == 1);
        CHECK(alerts[0]["level"] == "red");
        CHECK(alerts[0]["category"] == "04");
        CHECK(b.state("payments/2026-03-02/" + no + "/CIB/S-2")["status"] == "refused");
    }
}

TEST_CASE("fees: a charge outside the published fees is refused with a red alert") {
    Book b;
    SECTION("above the published standard") {
        REQUIRE(
            b.assess("SS-2", "planning-construction", Transfer, "C1", {line("GJ-F-001", 1, 9000)})
                .kind == sdk::Result::Kind::Ok);
    }
    SECTION("a fee the item does not publish") {
        REQUIRE(
            b.assess("SS-2", "planning-construction", Transfer, "C1", {line("GJ-F-999", 1, 100)})
                .kind == sdk::Result::Kind::Ok);
    }
    SECTION("an amount that is not standard times quantity") {
        json l = line("GJ-F-002", 2, 1000);
        l["amount_fen"] = 2500;
        REQUIRE(b.assess("SS-2", "planning-construction", Transfer, "C1", {l}).kind ==
                sdk::Result::Kind::Ok);
    }
    SECTION("a department charging on an item it has no part in") {
        REQUIRE(b.assess("SS-2", "post", Transfer, "C1", {line("YZ-F-001", 1, 1500)}).kind ==
                sdk::Result::Kind::Ok);
    }
    SECTION("a waiver without its reason") {
        REQUIRE(b.assess("SS-2", "planning-construction", Transfer, "C1",
                         {line("GJ-F-001", 1, 8000)}, {{"waiver_fen", 1000}})
                    .kind == sdk::Result::Kind::Ok);
    }
    const auto evs = b.take();
    CHECK(Book::ofType(evs, "gov.fee.notice_issued").empty());
    REQUIRE(Book::ofType(evs, "gov.fee.assessment_refused").size() == 1);
    const auto alerts = Book::ofType(evs, "gov.supervision.alert");
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0]["level"] == "red");
    CHECK(alerts[0]["trigger"] == 7);
    CHECK(alerts[0]["rule"] == "charge_outside_published_fees");
}

TEST_CASE("fees: a waiver with its reason lowers the notice") {
    Book b;
    REQUIRE(b.assess("SS-3", "planning-construction", Transfer, "C1",
                     {line("GJ-F-001", 1, 8000), line("GJ-F-002", 2, 1000)},
                     {{"waiver_fen", 2000}, {"waiver_reason", "低保户减免"}, {"total_fen", 8000}})
                .kind == sdk::Result::Kind::Ok);
    CHECK(Book::lastNotice(b.take())["total_fen"] == 8000);
}

TEST_CASE("fees: wrong amount, unknown notice and stale check code are refused and alerted") {
    Book b;
    const json notice = jointNotice(b);
    REQUIRE(b.pay(notice, 11999, "S-1").kind == sdk::Result::Kind::Ok);
    auto evs = b.take();
    auto refused = Book::ofType(evs, "gov.fee.payment_refused");
    REQUIRE(refused.size() == 1);
    CHECK(refused[0]["reason_code"] == "amount_mismatch");
    CHECK(refused[0]["reason"].get<std::string>().find("119.99 元") != std::string::npos);
    CHECK(Book::ofType(evs, "gov.supervision.alert").size() == 1);
    CHECK(b.state("public/" + notice["notice_no"].get<std::string>())["status"] == "open");

    json unknown = notice;
    unknown["notice_no"] = "350581202699999999";
    REQUIRE(b.pay(unknown, 12000, "S-2").kind == sdk::Result::Kind::Ok);
    evs = b.take();
    REQUIRE(Book::ofType(evs, "gov.fee.payment_refused").size() == 1);
    CHECK(Book::ofType(evs, "gov.fee.payment_refused")[0]["reason_code"] == "unknown_notice");

    // A department cancels its charge: the notice is revised, the old check code is stale.
    REQUIRE(b.send("assessment_cancelled",
                   {{"case_no", "SS-J1"}, {"charge_id", "C-PO"}, {"reason", "不邮寄"}})
                .kind == sdk::Result::Kind::Ok);
    const json revised = Book::lastNotice(b.take());
    CHECK(revised["notice_no"] == notice["notice_no"]);
    CHECK(revised["revision"] == 4);
    CHECK(revised["total_fen"] == 10500);
    CHECK(revised["check_code"] != notice["check_code"]);
    REQUIRE(b.pay(notice, 10500, "S-3").kind == sdk::Result::Kind::Ok);
    CHECK(Book::ofType(b.take(), "gov.fee.payment_refused")[0]["reason_code"] ==
          "check_code_mismatch");
    // The right payment after the refusals is taken.
    REQUIRE(b.pay(revised, 10500, "S-4").kind == sdk::Result::Kind::Ok);
    CHECK(Book::ofType(b.take(), "gov.fee.paid").size() == 2);
}

TEST_CASE("fees: a re-assessment replaces the charge, cancelling every charge cancels the notice") {
    Book b;
    REQUIRE(b.assess("SS-4", "planning-construction", Transfer, "C1", {line("GJ-F-001", 1, 8000)})
                .kind == sdk::Result::Kind::Ok);
    REQUIRE(b.assess("SS-4", "planning-construction", Transfer, "C1",
                     {line("GJ-F-001", 1, 8000), line("GJ-F-002", 1, 1000)}, {{"data_version", 2}})
                .kind == sdk::Result::Kind::Ok);
    // An older version arriving late changes nothing.
    REQUIRE(b.assess("SS-4", "planning-construction", Transfer, "C1", {line("GJ-F-001", 1, 8000)},
                     {{"data_version", 1}})
                .kind == sdk::Result::Kind::Ok);
    auto evs = b.take();
    REQUIRE(Book::ofType(evs, "gov.fee.notice_issued").size() == 2);
    const json n = Book::lastNotice(evs);
    CHECK(n["total_fen"] == 9000);
    REQUIRE(b.send("assessment_cancelled", {{"case_no", "SS-4"}, {"charge_id", "C1"}}).kind ==
            sdk::Result::Kind::Ok);
    evs = b.take();
    REQUIRE(Book::ofType(evs, "gov.fee.notice_cancelled").size() == 1);
    REQUIRE(b.pay(n, 9000, "S-1").kind == sdk::Result::Kind::Ok);
    CHECK(Book::ofType(b.take(), "gov.fee.payment_refused")[0]["reason_code"] ==
          "notice_cancelled");
}

TEST_CASE("fees: a same-day reversal reverses every share and reopens the notice") {
    Book b;
    const json notice = jointNotice(b);
    REQUIRE(b.pay(notice, 12000, "S-1").kind == sdk::Result::Kind::Ok);
    b.take();
    const json rev = {{"notice_no", notice["notice_no"]},
                      {"bank_code", "CIB"},
                      {"bank_serial", "S-1"},
                      {"reason", "柜员操作失误"}};
    SECTION("on the payment day") {
        b.clock_.set(at(3, 2, 16, 30));
        REQUIRE(b.send("payment_reversed", rev, "bank:cib/counter").kind == sdk::Result::Kind::Ok);
        auto evs = b.take();
        const auto reversed = Book::ofType(evs, "gov.fee.payment_reversed");
        REQUIRE(reversed.size() == 3);
        Fen sum = 0;
        for (const auto& r : reversed)
            sum += r["amount_fen"].get<Fen>();
        CHECK(sum == 12000);
        const std::string no = notice["notice_no"];
        CHECK(b.state("payments/2026-03-02/" + no + "/CIB/S-1")["status"] == "reversed");
        CHECK(b.state("public/" + no)["status"] == "open");
        // Paid again, with the same notice and check code.
        REQUIRE(b.pay(notice, 12000, "S-2").kind == sdk::Result::Kind::Ok);
        CHECK(Book::ofType(b.take(), "gov.fee.paid").size() == 3);
    }
    SECTION("the next day it is refused: that is a refund") {
        b.clock_.set(at(3, 3, 9, 30));
        REQUIRE(b.send("payment_reversed", rev, "bank:cib/counter").kind == sdk::Result::Kind::Ok);
        auto evs = b.take();
        CHECK(Book::ofType(evs, "gov.fee.payment_reversed").empty());
        REQUIRE(Book::ofType(evs, "gov.fee.payment_refused").size() == 1);
        CHECK(Book::ofType(evs, "gov.fee.payment_refused")[0]["reason_code"] == "not_same_day");
    }
}

TEST_CASE("fees: a refund within its limits adjusts the share without alerts") {
    Book b;
    const json notice = jointNotice(b);
    REQUIRE(b.pay(notice, 12000, "S-1").kind == sdk::Result::Kind::Ok);
    b.take();
    const json req = {{"refund_no", "R-1"},
                      {"notice_no", notice["notice_no"]},
                      {"department", "post"},
                      {"amount_fen", 1500},
                      {"reason", "未使用邮寄服务"}};
    REQUIRE(b.send("refund_requested", req).kind == sdk::Result::Kind::Ok);
    // More than is left of the share is refused.
    json tooMuch = req;
    tooMuch["refund_no"] = "R-2";
    tooMuch["amount_fen"] = 100;
    REQUIRE(b.send("refund_requested", tooMuch).kind == sdk::Result::Kind::Ok);
    CHECK(Book::ofType(b.take(), "gov.fee.refund_refused").size() == 1);

    b.until(at(3, 9, 10, 0));
    REQUIRE(b.send("refund_verified", {{"refund_no", "R-1"}}).kind == sdk::Result::Kind::Ok);
    b.until(at(3, 16, 10, 0));
    REQUIRE(b.send("refund_approved", {{"refund_no", "R-1"}}).kind == sdk::Result::Kind::Ok);
    b.until(at(3, 20, 10, 0));
    REQUIRE(b.send("refunded", {{"refund_no", "R-1"}, {"bank_serial", "RF-1"}}).kind ==
            sdk::Result::Kind::Ok);
    const auto evs = b.take();
    CHECK(Book::ofType(evs, "gov.supervision.alert").empty());
    const auto adj = Book::ofType(evs, "gov.fee.share_adjusted");
    REQUIRE(adj.size() == 1);
    CHECK(adj[0]["department"] == "post");
    CHECK(adj[0]["delta_fen"] == -1500);
    CHECK(adj[0]["share_after_fen"] == 0);
    CHECK(b.ctx_.timers().empty());
}

TEST_CASE("fees: a refund stage past its working days raises a red alert, cleared when done") {
    Book b;
    const json notice = jointNotice(b);
    REQUIRE(b.pay(notice, 12000, "S-1").kind == sdk::Result::Kind::Ok);
    b.take();
    REQUIRE(b.send("refund_requested", {{"refund_no", "R-1"},
                                        {"notice_no", notice["notice_no"]},
                                        {"department", "land-resources"},
                                        {"amount_fen", 500},
                                        {"requested_at", "2026-03-02T10:00:00+08:00"}})
                .kind == sdk::Result::Kind::Ok);
    // 10 working days from Monday 2 March end at the close of Monday 16 March.
    b.until(at(3, 16, 16, 59));
    CHECK(b.take().empty());
    b.until(at(3, 16, 17, 0));
    auto evs = b.take();
    auto alerts = Book::ofType(evs, "gov.supervision.alert");
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0]["rule"] == "refund_verify_overdue");
    CHECK(alerts[0]["due"] == "2026-03-16T17:00:00+08:00");
    REQUIRE(b.send("refund_approved", {{"refund_no", "R-1"}}).kind == sdk::Result::Kind::Ok);
    evs = b.take();
    REQUIRE(Book::ofType(evs, "gov.supervision.alert_cleared").size() == 1);
    // A refund event ahead of its request is retried, not dropped.
    CHECK(b.send("refund_approved", {{"refund_no", "R-unknown"}}).kind == sdk::Result::Kind::Retry);
}

TEST_CASE("fees: a late payment owes the late fee, split in proportion") {
    Book b(settings(5)); // 5 ‰ a day
    const json notice = jointNotice(b);
    // Due 15 working days after Monday 2 March: the close of Monday 23 March. Paid on the
    // 26th: 3 days late, 12000 × 0.005 × 3 = 180 fen.
    b.clock_.set(at(3, 26, 10, 0));
    REQUIRE(b.pay(notice, 12000, "S-1").kind == sdk::Result::Kind::Ok);
    CHECK(Book::ofType(b.take(), "gov.fee.payment_refused")[0]["reason_code"] ==
          "late_fee_mismatch");
    REQUIRE(b.pay(notice, 12180, "S-2", {{"late_fee_fen", 180}}).kind == sdk::Result::Kind::Ok);
    const auto shares = Book::ofType(b.take(), "gov.fee.paid");
    REQUIRE(shares.size() == 3);
    Fen late = 0, sum = 0;
    for (const auto& s : shares) {
        late += s["late_fee_fen"].get<Fen>();
        sum += s["amount_fen"].get<Fen>();
        if (s["department"] == "planning-construction") CHECK(s["late_fee_fen"] == 120);
    }
    CHECK(late == 180);
    CHECK(sum == 12180);
}

TEST_CASE("fees: money that is not whole fen is refused with the field named") {
    Book b;
    json l = line("GJ-F-001", 1, 8000);
    l["amount_fen"] = 80.5;
    auto r = b.assess("SS-5", "planning-construction", Transfer, "C1", {l});
    REQUIRE(r.kind == sdk::Result::Kind::Reject);
    CHECK(r.reason.find("lines[0].amount_fen must be a whole number of fen") != std::string::npos);
    l["amount_fen"] = "8000";
    r = b.assess("SS-5", "planning-construction", Transfer, "C1", {l});
    REQUIRE(r.kind == sdk::Result::Kind::Reject);
    l["amount_fen"] = -8000;
    r = b.assess("SS-5", "planning-construction", Transfer, "C1", {l});
    REQUIRE(r.kind == sdk::Result::Kind::Reject);
    CHECK(r.reason.find("must not be negative") != std::string::npos);
    r = b.send("paid", {{"notice_no", "X"},
                        {"check_code", "1"},
                        {"amount_fen", 1.5},
                        {"bank_code", "CIB"},
                        {"bank_serial", "S"}});
    REQUIRE(r.kind == sdk::Result::Kind::Reject);
    CHECK(b.take().empty());
}

TEST_CASE("fees: events of the book's own source are not taken again") {
    Book b;
    const json notice = jointNotice(b);
    json d = {{"notice_no", notice["notice_no"]},
              {"check_code", notice["check_code"]},
              {"amount_fen", 12000},
              {"bank_code", "CIB"},
              {"bank_serial", "S-1"}};
    REQUIRE(b.send("paid", d, "onewindow://fees").kind == sdk::Result::Kind::Ok);
    CHECK(b.take().empty());
}

TEST_CASE("fees: split in proportion always adds up") {
    CHECK(splitProportionally(100, {1, 1, 1}) == std::vector<Fen>{34, 33, 33});
    CHECK(splitProportionally(0, {5, 7}) == std::vector<Fen>{0, 0});
    CHECK(splitProportionally(7, {0, 0}) == std::vector<Fen>{7, 0});
    for (Fen total : {1, 99, 12345, 999999})
        for (const auto& w : std::vector<std::vector<Fen>>{
                 {3}, {1, 2}, {8000, 2500, 1500}, {1, 1, 1, 1, 1, 1, 1}}) {
            const auto parts = splitProportionally(total, w);
            CHECK(std::accumulate(parts.begin(), parts.end(), Fen{0}) == total);
        }
    CHECK(yuan(12345) == "123.45 元");
    CHECK(yuan(5) == "0.05 元");
}
