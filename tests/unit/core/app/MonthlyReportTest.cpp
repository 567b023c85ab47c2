#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/app/MonthlyReport.h"
#include "core/store/Journal.h"
#include "tests/support/TempDir.h"

using namespace ow;
using nlohmann::json;

namespace {

void fill(store::PluginState& st) {
    json columns = {{"group",
                     {{{"key", "department_name"}, {"label", "部门"}},
                      {{"key", "item_name"}, {"label", "事项"}}}},
                    {"columns",
                     {{{"key", "received"}, {"label", "收件"}, {"chart", true}},
                      {{"key", "concluded"}, {"label", "办结"}},
                      {{"key", "avg_working_days"},
                       {"label", "平均办结工作日"},
                       {"ratio", {"days_sum", "concluded"}}}}}};
    st.put("ledger", "stats/_columns", columns.dump());
    st.put("ledger", "stats/2026-03/land-resources/L1",
           json{{"department_name", "国土资源局"},
                {"item_name", "土地登记, 初始"},
                {"received", 4},
                {"concluded", 2},
                {"days_sum", 7}}
               .dump());
    st.put("ledger", "stats/2026-03/industry-commerce/G2",
           json{{"department_name", "工商局"}, {"item_name", "变更登记"}, {"received", 1}}.dump());
    st.put("ledger", "stats/2026-03/industry-commerce/G1",
           json{{"department_name", "工商局"},
                {"item_name", "设立登记"},
                {"received", 3},
                {"concluded", 3},
                {"days_sum", 6}}
               .dump());
    st.put("ledger", "stats/2026-04/industry-commerce/G1", json{{"received", 99}}.dump());
}

} // namespace

TEST_CASE("Monthly report: CSV rows, subtotals and total, with ratio columns", "[report]") {
    testkit::TempDir dir;
    store::Journal j(dir.path(), "full");
    store::PluginState st(j.database());
    fill(st);
    const auto r = app::readMonthlyReport(st, "ledger", "2026-03");
    REQUIRE(r.rows.size() == 3); // April's row is not March's
    const std::string csv = app::reportCsv(r);
    CHECK(csv == "\xEF\xBB\xBF"
                 "月份,部门,事项,收件,办结,平均办结工作日\r\n"
                 "2026-03,国土资源局,\"土地登记, 初始\",4,2,3.5\r\n"
                 "2026-03,国土资源局,小计,4,2,3.5\r\n"
                 "2026-03,工商局,变更登记,1,0,\r\n"
                 "2026-03,工商局,设立登记,3,3,2.0\r\n"
                 "2026-03,工商局,小计,4,3,2.0\r\n"
                 "2026-03,合计,,8,5,2.6\r\n");
    const std::string html = app::reportHtml(r);
    CHECK_THAT(html, Catch::Contains("<svg") && Catch::Contains("工商局 小计") &&
                         Catch::Contains("土地登记, 初始") &&
                         Catch::Contains("<title>收件 4</title>"));
    CHECK_THAT(app::reportSummary(r), Catch::Contains("合计: 收件 8 办结 5 平均办结工作日 2.6"));
}

TEST_CASE("Monthly report: a processor without statistics is named in the error", "[report]") {
    testkit::TempDir dir;
    store::Journal j(dir.path(), "full");
    store::PluginState st(j.database());
    CHECK_THROWS_WITH(app::readMonthlyReport(st, "ledger", "2026-03"),
                      Catch::Contains("processor 'ledger' keeps no statistics"));
}
