// The day's reconciliation: a bank statement with a planted mismatch of every kind against
// the payments the fee book recorded; every verdict found exactly, statements in yuan read
// without floating point, malformed statements refused with their line.
#include <catch2/catch.hpp>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/app/FeeReconcile.h"
#include "core/event/CloudEventCodec.h"

using namespace ow::app;

namespace {

RecordedPayment rec(std::string notice, std::string serial, std::int64_t amount,
                    std::string status = "accepted", std::int64_t late = 0) {
    RecordedPayment p;
    p.noticeNo = std::move(notice);
    p.bankSerial = std::move(serial);
    p.bankCode = "CIB";
    p.amountFen = amount;
    p.lateFeeFen = late;
    p.status = std::move(status);
    p.paidAt = "2026-03-02T10:00:00+08:00";
    p.terminal = "bank:cib/terminal-01";
    if (p.status == "refused") p.reason = "notice N3 was already paid";
    return p;
}

std::map<std::string, std::string> verdicts(const Reconciliation& r) {
    std::map<std::string, std::string> out;
    for (const auto& l : r.lines) {
        const auto& n = l.statement ? l.statement->noticeNo : l.recorded->noticeNo;
        const auto& s = l.statement ? l.statement->bankSerial : l.recorded->bankSerial;
        const std::string key =
            n + "/" + s + (l.statement ? "@" + std::to_string(l.statement->line) : "");
        out[key] = toString(l.verdict);
    }
    return out;
}

} // namespace

TEST_CASE("fees reconcile: a day with a planted mismatch of every kind is found exactly") {
    const std::string csv = "\xEF\xBB\xBF"
                            "notice_no,bank_serial,amount,late_fee,channel,paid_at\r\n"
                            "N1,S1,120.00,0,card,2026-03-02T10:00:00+08:00\r\n"   // matched
                            "N2,S2,80.00,0.00,cash,2026-03-02T10:05:00+08:00\r\n" // amount
                            "N3,S3,15.00,0,card,2026-03-02T10:10:00+08:00\r\n"    // matched
                            "N3,S3b,15.00,0,card,2026-03-02T10:11:00+08:00\r\n"   // 2nd payment
                            "N1,S1,120.00,0,card,2026-03-02T10:00:00+08:00\r\n"   // repeated row
                            "N9,S9,\"1,0\",0,card,2026-03-02T11:00:00+08:00\r\n";
    // "1,0" is not yuan: refused with its line.
    CHECK_THROWS_WITH(
        parseStatement(csv, "stmt.csv"),
        Catch::Contains("stmt.csv:7: amount '1,0' is not a whole number of fen (12050) "
                        "or yuan with a decimal point (120.50)"));

    const std::string good = "notice_no,bank_serial,amount,late_fee,channel,paid_at\n"
                             "N1,S1,120.00,0,card,t\n"
                             "N2,S2,80.00,0.00,cash,t\n"
                             "N3,S3,15.00,0,card,t\n"
                             "N3,S3b,15.00,0,card,t\n"
                             "N1,S1,120.00,0,card,t\n"
                             "N8,S8,25.50,0.50,card,t\n"; // OneWindow never saw it
    const auto rows = parseStatement(good, "stmt.csv");
    REQUIRE(rows.size() == 6);
    CHECK(rows[5].amountFen == 2550);
    CHECK(rows[5].lateFeeFen == 50);
    CHECK(rows[5].line == 7);

    const std::vector<RecordedPayment> recorded = {
        rec("N1", "S1", 12000),          rec("N2", "S2", 8100),
        rec("N3", "S3", 1500),           rec("N3", "S3b", 1500, "refused"),
        rec("N4", "S4", 3000),             // not on the statement
        rec("N5", "S5", 500, "reversed")}; // reversed: not expected
    const auto r = reconcile("2026-03-02", rows, recorded);
    CHECK(verdicts(r) == std::map<std::string, std::string>{{"N1/S1@2", "matched"},
                                                            {"N2/S2@3", "amount_mismatch"},
                                                            {"N3/S3@4", "matched"},
                                                            {"N3/S3b@5", "duplicate"},
                                                            {"N1/S1@6", "duplicate"},
                                                            {"N8/S8@7", "missing_in_onewindow"},
                                                            {"N4/S4", "missing_in_statement"}});
    CHECK(r.count(Verdict::Matched) == 2);
    CHECK(r.statementTotalFen == 12000 + 8000 + 1500 + 1500 + 12000 + 2550);
    CHECK(r.recordedTotalFen == 12000 + 8100 + 1500 + 3000);
    // The refused second payment is explained.
    for (const auto& l : r.lines)
        if (l.statement && l.statement->bankSerial == "S3b")
            CHECK(l.detail.find("already paid") != std::string::npos);

    const auto text = reconciliationCsv(r);
    CHECK(text.rfind("\xEF\xBB\xBFverdict,notice_no", 0) == 0);
    CHECK(text.find("amount_mismatch,N2,S2,3,80.00,0.00,81.00,0.00,accepted") != std::string::npos);
    const auto summary = reconciliationSummary(r);
    CHECK(summary.find("2 matched, 5 mismatch(es)") != std::string::npos);

    // One alert per mismatch and the day's summary, valid events with stable ids.
    const auto events = reconciliationEvents(r, std::string(64, 'a'), "2026-03-03T08:00:00Z");
    REQUIRE(events.size() == 6);
    std::map<std::string, int> kinds;
    for (const auto& e : events) {
        auto ev = ow::event::parseStructured(e.body, {});
        if (ev.type == "gov.fee.reconciliation_mismatch")
            ++kinds[ev.json["data"]["kind"].get<std::string>()];
        CHECK(ev.source == "onewindow://fees-reconcile");
    }
    CHECK(kinds == std::map<std::string, int>{{"amount_mismatch", 1},
                                              {"duplicate", 2},
                                              {"missing_in_onewindow", 1},
                                              {"missing_in_statement", 1}});
    CHECK(reconciliationEvents(r, std::string(64, 'a'), "2026-03-04T08:00:00Z")[0].id ==
          events[0].id);
}

TEST_CASE("fees reconcile: statements in fen, yuan edge cases and malformed files") {
    auto rows = parseStatement("notice_no,bank_serial,amount_fen,late_fee_fen,channel,paid_at,"
                               "extra\nN1,S1,12000,0,card,t,x\n",
                               "f.csv");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].amountFen == 12000);
    CHECK(parseStatement("notice_no,bank_serial,amount,late_fee,channel,paid_at\n"
                         "N1,S1,0.1,,card,t\n",
                         "f.csv")[0]
              .amountFen == 10);
    // A whole number in `amount` is fen, as everywhere in OneWindow; with a point it is yuan.
    rows = parseStatement("notice_no,bank_serial,amount,late_fee\nN1,S1,12050,50\nN2,S2,1.5,0\n",
                          "f.csv");
    CHECK(rows[0].amountFen == 12050);
    CHECK(rows[0].lateFeeFen == 50);
    CHECK(rows[1].amountFen == 150);
    // A bank's own column names (DOMAIN §7.2), in any case; channel and time are optional.
    rows = parseStatement("PAYNOTENO,PAYSERIAL,AMT,PNOVERDUEAMT,PAYCHANNEL\nN1,S1,120.00,0.00,2\n",
                          "f.csv");
    CHECK(rows[0].noticeNo == "N1");
    CHECK(rows[0].bankSerial == "S1");
    CHECK(rows[0].amountFen == 12000);
    CHECK(rows[0].channel == "2");
    CHECK_THROWS_WITH(parseStatement("notice_no,bank_serial,amount_yuan\nN1,S1,12.345\n", "f.csv"),
                      Catch::Contains("f.csv:2: amount '12.345' is not yuan with at most two"));
    CHECK_THROWS_WITH(parseStatement("", "f.csv"), Catch::Contains("f.csv: empty"));
    CHECK_THROWS_WITH(parseStatement("notice_no,amount\n", "f.csv"),
                      Catch::Contains("f.csv:1: the header has no bank_serial column"));
    for (const char* bad : {"1.234", "-5", "1e3", "12.", ".5", "12,00", "abc"})
        CHECK_THROWS_WITH(parseStatement(std::string("notice_no,bank_serial,amount,late_fee,"
                                                     "channel,paid_at\nN1,S1,") +
                                             bad + ",0,card,t\n",
                                         "f.csv"),
                          Catch::Contains("f.csv:2:"));
    CHECK_THROWS_WITH(parseStatement("notice_no,bank_serial,amount,late_fee,channel,paid_at\n"
                                     "N1,S1,1,0,card\n",
                                     "f.csv"),
                      Catch::Contains("f.csv:2: 5 fields, the header has 6"));
    CHECK_THROWS_WITH(parseStatement("notice_no,bank_serial,amount,late_fee,channel,paid_at\n"
                                     "\"N1,S1,1,0,card,t\n",
                                     "f.csv"),
                      Catch::Contains("not closed"));
    // Quoted fields may hold commas and quotes.
    rows = parseStatement("notice_no,bank_serial,amount,late_fee,channel,paid_at\n"
                          "\"N,1\",\"S\"\"1\",1,0,card,t\n",
                          "f.csv");
    CHECK(rows[0].noticeNo == "N,1");
    CHECK(rows[0].bankSerial == "S\"1");
}
