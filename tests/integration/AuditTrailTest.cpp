// The audit trail of the real hub: SIGKILLed under load, it ends with a chain that verifies
// and exactly one "accepted" record per journaled event; copies of its data directory with a
// record modified, removed, inserted or reordered, or the log cut, are refused by
// `onewindow audit verify`, which names the first record at fault, and the untouched copy
// passes. Operator actions (dlq replay, discard, revealing personal data) are recorded, and
// `audit export` writes JSON lines with personal data masked.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/integration/JournalPeek.h"
#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string auditedHub(const std::string& key, const std::string& receiverUrl) {
    return R"(
hub:
  log_level: warn
  audit: { signing_key_file: ")" +
           key + R"(", checkpoint_every: 200, checkpoint_interval_s: 1 }
inputs:
  - { name: events, path: /v1/events, allow: { type: "gov.case.*" } }
outputs:
  - name: department
    url: )" +
           receiverUrl +
           R"(
    retry: { initial_delay_ms: 20, max_delay_ms: 200, max_attempts: 1 }
routes:
  - { name: cases, match: { type: "gov.case.*" }, to: [ department ] }
)";
}

std::string makeKey(const testkit::TempDir& dir) {
    const std::string key = dir.file("audit.key");
    REQUIRE(std::system(
                ("openssl genpkey -algorithm ED25519 -out " + key + " 2>/dev/null").c_str()) == 0);
    return key;
}

/// Runs `sql` on the journal of `dataDir`.
void damage(const std::string& dataDir, const std::string& sql) {
    store::Database db(store::Journal::fileName(dataDir));
    db.exec(sql);
}

} // namespace

TEST_CASE("Audit trail: SIGKILLed under load, the chain verifies and every event has one record",
          "[integration][audit]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, auditedHub(makeKey(dir), rx.url("/events")));
    hub.start();
    const std::string acked = dir.file("acked.txt");
    auto load = testkit::Process::spawn(
        {itest::tool("loadgen"), "--url", hub.url(), "--events", "3000", "--rate", "600",
         "--concurrency", "8", "--id-prefix", "audit", "--acked-file", acked, "--retry-until-ms",
         "60000", "--timeout-ms", "2000", "--type", "gov.case.submitted"},
        {}, dir.file("loadgen.out"), dir.file("loadgen.err"));
    auto lines = [&] {
        std::ifstream f(acked);
        long n = 0;
        for (std::string l; std::getline(f, l);)
            ++n;
        return n;
    };
    for (int kill = 1; kill <= 3; ++kill) {
        REQUIRE(testkit::waitUntil([&] { return lines() >= 600L * kill; }, 60s));
        hub.kill();
        hub.restart();
    }
    REQUIRE(load.waitExit(120s));
    REQUIRE(hub.terminate().success());

    store::Database db(store::Journal::fileName(hub.dataDir()), /*readOnly=*/true);
    std::map<long, int> recordsOf; // event seq -> accepted records
    store::Statement s(db, "SELECT record FROM audit");
    while (s.step()) {
        const json r = json::parse(s.text(0));
        if (r["kind"] == "accepted") ++recordsOf[r["event_seq"].get<long>()];
    }
    store::Statement ev(db, "SELECT seq FROM events");
    long events = 0;
    while (ev.step()) {
        ++events;
        INFO("event " << ev.int64(0));
        CHECK(recordsOf[static_cast<long>(ev.int64(0))] == 1);
    }
    CHECK(events >= 3000);
    CHECK(recordsOf.size() == static_cast<std::size_t>(events));
    auto [rc, out] = hub.cli({"audit", "verify"});
    INFO(out);
    CHECK(rc == 0);
    CHECK(out.find("audit trail intact") != std::string::npos);
}

TEST_CASE("Audit trail: audit verify names the first record at fault in damaged copies",
          "[integration][audit]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, auditedHub(makeKey(dir), rx.url("/events")));
    hub.start();
    for (int i = 0; i < 60; ++i)
        REQUIRE(testkit::httpRequest("POST", hub.url(), itest::event("e-" + std::to_string(i)),
                                     {{"Content-Type", "application/cloudevents+json"}})
                    .status == 202);
    // A refusal is recorded too.
    REQUIRE(testkit::httpRequest("POST", hub.url(), itest::event("refused", "gov.fee.paid"),
                                 {{"Content-Type", "application/cloudevents+json"}})
                .status == 403);
    REQUIRE(hub.terminate().success());
    // (The stop signed a final checkpoint: it covers the last record.)

    auto verifyCopy = [&](const std::string& name, const std::string& sql) {
        const std::string copy = dir.file(name);
        std::filesystem::copy(hub.dataDir(), copy, std::filesystem::copy_options::recursive);
        if (!sql.empty()) damage(copy, sql);
        return itest::runCli(dir, {"audit", "verify", "-c", hub.config(), "--data-dir", copy});
    };
    auto [okRc, okOut] = verifyCopy("untouched", "");
    INFO(okOut);
    REQUIRE(okRc == 0);

    struct Case {
        const char* name;
        std::string sql;
        std::string names; // what the verifier must say
    };
    const std::vector<Case> cases = {
        {"modified",
         "UPDATE audit SET record=replace(record,'e-17','e-71') WHERE record LIKE "
         "'%\"e-17\"%'",
         "does not follow"},
        {"removed", "DELETE FROM audit WHERE seq=30", "record 30 is missing"},
        {"inserted",
         "UPDATE audit SET seq=seq+1000 WHERE seq>=25; UPDATE audit SET seq=seq-999 WHERE "
         "seq>=1025; INSERT INTO audit SELECT 25, at_ms, record, hash FROM audit WHERE seq=10",
         "first record at fault: 25"},
        {"reordered",
         "UPDATE audit SET seq=-1 WHERE seq=40; UPDATE audit SET seq=40 WHERE seq=41; UPDATE "
         "audit SET seq=41 WHERE seq=-1",
         "first record at fault: 40"},
        {"cut", "DELETE FROM audit WHERE seq >= 50", "first record at fault: 50"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        auto [rc, out] = verifyCopy(c.name, c.sql);
        INFO(out);
        CHECK(rc == 1);
        CHECK(out.find("NOT intact") != std::string::npos);
        CHECK(out.find(c.names) != std::string::npos);
    }
}

TEST_CASE("Audit trail: operator actions are recorded, exports mask personal data",
          "[integration][audit]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    rx.always(404); // the department refuses everything: dead letters
    itest::Hub hub(dir, auditedHub(makeKey(dir), rx.url("/events")) + R"(
personal_data:
  - { type: "gov.case.*", fields: [ /data/applicant/name ] }
)");
    hub.start();
    const std::string id = "350581199003071231";
    for (int i = 0; i < 3; ++i) {
        json e = json::parse(itest::event("pii-" + std::to_string(i)));
        e["data"]["applicant"] = {{"name", "张三丰"}, {"id_no", id}, {"mobile", "13859501234"}};
        REQUIRE(testkit::httpRequest("POST", hub.url(), e.dump(),
                                     {{"Content-Type", "application/cloudevents+json"}})
                    .status == 202);
    }
    const json dead = itest::waitForDeadLetters(hub, 3, "404");
    const auto first = dead[0]["id"].get<long>();

    // Masked unless revealed, and a reveal needs a reason, which is recorded.
    auto [showRc, shown] = hub.cli({"dlq", "show", std::to_string(first)});
    CHECK(showRc == 0);
    CHECK(shown.find(id) == std::string::npos);
    CHECK(shown.find("350581********1231") != std::string::npos);
    CHECK(shown.find("张三丰") == std::string::npos);
    auto [noReasonRc, noReason] = hub.cli({"dlq", "show", std::to_string(first), "--reveal"});
    CHECK(noReasonRc == 2);
    auto [revealRc, revealed] = hub.cli(
        {"dlq", "show", std::to_string(first), "--reveal", "--reason", "applicant's complaint"});
    CHECK(revealRc == 0);
    CHECK(revealed.find(id) != std::string::npos);
    CHECK(hub.cli({"dlq", "replay", std::to_string(first)}).first == 0);
    CHECK(hub.cli({"dlq", "discard", std::to_string(dead[1]["id"].get<long>()), "--reason",
                   "sent by mistake"})
              .first == 0);
    REQUIRE(hub.terminate().success());

    const std::string out = dir.file("audit.jsonl");
    auto [exportRc, exportErr] = hub.cli({"audit", "export", "--from", "2000-01-01T00:00:00Z",
                                          "--to", "2100-01-01T00:00:00Z", "--out", out});
    INFO(exportErr);
    REQUIRE(exportRc == 0);
    std::set<std::string> actions;
    bool revealReason = false;
    std::ifstream f(out);
    long lines = 0;
    for (std::string line; std::getline(f, line); ++lines) {
        CHECK(line.find(id) == std::string::npos);
        CHECK(line.find("13859501234") == std::string::npos);
        const json r = json::parse(line);
        CHECK(r.contains("hash"));
        if (r["kind"] == "operator") actions.insert(r["action"].get<std::string>());
        if (r.value("action", "") == "reveal")
            revealReason = r["reason"] == "applicant's complaint" && r["user"].is_string();
    }
    CHECK(lines >= 6);
    CHECK(actions == std::set<std::string>{"start", "stop", "reveal", "dlq-replay", "dlq-discard"});
    CHECK(revealReason);
    CHECK(hub.cli({"audit", "verify"}).first == 0);
}

TEST_CASE("Audit trail: when it cannot be written, the hub accepts nothing (503)",
          "[integration][audit]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, auditedHub(makeKey(dir), rx.url("/events")));
    hub.start();
    auto post = [&](const std::string& id) {
        return testkit::httpRequest("POST", hub.url(), itest::event(id),
                                    {{"Content-Type", "application/cloudevents+json"}})
            .status;
    };
    REQUIRE(post("before") == 202);
    // Something below the hub refuses every audit record (a full quota, a damaged table: here
    // a trigger), while the rest of the journal could still be written.
    damage(hub.dataDir(), "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit "
                          "BEGIN SELECT RAISE(ABORT, 'the audit table refuses records'); END;");
    CHECK(post("unaudited") == 503);
    CHECK(itest::eventsFrom(hub, "events") == 1); // "unaudited" was not journaled
    damage(hub.dataDir(), "DROP TRIGGER refuse_audit");
    REQUIRE(testkit::waitUntil([&] { return post("after") == 202; }, 30s));
    REQUIRE(hub.terminate().success());
    CHECK(hub.cli({"audit", "verify"}).first == 0);
}
