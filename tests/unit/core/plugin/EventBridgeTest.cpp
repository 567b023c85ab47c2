#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>

#include "core/event/CloudEventCodec.h"
#include "core/plugin/EventBridge.h"

using ow::plugin::toSdkEvent;
using json = nlohmann::json;

namespace {

json base() {
    return {{"specversion", "1.0"},       {"id", "e-1"},
            {"source", "/hall/window/3"}, {"type", "gov.case.submitted"},
            {"subject", "SS-2026-0001"},  {"time", "2026-11-28T09:00:00.000+08:00"}};
}

} // namespace

TEST_CASE("The journaled event reaches a plugin with every attribute and its data as JSON text") {
    json j = base();
    j["department"] = "industry-commerce";
    j["priority"] = 3; // an integer extension keeps its JSON text
    j["data"] = {
        {"case_no", "SS-2026-0001"}, {"applicant", "石狮市某某有限公司"}, {"lines", {1, 2}}};
    auto e = toSdkEvent(j.dump());
    CHECK(e.id == "e-1");
    CHECK(e.source == "/hall/window/3");
    CHECK(e.type == "gov.case.submitted");
    CHECK(e.subject == "SS-2026-0001");
    CHECK(e.time == "2026-11-28T09:00:00.000+08:00");
    CHECK(e.extensions.at("department") == "industry-commerce");
    CHECK(e.extensions.at("priority") == "3");
    CHECK(e.extensions.count("specversion") == 0);
    CHECK(e.dataIsJson);
    CHECK(json::parse(e.data) == j["data"]);
}

TEST_CASE("Text, JSON-string and binary data reach a plugin as the payload itself") {
    json text = base();
    text["datacontenttype"] = "text/plain";
    text["data"] = "受理通知书\nline 2";
    auto t = toSdkEvent(text.dump());
    CHECK_FALSE(t.dataIsJson);
    CHECK(t.data == "受理通知书\nline 2");
    CHECK(t.dataContentType == "text/plain");

    json jsonString = base();
    jsonString["data"] = "a \"quoted\" string"; // JSON data that happens to be a string
    auto js = toSdkEvent(jsonString.dump());
    CHECK(js.dataIsJson);
    CHECK(json::parse(js.data) == "a \"quoted\" string");

    json binary = base();
    binary["data_base64"] = "AAEC/w==";
    auto b = toSdkEvent(binary.dump());
    CHECK_FALSE(b.dataIsJson);
    CHECK(b.data == std::string("\x00\x01\x02\xff", 4));

    auto none = toSdkEvent(base().dump());
    CHECK_FALSE(none.dataIsJson);
    CHECK(none.data.empty());
}

TEST_CASE("An unreadable journaled event is refused with the reason, not guessed at") {
    CHECK_THROWS_WITH(toSdkEvent(R"({"id":"e-1","data":{"a":1})"),
                      Catch::Contains("malformed JSON at offset"));
}
