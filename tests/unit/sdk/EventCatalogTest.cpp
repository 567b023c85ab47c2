// The center's event catalog as shipped (sdk/catalog/): every schema loads with the validator's
// subset, every type's example is valid, the mistakes the catalog exists to catch are caught
// with the pointer and rule, and the family pages document every type and every field of it
// (the pages cannot drift from the schemas).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <onewindow/sdk/testkit/CatalogCheck.h>

namespace catalog = onewindow::sdk::catalog;
namespace testkit = onewindow::sdk::testkit;

namespace {

const catalog::JsonValue& exampleOf(const std::string& type) {
    const auto* schema = testkit::centerCatalog().schemaOf(type);
    REQUIRE(schema);
    const auto* examples = schema->find("examples");
    REQUIRE(examples);
    REQUIRE(examples->array.size() == 1);
    return examples->array[0];
}

/// The example of `type` with data member `key` set to `value` (JSON text).
catalog::JsonValue exampleWith(const std::string& type, const std::string& key,
                               const std::string& value) {
    catalog::JsonValue e = exampleOf(type);
    for (auto& [k, v] : e.object)
        if (k == "data") v.set(key, catalog::parseJson(value));
    return e;
}

std::string problems(const catalog::JsonValue& e) {
    return catalog::describe(testkit::centerCatalog().check(e));
}

std::string readFile(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

TEST_CASE("Event catalog: every family's types have a schema, each with a valid example",
          "[unit][catalog]") {
    const auto types = testkit::centerCatalog().types();
    INFO(types.size() << " types");
    std::set<std::string> families;
    for (const auto& t : types) {
        INFO(t);
        families.insert(t.substr(0, t.find('.', 4)));
        CHECK(problems(exampleOf(t)) == "");
        // The example is of its own type, so the schema's `type` const holds.
        const auto* type = exampleOf(t).find("type");
        REQUIRE(type);
        CHECK(type->string == t);
    }
    CHECK(families == std::set<std::string>{"gov.case", "gov.fee", "gov.platform", "gov.post",
                                            "gov.supervision", "gov.utility"});
    // The types the ledger and the fee book act on are all there.
    for (const char* t : {"gov.case.accepted", "gov.case.step_completed", "gov.case.decided",
                          "gov.case.concluded", "gov.supervision.order_issued", "gov.fee.paid",
                          "gov.fee.assessed", "gov.fee.refunded", "gov.supervision.alert"})
        CHECK(testkit::centerCatalog().schemaOf(t));
}

TEST_CASE("Event catalog: the mistakes a plugin author makes are named with pointer and rule",
          "[unit][catalog]") {
    const auto& c = testkit::centerCatalog();
    // "approved" is not what the ledger counts as an approval's spelling: it takes
    // anything but "refuse" as approve, and a misspelt refusal would count as approved.
    auto p = c.check(exampleWith("gov.case.decided", "decision", R"("approved")"));
    REQUIRE(p.size() == 1);
    CHECK(p[0].pointer == "/data/decision");
    CHECK(p[0].rule == "enum");
    CHECK(p[0].message == R"("approved" is not one of: "approve", "refuse")");
    // The ledger reads result_code as a JSON integer: "1" would count as 0 (issued).
    p = c.check(exampleWith("gov.case.concluded", "result_code", R"("1")"));
    REQUIRE(p.size() == 1);
    CHECK(p[0].pointer + " " + p[0].rule == "/data/result_code type");
    // A step needs its code, or the ledger dead-letters the event.
    catalog::JsonValue step = exampleOf("gov.case.step_completed");
    for (auto& [k, v] : step.object)
        if (k == "data")
            std::erase_if(v.object, [](const auto& kv) { return kv.first == "step_code"; });
    p = c.check(step);
    REQUIRE(p.size() == 1);
    CHECK(p[0].pointer + " " + p[0].rule == "/data/step_code required");
    // Money is whole fen.
    p = c.check(exampleWith("gov.fee.paid", "amount_fen", "80.5"));
    REQUIRE(p.size() == 1);
    CHECK(p[0].pointer + " " + p[0].rule == "/data/amount_fen type");
    // A time without its offset is not RFC 3339.
    p = c.check(exampleWith("gov.case.accepted", "occurred_at", R"("2026-03-02 10:15")"));
    REQUIRE(p.size() == 1);
    CHECK(p[0].pointer + " " + p[0].rule == "/data/occurred_at pattern");
    // A case event names its case.
    catalog::JsonValue noCase = exampleOf("gov.case.received");
    std::erase_if(noCase.object, [](const auto& kv) { return kv.first == "subject"; });
    p = c.check(noCase);
    REQUIRE(p.size() == 1);
    CHECK(p[0].rule == "anyOf");
    // A type outside the catalog, and text that is not an event.
    CHECK(c.check(std::string(
                      R"({"specversion":"1.0","id":"1","source":"s","type":"gov.case.aproved"})"))
              .at(0)
              .rule == "catalog");
    CHECK(c.check(std::string("{")).at(0).rule == "json");
}

TEST_CASE("Event catalog: extension attributes are never refused", "[unit][catalog]") {
    // The hub adds its own (owinput, owauth, authid, authtype) and CloudEvents allows any.
    catalog::JsonValue e = exampleOf("gov.case.accepted");
    for (const char* ext : {"owinput", "owauth", "authid", "authtype", "traceparent"})
        e.set(ext, catalog::JsonValue::makeString("x"));
    CHECK(problems(e) == "");
}

TEST_CASE("Event catalog: the test kit checks an sdk::Event as the hub would journal it",
          "[unit][catalog]") {
    onewindow::sdk::Event e;
    e.type = "gov.case.decided";
    e.subject = "35058120260302000123";
    e.data = R"({"decision":"refuse","reason":"不符合法定条件"})";
    // An emitted event's id and source are the hub's to fill in: not a problem here.
    CHECK(testkit::catalogProblems(e) == "");
    e.data = R"({"decision":"refused"})";
    CHECK(testkit::catalogProblems(e) ==
          "/data/decision enum: \"refused\" is not one of: \"approve\", \"refuse\"\n");
    e.data = "not json";
    CHECK(testkit::catalogProblems(e).find("/data type") == 0);
}

TEST_CASE("Event catalog: each family's page documents every type and every data field",
          "[unit][catalog]") {
    namespace fs = std::filesystem;
    const fs::path dir = OW_SDK_CATALOG_DIR;
    for (const auto& t : testkit::centerCatalog().types()) {
        const std::string family = t.substr(0, t.find('.', 4));
        const std::string page = readFile(dir / (family + ".md"));
        INFO(t << " in " << family << ".md");
        const std::string heading = "### `" + t + "`";
        const auto at = page.find(heading);
        REQUIRE(at != std::string::npos);
        const auto next = page.find("\n### ", at + heading.size());
        const std::string section = page.substr(at, next - at);
        const auto* data = testkit::centerCatalog().schemaOf(t)->find("properties")->find("data");
        REQUIRE(data);
        for (const auto& [field, _] : data->find("properties")->object) {
            INFO(field);
            CHECK(section.find("`" + field + "`") != std::string::npos);
        }
    }
}
