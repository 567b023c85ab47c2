// The crash test of issue 2: a load client posts events while the hub is SIGKILLed and
// restarted again and again, and the receiver is down or too slow for a while. Every event
// answered 2xx must reach the receiver (lost = 0); duplicates are counted and printed;
// exactly the permanently refused events end in the dead-letter queue, and `dlq replay`
// delivers them once the receiver takes them.
#include "tests/integration/HubFixture.h"

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/Receiver.h"

using namespace ow;
using namespace std::chrono_literals;

namespace {

std::set<std::string> ackedIds(const std::string& file) {
    std::set<std::string> ids;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string id;
        if (ls >> id) ids.insert(id);
    }
    return ids;
}

std::size_t lineCount(const std::string& file) {
    std::ifstream in(file);
    return static_cast<std::size_t>(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
}

} // namespace

TEST_CASE("Crash test: SIGKILLed hub and failing receiver lose nothing that was acknowledged",
          "[integration][crash]") {
    constexpr int Events = 5000;
    constexpr int PermanentEvents = 40;
    constexpr int Kills = 6;

    testkit::TempDir dir;
    testkit::Receiver rx;
    rx.addIdRule("perm-", 400); // a department that refuses these for good
    itest::Hub hub(dir, R"(
hub:
  log_level: warn
  journal: { synchronous: full }
inputs:
  - { name: events, path: /v1/events }
outputs:
  - name: department
    url: )" + rx.url("/events") +
                            R"(
    concurrency: 8
    read_timeout_ms: 500
    retry: { initial_delay_ms: 20, max_delay_ms: 500, max_attempts: 1000 }
    circuit: { failure_threshold: 20, open_ms: 300 }
routes:
  - name: cases
    match: { type: "gov.case.*" }
    to: [ department ]
)");
    hub.start();

    std::string acked = dir.file("acked.txt"), permAcked = dir.file("perm-acked.txt");
    // Rate-limited, so the stream lasts long enough for every kill to land in the middle of it.
    auto loadgen = [&](const std::string& prefix, int n, const std::string& file,
                       const std::string& out) {
        return testkit::Process::spawn({itest::tool("loadgen"),
                                        "--url",
                                        hub.url(),
                                        "--events",
                                        std::to_string(n),
                                        "--rate",
                                        "400",
                                        "--concurrency",
                                        "8",
                                        "--id-prefix",
                                        prefix,
                                        "--acked-file",
                                        file,
                                        "--retry-until-ms",
                                        "120000",
                                        "--timeout-ms",
                                        "3000",
                                        "--subjects",
                                        "50",
                                        "--type",
                                        "gov.case.submitted"},
                                       {}, out, dir.file(prefix + "-loadgen.err"));
    };
    auto main = loadgen("ev", Events, acked, dir.file("loadgen.out"));
    auto perm = loadgen("perm", PermanentEvents, permAcked, dir.file("perm-loadgen.out"));

    // The receiver's behaviour per kill round: healthy, failing with 500, too slow (the hub's
    // read timeout fires), healthy again. A failing round lasts until the receiver has really
    // refused or timed out that many requests, so the outage is not a formality.
    auto failing = [](int status) {
        return [status](const testkit::ReceivedRequest& q) { return q.status == status; };
    };
    int kills = 0;
    std::size_t last = 0;
    while (kills < Kills) {
        std::size_t before500 = rx.countFor(failing(500));
        std::size_t beforeSlow =
            rx.countFor([](const testkit::ReceivedRequest& q) { return q.status == 299; });
        if (kills == 1) rx.always(500);
        if (kills == 2)
            rx.setReply([](const testkit::ReceivedRequest&, int) {
                testkit::Reply r;
                r.status =
                    299; // a 2xx the receiver records, but sent after the hub stopped waiting
                r.delay = 800ms;
                return r;
            });
        if (kills == 3) rx.always(200);
        bool progressed = testkit::waitUntil(
            [&] {
                bool outageSeen = kills == 1   ? rx.countFor(failing(500)) >= before500 + 20
                                  : kills == 2 ? rx.countFor([](const testkit::ReceivedRequest& q) {
                                        return q.status == 299;
                                    }) >= beforeSlow + 4
                                               : true;
                return outageSeen && lineCount(acked) >= last + Events / (2 * Kills);
            },
            90s);
        std::cout << "crash-test: round " << kills << " progressed=" << progressed
                  << " acked=" << lineCount(acked) << " loadgen_running=" << main.running()
                  << " rx_requests=" << rx.totalRequests() << std::endl;
        if (!progressed || !main.running()) break;
        last = lineCount(acked);
        hub.kill();
        ++kills;
        hub.restart();
    }
    REQUIRE(kills == Kills);
    rx.always(200);

    auto mainExit = main.waitExit(180s);
    auto permExit = perm.waitExit(180s);
    REQUIRE(mainExit);
    REQUIRE(permExit);
    auto ids = ackedIds(acked);
    auto permIds = ackedIds(permAcked);
    // The load client retries every event until it is answered, so all were acknowledged.
    CHECK(ids.size() == static_cast<std::size_t>(Events));
    CHECK(permIds.size() == static_cast<std::size_t>(PermanentEvents));

    auto lost = [&] {
        std::size_t n = 0;
        for (const auto& id : ids)
            if (rx.multiplicity(id) == 0) ++n;
        return n;
    };
    testkit::waitUntil([&] { return lost() == 0; }, 120s, 200ms);
    std::size_t duplicates = 0;
    for (const auto& id : ids)
        duplicates += static_cast<std::size_t>(std::max(0, rx.multiplicity(id) - 1));
    std::cout << "crash-test: attempted=" << Events << " acked=" << ids.size()
              << " delivered_unique=" << ids.size() - lost() << " lost=" << lost()
              << " duplicates=" << duplicates << " kills=" << kills
              << " receiver_requests=" << rx.totalRequests() << std::endl;
    CHECK(lost() == 0);

    // Exactly the permanently refused events are dead letters.
    std::set<std::string> deadIds;
    REQUIRE(testkit::waitUntil(
        [&] {
            auto [rc, out] = hub.cli({"dlq", "list", "--json", "--limit", "1000"});
            if (rc != 0) return false;
            deadIds.clear();
            for (const auto& d : nlohmann::json::parse(out))
                deadIds.insert(d["event_id"].get<std::string>());
            return deadIds.size() >= permIds.size();
        },
        60s, 200ms));
    CHECK(deadIds == permIds);
    for (const auto& id : permIds)
        CHECK(rx.multiplicity(id) == 0);

    // Once the department accepts them, a replay delivers every one.
    rx.clearIdRules();
    auto [rc, out] = hub.cli({"dlq", "replay", "--all"});
    CHECK(rc == 0);
    CHECK(testkit::waitUntil(
        [&] {
            for (const auto& id : permIds)
                if (rx.multiplicity(id) == 0) return false;
            return true;
        },
        60s, 100ms));
    CHECK(hub.terminate().success());
}
