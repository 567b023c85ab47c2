// The event catalog's std-only JSON Schema validator (sdk/include/onewindow/sdk/catalog/): the
// JSON it reads, each keyword of its subset with the JSON pointer and rule it reports, and a
// schema outside the subset refused rather than half-applied.
#include <catch2/catch.hpp>

#include <onewindow/sdk/catalog/SchemaSet.h>

using namespace onewindow::sdk::catalog;

namespace {

SchemaSet setOf(const std::string& schema) {
    SchemaSet s;
    s.add(parseJson(schema), "test");
    return s;
}

std::vector<Problem> check(const SchemaSet& s, const std::string& instance) {
    return s.validate(parseJson(instance), "urn:t");
}

std::string only(const std::vector<Problem>& p) {
    REQUIRE(p.size() == 1);
    return p[0].pointer + " " + p[0].rule;
}

} // namespace

TEST_CASE("Catalog JSON: strict RFC 8259 with escapes, numbers and errors at their offset",
          "[unit][catalog]") {
    const auto v = parseJson(R"({"a":[1,-2.5,1e3,true,null],"s":"\u4e2d\ud83d\ude00\n\"","b":{}})");
    REQUIRE(v.kind == JsonValue::Kind::Object);
    CHECK(v.find("a")->array[0].kind == JsonValue::Kind::Integer);
    CHECK(v.find("a")->array[1].kind == JsonValue::Kind::Number);
    CHECK(v.find("a")->array[2].isWholeNumber());
    CHECK(v.find("s")->string == "中\xF0\x9F\x98\x80\n\"");
    for (const char* bad : {"{", "[1,]", "{\"a\" 1}", "01", "\"\x01\"", "\"\\ud800\"", "1 2", "tru",
                            "{\"a\":1,}", "-", "1.", "\"\\x\""})
        CHECK_THROWS_AS(parseJson(bad), JsonError);
    try {
        parseJson(R"({"a": tru})");
        FAIL("parsed");
    } catch (const JsonError& e) {
        CHECK(e.offset() == 6);
    }
    // A long value in a message is cut at a character, never inside one (messages stay UTF-8).
    std::string gong;
    for (int i = 0; i < 30; ++i)
        gong += "工";
    CHECK(describeJson(JsonValue::makeString(gong)) == quoteJson(gong.substr(0, 78) + "..."));
    CHECK(parseJson("9223372036854775807").kind == JsonValue::Kind::Integer);
    CHECK(parseJson("92233720368547758070").kind == JsonValue::Kind::Number); // too big for int64
}

TEST_CASE("Catalog validator: each keyword reports the pointer at fault and its rule",
          "[unit][catalog]") {
    const auto s = setOf(R"({
      "$id": "urn:t", "type": "object", "required": ["data"],
      "properties": {
        "data": {
          "type": "object", "required": ["code", "n"],
          "properties": {
            "code": {"type": "string", "minLength": 2, "maxLength": 3, "pattern": "^[A-Z]+$"},
            "n": {"type": "integer", "minimum": 1, "maximum": 6},
            "kind": {"enum": ["A", "B"]},
            "fixed": {"const": "1.0"},
            "list": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}},
            "closed": {"type": "object", "properties": {"x": {}}, "additionalProperties": false},
            "a/b": {"type": "boolean"}
          }
        }
      }
    })");
    CHECK(check(s, R"({"data":{"code":"AB","n":1}})").empty());
    CHECK(check(s, R"({"data":{"code":"AB","n":6.0}})").empty()); // 6.0 is an integer
    CHECK(only(check(s, R"({})")) == "/data required");
    CHECK(only(check(s, R"({"data":{"n":1}})")) == "/data/code required");
    CHECK(only(check(s, R"({"data":{"code":"AB","n":"1"}})")) == "/data/n type");
    CHECK(only(check(s, R"({"data":{"code":"AB","n":1.5}})")) == "/data/n type");
    CHECK(only(check(s, R"({"data":{"code":"AB","n":0}})")) == "/data/n minimum");
    CHECK(only(check(s, R"({"data":{"code":"AB","n":7}})")) == "/data/n maximum");
    CHECK(only(check(s, R"({"data":{"code":"A","n":1}})")) == "/data/code minLength");
    CHECK(only(check(s, R"({"data":{"code":"ABCD","n":1}})")) == "/data/code maxLength");
    CHECK(only(check(s, R"({"data":{"code":"Ab","n":1}})")) == "/data/code pattern");
    CHECK(only(check(s, R"({"data":{"code":"AB","n":1,"kind":"C"}})")) == "/data/kind enum");
    CHECK(only(check(s, R"({"data":{"code":"AB","n":1,"fixed":"1"}})")) == "/data/fixed const");
    CHECK(only(check(s, R"({"data":{"code":"AB","n":1,"list":[]}})")) == "/data/list minItems");
    CHECK(only(check(s, R"({"data":{"code":"AB","n":1,"list":["a","b","c"]}})")) ==
          "/data/list maxItems");
    CHECK(only(check(s, R"({"data":{"code":"AB","n":1,"list":["a",2]}})")) == "/data/list/1 type");
    CHECK(only(check(s, R"({"data":{"code":"AB","n":1,"closed":{"x":1,"y":2}}})")) ==
          "/data/closed/y additionalProperties");
    CHECK(only(check(s, R"({"data":{"code":"AB","n":1,"a/b":1}})")) == "/data/a~1b type");
    // Lengths count characters, not bytes: two Chinese characters are 2, not 6.
    const auto len = setOf(R"({"$id":"urn:t","maxLength":2})");
    CHECK(check(len, R"("工商")").empty());
    CHECK(only(check(len, R"("工商局")")) == " maxLength");
    // Every problem of an instance at once.
    CHECK(check(s, R"({"data":{"code":1,"n":"x","kind":"Z"}})").size() == 3);
    // The message names the value and what was wanted.
    const auto p = check(s, R"({"data":{"code":"AB","n":1,"kind":"approved"}})");
    REQUIRE(p.size() == 1);
    CHECK(p[0].message == R"("approved" is not one of: "A", "B")");
}

TEST_CASE("Catalog validator: $ref across documents, anyOf, if-then-else, not, allOf",
          "[unit][catalog]") {
    SchemaSet s;
    s.add(parseJson(R"({"$id":"urn:common","$defs":{"t":{"type":"string","pattern":"^[0-9]+$"}}})"),
          "common");
    s.add(parseJson(R"({
      "$id": "urn:t",
      "$ref": "urn:base",
      "properties": {"n": {"$ref": "urn:common#/$defs/t"}, "m": {"$ref": "#/$defs/local"}},
      "$defs": {"local": {"type": "integer"}},
      "anyOf": [{"required": ["subject"]}, {"required": ["n"]}],
      "if": {"properties": {"kind": {"const": "A"}}, "required": ["kind"]},
      "then": {"required": ["length"]},
      "else": {"not": {"required": ["length"]}},
      "allOf": [{"required": ["id"]}]
    })"),
          "t");
    s.add(parseJson(R"({"$id":"urn:base","type":"object"})"), "base");
    CHECK(s.unresolvedRefs().empty());
    CHECK(s.validate(parseJson(R"({"id":1,"n":"12","m":3})"), "urn:t").empty());
    CHECK(only(s.validate(parseJson(R"([])"), "urn:t")).find(" type") != std::string::npos);
    CHECK(only(s.validate(parseJson(R"({"id":1,"n":"x"})"), "urn:t")) == "/n pattern");
    CHECK(only(s.validate(parseJson(R"({"id":1,"n":"1","m":"3"})"), "urn:t")) == "/m type");
    CHECK(only(s.validate(parseJson(R"({"id":1})"), "urn:t")) == " anyOf");
    CHECK(only(s.validate(parseJson(R"({"id":1,"n":"1","kind":"A"})"), "urn:t")) ==
          "/length required");
    CHECK(s.validate(parseJson(R"({"id":1,"n":"1","kind":"A","length":3})"), "urn:t").empty());
    CHECK(only(s.validate(parseJson(R"({"id":1,"n":"1","length":3})"), "urn:t")) == " not");
    CHECK(only(s.validate(parseJson(R"({"n":"1"})"), "urn:t")) == "/id required");

    SchemaSet dangling;
    dangling.add(parseJson(R"({"$id":"urn:d","$ref":"urn:nowhere"})"), "d.schema.json");
    REQUIRE(dangling.unresolvedRefs().size() == 1);
    CHECK(dangling.unresolvedRefs()[0] == "d.schema.json: urn:nowhere");
}

TEST_CASE("Catalog validator: a schema outside the subset is refused, not half applied",
          "[unit][catalog]") {
    auto refused = [](const std::string& schema) {
        try {
            setOf(schema);
        } catch (const SchemaError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(refused(R"({"$id":"urn:t","format":"date-time"})").find("keyword 'format' is outside") !=
          std::string::npos);
    CHECK(refused(R"({"$id":"urn:t","properties":{"a":{"oneOf":[{}]}}})")
              .find("test: /properties/a/oneOf") != std::string::npos);
    CHECK(!refused(R"({"$id":"urn:t","pattern":"("})").empty());
    CHECK(!refused(R"({"$id":"urn:t","type":"text"})").empty());
    CHECK(!refused(R"({"$id":"urn:t","$ref":"other.json"})").empty());
    CHECK(!refused(R"({"type":"object"})").empty()); // no $id
    CHECK(refused(R"({"$id":"urn:t","title":"x","x-note":1,"examples":[{"oneOf":1}]})").empty());
    SchemaSet twice;
    twice.add(parseJson(R"({"$id":"urn:t"})"), "a");
    CHECK_THROWS_AS(twice.add(parseJson(R"({"$id":"urn:t"})"), "b"), SchemaError);
}
