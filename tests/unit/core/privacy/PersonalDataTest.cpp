// Personal data found and masked: resident ID numbers (GB 11643 check digit, a real birth
// date), mobiles, and the fields an operator declares; the center's case and notice numbers
// and hashes stay as they are.
#include <catch2/catch.hpp>

#include "core/privacy/PersonalData.h"

using namespace ow::privacy;
using nlohmann::json;

TEST_CASE("PersonalData: resident ID numbers and mobiles are recognised", "[privacy]") {
    CHECK(isResidentId("350581199003071231"));
    CHECK(isResidentId("11010519491231002X"));
    CHECK(isResidentId("11010519491231002x"));
    CHECK_FALSE(isResidentId("350581199003071232")); // wrong check digit
    CHECK_FALSE(isResidentId("350581199013071236")); // month 13
    CHECK_FALSE(isResidentId("35058119900307123"));  // 17 characters
    CHECK(isMobile("13859501234"));
    CHECK_FALSE(isMobile("12859501234"));
    CHECK_FALSE(isMobile("1385950123"));
}

TEST_CASE("PersonalData: masking keeps what tells records apart", "[privacy]") {
    CHECK(maskValue("350581199003071231") == "350581********1231");
    CHECK(maskValue("13859501234") == "138****1234");
    CHECK(maskValue("张三") == "张*");
    CHECK(maskValue("欧阳娜娜") == "欧阳**");
    CHECK(maskValue("福建省石狮市湖滨街道12号") == "福建省石狮********");
    CHECK(maskValue("X") == "*");
    CHECK(maskValue("") == "");
}

TEST_CASE("PersonalData: free text is masked where an ID or a mobile stands alone", "[privacy]") {
    CHECK(maskText("申请人身份证350581199003071231，手机13859501234。") ==
          "申请人身份证350581********1231，手机138****1234。");
    CHECK(maskText("id=11010519491231002X tel:13859501234") ==
          "id=110105********002X tel:138****1234");
    // A 20-digit case number, an 18-digit notice number, hex hashes, a timestamp: untouched.
    for (const char* s : {"35058120260302000123", "350581202600000123", "a13859501234b",
                          "d0ea7359e5afed7c13859501234ff", "1796688348146", "350581199003071232"}) {
        INFO(s);
        CHECK(maskText(s) == s);
        CHECK_FALSE(containsPersonalData(s));
    }
    CHECK(containsPersonalData("call 13859501234"));
}

TEST_CASE("PersonalData: declared fields are masked or dropped, per event type", "[privacy]") {
    Declarations d;
    d.byType = {{"gov.case.*",
                 {"/data/applicant/id_number", "/data/applicant/name", "/data/contacts/*/mobile",
                  "/data/delivery"}}};
    const Masker masker(d);
    const json original = {
        {"specversion", "1.0"},
        {"type", "gov.case.accepted"},
        {"subject", "35058120260302000123"},
        {"data",
         {{"applicant", {{"id_number", "350581199003071231"}, {"name", "张三"}}},
          {"contacts", json::array({{{"mobile", "13859501234"}, {"role", "经办人"}}})},
          {"delivery", {{"address", "福建省石狮市湖滨街道12号"}, {"name", "李四"}}},
          {"note", "联系电话13900001111"}}}};

    json masked = original;
    masker.apply(masked, Treatment::Mask);
    CHECK(masked["data"]["applicant"]["id_number"] == "350581********1231");
    CHECK(masked["data"]["applicant"]["name"] == "张*");
    CHECK(masked["data"]["contacts"][0]["mobile"] == "138****1234");
    CHECK(masked["data"]["contacts"][0]["role"] == "经办人");
    CHECK(masked["data"]["delivery"]["address"] == "福建省石狮********");
    CHECK(masked["data"]["delivery"]["name"] == "李*");
    CHECK(masked["data"]["note"] == "联系电话139****1111"); // recognised, not declared
    CHECK(masked["subject"] == "35058120260302000123");

    json dropped = original;
    masker.apply(dropped, Treatment::Drop);
    CHECK_FALSE(dropped["data"]["applicant"].contains("id_number"));
    CHECK_FALSE(dropped["data"]["applicant"].contains("name"));
    CHECK_FALSE(dropped["data"]["contacts"][0].contains("mobile"));
    CHECK_FALSE(dropped["data"].contains("delivery"));
    CHECK(dropped["data"]["note"] == "联系电话139****1111");

    json kept = original;
    masker.apply(kept, Treatment::Keep);
    CHECK(kept == original);

    // Another type: only what is recognised.
    json other = original;
    other["type"] = "gov.fee.assessed";
    masker.apply(other, Treatment::Mask);
    CHECK(other["data"]["applicant"]["name"] == "张三");
    CHECK(other["data"]["applicant"]["id_number"] == "350581********1231");

    CHECK(masker.applyToText("not json 13859501234", Treatment::Mask) == "not json 138****1234");
}
