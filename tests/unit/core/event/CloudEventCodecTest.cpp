#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "core/event/CloudEventCodec.h"
#include "core/event/Encoding.h"

using namespace ow::event;
using json = nlohmann::json;
using Kind = EventError::Kind;

namespace {

const JsonLimits kLimits{};

json minimal() {
    return {{"specversion", "1.0"},
            {"id", "e-1"},
            {"source", "/office/42"},
            {"type", "gov.application.created"}};
}

json full() {
    json j = minimal();
    j["subject"] = "application/2026/0001";
    j["time"] = "2026-11-27T09:15:00.250+08:00";
    j["datacontenttype"] = "application/json";
    j["dataschema"] = "https://schemas.example.gov/application/v1.json";
    j["district"] = "north";
    j["priority"] = 3;
    j["urgent"] = true;
    j["data"] = {{"applicant", "Nguyễn Văn A"}, {"pages", {1, 2, 3}}, {"fee", 12.5}};
    return j;
}

template <typename F> EventError errorOf(F&& f) {
    try {
        f();
    } catch (const EventError& e) {
        return e;
    }
    FAIL("expected an EventError");
    throw std::logic_error("unreachable");
}

EventError structuredError(const json& j, const JsonLimits& limits = kLimits) {
    return errorOf([&] { (void)parseStructured(j.dump(), limits); });
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

std::string headerValue(const HeaderList& headers, const std::string& name) {
    for (const auto& [n, v] : headers)
        if (n == name) return v;
    return "<absent>";
}

} // namespace

TEST_CASE("CloudEventCodec accepts a minimal structured event") {
    const Event e = parseStructured(minimal().dump(), kLimits);
    CHECK(e.id == "e-1");
    CHECK(e.source == "/office/42");
    CHECK(e.type == "gov.application.created");
    CHECK_FALSE(e.subject.has_value());
    CHECK(e.json == minimal());
    CHECK(e.attribute("specversion") == "1.0");
    CHECK_FALSE(e.attribute("time").has_value());
}

TEST_CASE("CloudEventCodec accepts a full structured event and exposes its attributes") {
    const Event e = parseStructured(full().dump(), kLimits);
    CHECK(e.subject == "application/2026/0001");
    CHECK(e.json == full());
    CHECK(e.attribute("time") == "2026-11-27T09:15:00.250+08:00");
    CHECK(e.attribute("dataschema") == "https://schemas.example.gov/application/v1.json");
    CHECK(e.attribute("datacontenttype") == "application/json");
    CHECK(e.attribute("district") == "north");
    CHECK(e.attribute("priority") == "3");
    CHECK(e.attribute("urgent") == "true");
    CHECK_FALSE(e.attribute("data").has_value());
    CHECK_FALSE(e.attribute("missing").has_value());
}

TEST_CASE("CloudEventCodec reports each missing, mistyped or empty required attribute") {
    const std::string name = GENERATE("specversion", "id", "source", "type");
    SECTION("missing") {
        json j = minimal();
        j.erase(name);
        const auto err = structuredError(j);
        CHECK(err.kind == Kind::InvalidEvent);
        CHECK(err.attribute == name);
        CHECK(std::string(err.what()) == "required attribute '" + name + "' is missing");
    }
    SECTION("null counts as missing") {
        json j = minimal();
        j[name] = nullptr;
        CHECK(structuredError(j).attribute == name);
    }
    SECTION("wrong type") {
        json j = minimal();
        j[name] = 42;
        const auto err = structuredError(j);
        CHECK(err.attribute == name);
        CHECK(std::string(err.what()) ==
              "attribute '" + name + "' must be a string, got number 42");
    }
    SECTION("empty") {
        json j = minimal();
        j[name] = "";
        const auto err = structuredError(j);
        CHECK(err.attribute == name);
        CHECK(std::string(err.what()) == "attribute '" + name + "' must not be empty");
    }
}

TEST_CASE("CloudEventCodec refuses other spec versions") {
    const std::string version = GENERATE("0.3", "2.0", "1", "1.0.2", " 1.0");
    json j = minimal();
    j["specversion"] = version;
    const auto err = structuredError(j);
    CHECK(err.attribute == "specversion");
    CHECK(contains(err.what(), "must be \"1.0\""));
    CHECK(contains(err.what(), version));
}

TEST_CASE("CloudEventCodec validates source, dataschema, datacontenttype and subject") {
    SECTION("good values") {
        json j = minimal();
        j["source"] = "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66";
        j["dataschema"] = "urn:schema:application:v1";
        j["datacontenttype"] = "text/plain; charset=\"utf-8\"";
        CHECK_NOTHROW(parseStructured(j.dump(), kLimits));
        j["source"] = "https://portal.example.gov/forms?id=7#top";
        CHECK_NOTHROW(parseStructured(j.dump(), kLimits));
    }
    SECTION("bad values") {
        const auto [attr, value] = GENERATE(table<std::string, std::string>({
            {"source", "not a uri"},
            {"source", "1abc:def"},
            {"source", "/bad%2"},
            {"dataschema", "/schemas/relative.json"},
            {"dataschema", "schema.json"},
            {"datacontenttype", "json"},
            {"datacontenttype", "application/"},
            {"datacontenttype", "application/json; charset"},
            {"subject", ""},
            {"time", "yesterday"},
        }));
        json j = minimal();
        j[attr] = value;
        const auto err = structuredError(j);
        CHECK(err.kind == Kind::InvalidEvent);
        CHECK(err.attribute == attr);
        CHECK(contains(err.what(), "'" + attr + "'"));
    }
    SECTION("the time message quotes the value") {
        json j = minimal();
        j["time"] = "yesterday";
        CHECK(std::string(structuredError(j).what()) ==
              "attribute 'time' must be an RFC 3339 timestamp, got \"yesterday\"");
    }
    SECTION("optional attributes must be strings") {
        json j = minimal();
        j["subject"] = json::array({"a"});
        CHECK(std::string(structuredError(j).what()) ==
              "attribute 'subject' must be a string, got array");
    }
    SECTION("control characters are forbidden in strings") {
        json j = minimal();
        j["id"] = "line\nbreak";
        const auto err = structuredError(j);
        CHECK(err.attribute == "id");
        CHECK(contains(err.what(), "U+000A"));
    }
    SECTION("a null optional attribute is dropped") {
        json j = minimal();
        j["subject"] = nullptr;
        j["myext"] = nullptr;
        const Event e = parseStructured(j.dump(), kLimits);
        CHECK(e.json == minimal());
        CHECK_FALSE(e.subject.has_value());
    }
}

TEST_CASE("CloudEventCodec RFC 3339 vectors") {
    SECTION("valid") {
        const std::string s = GENERATE(
            "2026-11-27T09:15:00Z", "2026-11-27t09:15:00z", "2026-11-27T09:15:00.123456789+08:00",
            "1985-04-12T23:20:50.52Z", "1996-12-19T16:39:57-08:00", "1937-01-01T12:00:27.87+00:20",
            "2024-02-29T00:00:00Z", "2000-02-29T12:00:00Z", "1990-12-31T23:59:60Z",
            "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.9-23:59");
        INFO(s);
        CHECK(isRfc3339(s));
    }
    SECTION("invalid") {
        const std::string s = GENERATE(
            "yesterday", "", "2026-11-27", "2026-11-27T09:15:00", "2026-13-01T00:00:00Z",
            "2026-00-10T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z", "2026-11-00T00:00:00Z", "2026-11-27T24:00:00Z",
            "2026-11-27T09:60:00Z", "2026-11-27T09:15:61Z", "2026-11-27 09:15:00Z",
            "2026-11-27T09:15:00.Z", "2026-11-27T09:15:00+0800", "2026-11-27T09:15:00+24:00",
            "2026-11-27T09:15:00+08:60", "26-11-27T09:15:00Z", "2026-11-27T09:15:00Zjunk",
            "2026-1-27T09:15:00Z", "2026-11-27T9:15:00Z", "+2026-11-27T09:15:00Z",
            "2026-11-27T09:15:00+08:00 ", "2026-11-27T09:15:00+08");
        INFO(s);
        CHECK_FALSE(isRfc3339(s));
    }
}

TEST_CASE("CloudEventCodec extension names") {
    SECTION("valid names, up to 20 characters") {
        json j = minimal();
        j["abcdefghij0123456789"] = "x";
        j["a1"] = "y";
        CHECK(parseStructured(j.dump(), kLimits).attribute("abcdefghij0123456789") == "x");
    }
    SECTION("invalid names") {
        const std::string name =
            GENERATE("MyExt", "my_ext", "my-ext", "abcdefghij0123456789k", "caf\xc3\xa9");
        json j = minimal();
        j[name] = "v";
        const auto err = structuredError(j);
        CHECK(err.kind == Kind::InvalidEvent);
        CHECK(err.attribute == name);
        CHECK(contains(err.what(), "attribute name"));
    }
    SECTION("21 characters says how long it is") {
        json j = minimal();
        j["abcdefghij0123456789k"] = "v";
        CHECK(contains(structuredError(j).what(), "is 21 characters long; at most 20"));
    }
    SECTION("reserved names cannot be binary-mode extensions") {
        const std::string name = GENERATE("data", "data_base64");
        HeaderList h = {{"ce-specversion", "1.0"},
                        {"ce-id", "1"},
                        {"ce-source", "/s"},
                        {"ce-type", "t"},
                        {"ce-" + name, "x"}};
        const auto err = errorOf([&] { (void)parseBinary(h, "", kLimits); });
        CHECK(err.attribute == name);
        CHECK(contains(err.what(), "reserved"));
    }
}

TEST_CASE("CloudEventCodec extension value types") {
    SECTION("accepted") {
        json j = minimal();
        j["s"] = "";
        j["b"] = false;
        j["max"] = 2147483647;
        j["min"] = -2147483648LL;
        const Event e = parseStructured(j.dump(), kLimits);
        CHECK(e.attribute("b") == "false");
        CHECK(e.attribute("max") == "2147483647");
        CHECK(e.attribute("min") == "-2147483648");
        CHECK(e.attribute("s") == "");
    }
    SECTION("refused") {
        const json value =
            GENERATE(json::object({{"a", 1}}), json::array({1}), json(1.5), json(2147483648LL),
                     json(-2147483649LL), json(18446744073709551615ULL));
        json j = minimal();
        j["ext"] = value;
        const auto err = structuredError(j);
        CHECK(err.kind == Kind::InvalidEvent);
        CHECK(err.attribute == "ext");
        CHECK(contains(err.what(), "extension attribute 'ext' must be"));
    }
    SECTION("out-of-range integers are named as such") {
        json j = minimal();
        j["ext"] = 4294967296LL;
        CHECK(std::string(structuredError(j).what()) ==
              "extension attribute 'ext' must be an integer in the signed 32-bit range, "
              "got 4294967296");
    }
}

TEST_CASE("CloudEventCodec data and data_base64") {
    SECTION("both present") {
        json j = minimal();
        j["data"] = "x";
        j["data_base64"] = "eA==";
        const auto err = structuredError(j);
        CHECK(err.attribute == "data_base64");
        CHECK(std::string(err.what()) == "data and data_base64 are mutually exclusive");
    }
    SECTION("bad base64") {
        const json value = GENERATE(json("eA"), json("eA="), json("e A=="), json("eB=="),
                                    json("=eA="), json("eA==eA=="), json(12));
        json j = minimal();
        j["data_base64"] = value;
        const auto err = structuredError(j);
        CHECK(err.kind == Kind::InvalidEvent);
        CHECK(err.attribute == "data_base64");
    }
    SECTION("good base64, including empty") {
        const std::string value = GENERATE("", "eA==", "eHk=", "eHl6", "AAECAwQF/w==");
        json j = minimal();
        j["data_base64"] = value;
        CHECK(parseStructured(j.dump(), kLimits).json["data_base64"] == value);
    }
    SECTION("data: null is a payload, not an absent attribute") {
        json j = minimal();
        j["data"] = nullptr;
        CHECK(parseStructured(j.dump(), kLimits).json.contains("data"));
    }
    SECTION("unknown members are named") {
        json j = minimal();
        j["Data"] = 1;
        CHECK(structuredError(j).attribute == "Data");
    }
}

TEST_CASE("CloudEventCodec refuses malformed JSON with a position") {
    const std::string body = GENERATE("", "{", "{\"id\":}", "{} {}", "[1,]", "{'a':1}", "1e400");
    const auto err = errorOf([&] { (void)parseStructured(body, kLimits); });
    INFO(err.what());
    CHECK(err.kind == Kind::MalformedJson);
    CHECK(err.attribute.empty());
    CHECK(contains(err.what(), "malformed JSON"));
}

TEST_CASE("CloudEventCodec malformed JSON message carries the byte position") {
    const auto err = errorOf([] { (void)parseStructured("{\"id\": tru}", kLimits); });
    CHECK(err.kind == Kind::MalformedJson);
    CHECK(contains(err.what(), "at byte 11"));
}

TEST_CASE("CloudEventCodec refuses invalid UTF-8 as malformed JSON") {
    const std::string body =
        GENERATE(std::string("{\"id\":\"\xff\"}"), std::string("{\"id\":\"\xc0\xaf\"}"),
                 std::string("{\"id\":\"\xed\xa0\x80\"}"), std::string("{\"id\":\"\\ud800\"}"));
    const auto err = errorOf([&] { (void)parseStructured(body, kLimits); });
    CHECK(err.kind == Kind::MalformedJson);
    // The message echoes input and goes into JSON problem bodies: it must stay UTF-8.
    CHECK(isValidUtf8(err.what()));
}

TEST_CASE("CloudEventCodec structured body must be an object") {
    const auto err = errorOf([] { (void)parseStructured("[1,2]", kLimits); });
    CHECK(err.kind == Kind::InvalidEvent);
    CHECK(contains(err.what(), "must be a JSON object, got array"));
}

TEST_CASE("CloudEventCodec refuses a 100000-deep array quickly") {
    const std::string body = std::string(100000, '[') + std::string(100000, ']');
    const auto start = std::chrono::steady_clock::now();
    const auto err = errorOf([&] { (void)parseStructured(body, kLimits); });
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(err.kind == Kind::TooDeep);
    CHECK(contains(err.what(), "32"));
    CHECK(elapsed < std::chrono::seconds(1));
    // Also in batches and in binary JSON bodies.
    CHECK(errorOf([&] { (void)parseBatch(body, kLimits, 10); }).kind == Kind::TooDeep);
    const HeaderList h = {{"ce-specversion", "1.0"},
                          {"ce-id", "1"},
                          {"ce-source", "/s"},
                          {"ce-type", "t"},
                          {"content-type", "application/json"}};
    const auto binErr = errorOf([&] { (void)parseBinary(h, body, kLimits); });
    CHECK(binErr.kind == Kind::TooDeep);
    CHECK(binErr.attribute == "data");
}

TEST_CASE("CloudEventCodec depth limit is exact") {
    const JsonLimits limits{3, 100};
    json j = minimal();
    j["data"] = json::array({json::array({1})}); // event 1, outer array 2, inner array 3
    CHECK_NOTHROW(parseStructured(j.dump(), limits));
    j["data"] = json::array({json::array({json::object()})});
    CHECK(structuredError(j, limits).kind == Kind::TooDeep);
}

TEST_CASE("CloudEventCodec key limit counts every member in the document") {
    const JsonLimits limits{32, 6};
    json j = minimal();
    j["data"] = json::object({{"a", 1}}); // 4 attributes + data + a = 6
    CHECK_NOTHROW(parseStructured(j.dump(), limits));
    j["data"]["b"] = 2;
    const auto err = structuredError(j, limits);
    CHECK(err.kind == Kind::TooManyKeys);
    CHECK(contains(err.what(), "more than 6"));
}

TEST_CASE("CloudEventCodec batch parsing") {
    json a = minimal(), b = minimal(), c = minimal();
    b["id"] = "e-2";
    c["id"] = "e-3";
    SECTION("valid batch") {
        const auto events = parseBatch(json::array({a, b, c}).dump(), kLimits, 3);
        REQUIRE(events.size() == 3);
        CHECK(events[1].id == "e-2");
        CHECK(events[2].id == "e-3");
    }
    SECTION("empty batch") {
        CHECK(parseBatch("[]", kLimits, 3).empty());
    }
    SECTION("all or nothing with the index of the bad event") {
        b.erase("source");
        const std::string body = json::array({a, b, c}).dump();
        const auto err = errorOf([&] { (void)parseBatch(body, kLimits, 5); });
        CHECK(err.kind == Kind::InvalidEvent);
        CHECK(err.index == 1);
        CHECK(err.attribute == "source");
        CHECK(std::string(err.what()) == "batch entry 1: required attribute 'source' is missing");
    }
    SECTION("entries must be objects") {
        const std::string body = json::array({a, "x"}).dump();
        const auto err = errorOf([&] { (void)parseBatch(body, kLimits, 5); });
        CHECK(err.index == 1);
        CHECK(contains(err.what(), "got string"));
    }
    SECTION("not an array") {
        const auto err = errorOf([&] { (void)parseBatch(a.dump(), kLimits, 5); });
        CHECK(err.kind == Kind::InvalidBatch);
        CHECK(contains(err.what(), "must be a JSON array, got object"));
    }
    SECTION("too many events") {
        const std::string body = json::array({a, b, c}).dump();
        const auto err = errorOf([&] { (void)parseBatch(body, kLimits, 2); });
        CHECK(err.kind == Kind::InvalidBatch);
        CHECK(err.index == 2);
        CHECK(contains(err.what(), "more than 2 events"));
    }
    SECTION("a huge array is refused while parsing") {
        std::string body = "[";
        for (int i = 0; i < 200000; ++i)
            body += "1,";
        body += "1]";
        const auto err = errorOf([&] { (void)parseBatch(body, kLimits, 100); });
        CHECK(err.kind == Kind::InvalidBatch);
    }
}

TEST_CASE("CloudEventCodec binary mode attributes and percent-decoding") {
    HeaderList h = {{"ce-specversion", "1.0"},
                    {"ce-id", "e-9"},
                    {"ce-source", "%2Foffice%2F42"},
                    {"ce-type", "gov.application.created"},
                    {"ce-subject", "caf%C3%A9%20au%20lait%25"},
                    {"ce-priority", "5"},
                    {"x-request-id", "ignored"}};
    SECTION("decoded") {
        const Event e = parseBinary(h, "", kLimits);
        CHECK(e.source == "/office/42");
        CHECK(e.subject == "café au lait%");
        CHECK(e.json["priority"] == "5"); // binary-mode extensions stay strings
        CHECK_FALSE(e.json.contains("data"));
        CHECK_FALSE(e.json.contains("data_base64"));
        CHECK_FALSE(e.json.contains("x-request-id"));
    }
    SECTION("bad percent-encoding") {
        const std::string value = GENERATE("%G1", "abc%4", "%", "%FF");
        h[4].second = value;
        const auto err = errorOf([&] { (void)parseBinary(h, "", kLimits); });
        CHECK(err.kind == Kind::InvalidEvent);
        CHECK(err.attribute == "subject");
        CHECK(contains(err.what(), "ce-subject"));
    }
    SECTION("missing ce-id") {
        h.erase(h.begin() + 1);
        const auto err = errorOf([&] { (void)parseBinary(h, "", kLimits); });
        CHECK(err.attribute == "id");
        CHECK(std::string(err.what()) == "required attribute 'id' is missing (no ce-id header)");
    }
    SECTION("ce-datacontenttype is not allowed") {
        h.emplace_back("ce-datacontenttype", "application/json");
        CHECK(errorOf([&] { (void)parseBinary(h, "", kLimits); }).attribute == "datacontenttype");
    }
    SECTION("repeated attribute header") {
        h.emplace_back("ce-id", "e-10");
        const auto err = errorOf([&] { (void)parseBinary(h, "", kLimits); });
        CHECK(err.attribute == "id");
        CHECK(contains(err.what(), "more than once"));
    }
    SECTION("attribute values are validated as in structured mode") {
        h.emplace_back("ce-time", "yesterday");
        CHECK(errorOf([&] { (void)parseBinary(h, "", kLimits); }).attribute == "time");
    }
    SECTION("bad specversion") {
        h[0].second = "0.3";
        CHECK(errorOf([&] { (void)parseBinary(h, "", kLimits); }).attribute == "specversion");
    }
}

TEST_CASE("CloudEventCodec binary mode bodies") {
    HeaderList h = {
        {"ce-specversion", "1.0"}, {"ce-id", "e-9"}, {"ce-source", "/s"}, {"ce-type", "t"}};
    SECTION("JSON content types are parsed") {
        const std::string ct = GENERATE("application/json", "Application/JSON; charset=utf-8",
                                        "text/json", "application/vnd.gov.form+json");
        h.emplace_back("content-type", ct);
        const Event e = parseBinary(h, R"({"a":[1,2]})", kLimits);
        CHECK(e.json["data"] == json({{"a", {1, 2}}}));
        CHECK(e.attribute("datacontenttype") == ct);
    }
    SECTION("malformed JSON body") {
        h.emplace_back("content-type", "application/json");
        const auto err = errorOf([&] { (void)parseBinary(h, "{oops", kLimits); });
        CHECK(err.kind == Kind::MalformedJson);
        CHECK(err.attribute == "data");
    }
    SECTION("text is kept as a string") {
        h.emplace_back("content-type", "text/plain; charset=utf-8");
        const Event e = parseBinary(h, "xin chào", kLimits);
        CHECK(e.json["data"] == "xin chào");
    }
    SECTION("text that is not UTF-8 keeps its bytes as base64") {
        h.emplace_back("content-type", "text/plain; charset=iso-8859-1");
        const Event e = parseBinary(h, "caf\xe9", kLimits);
        CHECK(e.json["data_base64"] == base64Encode("caf\xe9"));
    }
    SECTION("other types become data_base64") {
        h.emplace_back("content-type", "application/pdf");
        const std::string bytes("%PDF\0\xff", 6);
        const Event e = parseBinary(h, bytes, kLimits);
        CHECK(e.json["data_base64"] == "JVBERgD/");
        CHECK_FALSE(e.json.contains("data"));
    }
    SECTION("no content type and a body") {
        const Event e = parseBinary(h, "abc", kLimits);
        CHECK(e.json["data_base64"] == "YWJj");
        CHECK_FALSE(e.json.contains("datacontenttype"));
    }
    SECTION("empty body means no data") {
        h.emplace_back("content-type", "application/json");
        const Event e = parseBinary(h, "", kLimits);
        CHECK_FALSE(e.json.contains("data"));
        CHECK_FALSE(e.json.contains("data_base64"));
    }
    SECTION("invalid content type") {
        h.emplace_back("content-type", "nonsense");
        CHECK(errorOf([&] { (void)parseBinary(h, "x", kLimits); }).attribute == "datacontenttype");
    }
}

TEST_CASE("CloudEventCodec toBinary headers and body") {
    json j = minimal();
    j["subject"] = "a \"b\" 100% café";
    j["urgent"] = true;
    j["priority"] = -7;
    j["data"] = {{"k", "v"}};
    const BinaryMessage m = toBinary(fromJson(j));
    REQUIRE(m.headers.size() >= 4);
    CHECK(m.headers[0] == std::pair<std::string, std::string>("ce-specversion", "1.0"));
    CHECK(headerValue(m.headers, "ce-subject") == "a%20%22b%22%20100%25%20caf%C3%A9");
    CHECK(headerValue(m.headers, "ce-urgent") == "true");
    CHECK(headerValue(m.headers, "ce-priority") == "-7");
    CHECK(headerValue(m.headers, "content-type") == "application/json");
    CHECK(headerValue(m.headers, "ce-data") == "<absent>");
    CHECK(m.body == R"({"k":"v"})");
}

TEST_CASE("CloudEventCodec structured round trip") {
    const Event e = parseStructured(full().dump(), kLimits);
    const std::string text = toStructured(e);
    CHECK(text.find('\n') == std::string::npos);
    CHECK(parseStructured(text, kLimits) == e);

    json j = minimal();
    j["data_base64"] = "AAECAwQF/w==";
    const Event b = fromJson(j);
    CHECK(parseStructured(toStructured(b), kLimits) == b);
}

TEST_CASE("CloudEventCodec binary round trip") {
    json j = minimal();
    j["subject"] = "Đơn \"xin\" 50% cấp";
    j["district"] = "north east";
    SECTION("JSON data") {
        j["datacontenttype"] = "application/json";
        j["data"] = {{"applicant", "Nguyễn Văn A"}, {"pages", {1, 2, 3}}, {"fee", 12.5}};
    }
    SECTION("JSON scalar data") {
        j["datacontenttype"] = "application/json";
        j["data"] = "just a string";
    }
    SECTION("base64 data without a content type") {
        j["data_base64"] = "AAECAwQF/w==";
    }
    SECTION("base64 data with a binary content type") {
        j["datacontenttype"] = "application/pdf";
        j["data_base64"] = "JVBERgD/";
    }
    SECTION("text data") {
        j["datacontenttype"] = "text/plain";
        j["data"] = "line one\nline two";
    }
    SECTION("no data but a content type") {
        j["datacontenttype"] = "application/xml";
    }
    const Event e = fromJson(j);
    const BinaryMessage m = toBinary(e);
    const Event back = parseBinary(m.headers, m.body, kLimits);
    CHECK(back.json == e.json);
    CHECK(back == e);
}

TEST_CASE("CloudEventCodec fromJson refuses non-objects") {
    const auto err = errorOf([] { (void)fromJson(json::array()); });
    CHECK(err.kind == Kind::InvalidEvent);
    CHECK(contains(err.what(), "got array"));
}

TEST_CASE("CloudEventCodec encoding helpers") {
    CHECK(base64Encode("") == "");
    CHECK(base64Encode("f") == "Zg==");
    CHECK(base64Encode("fo") == "Zm8=");
    CHECK(base64Encode("foobar") == "Zm9vYmFy");
    CHECK(base64Decode("Zm9vYg==") == "foob");
    CHECK_FALSE(base64Decode("Zm9vYg").has_value());
    CHECK_FALSE(base64Decode("Zm9vYh==").has_value()); // non-zero pad bits
    CHECK(percentEncode("a b\x7f") == "a%20b%7F");
    CHECK(percentDecode("a%20b%7f") == "a b\x7f");
    CHECK_FALSE(percentDecode("%2").has_value());
    CHECK(isValidUtf8("xin chào"));
    CHECK_FALSE(isValidUtf8("\xf4\x90\x80\x80")); // above U+10FFFF
    CHECK(firstForbiddenCodePoint("ok\xef\xbf\xbe") == char32_t{0xFFFE});
    CHECK_FALSE(firstForbiddenCodePoint("ok").has_value());
}
