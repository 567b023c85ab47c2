// The public-security adapter with the SDK test kit, created through its own registration: the
// strict XML reader against well-formed, malformed and hostile documents; the application sink
// and the updates source against a fake 公安局 on loopback (plain HTTP: the TLS is the hub's,
// see tests/integration/PublicSecurityTest.cpp); the mapper with a TestProcessContext.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/testkit/TestKit.h>

#include "adapters/public-security/gongan/Wire.h"

namespace sdk = onewindow::sdk;
namespace testkit = onewindow::sdk::testkit;
namespace gongan = ow::adapters::gongan;
using nlohmann::json;
using Kind = sdk::Result::Kind;

namespace {

struct Env {
    testkit::FakeHttpPeer dept;
    testkit::PlainHttpClient http;
    testkit::TestRegistry registry{onewindow_plugin};
    std::unique_ptr<testkit::TestServices> env;

    explicit Env(const std::string& component) {
        sdk::Config given;
        if (component != "mapper") given.set("base_url", dept.url("/"));
        if (component == "updates") given.set("poll_ms", std::int64_t{10});
        if (component == "updates") given.set("timeout_ms", std::int64_t{1000});
        env = std::make_unique<testkit::TestServices>(
            testkit::configFor(registry.info(component).spec, given), "gongan");
        env->useHttp(http);
    }
};

sdk::Event accepted(const std::string& caseNo, const std::string& name = "陈某某") {
    return testkit::makeEvent("gov.case.accepted", caseNo,
                              json{{"item_code", "350581003785114N000101"},
                                   {"item_name", "户口迁移（市外迁入）"},
                                   {"applicant",
                                    {{"type", "person"},
                                     {"name", name},
                                     {"id_type", "111"},
                                     {"id_no", "350581199001011234"}}},
                                   {"occurred_at", "2026-03-02T10:15:00+08:00"}}
                                  .dump());
}

std::string answer(const std::string& code, const std::string& msg, const std::string& more = "") {
    return R"(<?xml version="1.0" encoding="UTF-8"?><FHXX><FHDM>)" + code + "</FHDM><FHMS>" + msg +
           "</FHMS>" + more + "</FHXX>";
}

std::string refusal(const std::string& xml, const gongan::XmlLimits& limits = {}) {
    try {
        gongan::parseXml(xml, limits);
    } catch (const gongan::XmlError& e) {
        return e.what();
    }
    return "(accepted)";
}

} // namespace

TEST_CASE("public-security XML: text is escaped, and what XML cannot carry is refused") {
    CHECK(gongan::xmlEscape(R"(A&B <公司> "x" 'y')") ==
          "A&amp;B &lt;公司&gt; &quot;x&quot; &apos;y&apos;");
    CHECK(gongan::xmlEscape("a\r\nb\tc") == "a&#13;\nb\tc");
    CHECK_THROWS_WITH(gongan::xmlEscape(std::string("bell\x07")),
                      Catch::Contains("control character (code 7)"));
    CHECK_THROWS_WITH(gongan::xmlEscape("\xC3\x28"), Catch::Contains("invalid UTF-8 at byte 0"));
    CHECK_THROWS_WITH(gongan::xmlEscape("\xED\xA0\x80"), Catch::Contains("invalid UTF-8"));
    std::string out;
    gongan::appendElement(out, "SXMC", "");
    gongan::appendElement(out, "SQRMC", "<陈>");
    CHECK(out == "<SXMC/><SQRMC>&lt;陈&gt;</SQRMC>");
    // What is written reads back the same.
    const std::string hostile = "</SQRMC><FHDM>0</FHDM>&amp;\"'";
    out = "<R>";
    gongan::appendElement(out, "SQRMC", hostile);
    out += "</R>";
    const auto back = gongan::parseXml(out);
    REQUIRE(back.children.size() == 1);
    CHECK(back.childText("SQRMC") == hostile);
}

TEST_CASE("public-security XML: the flat records the department sends are read") {
    const auto root = gongan::parseXml("\xEF\xBB\xBF"
                                       R"(<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<!-- 公安局 综合业务平台 -->
<FHXX version='1'>
  <FHDM>0</FHDM>
  <FHMS>成功 &amp; 完成 &#x4E2D;&#25991; &lt;ok&gt;</FHMS>
  <BZ><![CDATA[<不是标签> & 不是实体]]></BZ>
  <KONG/>
  <JLS>
    <JL><XH>1</XH><LX>DJ</LX></JL>
    <JL><XH>2</XH><LX>SP</LX></JL>
  </JLS>
</FHXX>
<!-- end -->
)");
    CHECK(root.name == "FHXX");
    CHECK(root.childText("FHDM") == "0");
    CHECK(root.childText("FHMS") == "成功 & 完成 中文 <ok>");
    CHECK(root.childText("BZ") == "<不是标签> & 不是实体");
    CHECK(root.child("KONG") != nullptr);
    CHECK(root.childText("KONG").empty());
    CHECK(root.child("NONE") == nullptr);
    const auto records = gongan::updateRecords(root);
    REQUIRE(records.size() == 2);
    CHECK(records[0] == json{{"XH", 1}, {"LX", "DJ"}});
    CHECK(records[1]["XH"] == 2);
    // No <JLS>: nothing new.
    CHECK(gongan::updateRecords(gongan::parseXml("<FHXX><FHDM>0</FHDM></FHXX>")).empty());
    CHECK_THROWS_WITH(
        gongan::updateRecords(gongan::parseXml("<FHXX><JLS><JL><XH>1</XH><XH>2</XH></JL></JLS>"
                                               "</FHXX>")),
        Catch::Contains("record 1 <JL>: <XH> appears twice"));
    CHECK_THROWS_WITH(
        gongan::updateRecords(gongan::parseXml("<FHXX><JLS><JL><XH>1</XH></JL><JX/></JLS></FHXX>")),
        Catch::Contains("record 2 <JX> is not a <JL>"));
}

TEST_CASE("public-security XML: malformed and hostile documents are refused with where and why",
          "[security]") {
    // Entity expansion (billion laughs) and external entities never get as far as an entity.
    CHECK_THAT(refusal(R"(<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<FHXX><FHDM>&lol2;</FHDM></FHXX>)"),
               Catch::Equals("line 2, column 1: a DTD (<!DOCTYPE) is not accepted"));
    CHECK_THAT(refusal(R"(<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>)"),
               Catch::Contains("a DTD (<!DOCTYPE) is not accepted"));
    CHECK_THAT(refusal("<FHXX><!ENTITY x \"y\"><FHDM>0</FHDM></FHXX>"),
               Catch::Contains("a DTD or entity declaration is not accepted"));
    CHECK_THAT(refusal("<FHXX><FHDM>&xxe;</FHDM></FHXX>"),
               Catch::Equals("line 1, column 13: entity '&xxe;' is not defined (only &amp; &lt; "
                             "&gt; &quot; &apos; and character references)"));
    CHECK_THAT(refusal("<r>&#0;</r>"), Catch::Contains("'&#0;' is not a character XML allows"));
    CHECK_THAT(refusal("<r>&#xD800;</r>"), Catch::Contains("is not a character XML allows"));
    CHECK_THAT(refusal("<r>&#99999999999;</r>"), Catch::Contains("'&' that starts no reference"));
    CHECK_THAT(refusal("<r>a & b</r>"), Catch::Contains("'&' that starts no reference"));
    // Broken structure.
    CHECK_THAT(refusal("<FHXX>\n  <FHDM>0</FHDM>\n  <FHMS>ok"),
               Catch::Equals("line 3, column 3: <FHMS> is not closed"));
    CHECK_THAT(refusal("<FHXX><FHDM>0</FHMS></FHXX>"),
               Catch::Contains("</FHMS> where </FHDM> was expected"));
    CHECK_THAT(refusal("<FHXX><FHDM>0</FHDM></FHXX><FHXX/>"),
               Catch::Contains("content after the root element </FHXX>"));
    CHECK_THAT(refusal("<FHXX>code <FHDM>0</FHDM></FHXX>"),
               Catch::Contains("<FHXX> mixes text and elements"));
    CHECK_THAT(refusal("<FHXX a=1/>"), Catch::Contains("an attribute value must be quoted"));
    CHECK_THAT(refusal("<FHXX a='1' a='2'/>"), Catch::Contains("attribute 'a' appears twice"));
    CHECK_THAT(refusal("<FHXX a='1'b='2'/>"),
               Catch::Contains("attributes must be separated by whitespace"));
    CHECK_THAT(refusal("<返回/>"), Catch::Contains("names are ASCII"));
    CHECK_THAT(refusal(""), Catch::Contains("no root element"));
    CHECK_THAT(refusal("成功"), Catch::Contains("text outside the root element"));
    CHECK_THAT(refusal("<r><?php echo 1; ?></r>"),
               Catch::Contains("a processing instruction (<?...?>) is not accepted"));
    CHECK_THAT(refusal("<r><![CDATA[x</r>"), Catch::Contains("a CDATA section is not closed"));
    CHECK_THAT(refusal("<r><!-- x </r>"), Catch::Contains("a comment is not closed"));
    // Other encodings, bad bytes and forbidden characters.
    CHECK_THAT(refusal(R"(<?xml version="1.0" encoding="GBK"?><r/>)"),
               Catch::Contains("encoding 'GBK' is not accepted: the interface is UTF-8"));
    CHECK_THAT(refusal("<r>\xB3\xC9\xB9\xA6</r>"),
               Catch::Equals("line 1, column 4: invalid UTF-8"));
    CHECK_THAT(refusal(std::string("<r>\0</r>", 8)), Catch::Contains("(U+0000)"));
    // Limits: size, depth, element count.
    CHECK_THAT(refusal("<r>" + std::string(2000, 'x') + "</r>", {1000, 8, 100}),
               Catch::Contains("the XML is 2007 bytes, over the limit of 1000"));
    std::string deep;
    for (int i = 0; i < 5; ++i)
        deep += "<a>";
    CHECK_THAT(refusal(deep, {1 << 20, 4, 100}),
               Catch::Contains("line 1, column 13: elements nested deeper than 4"));
    std::string many = "<r>";
    for (int i = 0; i < 200; ++i)
        many += "<x/>";
    CHECK_THAT(refusal(many + "</r>", {1 << 20, 4, 100}),
               Catch::Contains("more than 100 elements"));
    // A deep document cannot exhaust the stack: the depth stops it early.
    std::string abyss;
    for (int i = 0; i < 100000; ++i)
        abyss += "<a>";
    CHECK_THAT(refusal(abyss), Catch::Contains("elements nested deeper than 8"));
}

TEST_CASE("public-security applications: the <SQXX> document and the department's return codes") {
    Env t("applications");
    auto sink = t.registry.createSink("applications", t.env->services());
    t.dept.queueReply(testkit::PeerReply::answer(200, answer("0", "成功", "<YWLSH>GA1</YWLSH>")));
    CHECK(testkit::deliver(*sink, accepted("SS-1", "陈&<某>\"'")).kind == Kind::Ok);
    const auto req = t.dept.requests().at(0);
    CHECK(req.method == "POST");
    CHECK(req.path == "/ga/sqxx");
    CHECK(req.header("Content-Type") == "application/xml; charset=utf-8");
    CHECK(req.body.rfind(R"(<?xml version="1.0" encoding="UTF-8"?><SQXX><SBLSH>SS-1</SBLSH>)", 0) ==
          0);
    CHECK_THAT(req.body, Catch::Contains("<SQRMC>陈&amp;&lt;某&gt;&quot;&apos;</SQRMC>"));
    const auto sent = gongan::parseXml(req.body);
    CHECK(sent.name == "SQXX");
    CHECK(sent.childText("SXBM") == "350581003785114N000101");
    CHECK(sent.childText("SXMC") == "户口迁移（市外迁入）");
    CHECK(sent.childText("SQRMC") == "陈&<某>\"'");
    CHECK(sent.childText("SQRLX") == "1");
    CHECK(sent.childText("SQRZJLX") == "111");
    CHECK(sent.childText("SQRZJHM") == "350581199001011234");
    CHECK(sent.childText("SLSJ") == "2026-03-02 10:15:00");
    CHECK(sent.childText("XZQHDM") == "350581");

    SECTION("busy, 5xx, dropped connections and timeouts are retried") {
        t.dept.queueReply(testkit::PeerReply::answer(200, answer("99", "系统繁忙")));
        auto r = testkit::deliver(*sink, accepted("SS-2"));
        CHECK(r.kind == Kind::Retry);
        CHECK_THAT(r.reason, Catch::Contains("FHDM 99: 系统繁忙"));
        t.dept.queueReply(testkit::PeerReply::answer(500, "<html>oops</html>"));
        CHECK(testkit::deliver(*sink, accepted("SS-2")).kind == Kind::Retry);
        t.dept.queueReply(testkit::PeerReply::answer(503, answer("0", "ok")));
        CHECK(testkit::deliver(*sink, accepted("SS-2")).kind == Kind::Retry);
        t.dept.queueReply(testkit::PeerReply::drop());
        CHECK(testkit::deliver(*sink, accepted("SS-2")).kind == Kind::Retry);
    }
    SECTION("other codes and 4xx are refused with the department's message") {
        t.dept.queueReply(
            testkit::PeerReply::answer(200, answer("103", "事项编码 X 不属于本机关")));
        auto r = testkit::deliver(*sink, accepted("SS-3"));
        REQUIRE(r.kind == Kind::Reject);
        CHECK(r.reason == "公安局: FHDM 103: 事项编码 X 不属于本机关");
        t.dept.queueReply(testkit::PeerReply::answer(403, answer("401", "证书未授权")));
        r = testkit::deliver(*sink, accepted("SS-3"));
        REQUIRE(r.kind == Kind::Reject);
        CHECK_THAT(r.reason, Catch::Contains("HTTP 403, FHDM 401: 证书未授权"));
        t.dept.queueReply(testkit::PeerReply::answer(404, "not found"));
        r = testkit::deliver(*sink, accepted("SS-3"));
        REQUIRE(r.kind == Kind::Reject);
        CHECK_THAT(r.reason, Catch::Contains("HTTP 404: not found (not XML"));
    }
    SECTION("malformed or hostile answers are refused with why") {
        t.dept.queueReply(testkit::PeerReply::answer(
            200, R"(<!DOCTYPE x [<!ENTITY a "b">]><FHXX><FHDM>0</FHDM></FHXX>)"));
        auto r = testkit::deliver(*sink, accepted("SS-4"));
        REQUIRE(r.kind == Kind::Reject);
        CHECK_THAT(r.reason, Catch::Contains("HTTP 200, an answer that is not acceptable XML "
                                             "(line 1, column 1: a DTD (<!DOCTYPE) is not "
                                             "accepted)"));
        t.dept.queueReply(testkit::PeerReply::answer(200, "<FHXX><FHDM>0</FHDM>"));
        r = testkit::deliver(*sink, accepted("SS-4"));
        REQUIRE(r.kind == Kind::Reject);
        CHECK_THAT(r.reason, Catch::Contains("<FHXX> is not closed"));
        t.dept.queueReply(testkit::PeerReply::answer(200, "<RESULT><CODE>0</CODE></RESULT>"));
        r = testkit::deliver(*sink, accepted("SS-4"));
        REQUIRE(r.kind == Kind::Reject);
        CHECK_THAT(r.reason, Catch::Contains("an answer without <FHXX><FHDM> (root <RESULT>)"));
        t.dept.queueReply(testkit::PeerReply::answer(200, "<FHXX>" + std::string(1100000, ' ') +
                                                              "<FHDM>0</FHDM></FHXX>"));
        r = testkit::deliver(*sink, accepted("SS-4"));
        CHECK(r.kind != Kind::Ok);
    }
    SECTION("what cannot be sent is refused before anything is sent") {
        const auto before = t.dept.requests().size();
        auto r = testkit::deliver(*sink, testkit::makeEvent("gov.case.concluded", "SS-5"));
        CHECK(r.kind == Kind::Reject);
        r = testkit::deliver(*sink, accepted("", "x"));
        REQUIRE(r.kind == Kind::Reject);
        CHECK_THAT(r.reason, Catch::Contains("no case number"));
        r = testkit::deliver(*sink, accepted("SS-5", std::string("bell\x07")));
        REQUIRE(r.kind == Kind::Reject);
        CHECK_THAT(r.reason, Catch::Contains("cannot be written as XML: a control character"));
        CHECK(t.dept.requests().size() == before);
    }
}

TEST_CASE("public-security updates: journaled first, acknowledged after") {
    Env t("updates");
    auto source = t.registry.createSource("updates", t.env->services());
    const std::string two =
        answer("0", "成功",
               "<JLS><JL><XH>1</XH><LX>DJ</LX><YWLSH>GA1</YWLSH><SBLSH>SS-1</SBLSH></JL>"
               "<JL><XH>2</XH><LX>SP</LX><YWLSH>GA1</YWLSH><SPHJDM>1</SPHJDM>"
               "<SPSJ>2026-03-02 11:00:00</SPSJ></JL></JLS>");
    SECTION("emitted and durable: acknowledged up to the last XH") {
        t.dept.queueReply(testkit::PeerReply::answer(200, two));
        t.dept.setDefaultReply(testkit::PeerReply::answer(200, answer("0", "无新记录")));
        testkit::TestSourceContext ctx(1);
        CHECK(source->run(ctx).kind == Kind::Ok);
        REQUIRE(ctx.emitted().size() == 2);
        CHECK(ctx.emitted()[0].type == "dept.public-security.update");
        CHECK(ctx.emitted()[0].id == "gongan-update-1");
        CHECK(ctx.emitted()[1].id == "gongan-update-2");
        CHECK(json::parse(ctx.emitted()[1].data) == json{{"XH", 2},
                                                         {"LX", "SP"},
                                                         {"YWLSH", "GA1"},
                                                         {"SPHJDM", "1"},
                                                         {"SPSJ", "2026-03-02 11:00:00"}});
        const auto reqs = t.dept.requests();
        REQUIRE(reqs.size() >= 2);
        CHECK(reqs[0].target == "/ga/gxxx?limit=100");
        CHECK(reqs[1].path == "/ga/gxqr");
        CHECK(reqs[1].header("Content-Type") == "application/xml; charset=utf-8");
        CHECK(gongan::parseXml(reqs[1].body).childText("XH") == "2");
    }
    SECTION("not journaled: not acknowledged, so the department sends them again") {
        t.dept.setDefaultReply(testkit::PeerReply::answer(200, two));
        testkit::TestSourceContext ctx(2, /*emitOk=*/false);
        CHECK(source->run(ctx).kind == Kind::Ok);
        for (const auto& q : t.dept.requests())
            CHECK(q.path != "/ga/gxqr");
        CHECK(ctx.emitted().size() == 4); // the same two, twice
    }
    SECTION("a page that is not the department's XML is neither journaled nor acknowledged") {
        t.dept.queueReply(testkit::PeerReply::answer(
            200, "<!DOCTYPE FHXX [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><FHXX>&e;</FHXX>"));
        t.dept.queueReply(
            testkit::PeerReply::answer(200, answer("0", "", "<JLS><JL><XH/><JL/></JL></JLS>")));
        t.dept.queueReply(testkit::PeerReply::answer(500, "busy"));
        testkit::TestSourceContext ctx(3);
        CHECK(source->run(ctx).kind == Kind::Ok);
        CHECK(ctx.emitted().empty());
        for (const auto& q : t.dept.requests())
            CHECK(q.path != "/ga/gxqr");
    }
}

TEST_CASE("public-security mapper: the department's serial becomes the center's case") {
    Env t("mapper");
    auto mapper = t.registry.createProcessor("mapper", t.env->services());
    testkit::TestProcessContext ctx(t.env->clock());
    auto update = [&](json item) {
        auto e = testkit::makeEvent("dept.public-security.update", "", item.dump());
        return ctx.process(*mapper, e);
    };
    // A step before the registration is retried, not dropped.
    CHECK(update({{"XH", 2},
                  {"LX", "SP"},
                  {"YWLSH", "GA1"},
                  {"SPHJDM", "1"},
                  {"SPSJ", "2026-03-02 11:00:00"}})
              .kind == Kind::Retry);
    CHECK(update({{"XH", 1}, {"LX", "DJ"}, {"YWLSH", "GA1"}, {"SBLSH", "SS-1"}}).kind == Kind::Ok);
    CHECK(update({{"XH", 3},
                  {"LX", "BZ"},
                  {"YWLSH", "GA1"},
                  {"BZYY", "迁入条件证明不清晰"},
                  {"BZCL", "房产证；户口簿"},
                  {"BZSJ", "2026-03-02 10:30:00"}})
              .kind == Kind::Ok);
    CHECK(update({{"XH", 4},
                  {"LX", "SP"},
                  {"YWLSH", "GA1"},
                  {"SPHJDM", "1"},
                  {"SPHJMC", "承办"},
                  {"SPRXM", "王承办"},
                  {"SPJG", "1"},
                  {"SPSJ", "2026-03-02 11:00:00"}})
              .kind == Kind::Ok);
    CHECK(update({{"XH", 5},
                  {"LX", "BJ"},
                  {"YWLSH", "GA1"},
                  {"BJJGDM", "1"},
                  {"BJJGMS", "退回办结"},
                  {"BJSJ", "2026-03-03 09:30:00"}})
              .kind == Kind::Ok);
    const auto out = ctx.takeEmitted();
    CHECK(testkit::catalogProblems(out) == ""); // the event catalog's schemas
    REQUIRE(out.size() == 3);
    CHECK(out[0].type == "gov.case.supplement_requested");
    CHECK(out[0].source == "dept:public-security");
    CHECK(out[0].subject == "SS-1");
    CHECK(out[0].id == "gongan-3");
    auto d = json::parse(out[0].data);
    CHECK(d["dept_case_no"] == "GA1");
    CHECK(d["materials"] == json{"房产证", "户口簿"});
    CHECK(out[1].type == "gov.case.step_completed");
    d = json::parse(out[1].data);
    CHECK(d["case_no"] == "SS-1");
    CHECK(d["step_code"] == "undertake");
    CHECK(d["handler"] == "王承办");
    CHECK(d["occurred_at"] == "2026-03-02T11:00:00+08:00");
    CHECK(out[2].type == "gov.case.concluded");
    CHECK(json::parse(out[2].data)["result_code"] == 1);
    // Wrong data is refused with the reason; other events pass untouched.
    auto r = update({{"XH", 6}, {"LX", "BJ"}, {"YWLSH", "GA1"}, {"BJSJ", "2026-03-03 09:30:00"}});
    REQUIRE(r.kind == Kind::Reject);
    CHECK_THAT(r.reason, Catch::Contains("BJJGDM is missing"));
    r = update({{"XH", 7}, {"LX", "SP"}});
    REQUIRE(r.kind == Kind::Reject);
    CHECK(r.reason == "update without YWLSH");
    CHECK(ctx.process(*mapper, testkit::makeEvent("gov.case.accepted", "SS-9")).kind == Kind::Ok);
    CHECK(ctx.takeEmitted().empty());
}

TEST_CASE("public-security updates: a 公安局 that cannot be read is unavailable, with what "
          "happened") {
    Env t("updates");
    auto source = t.registry.createSource("updates", t.env->services());
    struct Case {
        const char* what;
        testkit::PeerReply reply;
        std::string reason; // how the reason starts
    };
    const std::vector<Case> cases = {
        {"a dropped connection", testkit::PeerReply::drop(), "公安局 did not answer: "},
        {"no answer in time", testkit::PeerReply::hold(), "公安局 did not answer: "},
        {"an empty body", testkit::PeerReply::answer(200, ""),
         "公安局 answered HTTP 200 with an empty body"},
        {"a body that is not XML", testkit::PeerReply::answer(200, R"({"records":[]})"),
         "公安局: HTTP 200, an answer that is not acceptable XML"},
        {"XML that is not its answer", testkit::PeerReply::answer(200, "<html><b>x</b></html>"),
         "公安局: HTTP 200, an answer without <FHXX><FHDM> (root <html>)"},
        {"records that are not records",
         testkit::PeerReply::answer(200, answer("0", "", "<JLS><XX>1</XX></JLS>")),
         "公安局: record 1 <XX> is not a <JL>"},
        {"busy", testkit::PeerReply::answer(200, answer("99", "系统繁忙")),
         "公安局: FHDM 99: 系统繁忙"},
        {"a server error", testkit::PeerReply::answer(500, "busy"), "公安局 answered HTTP 500"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        t.dept.setDefaultReply(c.reply);
        testkit::TestSourceContext ctx(1);
        sdk::Result r;
        REQUIRE_NOTHROW(r = source->run(ctx));
        CHECK(r.kind == Kind::Ok);
        REQUIRE(ctx.outages().size() == 1);
        INFO(ctx.outages()[0].reason);
        CHECK(ctx.outages()[0].reason.rfind(c.reason, 0) == 0);
        CHECK(ctx.answered() == 0);
        CHECK(ctx.emitted().empty());
    }
}
