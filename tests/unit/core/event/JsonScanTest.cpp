#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/event/JsonScan.h"

using ow::event::forEachMember;
using ow::event::JsonMember;
using json = nlohmann::json;

namespace {

struct Seen {
    std::string key;
    bool isString;
    std::string text;
    std::string raw;
};

std::vector<Seen> scan(const std::string& text) {
    std::vector<Seen> out;
    forEachMember(text, [&](const JsonMember& m) {
        out.push_back({m.key, m.isString, m.text, std::string(m.raw)});
    });
    return out;
}

// Random JSON values with the characters that need escaping, non-ASCII text and nesting.
json randomValue(std::mt19937& rng, int depth) {
    static const std::vector<std::string> pieces = {"a",      "Z",  " ",    "\"", "\\",   "/",
                                                    "\n",     "\t", "\x01", "案", "石狮", "😀",
                                                    "\u00e9", "0",  "{",    "]",  ","};
    auto str = [&] {
        std::string s;
        for (int n = static_cast<int>(rng() % 6); n > 0; --n)
            s += pieces[rng() % pieces.size()];
        return s;
    };
    switch (depth > 3 ? rng() % 5 : rng() % 7) {
    case 0:
        return str();
    case 1:
        return static_cast<std::int64_t>(rng()) - 2147483648LL;
    case 2:
        return static_cast<double>(rng() % 100000) / 8.0;
    case 3:
        return rng() % 2 == 0;
    case 4:
        return nullptr;
    case 5: {
        json a = json::array();
        for (int n = static_cast<int>(rng() % 4); n > 0; --n)
            a.push_back(randomValue(rng, depth + 1));
        return a;
    }
    default: {
        json o = json::object();
        for (int n = static_cast<int>(rng() % 4); n > 0; --n)
            o[str()] = randomValue(rng, depth + 1);
        return o;
    }
    }
}

} // namespace

TEST_CASE("JsonScan reads each member: strings unescaped, other values as written") {
    auto m = scan(
        R"({"id":"e-1","n":42,"data":{"a":[1,{"b":"}"}],"c":null},"t":"line\nnext \u00e9 \ud83d\ude00","e":[]})");
    REQUIRE(m.size() == 5);
    CHECK(m[0].key == "id");
    CHECK(m[0].isString);
    CHECK(m[0].text == "e-1");
    CHECK(m[0].raw == "\"e-1\"");
    CHECK_FALSE(m[1].isString);
    CHECK(m[1].raw == "42");
    CHECK(m[2].raw == R"({"a":[1,{"b":"}"}],"c":null})");
    CHECK(m[3].text == "line\nnext \xc3\xa9 \xf0\x9f\x98\x80");
    CHECK(m[4].raw == "[]");
    CHECK(scan("  { }  ").empty());
    CHECK(scan("{ \"k\" : [ 1 , 2 ] }")[0].raw == "[ 1 , 2 ]");
}

TEST_CASE("JsonScan agrees with a full parser on random compact objects") {
    std::mt19937 rng(20261128);
    for (int round = 0; round < 2000; ++round) {
        json obj = json::object();
        for (int n = static_cast<int>(rng() % 6); n > 0; --n)
            obj["k" + std::to_string(rng() % 50)] = randomValue(rng, 0);
        const std::string text = obj.dump();
        auto seen = scan(text);
        REQUIRE(seen.size() == obj.size());
        std::size_t i = 0;
        for (const auto& [key, value] : obj.items()) {
            INFO(text);
            CHECK(seen[i].key == key);
            CHECK(seen[i].isString == value.is_string());
            if (value.is_string()) CHECK(seen[i].text == value.get<std::string>());
            CHECK(seen[i].raw == value.dump());
            ++i;
        }
        // Every proper prefix of an object is malformed, and said to be.
        const std::size_t cut = rng() % text.size();
        INFO(text.substr(0, cut));
        CHECK_THROWS_WITH(scan(text.substr(0, cut)), Catch::Contains("malformed JSON at offset"));
    }
}

TEST_CASE("JsonScan refuses malformed text with the offset") {
    const std::vector<std::string> bad = {
        "",
        "[1]",
        R"({"a":1,})",
        R"({"a" 1})",
        R"({"a":[1,]})",
        R"({"a":{"b":1,}})",
        R"({"a":1} x)",
        R"({"a":"\q"})",
        R"({"a":"\ud83d"})",
        R"({"a":"\ude00"})",
        R"({"a":"\u12"})",
        "{\"a\":\"tab\there\"}",
        R"({"a":tru})",
        R"({"a":-})",
        R"({"a":[1})",
        R"({"a":[1]]})",
        R"({"a":{"b":1]})",
        R"({"a":abc})",
    };
    for (const auto& text : bad) {
        INFO(text);
        CHECK_THROWS_WITH(scan(text), Catch::Contains("malformed JSON at offset"));
    }
}
