// Checks of the test kit itself: if these helpers are wrong, every other test is unreliable.
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <filesystem>
#include <string>

#include <Poco/Exception.h>
#include <nlohmann/json.hpp>

#include "tests/support/HttpClient.h"
#include "tests/support/Net.h"
#include "tests/support/Process.h"
#include "tests/support/Receiver.h"
#include "tests/support/TempDir.h"
#include "tests/support/Wait.h"

using namespace ow::testkit;
using namespace std::chrono_literals;

namespace {

std::string structuredEvent(const std::string& id, const std::string& source = "/test") {
    return nlohmann::json{{"specversion", "1.0"},
                          {"id", id},
                          {"source", source},
                          {"type", "gov.test"},
                          {"data", {{"n", 1}}}}
        .dump();
}

} // namespace

TEST_CASE("Testkit receiver records structured, binary and batch identities", "[testkit]") {
    Receiver receiver;
    REQUIRE(receiver.port() != 0);

    auto structured = postCloudEvent(receiver.url(), structuredEvent("s-1", "/a"));
    CHECK(structured.status == 200);

    auto binary = httpRequest("POST", receiver.url("/bin"), R"({"x":1})",
                              {{"Content-Type", "application/json"},
                               {"ce-specversion", "1.0"},
                               {"ce-id", "b-1"},
                               {"ce-source", "/b"},
                               {"ce-type", "gov.test"}});
    CHECK(binary.status == 200);

    const std::string batch =
        "[" + structuredEvent("m-1", "/c") + "," + structuredEvent("m-2", "/c") + "]";
    auto batchReply = httpRequest("POST", receiver.url(), batch,
                                  {{"Content-Type", "application/cloudevents-batch+json"}});
    CHECK(batchReply.status == 200);

    auto plain = httpRequest("GET", receiver.url("/health"));
    CHECK(plain.status == 200);

    const auto requests = receiver.snapshot();
    REQUIRE(requests.size() == 4);
    CHECK(requests[0].mode == ReceivedRequest::Mode::Structured);
    CHECK(requests[0].events.size() == 1);
    CHECK(requests[0].events[0].id == "s-1");
    CHECK(requests[0].events[0].source == "/a");
    CHECK(requests[0].path == "/events");
    CHECK(requests[0].header("content-type") == "application/cloudevents+json");

    CHECK(requests[1].mode == ReceivedRequest::Mode::Binary);
    CHECK(requests[1].firstId() == "b-1");
    CHECK(requests[1].events[0].source == "/b");
    CHECK(requests[1].body == R"({"x":1})");
    CHECK(requests[1].path == "/bin");

    CHECK(requests[2].mode == ReceivedRequest::Mode::Batch);
    REQUIRE(requests[2].events.size() == 2);
    CHECK(requests[2].events[1].id == "m-2");

    CHECK(requests[3].mode == ReceivedRequest::Mode::None);
    CHECK(requests[3].method == "GET");

    CHECK(receiver.totalRequests() == 4);
    CHECK(receiver.deliveredIds() == std::vector<std::string>{"s-1", "b-1", "m-1", "m-2"});
    CHECK(receiver.multiplicity("m-1") == 1);
    CHECK(receiver.multiplicity("nope") == 0);
    CHECK(receiver.countFor([](const ReceivedRequest& r) { return r.method == "POST"; }) == 3);
}

TEST_CASE("Testkit receiver failFirstN fails each id n times then accepts", "[testkit]") {
    Receiver receiver;
    receiver.failFirstN(2, 503);
    KeepAliveClient client("127.0.0.1", receiver.port());
    const std::string event = structuredEvent("f-1");

    CHECK(client.post("/events", event).status == 503);
    CHECK(client.post("/events", event).status == 503);
    CHECK(client.post("/events", structuredEvent("f-2")).status == 503);
    CHECK(client.post("/events", event).status == 200);
    CHECK(client.post("/events", event).status == 200);

    CHECK(client.connectionsOpened() == 1);
    CHECK(receiver.attempts("f-1") == 4);
    CHECK(receiver.multiplicity("f-1") == 2);
    CHECK(receiver.multiplicity("f-2") == 0);
    CHECK(receiver.deliveredIds() == std::vector<std::string>{"f-1"});
}

TEST_CASE("Testkit receiver down modes, id rules and custom replies", "[testkit]") {
    Receiver receiver;
    receiver.addIdRule("perm", 400);

    receiver.setDown(true);
    auto down = postCloudEvent(receiver.url(), structuredEvent("d-1"));
    CHECK(down.status == 503);
    CHECK(down.header("retry-after") == "1");

    receiver.setDown(true, Receiver::DownMode::CloseConnection);
    CHECK_THROWS_AS(postCloudEvent(receiver.url(), structuredEvent("d-2")), Poco::Exception);

    receiver.setDown(false);
    CHECK(postCloudEvent(receiver.url(), structuredEvent("x-perm-1")).status == 400);
    CHECK(postCloudEvent(receiver.url(), structuredEvent("d-1")).status == 200);

    receiver.setReply([](const ReceivedRequest& request, int seen) {
        Reply reply;
        reply.status = 201;
        reply.headers = {{"X-Seen", std::to_string(seen)}};
        reply.body = request.firstId();
        return reply;
    });
    auto custom = postCloudEvent(receiver.url(), structuredEvent("d-1"));
    CHECK(custom.status == 201);
    CHECK(custom.header("X-Seen") == "3");
    CHECK(custom.body == "d-1");

    CHECK(receiver.multiplicity("d-1") == 2);
    CHECK(receiver.countFor([](const ReceivedRequest& r) { return r.status == 0; }) == 1);
}

TEST_CASE("Testkit receiver appends delivered ids to a record file", "[testkit]") {
    TempDir dir;
    const std::string record = dir.file("delivered.txt");
    {
        ReceiverOptions options;
        options.recordFile = record;
        options.keepRequests = false;
        Receiver receiver(options);
        receiver.addIdRule("bad", 422);
        CHECK(postCloudEvent(receiver.url(), structuredEvent("r-1")).status == 200);
        CHECK(postCloudEvent(receiver.url(), structuredEvent("r-bad")).status == 422);
        CHECK(postCloudEvent(receiver.url(), structuredEvent("r-1")).status == 200);
        CHECK(receiver.snapshot().empty());
        CHECK(receiver.stats().eventsDelivered == 2);
        CHECK(receiver.stats().distinctDelivered == 1);
    }
    CHECK(readFile(record) == "r-1\nr-1\n");
}

TEST_CASE("Testkit receiver delayed replies time out the client and stop promptly", "[testkit]") {
    auto receiver = std::make_unique<Receiver>();
    receiver->setReply([](const ReceivedRequest&, int) {
        Reply reply;
        reply.delay = 30s;
        return reply;
    });
    CHECK_THROWS_AS(httpRequest("POST", receiver->url(), "{}", {}, 200ms), Poco::Exception);
    const auto started = std::chrono::steady_clock::now();
    receiver.reset();
    CHECK(std::chrono::steady_clock::now() - started < 5s);
}

TEST_CASE("Testkit process reports exit codes, signals and output", "[testkit]") {
    TempDir dir;
    SECTION("exit code and environment") {
        auto process =
            Process::spawn({"/bin/sh", "-c", "echo \"$OW_TESTKIT_X\"; exit 3"},
                           {{"OW_TESTKIT_X", "hello"}}, dir.file("out.txt"), dir.file("err.txt"));
        CHECK(process.pid() > 0);
        const auto info = process.waitExit(10s);
        REQUIRE(info);
        CHECK(info->exited);
        CHECK(info->code == 3);
        CHECK(readFile(dir.file("out.txt")) == "hello\n");
        CHECK_FALSE(process.running());
        CHECK_FALSE(process.signal(SIGTERM)); // reaped: its PID must never be signalled
        CHECK(process.waitExit(0ms)->code == 3);
    }
    SECTION("killed by a signal") {
        auto process = Process::spawn({"sleep", "30"});
        CHECK(process.running());
        CHECK_FALSE(process.waitExit(20ms));
        CHECK(process.signal(SIGTERM));
        const auto info = process.waitExit(10s);
        REQUIRE(info);
        CHECK(info->signalled());
        CHECK(info->signal == SIGTERM);
        CHECK(info->describe().find("signal 15") == 0);
    }
    SECTION("missing executable") {
        CHECK_THROWS(Process::spawn({dir.file("no-such-program")}));
    }
    SECTION("destructor kills a running child") {
        pid_t pid = -1;
        {
            auto process = Process::spawn({"sleep", "30"});
            pid = process.pid();
        }
        // Reaped by the destructor, so the PID no longer names our child.
        CHECK(::kill(pid, 0) != 0);
    }
}

TEST_CASE("Testkit temp dir is removed unless kept", "[testkit]") {
    std::string path;
    {
        TempDir dir("ow-testkit");
        path = dir.path();
        CHECK(std::filesystem::is_directory(path));
        dir.writeFile("a/b/c.txt", "x");
        CHECK(readFile(dir.file("a/b/c.txt")) == "x");
    }
    if (std::getenv("OW_KEEP_TMP") == nullptr) {
        CHECK_FALSE(std::filesystem::exists(path));
    }
}

TEST_CASE("Testkit waitUntil returns early, or false at the deadline", "[testkit]") {
    std::atomic<int> calls{0};
    auto started = std::chrono::steady_clock::now();
    CHECK(waitUntil([&] { return ++calls >= 3; }, 5s, 1ms));
    CHECK(calls == 3);
    CHECK(std::chrono::steady_clock::now() - started < 4s);

    started = std::chrono::steady_clock::now();
    CHECK_FALSE(waitUntil([] { return false; }, 50ms, 5ms));
    const auto elapsed = std::chrono::steady_clock::now() - started;
    CHECK(elapsed >= 50ms);
    CHECK(elapsed < 2s);
}

TEST_CASE("Testkit free port is bindable and waitForTcp sees a listener", "[testkit]") {
    const auto port = freeLoopbackPort();
    CHECK(port != 0);
    CHECK_FALSE(waitForTcp(port, 30ms));
    ReceiverOptions options;
    options.port = port;
    Receiver receiver(options);
    CHECK(receiver.port() == port);
    CHECK(waitForTcp(port, 2s));
}
