// ow-supervision-sim: a stand-in for the efficiency office's e-supervision system (效能办 电子
// 监察) as the e-supervision adapter talks to it: HTTP POSTs whose body is one exchange object
// (DOMAIN §1.2: SPTYPE, SBLSH, ... ; binary-mode CloudEvents, the id in ce-id). It answers like
// the real receivers do (Shandong's: {"code":"200"} on success) and refuses what they refuse:
//
//   - an object without SPTYPE / SBLSH / XZQHDM / VERSION, or without its type's own fields
//     (办结 with BJJGDM 0 needs SFJE; 受理 not accepted needs BSLYY);
//   - anything of a case before its basic information (申办 / 预受理 / 受理): 400;
//   - a step, special node or supplement after the case's conclusion: 400 (a correction of a
//     record, VERSION 2 and up, is accepted: it replaces what was received).
//
// A repeated ce-id is answered 200 and not recorded twice. --fail-every N answers every N-th
// request 500 (before looking at it), --slow-ms M delays every answer: the hub must retry and
// keep each case's order. --record FILE appends every accepted object as a JSON line
// {"id":..., "object":{...}}; on SIGTERM/SIGINT a summary line goes to stdout.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/Simulator.h"

using nlohmann::json;

namespace {

struct Arguments {
    int port = 0;
    std::string portFile, recordFile;
    int failEvery = 0;
    int slowMs = 0;
};

Arguments parse(int argc, char** argv) {
    Arguments a;
    ow::testkit::SimulatorOptions o("ow-supervision-sim",
                                    "ow-supervision-sim --port N (0 = pick) [--port-file FILE] "
                                    "[--record FILE] [--fail-every N] [--slow-ms M]");
    o.parse(argc, argv, [&](const std::string& name) {
        if (name == "--port")
            a.port = o.number();
        else if (name == "--port-file")
            a.portFile = o.text();
        else if (name == "--record")
            a.recordFile = o.text();
        else if (name == "--fail-every")
            a.failEvery = o.number();
        else if (name == "--slow-ms")
            a.slowMs = o.number();
        else
            return false;
        return true;
    });
    return a;
}

// The fields each object type must carry besides the common ones.
const std::map<std::string, std::vector<const char*>> Required = {
    {"0", {"SBSJ"}},           {"1", {"YSLZTDM", "YSLSJ"}},
    {"2", {"SLZTDM", "SLSJ"}}, {"3", {"SPHJDM", "SPHJMC", "SPSJ"}},
    {"4", {"BJJGDM", "BJSJ"}}, {"5", {"TBCXZL", "TBCXKSRQ", "TBCXSXDW"}},
    {"6", {"TBCXJSRQ"}},       {"7", {"BZGZSJ"}},
    {"8", {"BZSJ"}},           {"9", {"LQSJ"}},
    {"YJ", {"YJJB"}},          {"YJJC", {}}};

class Supervision {
public:
    explicit Supervision(const Arguments& a) : a_(a) {
        if (!a.recordFile.empty()) record_.open(a.recordFile, std::ios::app);
    }

    ow::testkit::Reply answer(const ow::testkit::ReceivedRequest& q) {
        ow::testkit::Reply r;
        r.delay = std::chrono::milliseconds(a_.slowMs);
        r.headers.emplace_back("Content-Type", "application/json");
        std::lock_guard lock(mu_);
        ++requests_;
        if (a_.failEvery > 0 && requests_ % a_.failEvery == 0) {
            ++failed_;
            r.status = 500;
            r.body = R"({"code":"500","msg":"exchange platform busy"})";
            return r;
        }
        std::string id;
        for (const auto& [k, v] : q.headers)
            if (k.size() == 5 && (k[0] | 0x20) == 'c' && (k[1] | 0x20) == 'e' && k[2] == '-' &&
                (k[3] | 0x20) == 'i' && (k[4] | 0x20) == 'd')
                id = v;
        auto refuse = [&](const std::string& why) {
            ++refused_;
            r.status = 400;
            r.body = json{{"code", "400"}, {"msg", why}}.dump();
            return r;
        };
        const json o = json::parse(q.body, nullptr, false);
        if (!o.is_object()) return refuse("the body is not a JSON object");
        for (const char* f : {"SPTYPE", "SBLSH", "XZQHDM", "VERSION"})
            if (!o.contains(f)) return refuse(std::string("missing ") + f);
        const std::string type = o["SPTYPE"].is_string() ? o["SPTYPE"].get<std::string>() : "";
        auto req = Required.find(type);
        if (req == Required.end()) return refuse("unknown SPTYPE " + o["SPTYPE"].dump());
        for (const char* f : req->second)
            if (!o.contains(f)) return refuse("SPTYPE " + type + " needs " + f);
        if (type == "4" && o["BJJGDM"] == "0" && !o.contains("SFJE"))
            return refuse("办结 with BJJGDM 0 needs SFJE");
        if (type == "2" && o["SLZTDM"] != "1" && !o.contains("BSLYY"))
            return refuse("受理 not accepted needs BSLYY (the reason)");
        if (!id.empty() && seen_.count(id)) {
            r.body = R"({"code":"200","msg":"already received"})";
            return r;
        }
        const std::string caseNo = o["SBLSH"].get<std::string>();
        auto& c = cases_[caseNo];
        const bool basic = type == "0" || type == "1" || type == "2";
        const bool alert = type == "YJ" || type == "YJJC";
        if (!basic && !alert && !c.basic)
            return refuse("case " + caseNo + ": SPTYPE " + type +
                          " before its basic information (申办/受理)");
        // A correction (VERSION 2 and up, the department corrected its record) replaces what
        // was received; it is not a new step, so it may come after the conclusion.
        const auto& version = o["VERSION"];
        const bool correction = (version.is_number_integer() && version.get<long long>() > 1) ||
                                (version.is_string() && version.get<std::string>() != "1");
        if (correction) ++corrections_;
        if (!basic && !alert && type != "4" && type != "9" && c.concluded && !correction)
            return refuse("case " + caseNo + ": SPTYPE " + type + " after its conclusion (办结)");
        c.basic = c.basic || basic;
        c.concluded = c.concluded || type == "4";
        if (!id.empty()) seen_.insert(id);
        ++accepted_;
        if (record_) record_ << json{{"id", id}, {"object", o}}.dump() << std::endl;
        r.body = R"({"code":"200","msg":"ok"})";
        return r;
    }

    json summary() {
        std::lock_guard lock(mu_);
        return {{"requests", requests_},       {"accepted", accepted_}, {"refused", refused_},
                {"corrections", corrections_}, {"failed", failed_},     {"cases", cases_.size()}};
    }

private:
    struct Case {
        bool basic = false;
        bool concluded = false;
    };
    const Arguments& a_;
    std::mutex mu_;
    std::ofstream record_;
    std::map<std::string, Case> cases_;
    std::set<std::string> seen_;
    long requests_ = 0, accepted_ = 0, refused_ = 0, failed_ = 0, corrections_ = 0;
};

} // namespace

int main(int argc, char** argv) {
    const Arguments args = parse(argc, argv);
    Supervision sim(args);
    return ow::testkit::serveSimulator(
        "ow-supervision-sim", args.port, args.portFile,
        [&](const ow::testkit::ReceivedRequest& q, int) { return sim.answer(q); },
        [&] { return sim.summary(); });
}
