// ow-gongshang-sim: a stand-in for 工商局's (industry and commerce) approval system, speaking
// exactly the protocol of adapters/industry-commerce (gongshang/Wire.h):
//
//   POST /api/v1/applications   {SBLSH, SXBM, ...} -> {"code":"0","data":{"YWLSH":"GS..."}}
//                               (the same SBLSH again: the same YWLSH; an item that is not
//                               工商局's: code 1002; no or a wrong token: code 1003)
//   GET  /api/v1/updates?limit=N  the updates not yet acknowledged, oldest first
//   POST /api/v1/updates/ack    {"XH": n}: everything up to n is acknowledged
//
// Each application then takes its course, one step every --step-ms: 登记 (DJ), 承办, 审核,
// 批准 (SP) and 办结 (BJ, a licence number); every --return-every-th case is refused at 承办
// and returned (BJJGDM 1), every --supplement-every-th asks for a supplement (BZ) first.
// --fail-every N answers every N-th request HTTP 500. On SIGTERM/SIGINT a summary line goes
// to stdout.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/Simulator.h"

using nlohmann::json;

namespace {

struct Arguments {
    int port = 0;
    std::string portFile, token;
    int stepMs = 30, failEvery = 0, returnEvery = 0, supplementEvery = 0;
};

Arguments parse(int argc, char** argv) {
    Arguments a;
    ow::testkit::SimulatorOptions o(
        "ow-gongshang-sim", "ow-gongshang-sim --port N [--port-file F] [--token T] [--step-ms M] "
                            "[--fail-every N] [--return-every N] [--supplement-every N]");
    o.parse(argc, argv, [&](const std::string& name) {
        if (name == "--port")
            a.port = o.number();
        else if (name == "--port-file")
            a.portFile = o.text();
        else if (name == "--token")
            a.token = o.text();
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
    return a;
}

class Department {
public:
    explicit Department(const Arguments& a) : a_(a) {}

    ow::testkit::Reply answer(const ow::testkit::ReceivedRequest& q) {
        ow::testkit::Reply r;
        r.headers.emplace_back("Content-Type", "application/json;charset=UTF-8");
        std::lock_guard lock(mu_);
        ++requests_;
        if (a_.failEvery > 0 && requests_ % a_.failEvery == 0) {
            r.status = 500;
            r.body = "<html><body>500 Internal Server Error</body></html>";
            return r;
        }
        auto reply = [&](json body) {
            r.body = body.dump();
            return r;
        };
        if (!a_.token.empty()) {
            std::string token;
            for (const auto& [k, v] : q.headers) {
                std::string lower = k;
                for (auto& c : lower)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                if (lower == "token") token = v;
            }
            if (token != a_.token) return reply({{"code", "1003"}, {"msg", "token 无效"}});
        }
        const std::string path = q.path.substr(0, q.path.find('?'));
        if (q.method == "POST" && path == "/api/v1/applications") return reply(apply(q.body));
        if (q.method == "GET" && path == "/api/v1/updates") {
            int limit = 100;
            if (auto p = q.path.find("limit="); p != std::string::npos)
                limit = std::max(1, std::atoi(q.path.c_str() + p + 6));
            return reply(updates(limit));
        }
        if (q.method == "POST" && path == "/api/v1/updates/ack") {
            const json b = json::parse(q.body, nullptr, false);
            if (!b.is_object() || !b.contains("XH") || !b["XH"].is_number_integer())
                return reply({{"code", "1001"}, {"msg", "XH 必填"}});
            feed_.acknowledge(b["XH"].get<long long>());
            return reply({{"code", "0"}, {"msg", "成功"}});
        }
        r.status = 404;
        return reply({{"code", "404"}, {"msg", "no such interface"}});
    }

    json summary() {
        std::lock_guard lock(mu_);
        return {{"requests", requests_},     {"applications", cases_.size()},
                {"duplicates", duplicates_}, {"updates", feed_.released()},
                {"acked", feed_.acked()},    {"pending", feed_.pending()}};
    }

private:
    json apply(const std::string& body) {
        const json b = json::parse(body, nullptr, false);
        if (!b.is_object()) return {{"code", "1001"}, {"msg", "请求报文不是 JSON"}};
        for (const char* f : {"SBLSH", "SXBM"})
            if (!b.contains(f) || !b[f].is_string() || b[f].get<std::string>().empty())
                return {{"code", "1001"}, {"msg", std::string("必填项缺失: ") + f}};
        const std::string sblsh = b["SBLSH"], sxbm = b["SXBM"];
        if (sxbm.rfind("350581003785001", 0) != 0)
            return {{"code", "1002"}, {"msg", "事项编码 " + sxbm + " 不属于本部门"}};
        if (auto it = cases_.find(sblsh); it != cases_.end()) {
            ++duplicates_;
            return {{"code", "0"}, {"msg", "已受理"}, {"data", {{"YWLSH", it->second}}}};
        }
        char ywlsh[48];
        std::snprintf(ywlsh, sizeof ywlsh, "GS2026%06zu", cases_.size() + 1);
        cases_[sblsh] = ywlsh;
        const std::size_t n = cases_.size();
        ow::testkit::CaseScript c;
        c.sblsh = sblsh;
        c.ywlsh = ywlsh;
        ow::testkit::setCourse(c, n, a_.returnEvery, a_.supplementEvery);
        c.supplementReason = "股东会决议缺少签字";
        c.supplementMaterials = "股东会决议；章程修正案";
        c.returnOpinion = "经营范围涉及前置许可，材料不全";
        c.handlers = {"陈承办", "林审核", "黄批准"};
        c.conclusion = "准予设立登记";
        c.licenceNo = std::string("91350581MA") + (ywlsh + 6);
        c.licenceName = "营业执照";
        feed_.scheduleSteps(ow::testkit::handlingRecords(c), ow::testkit::steadyMs(), a_.stepMs);
        return {{"code", "0"}, {"msg", "成功"}, {"data", {{"YWLSH", ywlsh}}}};
    }

    json updates(int limit) {
        return {{"code", "0"},
                {"msg", "成功"},
                {"data", feed_.page(static_cast<std::size_t>(limit), ow::testkit::steadyMs())}};
    }

    const Arguments& a_;
    std::mutex mu_;
    std::map<std::string, std::string> cases_;
    ow::testkit::ReleasedFeed feed_{"XH"};
    long requests_ = 0, duplicates_ = 0;
};

} // namespace

int main(int argc, char** argv) {
    const Arguments args = parse(argc, argv);
    Department dept(args);
    return ow::testkit::serveSimulator(
        "ow-gongshang-sim", args.port, args.portFile,
        [&](const ow::testkit::ReceivedRequest& q, int) { return dept.answer(q); },
        [&] { return dept.summary(); });
}
