// One combined payment in the running hub: departments assess fees, the fee book issues one
// notice per case, a terminal reads it through the notice query and pays with a signed
// request, the payment is split to the departments; refusals reach the counters and
// supervision; `onewindow fees reconcile` finds a planted mismatch of every kind and hands its
// alerts to the running hub. The crash test SIGKILLs the hub while terminals post payments.
#include "tests/integration/JournalPeek.h"
#include "tests/integration/MqttClients.h"
#include "tests/integration/WebhookSigning.h"

#include <atomic>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/Mosquitto.h"
#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string kSource = OW_SOURCE_DIR;
const std::string kJoint = "350581003785042N000109"; // planning-construction + land + post
const std::string kKey1 = "terminal-01-key-2026-november";
const std::string kKey2 = "terminal-02-key-2026-november";

/// With `brokerUrl`, terminals may also publish payments to hall/terminals/<id>/payments.
std::string feesConfig(const testkit::TempDir& dir, const testkit::Receiver& rx,
                       const std::string& brokerUrl = "") {
    const std::string mqtt =
        brokerUrl.empty()
            ? ""
            : "  - { name: terminals-mqtt, mqtt: { broker: hall, topics: "
              "[ \"hall/terminals/+/payments\" ], qos: 1 } }\nbrokers:\n  - { name: hall, url: \"" +
                  brokerUrl + "\", client_id: hub-fees, mqtt_version: 5 }\n";
    return R"(
hub:
  log_level: warn
  plugin_dirs: [ ")" +
           itest::firstPartyPluginDir(dir, {"fees.so"}) + R"(" ]
inputs:
  - { name: departments, path: /v1/events }
  - name: terminals
    path: /v1/payments
    auth:
      signed:
        senders:
          - { client: terminal-01, keys: [ ")" +
           kKey1 + R"(" ] }
          - { client: terminal-02, keys: [ ")" +
           kKey2 + R"(" ] }
)" + mqtt + R"(plugins:
  - { name: fees, file: fees.so }
outputs:
  - name: book
    processor: fees/book
    config:
)" + itest::caseDataConfig() +
           R"(      check_code_key: ${OW_FEE_CHECK_KEY}
      money_from: [ signature, mqtt ]     # the terminals' broker authenticates them
  - { name: departments, url: ")" +
           rx.url("/departments") + R"(" }
  - { name: counters, url: ")" +
           rx.url("/counters") + R"(" }
  - { name: supervision, url: ")" +
           rx.url("/supervision") + R"(" }
routes:
  - name: fee-events
    match: { type: "gov.fee.*", source: [ "dept:*", "bank:*" ] }
    to: [ book ]
  - name: shares
    match: { type: [ gov.fee.paid, gov.fee.payment_reversed, gov.fee.share_adjusted ],
             source: "onewindow://fees" }
    to: [ departments ]
  - name: notices
    match: { type: [ "gov.fee.notice_*", gov.fee.payment_refused, gov.fee.assessment_refused ],
             source: "onewindow://fees" }
    to: [ counters ]
  - name: alerts
    match: { type: [ "gov.supervision.alert*", "gov.fee.reconcil*" ] }
    to: [ supervision ]
queries:
  - { name: notices, path: /v1/fees/notices/, processor: book, per_client_per_minute: 600 }
)";
}

std::string assessment(const std::string& caseNo, const std::string& dept,
                       const std::string& charge, json lines) {
    json e = {{"specversion", "1.0"},
              {"id", "assess-" + caseNo + "-" + charge},
              {"source", "dept:" + dept},
              {"type", "gov.fee.assessed"},
              {"subject", caseNo},
              {"datacontenttype", "application/json"},
              {"data",
               {{"case_no", caseNo},
                {"department", dept},
                {"item_code", kJoint},
                {"charge_id", charge},
                {"lines", std::move(lines)}}}};
    return e.dump();
}

json feeLine(const std::string& code, long standard) {
    return {{"code", code}, {"quantity", 1}, {"standard_fen", standard}, {"amount_fen", standard}};
}

/// "2026-11-28T16:05:00+08:00" and "2026-11-28": now, in the center's time.
std::pair<std::string, std::string> localNow() {
    std::time_t t = std::time(nullptr) + 8 * 3600;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char full[40], day[16];
    std::strftime(full, sizeof full, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    std::strftime(day, sizeof day, "%Y-%m-%d", &tm);
    return {full, day};
}

std::string paymentEvent(const std::string& id, const json& notice, long amount,
                         const std::string& serial, const std::string& terminal) {
    json e = {{"specversion", "1.0"},
              {"id", id},
              {"source", "bank:cib/" + terminal},
              {"type", "gov.fee.paid"},
              {"datacontenttype", "application/json"},
              {"data",
               {{"notice_no", notice["notice_no"]},
                {"check_code", notice["check_code"]},
                {"amount_fen", amount},
                {"bank_code", "CIB"},
                {"bank_serial", serial},
                {"channel", "card"},
                {"paid_at", localNow().first}}}};
    return e.dump();
}

/// The events the receiver got on `path`, as CloudEvent JSON, one per event id (deliveries
/// are at least once).
std::map<std::string, json> eventsAt(const testkit::Receiver& rx, const std::string& path) {
    std::map<std::string, json> out;
    for (const auto& q : rx.snapshot()) {
        if (q.status != 200 || q.path != path) continue;
        auto e = json::parse(q.body, nullptr, false);
        if (!e.is_discarded() && e.contains("id")) out[e["id"]] = e;
    }
    return out;
}

/// The newest notice of each case seen at the counters.
std::map<std::string, json> noticesByCase(const testkit::Receiver& rx) {
    std::map<std::string, json> out;
    for (const auto& [_, e] : eventsAt(rx, "/counters")) {
        if (e["type"] != "gov.fee.notice_issued") continue;
        const auto& d = e["data"];
        auto& slot = out[d["case_no"]];
        if (slot.is_null() || slot["revision"] < d["revision"]) slot = d;
    }
    return out;
}

class Terminal {
public:
    Terminal(const itest::Hub& hub, std::string name, std::string key)
        : hub_(hub), name_(std::move(name)), key_(std::move(key)) {}
    /// One signed attempt with a fresh message id; the HTTP status, or 0 when the connection
    /// failed.
    int post(const std::string& body, const std::string& idempotencyKey) {
        auto h =
            itest::signedHeaders(key_, name_ + "-msg-" + std::to_string(++n_), itest::nowS(), body);
        h.emplace_back("Idempotency-Key", "\"" + idempotencyKey + "\"");
        try {
            return testkit::httpRequest("POST", hub_.url("/v1/payments"), body, h, 3s).status;
        } catch (const std::exception&) {
            return 0;
        }
    }

private:
    const itest::Hub& hub_;
    std::string name_, key_;
    int n_ = 0;
};

} // namespace

TEST_CASE("Fees: a joint case paid once at a signed terminal is split to its three departments",
          "[integration][plugin][fees]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, feesConfig(dir, rx));
    hub.env = {{"OW_FEE_CHECK_KEY", "integration-test-check-code-key"}};
    hub.start();
    auto dept = [&](const std::string& body) {
        REQUIRE(testkit::postCloudEvent(hub.url(), body).status == 202);
    };
    dept(assessment("SS-J1", "planning-construction", "C-PC", {feeLine("GJ-F-001", 8000)}));
    dept(assessment("SS-J1", "land-resources", "C-LR",
                    {feeLine("GT-F-001", 2000), feeLine("GT-F-003", 500)}));
    dept(assessment("SS-J1", "post", "C-PO", {feeLine("YZ-F-001", 1500)}));
    // Outside the published standard: refused, red alert, not on any notice.
    dept(assessment("SS-X", "planning-construction", "C-X", {feeLine("GJ-F-001", 9900)}));
    REQUIRE(testkit::waitUntil(
        [&] {
            return noticesByCase(rx).count("SS-J1") && noticesByCase(rx)["SS-J1"]["revision"] == 3;
        },
        30s));
    const json notice = noticesByCase(rx)["SS-J1"];
    CHECK(notice["total_fen"] == 12000);
    CHECK(noticesByCase(rx).count("SS-X") == 0);
    const std::string no = notice["notice_no"];

    // The terminal reads the notice (缴款书查询) with the check code; a wrong code and an
    // unknown number get the same 404.
    auto q = testkit::httpRequest("GET", hub.url("/v1/fees/notices/" + no + "?password=" +
                                                 notice["check_code"].get<std::string>()));
    REQUIRE(q.status == 200);
    const json view = json::parse(q.body);
    CHECK(view["total_fen"] == 12000);
    CHECK(view["status"] == "open");
    CHECK(view["shares"].size() == 3);
    CHECK_FALSE(view.contains("secret_sha256"));
    CHECK(testkit::httpRequest("GET", hub.url("/v1/fees/notices/" + no + "?password=000000"))
              .status == 404);

    Terminal t1(hub, "terminal-01", kKey1), t2(hub, "terminal-02", kKey2);
    REQUIRE(t1.post(paymentEvent("pay-1", notice, 12000, "S-1", "terminal-01"), "pay-1") == 202);
    auto shares = [&] {
        std::map<std::string, long> got;
        for (const auto& [_, e] : eventsAt(rx, "/departments"))
            if (e["type"] == "gov.fee.paid")
                got[e["data"]["department"]] += e["data"]["amount_fen"].get<long>();
        return got;
    };
    REQUIRE(testkit::waitUntil([&] { return shares().size() == 3; }, 30s));
    CHECK(shares() == std::map<std::string, long>{{"land-resources", 2500},
                                                  {"planning-construction", 8000},
                                                  {"post", 1500}});
    CHECK(json::parse(testkit::httpRequest("GET", hub.url("/v1/fees/notices/" + no + "?password=" +
                                                          notice["check_code"].get<std::string>()))
                          .body)["status"] == "paid");

    // A second payment of the paid notice, from another terminal: refused with the reason,
    // a red alert; a wrong amount on another case's notice: refused, alerted.
    REQUIRE(t2.post(paymentEvent("pay-2", notice, 12000, "S-2", "terminal-02"), "pay-2") == 202);
    dept(assessment("SS-J2", "planning-construction", "C-PC", {feeLine("GJ-F-001", 8000)}));
    REQUIRE(testkit::waitUntil([&] { return noticesByCase(rx).count("SS-J2") == 1; }, 30s));
    const json notice2 = noticesByCase(rx)["SS-J2"];
    REQUIRE(t2.post(paymentEvent("pay-3", notice2, 7900, "S-3", "terminal-02"), "pay-3") == 202);
    auto refusals = [&] {
        std::map<std::string, std::string> out;
        for (const auto& [_, e] : eventsAt(rx, "/counters"))
            if (e["type"] == "gov.fee.payment_refused")
                out[e["data"]["bank_serial"]] = e["data"]["reason_code"];
        return out;
    };
    REQUIRE(testkit::waitUntil([&] { return refusals().size() == 2; }, 30s));
    CHECK(refusals() ==
          std::map<std::string, std::string>{{"S-2", "already_paid"}, {"S-3", "amount_mismatch"}});
    auto alerts = [&] {
        std::map<std::string, std::string> out; // rule -> level
        for (const auto& [_, e] : eventsAt(rx, "/supervision"))
            if (e["type"] == "gov.supervision.alert") out[e["data"]["rule"]] = e["data"]["level"];
        return out;
    };
    REQUIRE(testkit::waitUntil([&] { return alerts().size() == 3; }, 30s));
    CHECK(alerts() == std::map<std::string, std::string>{{"charge_outside_published_fees", "red"},
                                                         {"payment_already_paid", "red"},
                                                         {"payment_amount_mismatch", "yellow"}});
    CHECK(shares().size() == 3); // nothing more was split

    // Two more notices paid: one the bank will show with another amount, one it will not show.
    dept(assessment("SS-J3", "post", "C-PO", {feeLine("YZ-F-001", 1500)}));
    dept(assessment("SS-J4", "land-resources", "C-LR", {feeLine("GT-F-001", 2000)}));
    REQUIRE(testkit::waitUntil([&] { return noticesByCase(rx).size() == 4; }, 30s));
    auto n3 = noticesByCase(rx)["SS-J3"], n4 = noticesByCase(rx)["SS-J4"];
    REQUIRE(t1.post(paymentEvent("pay-4", n3, 1500, "S-4", "terminal-01"), "pay-4") == 202);
    REQUIRE(t1.post(paymentEvent("pay-5", n4, 2000, "S-5", "terminal-01"), "pay-5") == 202);
    REQUIRE(testkit::waitUntil(
        [&] { return shares().size() == 3 && eventsAt(rx, "/departments").size() == 5; }, 30s));

    // The bank's statement of the day, with a planted mismatch of every kind.
    const auto today = localNow().second;
    const std::string no2 = notice2["notice_no"], no3 = n3["notice_no"], no4 = n4["notice_no"];
    const std::string statement = dir.writeFile(
        "statement.csv", "notice_no,bank_serial,amount,late_fee,channel,paid_at\n" + no +
                             ",S-1,120.00,0.00,card,t\n" +      // matched
                             no + ",S-2,120.00,0.00,card,t\n" + // duplicate: paid twice
                             no2 + ",S-3,79.00,0.00,card,t\n" + // missing in OneWindow
                             no3 + ",S-4,15.10,0.00,card,t\n" + // amount mismatch
                             no + ",S-1,120.00,0.00,card,t\n"); // duplicate row
    // (no4/S-5 is missing from the statement)
    const std::string out = dir.file("recon");
    auto [code, text] =
        itest::runCli(dir, {"fees", "reconcile", "--date", today, "--statement", statement, "-c",
                            hub.config(), "--data-dir", hub.dataDir(), "--out", out});
    INFO(text);
    CHECK(code == 3);
    CHECK(text.find("1 matched, 5 mismatch(es)") != std::string::npos);
    const auto csv = testkit::readFile(out + "/reconciliation-" + today + ".csv");
    for (const auto& expect :
         {"matched," + no + ",S-1", "duplicate," + no + ",S-2",
          "missing_in_onewindow," + no2 + ",S-3", "amount_mismatch," + no3 + ",S-4",
          "duplicate," + no + ",S-1", "missing_in_statement," + no4 + ",S-5"})
        CHECK(csv.find(expect) != std::string::npos);
    // Its alerts travel through the running hub to supervision, once.
    auto mismatches = [&] {
        std::multiset<std::string> kinds;
        for (const auto& [_, e] : eventsAt(rx, "/supervision"))
            if (e["type"] == "gov.fee.reconciliation_mismatch") kinds.insert(e["data"]["kind"]);
        return kinds;
    };
    REQUIRE(testkit::waitUntil([&] { return mismatches().size() == 5; }, 30s));
    CHECK(mismatches() == std::multiset<std::string>{"amount_mismatch", "duplicate", "duplicate",
                                                     "missing_in_onewindow",
                                                     "missing_in_statement"});
    // Run again on the same statement: the inbox is taken in, nothing is journaled twice.
    const long before = itest::eventsFrom(hub, "command:fees-reconcile");
    CHECK(before == 6);
    CHECK(itest::runCli(dir, {"fees", "reconcile", "--date", today, "--statement", statement, "-c",
                              hub.config(), "--data-dir", hub.dataDir(), "--out", out})
              .first == 3);
    REQUIRE(testkit::waitUntil([&] { return itest::inboxRows(hub) == 0; }, 30s));
    CHECK(itest::eventsFrom(hub, "command:fees-reconcile") == before);
    // A malformed statement is refused with its line, and nothing is submitted.
    const std::string bad =
        dir.writeFile("bad.csv", "notice_no,bank_serial,amount,late_fee,channel,paid_at\n" + no +
                                     ",S-1,12O.00,0,card,t\n");
    auto [badCode, badText] =
        itest::runCli(dir, {"fees", "reconcile", "--date", today, "--statement", bad, "-c",
                            hub.config(), "--data-dir", hub.dataDir()});
    CHECK(badCode == 1);
    CHECK(badText.find("bad.csv:2: amount '12O.00' is not a whole number of fen") !=
          std::string::npos);
}

TEST_CASE("Fees: a payment over MQTT 5 is answered on its response topic after the commit",
          "[integration][plugin][fees][mqtt]") {
    testkit::TempDir dir;
    testkit::Mosquitto broker(dir);
    broker.start();
    testkit::Receiver rx;
    itest::Hub hub(dir, feesConfig(dir, rx, broker.url()));
    hub.env = {{"OW_FEE_CHECK_KEY", "integration-test-check-code-key"}};
    hub.start();
    REQUIRE(testkit::waitUntil([&] { return hub.brokerConnected("hall"); }, 15s));
    REQUIRE(testkit::postCloudEvent(
                hub.url(), assessment("SS-M1", "post", "C-PO", {feeLine("YZ-F-001", 1500)}))
                .status == 202);
    REQUIRE(testkit::waitUntil([&] { return noticesByCase(rx).count("SS-M1") == 1; }, 30s));
    const json notice = noticesByCase(rx)["SS-M1"];

    auto terminal = itest::connectClient(broker.url(), "terminal-05", 5);
    terminal->start_consuming();
    REQUIRE(terminal->subscribe("hall/terminals/05/answers", 1)->wait_for(5s));
    auto ask = [&](const std::string& payload, const std::string& correlation) {
        auto msg = mqtt::make_message("hall/terminals/05/payments", payload, 1, false);
        mqtt::properties props;
        props.add({mqtt::property::RESPONSE_TOPIC, "hall/terminals/05/answers"});
        props.add({mqtt::property::CORRELATION_DATA, mqtt::binary(correlation)});
        msg->set_properties(props);
        REQUIRE(terminal->publish(msg)->wait_for(5s));
        mqtt::const_message_ptr answer;
        REQUIRE(terminal->try_consume_message_for(&answer, 10s));
        REQUIRE(answer);
        CHECK(mqtt::get<std::string>(answer->get_properties(), mqtt::property::CORRELATION_DATA) ==
              correlation);
        return json::parse(answer->to_string());
    };
    const std::string body = paymentEvent("pay-m1", notice, 1500, "M-1", "terminal-05");
    CHECK(ask(body, "c-1")["status"] == "accepted");
    // The terminal heard nothing (say) and publishes again: the same payment, once.
    CHECK(ask(body, "c-2")["status"] == "duplicate");
    REQUIRE(testkit::waitUntil(
        [&] {
            for (const auto& [_, e] : eventsAt(rx, "/departments"))
                if (e["type"] == "gov.fee.paid" && e["data"]["department"] == "post") return true;
            return false;
        },
        30s));
    CHECK(eventsAt(rx, "/departments").size() == 1);
    terminal->disconnect()->wait_for(5s);
    CHECK(hub.terminate().success());
}

TEST_CASE("Fees: every payment answered 2xx is recorded and split exactly once across SIGKILLs",
          "[integration][plugin][fees][crash]") {
    constexpr int Cases = 60;
    constexpr int Kills = 3;
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, feesConfig(dir, rx));
    hub.env = {{"OW_FEE_CHECK_KEY", "integration-test-check-code-key"}};
    hub.start();
    // Every case: planning-construction 80 yuan and land-resources 20 yuan, two shares.
    for (int i = 0; i < Cases; ++i) {
        const std::string c = "SS-K" + std::to_string(i);
        REQUIRE(testkit::postCloudEvent(hub.url(), assessment(c, "planning-construction", "A",
                                                              {feeLine("GJ-F-001", 8000)}))
                    .status == 202);
        REQUIRE(testkit::postCloudEvent(
                    hub.url(), assessment(c, "land-resources", "B", {feeLine("GT-F-001", 2000)}))
                    .status == 202);
    }
    REQUIRE(testkit::waitUntil(
        [&] {
            auto n = noticesByCase(rx);
            return n.size() == Cases && std::all_of(n.begin(), n.end(), [](const auto& kv) {
                       return kv.second["revision"] == 2;
                   });
        },
        60s));
    const auto notices = noticesByCase(rx);

    // Two terminals pay every notice, each payment retried (same Idempotency-Key, new message
    // id) until it is answered 2xx, while the hub is killed and restarted.
    std::atomic<int> answered{0}, attempts{0}, refusedAnswers{0};
    std::atomic<bool> up{true};
    std::mutex mu;
    std::set<std::string> paid; // notices whose payment was answered 2xx
    auto pay = [&](int from, const std::string& name, const std::string& key) {
        Terminal t(hub, name, key);
        for (int i = from; i < Cases; i += 2) {
            const std::string c = "SS-K" + std::to_string(i);
            const json& n = notices.at(c);
            const std::string body =
                paymentEvent("pay-" + c, n, 10000, "K-" + std::to_string(i), name);
            for (;;) {
                ++attempts;
                const int status = t.post(body, "pay-" + c);
                if (status >= 200 && status < 300) {
                    std::lock_guard lock(mu);
                    paid.insert(n["notice_no"]);
                    ++answered;
                    break;
                }
                if (status >= 400 && status < 500) {
                    ++refusedAnswers;
                    break;
                }
                // 0 (hub down) or 503: wait for the hub to be back, then retry.
                testkit::waitUntil([&] { return up.load(); }, 30s);
            }
        }
    };
    std::thread a(pay, 0, "terminal-01", kKey1), b(pay, 1, "terminal-02", kKey2);
    int kills = 0;
    for (int k = 0; k < Kills; ++k) {
        const int target = (k + 1) * Cases / (Kills + 1);
        testkit::waitUntil([&] { return answered.load() >= target; }, 60s);
        up = false;
        hub.kill();
        ++kills;
        hub.restart();
        up = true;
    }
    a.join();
    b.join();
    CHECK(refusedAnswers == 0);
    REQUIRE(paid.size() == static_cast<std::size_t>(Cases));

    // Everything answered is processed: each notice has exactly one accepted payment, and each
    // department share exists once in the journal (deliveries may repeat: at least once).
    REQUIRE(testkit::waitUntil(
        [&] {
            std::set<std::string> ids;
            for (const auto& [id, e] : eventsAt(rx, "/departments"))
                if (e["type"] == "gov.fee.paid") ids.insert(id);
            return ids.size() == 2u * Cases;
        },
        90s));
    const long shareEvents = itest::eventsOfType(hub, "gov.fee.paid", "onewindow://fees");
    const long refusedEvents =
        itest::eventsOfType(hub, "gov.fee.payment_refused", "onewindow://fees");
    const auto today = localNow().second;
    int accepted = 0;
    for (const auto& [c, n] : notices) {
        const std::string no = n["notice_no"];
        auto rec = itest::pluginState(hub, "book",
                                      "payments/" + today + "/" + no + "/CIB/K-" + c.substr(4));
        if (rec && json::parse(*rec)["status"] == "accepted") ++accepted;
    }
    std::cout << "fees-crash-test: kills=" << kills << " payments=" << Cases
              << " answered_2xx=" << answered << " attempts=" << attempts
              << " recorded_once=" << accepted << " shares_expected=" << 2 * Cases
              << " shares_journaled=" << shareEvents << " refused=" << refusedEvents << "\n";
    CHECK(kills == Kills);
    CHECK(accepted == Cases);
    CHECK(shareEvents == 2 * Cases);
    CHECK(refusedEvents == 0);
}
