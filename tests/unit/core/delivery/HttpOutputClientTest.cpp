#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/delivery/HttpOutputClient.h"
#include "core/event/CloudEventCodec.h"
#include "tests/support/Receiver.h"

using namespace ow;
using Outcome = delivery::DeliveryResult::Outcome;

TEST_CASE("HttpOutputClient classifies statuses as delivered, retry or reject", "[delivery]") {
    using C = delivery::HttpOutputClient;
    CHECK(C::classify(200) == Outcome::Delivered);
    CHECK(C::classify(204) == Outcome::Delivered);
    for (int s : {408, 429, 500, 502, 503, 504})
        CHECK(C::classify(s) == Outcome::Retry);
    for (int s : {301, 400, 401, 403, 404, 410, 413, 422, 425})
        CHECK(C::classify(s) == Outcome::Reject);
}

TEST_CASE("HttpOutputClient reads Retry-After as seconds or an HTTP date", "[delivery]") {
    using C = delivery::HttpOutputClient;
    CHECK(C::parseRetryAfter("120", 0) == std::optional<std::int64_t>(120000));
    CHECK(C::parseRetryAfter("0", 0) == std::optional<std::int64_t>(0));
    // Sun, 06 Nov 1994 08:49:37 GMT = 784111777 s
    CHECK(C::parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111777000 - 5000) ==
          std::optional<std::int64_t>(5000));
    CHECK(C::parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111777000 + 5000) ==
          std::optional<std::int64_t>(0));
    CHECK_FALSE(C::parseRetryAfter("soon", 0));
    CHECK_FALSE(C::parseRetryAfter("", 0));
    CHECK_FALSE(C::parseRetryAfter("99999999999999", 0));
}

TEST_CASE("HttpOutputClient delivers structured and binary mode over one kept-alive connection",
          "[delivery]") {
    testkit::Receiver rx;
    auto ev = event::fromJson(nlohmann::json::parse(
        R"({"specversion":"1.0","id":"h-1","source":"/s","type":"gov.case.x","subject":"C-1","department":"land",
            "datacontenttype":"application/json","data":{"a":1}})"));
    store::OutboxRow row;
    row.id = 1;
    row.body = std::make_shared<const std::string>(event::toStructured(ev));

    config::OutputSpec spec;
    spec.name = "rx";
    spec.url = rx.url("/in?x=1");
    spec.headers = {{"Authorization", "Bearer t"}};
    delivery::HttpOutputClient structured(spec, nullptr);
    auto r1 = structured.deliver(row);
    CHECK(r1.outcome == Outcome::Delivered);
    CHECK(structured.deliver(row).outcome == Outcome::Delivered);

    config::OutputSpec binSpec = spec;
    binSpec.mode = config::OutputSpec::Mode::Binary;
    delivery::HttpOutputClient binary(binSpec, nullptr);
    CHECK(binary.deliver(row).outcome == Outcome::Delivered);

    auto reqs = rx.snapshot();
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[0].path == "/in?x=1");
    CHECK(reqs[0].mode == testkit::ReceivedRequest::Mode::Structured);
    CHECK(reqs[0].header("authorization") == "Bearer t");
    CHECK(nlohmann::json::parse(reqs[0].body)["department"] == "land");
    CHECK(reqs[2].mode == testkit::ReceivedRequest::Mode::Binary);
    CHECK(reqs[2].header("ce-subject") == "C-1");
    CHECK(reqs[2].header("ce-department") == "land");
    CHECK(nlohmann::json::parse(reqs[2].body) == nlohmann::json{{"a", 1}});

    rx.always(503);
    rx.setReply([](const testkit::ReceivedRequest&, int) {
        return testkit::Reply{503, {{"Retry-After", "7"}}, "busy", {}, false};
    });
    auto busy = structured.deliver(row);
    CHECK(busy.outcome == Outcome::Retry);
    CHECK(busy.status == 503);
    CHECK(busy.retryAfterMs == std::optional<std::int64_t>(7000));
    CHECK_THAT(busy.detail, Catch::Contains("503") && Catch::Contains("busy"));

    rx.always(404);
    auto gone = structured.deliver(row);
    CHECK(gone.outcome == Outcome::Reject);
    CHECK(gone.status == 404);

    config::OutputSpec dead = spec;
    dead.url = "http://127.0.0.1:1/x";
    delivery::HttpOutputClient refused(dead, nullptr);
    auto r = refused.deliver(row);
    CHECK(r.outcome == Outcome::Retry);
    CHECK(r.status == 0);
    CHECK_FALSE(r.detail.empty());
}
