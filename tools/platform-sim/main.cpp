// ow-platform-sim: a stand-in for the intranet approval platform (内网审批管理信息系统) as the
// intranet-platform adapter's status sink talks to it. Each case's status changes arrive as
// structured CloudEvents, POST /api/cases/{case_no}/events with `Authorization: Bearer
// <token>`, numbered by the CloudEvents `sequence` extension; the platform applies them
// strictly in that order, as the real one does with a case's history:
//
//   - the next sequence of the case: applied, 200 {"applied": n};
//   - one below it (a repeat): 200 {"applied": last, "duplicate": true}, applied once only;
//   - one past it (a gap): 409 {"expected": next}, nothing applied;
//   - no or a wrong token: 401; a body that is not a CloudEvent of this case with a sequence:
//     400 {"error": ...}.
//
// --fail-every N answers every N-th request 500 before looking at it, --slow-ms M delays
// every answer, --down-after N --down-for-ms M drops every connection without an answer for M
// ms after the N-th request (a platform that went away). GET /api/cases/{case_no}/events
// answers what was applied for the case, in order, for tests. On SIGTERM/SIGINT a summary
// line goes to stdout.
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/Simulator.h"

using nlohmann::json;

namespace {

struct Arguments {
    int port = 0;
    std::string portFile, token;
    int failEvery = 0;
    int slowMs = 0;
    int downAfter = 0;
    int downForMs = 0;
};

Arguments parse(int argc, char** argv) {
    Arguments a;
    ow::testkit::SimulatorOptions o(
        "ow-platform-sim", "ow-platform-sim --port N (0 = pick) [--port-file FILE] [--token T] "
                           "[--fail-every N] [--slow-ms M] [--down-after N --down-for-ms M]");
    o.parse(argc, argv, [&](const std::string& name) {
        if (name == "--port")
            a.port = o.number();
        else if (name == "--port-file")
            a.portFile = o.text();
        else if (name == "--token")
            a.token = o.text();
        else if (name == "--fail-every")
            a.failEvery = o.number();
        else if (name == "--slow-ms")
            a.slowMs = o.number();
        else if (name == "--down-after")
            a.downAfter = o.number();
        else if (name == "--down-for-ms")
            a.downForMs = o.number();
        else
            return false;
        return true;
    });
    if ((a.downAfter > 0) != (a.downForMs > 0))
        o.fail("--down-after and --down-for-ms go together");
    return a;
}

// "%41" -> "A": the case number as the path carries it.
std::optional<std::string> percentDecode(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
            !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
            return std::nullopt;
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
    }
    return out;
}

// "/api/cases/{no}/events" -> the case number.
std::optional<std::string> caseOf(const std::string& target) {
    const std::string prefix = "/api/cases/", suffix = "/events";
    const std::string path = target.substr(0, target.find('?'));
    if (path.size() <= prefix.size() + suffix.size() || path.rfind(prefix, 0) != 0 ||
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0)
        return std::nullopt;
    const std::string segment =
        path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
    if (segment.find('/') != std::string::npos) return std::nullopt;
    return percentDecode(segment);
}

std::optional<long long> sequenceOf(const json& e) {
    if (!e.contains("sequence")) return std::nullopt;
    const json& s = e["sequence"];
    if (s.is_number_integer() && s.get<long long>() > 0) return s.get<long long>();
    if (!s.is_string() || s.get<std::string>().empty()) return std::nullopt;
    for (char c : s.get<std::string>())
        if (c < '0' || c > '9') return std::nullopt;
    try {
        const long long n = std::stoll(s.get<std::string>());
        return n > 0 ? std::optional<long long>(n) : std::nullopt;
    } catch (...) {
        return std::nullopt;
    }
}

class Platform {
public:
    explicit Platform(const Arguments& a) : a_(a) {}

    ow::testkit::Reply answer(const ow::testkit::ReceivedRequest& q) {
        ow::testkit::Reply r;
        r.delay = std::chrono::milliseconds(a_.slowMs);
        r.headers.emplace_back("Content-Type", "application/json");
        std::lock_guard lock(mu_);
        // The tests' own look at a case: never failed, never counted.
        const auto caseNo = caseOf(q.path);
        if (caseNo && q.method == "GET") return history(*caseNo, r);
        ++requests_;
        if (a_.downAfter > 0 && requests_ == a_.downAfter + 1)
            downUntil_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(a_.downForMs);
        if (std::chrono::steady_clock::now() < downUntil_) {
            ++down_;
            r.closeConnection = true;
            return r;
        }
        if (a_.failEvery > 0 && requests_ % a_.failEvery == 0) {
            ++failed_;
            r.status = 500;
            r.body = R"({"error":"platform busy"})";
            return r;
        }
        auto refuse = [&](int status, const std::string& why) {
            ++refused_;
            r.status = status;
            r.body = json{{"error", why}}.dump();
            return r;
        };
        if (!caseNo) return refuse(404, "no such resource: " + q.path);
        if (q.method != "POST") return refuse(405, "POST or GET");
        if (!a_.token.empty() && q.header("Authorization") != "Bearer " + a_.token)
            return refuse(401, "bearer token required");
        ++received_;
        const json e = json::parse(q.body, nullptr, false);
        if (!e.is_object() || e.value("specversion", "") != "1.0" || !e.contains("type") ||
            !e["type"].is_string() || !e.contains("id"))
            return refuse(400, "the body is not a structured CloudEvent");
        if (e.value("subject", "") != *caseNo)
            return refuse(400, "the event's subject is not case " + *caseNo);
        const auto n = sequenceOf(e);
        if (!n) return refuse(400, "no sequence extension (decimal digits from 1)");
        auto& c = cases_[*caseNo];
        if (*n < c.next) {
            ++duplicates_;
            r.body = json{{"applied", c.next - 1}, {"duplicate", true}}.dump();
            return r;
        }
        if (*n > c.next) {
            ++gaps_;
            r.status = 409;
            r.body = json{{"expected", c.next}}.dump();
            return r;
        }
        c.events.push_back(e);
        ++c.next;
        ++applied_;
        ++types_[e["type"].get<std::string>()];
        r.body = json{{"applied", *n}}.dump();
        return r;
    }

    json summary() {
        std::lock_guard lock(mu_);
        return {{"requests", requests_},     {"received", received_}, {"applied", applied_},
                {"duplicates", duplicates_}, {"gaps_refused", gaps_}, {"refused", refused_},
                {"failed", failed_},         {"down", down_},         {"types", json(types_)},
                {"cases", cases_.size()}};
    }

private:
    struct Case {
        long long next = 1;
        std::vector<json> events;
    };

    ow::testkit::Reply history(const std::string& caseNo, ow::testkit::Reply& r) {
        json events = json::array();
        long long expected = 1;
        if (auto it = cases_.find(caseNo); it != cases_.end()) {
            events = it->second.events;
            expected = it->second.next;
        }
        r.body = json{{"case_no", caseNo}, {"expected", expected}, {"events", events}}.dump();
        return r;
    }

    const Arguments& a_;
    std::mutex mu_;
    std::map<std::string, Case> cases_;
    std::map<std::string, long> types_;
    std::chrono::steady_clock::time_point downUntil_{};
    long requests_ = 0, received_ = 0, applied_ = 0, duplicates_ = 0, gaps_ = 0, refused_ = 0,
         failed_ = 0, down_ = 0;
};

} // namespace

int main(int argc, char** argv) {
    const Arguments args = parse(argc, argv);
    Platform sim(args);
    return ow::testkit::serveSimulator(
        "ow-platform-sim", args.port, args.portFile,
        [&](const ow::testkit::ReceivedRequest& q, int) { return sim.answer(q); },
        [&] { return sim.summary(); });
}
