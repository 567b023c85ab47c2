// End-to-end behaviour of the real onewindow binary with real HTTP receivers on loopback.
#include "tests/integration/HubFixture.h"

#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;
using itest::event;

namespace {

std::string config(const testkit::Receiver& rx, const std::string& extraOutput = "") {
    return R"(
hub:
  log_level: debug
  limits:
    max_body_bytes: 65536
    max_header_bytes: 8192
    max_batch_events: 100
inputs:
  - name: events
    path: /v1/events
outputs:
  - name: platform
    url: )" +
           rx.url("/events") + R"(
    read_timeout_ms: 2000
    retry: { initial_delay_ms: 50, max_delay_ms: 200, max_attempts: 6 }
    circuit: { failure_threshold: 5, open_ms: 300 }
  - name: supervision
    url: )" +
           rx.url("/alerts") + R"(
    mode: binary
    retry: { initial_delay_ms: 50, max_delay_ms: 200 }
)" + extraOutput +
           R"(
routes:
  - name: cases
    match: { type: "gov.case.*" }
    to: [ platform ]
  - name: alerts
    match: { type: "gov.supervision.*" }
    to: [ supervision, platform ]
)";
}

nlohmann::json json(const std::string& s) {
    return nlohmann::json::parse(s);
}

} // namespace

TEST_CASE("Hub accepts structured, batch and binary events and delivers them", "[integration]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, config(rx));
    hub.start();

    auto r = testkit::postCloudEvent(hub.url(), event("s-1"));
    REQUIRE(r.status == 202);
    auto body = json(r.body);
    CHECK(body["status"] == "accepted");
    CHECK(body["id"] == "s-1");
    CHECK(body["seq"].get<int>() >= 1);

    auto dup = testkit::postCloudEvent(hub.url(), event("s-1"));
    CHECK(dup.status == 200);
    CHECK(json(dup.body)["status"] == "duplicate");
    CHECK(json(dup.body)["seq"] == body["seq"]);

    std::string batch =
        "[" + event("b-1") + "," + event("b-2", "gov.supervision.alert.yellow") + "]";
    auto b = testkit::httpRequest("POST", hub.url(), batch,
                                  {{"Content-Type", "application/cloudevents-batch+json"}});
    REQUIRE(b.status == 202);
    CHECK(json(b.body)["accepted"] == 2);

    auto bin = testkit::httpRequest("POST", hub.url(), R"({"level":"red"})",
                                    {{"Content-Type", "application/json"},
                                     {"ce-specversion", "1.0"},
                                     {"ce-id", "bin-1"},
                                     {"ce-source", "/e-supervision"},
                                     {"ce-type", "gov.supervision.alert.red"},
                                     {"ce-department", "land"}});
    REQUIRE(bin.status == 202);

    // s-1, b-1, b-2 (twice: platform and supervision), bin-1 (twice).
    REQUIRE(testkit::waitUntil([&] { return rx.totalRequests() >= 6; }, 15s));
    auto reqs = rx.snapshot();
    CHECK(rx.multiplicity("s-1") == 1); // the duplicate was not routed again
    auto alertsBinary =
        std::count_if(reqs.begin(), reqs.end(), [](const testkit::ReceivedRequest& q) {
            return q.path == "/alerts" && q.mode == testkit::ReceivedRequest::Mode::Binary &&
                   q.header("ce-id") == "bin-1" && q.header("ce-department") == "land" &&
                   q.body == R"({"level":"red"})";
        });
    CHECK(alertsBinary == 1);
    auto structured =
        std::count_if(reqs.begin(), reqs.end(), [](const testkit::ReceivedRequest& q) {
            return q.path == "/events" && q.firstId() == "s-1" &&
                   q.header("content-type").rfind("application/cloudevents+json", 0) == 0;
        });
    CHECK(structured == 1);

    auto metrics = testkit::httpRequest("GET", hub.url("/metrics"));
    CHECK(metrics.status == 200);
    CHECK_THAT(metrics.body,
               Catch::Contains("onewindow_events_accepted_total{input=\"events\"} 4"));
    CHECK_THAT(metrics.body,
               Catch::Contains("onewindow_events_duplicate_total{input=\"events\"} 1"));
    CHECK_THAT(
        metrics.body,
        Catch::Contains("onewindow_deliveries_total{outcome=\"delivered\",output=\"platform\"}") ||
            Catch::Contains(
                "onewindow_deliveries_total{output=\"platform\",outcome=\"delivered\"}"));
    CHECK(testkit::httpRequest("GET", hub.url("/healthz")).status == 200);

    auto exit = hub.terminate();
    CHECK(exit.success());
}

TEST_CASE("Hub refuses bad input precisely and keeps what it accepted", "[integration]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    rx.setDown(true); // hold deliveries so the accepted event is still pending during the abuse
    itest::Hub hub(dir, config(rx));
    hub.start();
    REQUIRE(testkit::postCloudEvent(hub.url(), event("keep-1")).status == 202);

    auto ce = [&](const std::string& body) { return testkit::postCloudEvent(hub.url(), body); };
    auto malformed = ce(R"({"specversion":"1.0","id":)");
    CHECK(malformed.status == 400);
    CHECK(malformed.header("content-type") == "application/problem+json");
    CHECK(json(malformed.body)["type"] == "urn:onewindow:problem:malformed-json");

    auto noSource = ce(R"({"specversion":"1.0","id":"x","type":"t"})");
    CHECK(noSource.status == 400);
    CHECK(json(noSource.body)["attribute"] == "source");

    auto badTime =
        ce(R"({"specversion":"1.0","id":"x","source":"/s","type":"t","time":"yesterday"})");
    CHECK(badTime.status == 400);
    CHECK(json(badTime.body)["attribute"] == "time");

    std::string deep(200, '[');
    auto tooDeep =
        ce(R"({"specversion":"1.0","id":"x","source":"/s","type":"t","data":)" + deep + "]");
    CHECK(tooDeep.status == 400);

    std::string batch =
        "[" + event("ok-in-bad-batch") + R"(,{"specversion":"1.0","id":"y","source":"/s"}])";
    auto badBatch = testkit::httpRequest("POST", hub.url(), batch,
                                         {{"Content-Type", "application/cloudevents-batch+json"}});
    CHECK(badBatch.status == 400);
    CHECK(json(badBatch.body)["index"] == 1);

    auto wrongType =
        testkit::httpRequest("POST", hub.url(), "hello", {{"Content-Type", "text/plain"}});
    CHECK(wrongType.status == 415);

    auto big = ce(R"({"specversion":"1.0","id":"big","source":"/s","type":"t","data":")" +
                  std::string(70000, 'x') + "\"}");
    CHECK(big.status == 413);

    auto hugeHeader = testkit::httpRequest(
        "POST", hub.url(), event("h"),
        {{"Content-Type", "application/cloudevents+json"}, {"X-Junk", std::string(9000, 'a')}});
    CHECK(hugeHeader.status == 431);

    auto unknown = testkit::postCloudEvent(hub.url("/v1/nowhere"), event("u"));
    CHECK(unknown.status == 404);
    CHECK(testkit::httpRequest("GET", hub.url()).status == 405);

    // Nothing of the above was accepted; the first event is still there and goes out.
    rx.setDown(false);
    REQUIRE(rx.waitForDelivered(1, 15s));
    CHECK(rx.multiplicity("keep-1") >= 1);
    CHECK(rx.multiplicity("ok-in-bad-batch") == 0);
    CHECK(rx.multiplicity("big") == 0);
    CHECK(hub.running());
    CHECK(hub.terminate().success());
}

TEST_CASE("Hub follows the Idempotency-Key rules", "[integration]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, config(rx));
    hub.start();
    testkit::Headers key{{"Content-Type", "application/cloudevents+json"},
                         {"Idempotency-Key", "pay-2026-0001"}};
    auto first = testkit::httpRequest("POST", hub.url(), event("idem-1"), key);
    REQUIRE(first.status == 202);
    auto again = testkit::httpRequest("POST", hub.url(), event("idem-1"), key);
    CHECK(again.status == 202);
    CHECK(again.body == first.body);
    CHECK(again.header("idempotent-replayed") == "true");
    auto other = testkit::httpRequest("POST", hub.url(), event("idem-2"), key);
    CHECK(other.status == 422);
    auto badKey = testkit::httpRequest("POST", hub.url(), event("idem-3"),
                                       {{"Content-Type", "application/cloudevents+json"},
                                        {"Idempotency-Key", std::string(300, 'k')}});
    CHECK(badKey.status == 400);
    REQUIRE(rx.waitForDelivered(1, 10s));
    CHECK(rx.multiplicity("idem-1") == 1);
    CHECK(rx.multiplicity("idem-2") == 0);
}

TEST_CASE(
    "Hub retries transient failures, dead-letters permanent ones, and dlq replay delivers them",
    "[integration]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    rx.failFirstN(2, 503);
    rx.addIdRule("perm", 400);
    itest::Hub hub(dir, config(rx));
    hub.start();
    REQUIRE(testkit::postCloudEvent(hub.url(), event("retry-1")).status == 202);
    REQUIRE(testkit::postCloudEvent(hub.url(), event("perm-1")).status == 202);
    REQUIRE(testkit::postCloudEvent(hub.url(), event("perm-2", "gov.case.x", "SS-2")).status ==
            202);
    REQUIRE(testkit::waitUntil([&] { return rx.multiplicity("retry-1") == 1; }, 15s));
    CHECK(rx.attempts("retry-1") == 3);

    std::pair<int, std::string> list;
    REQUIRE(testkit::waitUntil(
        [&] {
            list = hub.cli({"dlq", "list", "--json"});
            return list.first == 0 && json(list.second).size() == 2;
        },
        15s));
    auto dead = json(list.second);
    CHECK(dead[0]["event_id"] == "perm-1");
    CHECK(dead[1]["event_id"] == "perm-2");
    CHECK_THAT(dead[0]["last_error"].get<std::string>(), Catch::Contains("400"));
    CHECK(rx.attempts("perm-1") == 1); // a permanent failure is not retried

    auto show = hub.cli({"dlq", "show", std::to_string(dead[0]["id"].get<int>())});
    CHECK(show.first == 0);
    CHECK(json(show.second)["event"]["id"] == "perm-1");

    rx.clearIdRules();
    auto replay = hub.cli({"dlq", "replay", "--all"});
    CHECK(replay.first == 0);
    CHECK_THAT(replay.second, Catch::Contains("2 dead letter(s)"));
    REQUIRE(testkit::waitUntil(
        [&] { return rx.multiplicity("perm-1") == 1 && rx.multiplicity("perm-2") == 1; }, 15s));
    REQUIRE(testkit::waitUntil(
        [&] {
            return json(hub.cli({"dlq", "list", "--json"}).second).empty();
        },
        10s));
    CHECK(hub.terminate().success());
}

TEST_CASE("Hub stops cleanly on SIGTERM with keep-alive connections open", "[integration]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, config(rx));
    hub.start();
    testkit::KeepAliveClient c1("127.0.0.1", hub.port()), c2("127.0.0.1", hub.port());
    CHECK(c1.post("/v1/events", event("ka-1")).status == 202);
    CHECK(c2.post("/v1/events", event("ka-2")).status == 202);
    auto t0 = std::chrono::steady_clock::now();
    auto exit = hub.terminate();
    CHECK(exit.success());
    CHECK(std::chrono::steady_clock::now() - t0 < 15s);
}

TEST_CASE("onewindow check lists every configuration problem with its position", "[integration]") {
    testkit::TempDir dir;
    // (The shipped config/onewindow.yaml needs its secrets and the Release plugin builds; the
    // working-day test runs its center files.)
    auto good = itest::runCli(
        dir, {"check", "-c", std::string(OW_SOURCE_DIR) + "/config/examples/with-includes.yaml"});
    CHECK(good.first == 0);
    CHECK_THAT(good.second, Catch::Contains("OK"));

    std::string bad = dir.writeFile("bad.yaml", R"(hub:
  listen: 127.0.0.1:8080
  log_levl: info
outputs:
  - name: platform
    url: http://127.0.0.1:9/x
    conect_timeout_ms: 100
routes:
  - name: r
    match: { type: "gov.*" }
    to: [ platfrom ]
)");
    auto res = itest::runCli(dir, {"check", "-c", bad});
    CHECK(res.first == 1);
    CHECK_THAT(res.second, Catch::Contains("bad.yaml:3:3") && Catch::Contains("log_level"));
    CHECK_THAT(res.second,
               Catch::Contains("bad.yaml:7:5") && Catch::Contains("connect_timeout_ms"));
    CHECK_THAT(res.second, Catch::Contains("platfrom") && Catch::Contains("platform"));

    std::string broken = dir.writeFile("broken.yaml", "hub:\n  listen: [127.0.0.1\n");
    auto syn = itest::runCli(dir, {"check", "-c", broken});
    CHECK(syn.first == 1);
    CHECK_THAT(syn.second, Catch::Contains("broken.yaml:"));

    auto missing = itest::runCli(dir, {"check", "-c", dir.file("nope.yaml")});
    CHECK(missing.first == 1);
    auto usage = itest::runCli(dir, {"frobnicate"});
    CHECK(usage.first == 2);
    auto version = itest::runCli(dir, {"--version"});
    CHECK(version.first == 0);
    CHECK_THAT(version.second, Catch::StartsWith("onewindow "));
}

TEST_CASE("Hub answers 503, never 2xx, when the disk is full, and recovers when space returns",
          "[integration]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, R"(
hub:
  limits: { max_body_bytes: 1048576 }
inputs:
  - { name: events, path: /v1/events }
outputs:
  - { name: platform, url: ")" +
                            rx.url("/events") + R"(" }
routes:
  - { name: all, to: [ platform ] }
)");
    // A file-size limit makes the journal's writes fail with EFBIG, as a full disk does.
    hub.wrapper = {"prlimit", "--fsize=3000000:unlimited"}; // soft limit only: raised again below
    hub.start();
    for (int i = 0; i < 5; ++i)
        REQUIRE(testkit::postCloudEvent(hub.url(), event("small-" + std::to_string(i))).status ==
                202);

    std::string padding(400000, 'p');
    std::vector<std::string> acceptedBig, refusedBig;
    for (int i = 0; i < 20 && refusedBig.empty(); ++i) {
        std::string id = "big-" + std::to_string(i);
        auto r = testkit::postCloudEvent(
            hub.url(), R"({"specversion":"1.0","id":")" + id +
                           R"(","source":"/s","type":"gov.case.x","data":")" + padding + "\"}");
        if (r.status == 202) {
            acceptedBig.push_back(id);
        } else {
            CHECK(r.status == 503);
            CHECK(r.header("retry-after") == "1");
            CHECK(json(r.body)["type"] == "urn:onewindow:problem:store-unavailable");
            refusedBig.push_back(id);
        }
    }
    REQUIRE(refusedBig.size() == 1);
    CHECK(testkit::httpRequest("GET", hub.url("/readyz")).status == 503);

    // Space comes back: the same hub accepts again and reports ready.
    auto p = testkit::Process::spawn(
        {"prlimit", "--pid", std::to_string(hub.pid()), "--fsize=unlimited:unlimited"});
    auto done = p.waitExit(10s);
    REQUIRE(done);
    REQUIRE(done->success());
    REQUIRE(testkit::postCloudEvent(hub.url(), event("after-1")).status == 202);
    CHECK(testkit::waitUntil(
        [&] { return testkit::httpRequest("GET", hub.url("/readyz")).status == 200; }, 15s, 100ms));

    REQUIRE(rx.waitForDelivered(6 + acceptedBig.size(), 20s));
    for (int i = 0; i < 5; ++i)
        CHECK(rx.multiplicity("small-" + std::to_string(i)) == 1);
    for (const auto& id : acceptedBig)
        CHECK(rx.multiplicity(id) == 1);
    CHECK(rx.multiplicity(refusedBig[0]) == 0);
    CHECK(rx.multiplicity("after-1") == 1);
    CHECK(hub.terminate().success());
}

TEST_CASE("Hub answers concurrent requests with one Idempotency-Key once, the rest replayed or 409",
          "[integration]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub hub(dir, config(rx));
    hub.start();
    constexpr int Clients = 24;
    std::vector<testkit::HttpReply> replies(Clients);
    std::vector<std::thread> threads;
    for (int i = 0; i < Clients; ++i)
        threads.emplace_back([&, i] {
            replies[static_cast<std::size_t>(i)] =
                testkit::httpRequest("POST", hub.url(), event("concurrent-1"),
                                     {{"Content-Type", "application/cloudevents+json"},
                                      {"Idempotency-Key", "k-concurrent"}});
        });
    for (auto& t : threads)
        t.join();
    std::string firstBody;
    int ok = 0, conflicts = 0;
    for (const auto& r : replies) {
        if (r.status == 409) {
            ++conflicts;
            CHECK(json(r.body)["type"] == "urn:onewindow:problem:idempotency-key-in-flight");
            continue;
        }
        REQUIRE(r.status == 202);
        if (firstBody.empty()) firstBody = r.body;
        CHECK(r.body == firstBody); // the one answer, stored and replayed
        ++ok;
    }
    CHECK(ok + conflicts == Clients);
    CHECK(ok >= 1);
    REQUIRE(rx.waitForDelivered(1, 10s));
    auto metrics = testkit::httpRequest("GET", hub.url("/metrics")).body;
    CHECK_THAT(metrics, Catch::Contains("onewindow_events_accepted_total{input=\"events\"} 1\n"));
    CHECK(rx.multiplicity("concurrent-1") == 1);
}

TEST_CASE("Hub delivers each subject's events in acceptance order through retries",
          "[integration]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    // Every third event is refused twice with 500 before it goes through.
    rx.setReply([](const testkit::ReceivedRequest& q, int seen) {
        int n = std::stoi(q.firstId().substr(q.firstId().rfind('-') + 1));
        return testkit::Reply{n % 3 == 0 && seen <= 2 ? 500 : 200, {}, {}, {}, false};
    });
    itest::Hub hub(dir, config(rx));
    hub.start();
    constexpr int PerSubject = 40;
    const std::vector<std::string> subjects{"SS-A", "SS-B", "SS-C"};
    for (int i = 0; i < PerSubject; ++i)
        for (const auto& s : subjects)
            REQUIRE(testkit::postCloudEvent(hub.url(),
                                            event(s + "-" + std::to_string(i), "gov.case.step", s))
                        .status == 202);
    REQUIRE(rx.waitForDelivered(PerSubject * subjects.size(), 30s));
    auto order = rx.deliveredIds(); // first successful delivery order
    for (const auto& s : subjects) {
        std::vector<int> seen;
        for (const auto& id : order)
            if (id.rfind(s + "-", 0) == 0) seen.push_back(std::stoi(id.substr(s.size() + 1)));
        REQUIRE(seen.size() == PerSubject);
        CHECK(std::is_sorted(seen.begin(), seen.end()));
    }
    CHECK(rx.attempts("SS-A-3") == 3);
}

TEST_CASE("Hub dead-letters pending deliveries of an output removed from the configuration",
          "[integration]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    rx.setDown(true);
    {
        itest::Hub hub(dir, config(rx));
        hub.start();
        REQUIRE(testkit::postCloudEvent(hub.url(), event("orphan-1")).status == 202);
        REQUIRE(testkit::waitUntil([&] { return rx.totalRequests() >= 1; }, 10s));
        CHECK(hub.terminate().success());
    }
    // Same data directory, the platform output is gone.
    itest::Hub hub(dir, R"(
inputs:
  - { name: events, path: /v1/events }
outputs:
  - { name: other, url: ")" +
                            rx.url("/other") + R"(" }
routes:
  - { name: cases, match: { type: "gov.case.*" }, to: [ other ] }
)");
    hub.start();
    auto [rc, out] = hub.cli({"dlq", "list", "--json"});
    REQUIRE(rc == 0);
    auto dead = json(out);
    REQUIRE(dead.size() == 1);
    CHECK(dead[0]["event_id"] == "orphan-1");
    CHECK(dead[0]["output"] == "platform");
    CHECK_THAT(dead[0]["last_error"].get<std::string>(), Catch::Contains("not defined"));
    CHECK(hub.terminate().success());
}

TEST_CASE("onewindow run refuses to start on a taken port and explains why", "[integration]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    itest::Hub first(dir, config(rx), "first");
    first.start();
    std::string cfg = dir.writeFile("second.yaml", config(rx));
    auto [rc, out] = itest::runCli(dir, {"run", "-c", cfg, "--data-dir", dir.file("second-data"),
                                         "--listen", "127.0.0.1:" + std::to_string(first.port())});
    CHECK(rc == 1);
    CHECK_THAT(out, Catch::Contains("cannot start") && Catch::Contains("in use"));
    auto badListen = itest::runCli(dir, {"run", "-c", cfg, "--listen", "nowhere"});
    CHECK(badListen.first == 2);
    CHECK_THAT(badListen.second, Catch::Contains("HOST:PORT"));
    auto help = itest::runCli(dir, {"run", "--help"});
    CHECK(help.first == 0);
    CHECK_THAT(help.second, Catch::Contains("onewindow run -c FILE"));
    CHECK(first.running());
}

TEST_CASE("onewindow run refuses to start on a journal that is not a database", "[integration]") {
    testkit::TempDir dir;
    testkit::Receiver rx;
    std::string cfg = dir.writeFile("hub.yaml", config(rx));
    dir.writeFile("data/journal.db", std::string(8192, 'x'));
    auto [rc, out] = itest::runCli(
        dir, {"run", "-c", cfg, "--data-dir", dir.file("data"), "--listen", "127.0.0.1:0"});
    CHECK(rc == 1);
    CHECK_THAT(out, Catch::Contains("cannot start") && Catch::Contains("not a database"));
    CHECK(testkit::readFile(dir.file("data/journal.db")) ==
          std::string(8192, 'x')); // left untouched
}
