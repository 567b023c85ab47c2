// The service catalog: the shipped sample catalog covers every unit of the hall, and a catalog
// with a mistake is refused with each problem at its file:line:column.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <string>

#include "plugins/cases/catalog/CatalogFiles.h"
#include "plugins/cases/data/DataProblem.h"
#include "tests/support/TempDir.h"

using namespace ow::cases;

namespace {

const std::string kUnits = std::string(OW_SOURCE_DIR) + "/config/units.yaml";

const char* kGoodItem = R"(
  - code: "350581000000001A000101"
    name: 有限责任公司设立登记
    kind: license
    handling_type: promised
    legal_limit: { days: 15, unit: working }
    promised_limit: { days: 3, unit: working }
    steps:
      - { code: undertake, name: 承办, limit_days: 1 }
      - { code: approve, name: 批准, limit_days: 2 }
      - { code: site-survey, name: 现场核查, limit_days: 3, counted: false }
    materials:
      - { name: 公司登记（备案）申请书, originals: 1, copies: 0, required: true }
    fees:
      - { code: GS-F-1, name: 执照工本费, unit: 本, standard_fen: 1000, basis: 计价格〔2000〕1号 }
    publications: &pub
      content: 设立登记
      basis: 《中华人民共和国公司登记管理条例》
      conditions: 符合条件
      materials: 申请书
      procedure: 受理、审核、发照
      time_limit: 法定15个工作日，承诺3个工作日
      fee_standard: 工本费10元
      results: 营业执照
)";

std::string pathOf(const ow::testkit::TempDir& dir, const std::string& unit) {
    return dir.file(unit + ".yaml");
}

void write(const ow::testkit::TempDir& dir, const std::string& unit, const std::string& body) {
    std::ofstream(pathOf(dir, unit))
        << "sample_data: true\ndepartment: " << unit << "\nitems:" << body;
}

} // namespace

TEST_CASE("Catalog: the shipped sample catalog covers every unit of the hall") {
    const auto catalog = loadCatalog(std::string(OW_SOURCE_DIR) + "/config/catalog", kUnits);
    CHECK(catalog.sampleData());
    REQUIRE(catalog.units().size() == 34); // 27 departments, 3 trading centers, 4 counters
    std::map<std::string, int> perUnit;
    std::map<HandlingType, int> perType;
    for (const auto& item : catalog.items()) {
        ++perUnit[item.department];
        ++perType[item.handling];
        CHECK_FALSE(item.publications.timeLimit.empty());
    }
    for (const auto& unit : catalog.units()) {
        INFO(unit.id);
        CHECK(perUnit[unit.id] >= 2);
    }
    for (const char* busy :
         {"industry-commerce", "planning-construction", "public-security", "land-resources"}) {
        INFO(busy);
        CHECK(perUnit[busy] >= 6);
    }
    for (auto t : {HandlingType::Immediate, HandlingType::Promised, HandlingType::Joint,
                   HandlingType::Reported, HandlingType::Special}) {
        INFO(toString(t));
        CHECK(perType[t] >= 2);
    }
}

TEST_CASE("Catalog: a well-formed item is read with its limits, steps, fees and publications") {
    ow::testkit::TempDir dir;
    write(dir, "industry-commerce", kGoodItem);
    const auto catalog = loadCatalog(dir.path(), kUnits);
    const auto* item = catalog.item("350581000000001A000101");
    REQUIRE(item);
    CHECK(item->department == "industry-commerce");
    CHECK(item->handling == HandlingType::Promised);
    REQUIRE(item->legalLimit);
    CHECK(item->legalLimit->days == 15);
    CHECK(item->promisedLimit.days == 3);
    CHECK(item->promisedLimit.unit == LimitUnit::WorkingDays);
    CHECK(item->supplement == SupplementRule::Pause);
    REQUIRE(item->steps.size() == 3);
    CHECK_FALSE(item->step("site-survey")->counted);
    REQUIRE(item->fee("GS-F-1"));
    CHECK(item->fee("GS-F-1")->standardFen == 1000);
    CHECK(item->publications.results == "营业执照");
    CHECK(catalog.unit("industry-commerce")->name == "工商局");
    CHECK(catalog.unit("industrial-bank")->kind == UnitKind::ConvenienceUnit);
}

TEST_CASE("Catalog: every mistake is refused at its line") {
    ow::testkit::TempDir dir;
    write(dir, "industry-commerce", R"(
  - code: "A1"
    name: 步骤超时的事项
    kind: license
    handling_type: promised
    legal_limit: { days: 5, unit: working }
    promised_limit: { days: 8, unit: working }
    steps:
      - { code: undertake, name: 承办, limit_days: 9 }
      - { code: approve, name: 批准, limit_days: -1 }
    publications: { content: a, basis: b, conditions: c, materials: d, procedure: e, time_limit: f, fee_standard: g, results: h }
  - code: "A2"
    name: 即办却承诺三天
    kind: licence
    handling_type: immediate
    promised_limit: { days: 3, unit: working }
    joint:
      - { department: fire-brigade, limit_days: 1 }
    publications: { content: a, basis: b, conditions: c, materials: d, procedure: e, time_limit: f, fee_standard: g, results: h }
  - code: "A3"
    name: 联办
    kind: license
    handling_type: joint
    promised_limit: { days: 10, unit: working }
    joint:
      - { department: no-such-bureau, limit_days: 3 }
      - { department: industry-commerce, limit_days: 12 }
    fees:
      - { code: F1, name: 费, unit: 件, standard_fen: 100, basis: x }
      - { code: F1, name: 费, unit: 件, standard_fen: 100, basis: x }
    publications: { content: a, basis: b, conditions: c, materials: d, procedure: e, time_limit: f, fee_standard: g, results: h }
  - code: "A1"
    name: 重复编码
    kind: license
    handling_type: reported
    promised_limit: { days: 10, unit: working }
    reported_to: 泉州市
    promised_limt: 3
    publications: { content: a, basis: b, conditions: c, materials: d, procedure: e, time_limit: f, fee_standard: g, results: h }
)");
    std::ofstream(dir.file("tax.yaml")) << "department: tax\nitems: []\n";
    try {
        loadCatalog(dir.path(), kUnits);
        FAIL("a broken catalog was accepted");
    } catch (const DataError& e) {
        const std::string what = e.what();
        const std::string f = pathOf(dir, "industry-commerce");
        CHECK_THAT(what, Catch::Contains(f + ":9:21: the promised limit (8 days) is longer than "
                                             "the legal limit (5 days) in item A1"));
        CHECK_THAT(what, Catch::Contains(f + ":12:52: 'limit_days' in a step of item A1 must be "
                                             "between 0 and 3650 (not -1)"));
        CHECK_THAT(what, Catch::Contains(f + ":16:11: 'kind' in item A2 must be one of license, "
                                             "non_license, public_service (not 'licence')"));
        CHECK_THAT(what, Catch::Contains(f + ":18:21: an immediate item promises 0 days, not 3"));
        CHECK_THAT(what, Catch::Contains(f + ":20:7: 'joint' is for joint items only in item A2"));
        CHECK_THAT(what, Catch::Contains(f + ":28:23: unknown department 'no-such-bureau'"));
        CHECK_THAT(what, Catch::Contains("the item's own department cannot be its co-department"));
        CHECK_THAT(what, Catch::Contains("the sub-task of 'industry-commerce' takes 12 days, more "
                                         "than the promised 10 in item A3"));
        CHECK_THAT(what, Catch::Contains(f + ":32:17: fee code 'F1' appears twice in item A3"));
        CHECK_THAT(what, Catch::Contains(f + ":40:5: unknown key 'promised_limt' in an item"));
        CHECK_THAT(what,
                   Catch::Contains(f + ":34:11: item code 'A1' is already used at " + f + ":4"));
        CHECK_THAT(what, Catch::Contains(dir.file("tax.yaml") + ":1:13: unknown department 'tax'"));
    }
}

TEST_CASE("Catalog: step limits beyond the item's limit and repeated codes are refused") {
    ow::testkit::TempDir dir;
    write(dir, "public-security", R"(
  - code: "P1"
    name: 户口迁移
    kind: license
    handling_type: promised
    promised_limit: { days: 5, unit: working }
    steps:
      - { code: undertake, name: 承办, limit_days: 3 }
      - { code: approve, name: 批准, limit_days: 3 }
    publications: { content: a, basis: b, conditions: c, materials: d, procedure: e, time_limit: f, fee_standard: g, results: h }
  - code: "P1"
    name: 重复
    kind: license
    handling_type: promised
    promised_limit: { days: 5, unit: working }
    publications: { content: a, basis: b, conditions: c, materials: d, procedure: e, time_limit: f, fee_standard: g, results: h }
)");
    try {
        loadCatalog(dir.path(), kUnits);
        FAIL("a broken catalog was accepted");
    } catch (const DataError& e) {
        const std::string f = pathOf(dir, "public-security");
        CHECK_THAT(e.what(), Catch::Contains(f + ":10:7: the counted steps take 6 days together, "
                                                 "more than the promised 5 in item P1"));
        CHECK_THAT(e.what(),
                   Catch::Contains(f + ":13:11: item code 'P1' is already used at " + f + ":4"));
    }
}
