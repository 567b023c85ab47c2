// ow-gongan-sim: a stand-in for 公安局's (public security) approval system, speaking exactly the
// protocol of adapters/public-security (gongan/Wire.h): XML over HTTPS, serving only clients
// that present a certificate its client CA issued.
//
//   POST /ga/sqxx   <SQXX><SBLSH/><SXBM/>...</SQXX>  ->  <FHXX><FHDM>0</FHDM><FHMS>成功</FHMS>
//                   <YWLSH>GA...</YWLSH></FHXX> (the same SBLSH again: the same YWLSH; not XML:
//                   101; SBLSH or SXBM missing: 102; an item that is not 公安局's: 103; a body
//                   that is not application/xml: HTTP 415)
//   GET  /ga/gxxx?limit=N   the update records not yet acknowledged, oldest first, in <JLS><JL>
//   POST /ga/gxqr   <QRXX><XH>n</XH></QRXX>: everything up to n is acknowledged
//
// Each application then takes its course, one record every --step-ms: 登记 (DJ), 承办, 审核,
// 批准 (SP) and 办结 (BJ, a certificate number); every --return-every-th case is refused at 承办
// and returned (BJJGDM 1), every --supplement-every-th asks for a supplement (BZ) first.
// --fail-every N answers every N-th request to each interface HTTP 500 (counted per interface,
// so the frequent feed polls cannot take every failure and spare the applications). It reads
// requests with POCO's XML parser (not the adapter's), so the adapter's documents are checked by
// another reader. On SIGTERM/SIGINT a summary line goes to stdout.
#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/Node.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/Exception.h>
#include <Poco/SAX/XMLReader.h>
#include <nlohmann/json.hpp>

#include "tests/support/Simulator.h"

using nlohmann::json;

namespace {

struct Arguments {
    int port = 0;
    std::string portFile;
    ow::testkit::SimulatorTls tls;
    int stepMs = 30, failEvery = 0, returnEvery = 0, supplementEvery = 0;
};

Arguments parse(int argc, char** argv) {
    Arguments a;
    ow::testkit::SimulatorOptions o(
        "ow-gongan-sim",
        "ow-gongan-sim --port N [--port-file F] --cert F --key F [--client-ca F] [--step-ms M] "
        "[--fail-every N] [--return-every N] [--supplement-every N]");
    o.parse(argc, argv, [&](const std::string& name) {
        if (name == "--port")
            a.port = o.number();
        else if (name == "--port-file")
            a.portFile = o.text();
        else if (name == "--cert")
            a.tls.certFile = o.text();
        else if (name == "--key")
            a.tls.keyFile = o.text();
        else if (name == "--client-ca")
            a.tls.clientCaFile = o.text();
        else if (name == "--step-ms")
            a.stepMs = o.number();
        else if (name == "--fail-every")
            a.failEvery = o.number();
        else if (name == "--return-every")
            a.returnEvery = o.number();
        else if (name == "--supplement-every")
            a.supplementEvery = o.number();
        else
            return false;
        return true;
    });
    if (a.tls.certFile.empty() || a.tls.keyFile.empty())
        o.fail("the interface is HTTPS only: --cert and --key are required");
    return a;
}

std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

/// The fields of a flat document (<ROOT><F>text</F>...</ROOT>) and its root's name; throws
/// Poco exceptions for anything that is not well-formed XML.
std::map<std::string, std::string> fields(const std::string& body, std::string& root) {
    Poco::XML::DOMParser parser;
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
    Poco::AutoPtr<Poco::XML::Document> doc = parser.parseString(body);
    const Poco::XML::Element* top = doc->documentElement();
    root = top->nodeName();
    std::map<std::string, std::string> out;
    for (auto* n = top->firstChild(); n; n = n->nextSibling())
        if (n->nodeType() == Poco::XML::Node::ELEMENT_NODE) out[n->nodeName()] = n->innerText();
    return out;
}

class Department {
public:
    explicit Department(const Arguments& a) : a_(a) {}

    ow::testkit::Reply answer(const ow::testkit::ReceivedRequest& q) {
        ow::testkit::Reply r;
        r.headers.emplace_back("Content-Type", "application/xml;charset=UTF-8");
        std::lock_guard lock(mu_);
        ++requests_;
        const long nth = ++perInterface_[q.method + " " + q.path.substr(0, q.path.find('?'))];
        if (a_.failEvery > 0 && nth % a_.failEvery == 0) {
            r.status = 500;
            r.headers.clear();
            r.body = "<html><body>500 Internal Server Error</body></html>";
            return r;
        }
        auto reply = [&](const std::string& code, const std::string& msg,
                         const std::string& more = "") {
            r.body = R"(<?xml version="1.0" encoding="UTF-8"?><FHXX><FHDM>)" + code +
                     "</FHDM><FHMS>" + escape(msg) + "</FHMS>" + more + "</FHXX>";
            return r;
        };
        const std::string path = q.path.substr(0, q.path.find('?'));
        if (q.method == "POST" && q.header("Content-Type").rfind("application/xml", 0) != 0) {
            r.status = 415;
            return reply("415", "请求报文须为 application/xml");
        }
        if (q.method == "POST" && path == "/ga/sqxx") return apply(q.body, reply);
        if (q.method == "GET" && path == "/ga/gxxx") {
            int limit = 100;
            if (auto p = q.path.find("limit="); p != std::string::npos)
                limit = std::max(1, std::atoi(q.path.c_str() + p + 6));
            return reply("0", "成功", records(limit));
        }
        if (q.method == "POST" && path == "/ga/gxqr") {
            std::string root;
            try {
                const auto f = fields(q.body, root);
                const auto xh = f.find("XH");
                if (root != "QRXX" || xh == f.end() || xh->second.empty() ||
                    xh->second.find_first_not_of("0123456789") != std::string::npos)
                    return reply("102", "必填项缺失: XH");
                feed_.acknowledge(std::stoll(xh->second));
                return reply("0", "成功");
            } catch (const Poco::Exception& e) {
                return reply("101", "报文格式错误: " + e.displayText());
            }
        }
        r.status = 404;
        return reply("404", "无此接口");
    }

    json summary() {
        std::lock_guard lock(mu_);
        return {{"requests", requests_},     {"applications", cases_.size()},
                {"duplicates", duplicates_}, {"refused", refused_},
                {"malformed", malformed_},   {"updates", feed_.released()},
                {"acked", feed_.acked()},    {"pending", feed_.pending()}};
    }

private:
    template <typename Reply> ow::testkit::Reply apply(const std::string& body, Reply reply) {
        std::string root;
        std::map<std::string, std::string> f;
        try {
            f = fields(body, root);
        } catch (const Poco::Exception& e) {
            ++malformed_;
            return reply("101", "报文格式错误: " + e.displayText());
        }
        if (root != "SQXX") {
            ++malformed_;
            return reply("101", "报文格式错误: 根元素应为 SQXX");
        }
        for (const char* k : {"SBLSH", "SXBM"})
            if (f[k].empty()) {
                ++refused_;
                return reply("102", std::string("必填项缺失: ") + k);
            }
        const std::string sblsh = f["SBLSH"], sxbm = f["SXBM"];
        if (sxbm.rfind("350581003785114", 0) != 0) {
            ++refused_;
            return reply("103", "事项编码 " + sxbm + " 不属于本机关");
        }
        if (auto it = cases_.find(sblsh); it != cases_.end()) {
            ++duplicates_;
            return reply("0", "已受理", "<YWLSH>" + it->second + "</YWLSH>");
        }
        char ywlsh[48];
        std::snprintf(ywlsh, sizeof ywlsh, "GA2026%06zu", cases_.size() + 1);
        cases_[sblsh] = ywlsh;
        schedule(sblsh, ywlsh, cases_.size());
        return reply("0", "成功", std::string("<YWLSH>") + ywlsh + "</YWLSH>");
    }

    void schedule(const std::string& sblsh, const std::string& ywlsh, std::size_t n) {
        ow::testkit::CaseScript c;
        c.sblsh = sblsh;
        c.ywlsh = ywlsh;
        ow::testkit::setCourse(c, n, a_.returnEvery, a_.supplementEvery);
        c.supplementReason = "迁入条件证明材料不清晰";
        c.supplementMaterials = "房屋所有权证；居民户口簿";
        c.returnOpinion = "不符合迁入条件 <第十条> & 相关规定";
        c.handlers = {"王承办", "李审核", "张批准"};
        c.conclusion = "准予办理";
        c.licenceNo = std::string("GAZ") + (ywlsh.c_str() + 6);
        c.licenceName = "准予迁入证明";
        feed_.scheduleSteps(ow::testkit::handlingRecords(c), ow::testkit::steadyMs(), a_.stepMs);
    }

    std::string records(int limit) {
        const json page = feed_.page(static_cast<std::size_t>(limit), ow::testkit::steadyMs());
        if (page.empty()) return {};
        std::string x = "<JLS>";
        for (const auto& record : page) {
            x += "<JL>";
            for (const auto& [k, v] : record.items())
                x += "<" + k + ">" + escape(v.is_string() ? v.get<std::string>() : v.dump()) +
                     "</" + k + ">";
            x += "</JL>";
        }
        return x + "</JLS>";
    }

    const Arguments& a_;
    std::mutex mu_;
    std::map<std::string, std::string> cases_;
    ow::testkit::ReleasedFeed feed_{"XH"};
    long requests_ = 0, duplicates_ = 0, refused_ = 0, malformed_ = 0;
    std::map<std::string, long> perInterface_; // "POST /ga/sqxx" -> requests so far
};

} // namespace

int main(int argc, char** argv) {
    const Arguments args = parse(argc, argv);
    Department dept(args);
    return ow::testkit::serveSimulator(
        "ow-gongan-sim", args.port, args.portFile,
        [&](const ow::testkit::ReceivedRequest& q, int) { return dept.answer(q); },
        [&] { return dept.summary(); }, args.tls);
}
