// The case-forwarder sink against a fake bureau on loopback: what it sends, and how it answers
// each kind of reply. No hub, no network beyond 127.0.0.1.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include <onewindow/sdk/testkit/TestKit.h>

#include "Check.h"
#include "Json.h"

namespace sdk = onewindow::sdk;
namespace testkit = onewindow::sdk::testkit;
using Kind = sdk::Result::Kind;

namespace {

// One fake bureau, a client that reaches it, and the sink created through the plugin's own
// registration with a config checked against its spec.
struct Fixture {
    testkit::FakeHttpPeer bureau;
    testkit::PlainHttpClient http;
    testkit::TestRegistry registry{onewindow_plugin};
    std::unique_ptr<testkit::TestServices> env;
    std::unique_ptr<sdk::Sink> sink;

    explicit Fixture(sdk::Config extra = {}) {
        extra.set("base_url", bureau.url("/"));
        env = std::make_unique<testkit::TestServices>(
            testkit::configFor(registry.info("case-forwarder").spec, extra), "scjg");
        env->useHttp(http);
        sink = registry.createSink("case-forwarder", env->services());
    }
};

sdk::Event submitted() {
    auto e = testkit::makeEvent("gov.case.submitted", "SS-2026-000123",
                                R"({"applicant_name":"\u5f20\u4e09","dept_case_no":"YW-77"})",
                                {{"itemcode", "370100-001"}});
    e.time = "2026-03-02T09:30:00Z";
    return e;
}

void mapsTheCaseToTheBureausFields() {
    Fixture f;
    f.bureau.setDefaultReply(testkit::PeerReply::answer(200, R"({"code":"200","msg":"ok"})"));
    const auto event = submitted();
    const auto r = testkit::deliver(*f.sink, event);
    CHECK(r.kind == Kind::Ok);

    const auto reqs = f.bureau.requests();
    if (!CHECK(reqs.size() == 1)) return;
    CHECK(reqs[0].method == "POST");
    CHECK(reqs[0].path == "/api/v1/cases"); // base_url's trailing '/' and the default path
    CHECK(reqs[0].header("content-type").rfind("application/json", 0) == 0);
    CHECK(reqs[0].header("Idempotency-Key") == "/testkit/" + event.id);
    CHECK(reqs[0].header("X-Api-Key").empty());
    const auto body = dept_market::json::topLevelScalars(reqs[0].body);
    if (!CHECK(body.has_value())) return;
    CHECK(body->at("SBLSH") == "SS-2026-000123");
    CHECK(body->at("SXBM") == "370100-001");
    CHECK(body->at("BLZT") == "01");
    CHECK(body->at("SQRMC") == "\xe5\xbc\xa0\xe4\xb8\x89"); // 张三, unescaped and sent as UTF-8
    CHECK(body->at("YWLSH") == "YW-77");
    CHECK(body->at("FSSJ") == "2026-03-02T09:30:00Z");
    CHECK(f.env->metrics().counterValue("cases_delivered_total") == 1);
    CHECK(f.env->metrics().observations("call_seconds").size() == 1);
}

void sendsTheApiKeyAndTheConfiguredPath() {
    sdk::Config cfg;
    cfg.set("path", std::string("/gateway/case"));
    cfg.set("api_key", std::string("k-123"));
    Fixture f(cfg);
    CHECK(testkit::deliver(*f.sink, submitted()).kind == Kind::Ok);
    const auto reqs = f.bureau.requests();
    if (!CHECK(reqs.size() == 1)) return;
    CHECK(reqs[0].path == "/gateway/case");
    CHECK(reqs[0].header("X-Api-Key") == "k-123");
}

void retriesWhenTheBureauIsDown() {
    Fixture f;
    f.bureau.queueReply(testkit::PeerReply::answer(503, "maintenance", {{"Retry-After", "30"}}));
    f.bureau.queueReply(testkit::PeerReply::answer(429, "slow down"));
    f.bureau.queueReply(testkit::PeerReply::drop());
    const auto event = submitted();

    const auto unavailable = testkit::deliver(*f.sink, event);
    CHECK(unavailable.kind == Kind::Retry);
    CHECK(unavailable.retryAfterMs == 30000);
    CHECK(unavailable.reason.find("503") != std::string::npos);

    CHECK(testkit::deliver(*f.sink, event).kind == Kind::Retry); // 429
    const auto dropped = testkit::deliver(*f.sink, event);       // no answer at all
    CHECK(dropped.kind == Kind::Retry);
    CHECK(!dropped.retryAfterMs);

    CHECK(testkit::deliver(*f.sink, event).kind == Kind::Ok); // the default reply: 200
    CHECK(f.bureau.requestCount() == 4);
    CHECK(f.env->metrics().counterValue("cases_retried_total") == 3);
    CHECK(f.env->log().contains("will retry", sdk::LogLevel::Warn));
}

void retriesWhenTheBureauHangs() {
    sdk::Config cfg;
    cfg.set("timeout_ms", std::int64_t{200});
    Fixture f(cfg);
    f.bureau.setDefaultReply(testkit::PeerReply::hold());
    const auto r = testkit::deliver(*f.sink, submitted());
    CHECK(r.kind == Kind::Retry);
    CHECK(r.reason.find("timed out") != std::string::npos);
}

void rejectsWhatTheBureauRefuses() {
    Fixture f;
    f.bureau.queueReply(testkit::PeerReply::answer(422, R"({"code":"E102","msg":"bad item"})"));
    f.bureau.queueReply(testkit::PeerReply::answer(200, R"({"code":"E102","msg":"bad item"})"));
    const auto clientError = testkit::deliver(*f.sink, submitted());
    CHECK(clientError.kind == Kind::Reject);
    CHECK(clientError.reason.find("422") != std::string::npos);
    // A 2xx with a business error code is a refusal too.
    const auto businessError = testkit::deliver(*f.sink, submitted());
    CHECK(businessError.kind == Kind::Reject);
    CHECK(businessError.reason.find("E102: bad item") != std::string::npos);
    CHECK(f.env->metrics().counterValue("cases_rejected_total") == 2);
}

void rejectsEventsItCannotMapWithoutACall() {
    Fixture f;
    CHECK(testkit::deliver(*f.sink, testkit::makeEvent("gov.fee.paid", "SS-1")).kind ==
          Kind::Reject);
    CHECK(testkit::deliver(*f.sink, testkit::makeEvent("gov.case.submitted", "", "{}",
                                                       {{"itemcode", "370100-001"}}))
              .kind == Kind::Reject); // no case number
    CHECK(testkit::deliver(*f.sink, testkit::makeEvent("gov.case.submitted", "SS-1")).kind ==
          Kind::Reject); // no item code
    CHECK(testkit::deliver(*f.sink, testkit::makeEvent("gov.case.submitted", "SS-1", "[1,2]",
                                                       {{"itemcode", "370100-001"}}))
              .kind == Kind::Reject); // data is not an object
    CHECK(f.bureau.requestCount() == 0);
}

void takesTheCaseNumberAndItemFromDataToo() {
    Fixture f;
    auto e = testkit::makeEvent("gov.case.concluded", "",
                                R"({"case_no":"SS-9","item_code":"370100-002","extra":{"a":[1]}})");
    CHECK(testkit::deliver(*f.sink, e).kind == Kind::Ok);
    const auto reqs = f.bureau.requests();
    if (!CHECK(reqs.size() == 1)) return;
    const auto body = dept_market::json::topLevelScalars(reqs[0].body);
    CHECK(body && body->at("SBLSH") == "SS-9" && body->at("SXBM") == "370100-002" &&
          body->at("BLZT") == "09" && !body->count("SQRMC"));
}

void configIsCheckedAgainstTheSpec() {
    testkit::TestRegistry registry(onewindow_plugin);
    const auto& spec = registry.info("case-forwarder").spec;
    bool refused = false;
    try {
        (void)testkit::configFor(spec, {}); // base_url is required
    } catch (const std::invalid_argument& e) {
        refused = std::string(e.what()).find("base_url") != std::string::npos;
    }
    CHECK(refused);

    sdk::Config given;
    given.set("base_url", std::string("ftp://scjg.example"));
    const auto cfg = testkit::configFor(spec, given);
    CHECK(cfg.get<std::int64_t>("timeout_ms") == 5000); // the spec's default, filled in
    testkit::TestServices env(cfg);
    bool threw = false;
    try {
        (void)registry.createSink("case-forwarder", env.services());
    } catch (const std::invalid_argument&) {
        threw = true; // the hub refuses to start the instance with this message
    }
    CHECK(threw);
}

} // namespace

int main() {
    return check::run({
        {"maps a case event to the bureau's fields", mapsTheCaseToTheBureausFields},
        {"sends the api key and the configured path", sendsTheApiKeyAndTheConfiguredPath},
        {"retries on 5xx, 429 and a dropped connection", retriesWhenTheBureauIsDown},
        {"retries when the bureau does not answer in time", retriesWhenTheBureauHangs},
        {"rejects a 4xx and a business error code", rejectsWhatTheBureauRefuses},
        {"rejects events it cannot map, without a call", rejectsEventsItCannotMapWithoutACall},
        {"takes the case number and item from data", takesTheCaseNumberAndItemFromDataToo},
        {"checks its config against the spec", configIsCheckedAgainstTheSpec},
    });
}
