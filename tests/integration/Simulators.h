// Department simulators (tools/*-sim) as the adapter tests run them: started on a port of
// their own choosing (they write it to a file), stopped by PID, their summary line read back.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/integration/HubFixture.h"
#include "tests/support/HttpClient.h"
#include "tests/support/Receiver.h"
#include "tests/support/Wait.h"

namespace ow::itest {

class Simulator {
public:
    /// Runs ow-`tool` with `args`. With `picksPort`, it also gets --port 0 --port-file and is
    /// waited for until it serves; without, `args` say everything (a file to work on, or a
    /// port fixed beforehand).
    Simulator(const testkit::TempDir& dir, const std::string& tool, std::vector<std::string> args,
              bool picksPort = true)
        : tool_(tool), out_(dir.file(tool + ".out")), err_(dir.file(tool + ".err")) {
        const std::string portFile = dir.file(tool + ".port");
        args.insert(args.begin(), itest::tool(tool));
        if (picksPort) args.insert(args.end(), {"--port", "0", "--port-file", portFile});
        process_ = testkit::Process::spawn(args, {}, out_, err_);
        if (!picksPort) return;
        REQUIRE(testkit::waitUntil([&] { return !testkit::readFile(portFile).empty(); },
                                   std::chrono::seconds(10)));
        url_ = "http://127.0.0.1:" + std::to_string(std::stoi(testkit::readFile(portFile)));
    }

    /// "http://127.0.0.1:<port>" followed by `path`.
    [[nodiscard]] std::string url(const std::string& path = "") const { return url_ + path; }

    /// Stops it (SIGTERM) and returns the summary line it printed. A simulator that printed
    /// none fails the test with how it ended and what it said on stderr.
    nlohmann::json stop() {
        const auto started = std::chrono::steady_clock::now();
        const auto exit = process_.stop(std::chrono::seconds(20));
        const auto tookMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count();
        const std::string out = testkit::readFile(out_);
        auto summary = nlohmann::json::parse(out, nullptr, false);
        if (summary.is_discarded() || !summary.is_object())
            FAIL("ow-" << tool_ << " printed no summary: " << exit.describe() << " after SIGTERM, "
                       << tookMs << " ms; stdout '" << out << "'; stderr:\n"
                       << testkit::readFile(err_));
        return summary;
    }

private:
    std::string tool_, out_, err_, url_;
    testkit::Process process_;
};

/// An application accepted at a window (gov.case.accepted) as the adapter tests post it; no
/// case number (subject, data.case_no) when `caseNo` is empty.
inline std::string acceptedApplication(const std::string& id, const std::string& caseNo,
                                       const std::string& item, const std::string& itemName,
                                       nlohmann::json applicant,
                                       const std::string& source = "/window/3") {
    nlohmann::json data = {{"item_code", item},
                           {"item_name", itemName},
                           {"applicant", std::move(applicant)},
                           {"occurred_at", "2026-03-02T10:00:00+08:00"}};
    if (!caseNo.empty()) data["case_no"] = caseNo;
    nlohmann::json e = {{"specversion", "1.0"},
                        {"id", id},
                        {"source", source},
                        {"type", "gov.case.accepted"},
                        {"datacontenttype", "application/json"},
                        {"data", data}};
    if (!caseNo.empty()) e["subject"] = caseNo;
    return e.dump();
}

/// Each case's story as the platform (`platform`) received it from a department's adapter:
/// the canonical types in order, "step_completed:<step_code>" and "concluded:<result_code>",
/// every distinct event once. `each` sees every such event (for checks on its fields).
using CaseStories = std::map<std::string, std::vector<std::string>>;
inline CaseStories caseStories(const testkit::Receiver& platform,
                               const std::function<void(const nlohmann::json&)>& each = {}) {
    CaseStories out;
    std::set<std::string> ids;
    for (const auto& q : platform.snapshot()) {
        auto e = nlohmann::json::parse(q.body, nullptr, false);
        if (q.status != 200 || !e.is_object() || !ids.insert(e["id"].get<std::string>()).second)
            continue;
        const auto& d = e["data"];
        std::string t = e["type"].get<std::string>().substr(9);
        if (t == "step_completed") t += ":" + d["step_code"].get<std::string>();
        if (t == "concluded") t += ":" + d["result_code"].dump();
        if (each) each(e);
        out[e["subject"]].push_back(t);
    }
    return out;
}

/// True when there are `cases` stories and each ends with its conclusion.
inline bool allConcluded(const CaseStories& stories, std::size_t cases) {
    if (stories.size() != cases) return false;
    for (const auto& [_, v] : stories)
        if (v.empty() || v.back().rfind("concluded", 0) != 0) return false;
    return true;
}

/// Checks every story is the department simulators' script (testkit::handlingRecords): a
/// returned case 承办 (disagree) then 退回办结; the others (补正,) 承办, 审核, 批准, 办结. Each
/// case number starts with `prefix`; `returned` is called with each returned case. Gives the
/// number of returned and of supplemented cases.
inline std::pair<int, int>
checkHandlingStories(const CaseStories& stories, const std::string& prefix,
                     const std::function<void(const std::string&)>& returned = {}) {
    int nReturned = 0, nSupplemented = 0;
    for (const auto& [c, v] : stories) {
        INFO(c);
        CHECK(c.rfind(prefix, 0) == 0);
        if (v.back() == "concluded:1") {
            ++nReturned;
            CHECK(v == std::vector<std::string>{"step_completed:undertake", "concluded:1"});
            if (returned) returned(c);
            continue;
        }
        std::vector<std::string> expect = {"step_completed:undertake", "step_completed:review",
                                           "step_completed:approve", "concluded:0"};
        if (v.front() == "supplement_requested") {
            ++nSupplemented;
            expect.insert(expect.begin(), "supplement_requested");
        }
        CHECK(v == expect);
    }
    return {nReturned, nSupplemented};
}

/// Waits until a department's feed has nothing left unacknowledged: a GET of `url` (its page
/// of unacknowledged records) answers 200 with a body `empty` calls empty. The hub
/// acknowledges a page only after journaling it; when a simulator's --fail-every refuses the
/// acknowledgement, the hub reads the page and acknowledges it again a poll later. A test that
/// stops the hub before then finds released records unacknowledged: no loss (the department
/// sends them again at the next start), but not what the test checks.
inline bool waitForFeedAcknowledged(const std::string& url, const testkit::Headers& headers,
                                    const std::function<bool(const std::string&)>& empty,
                                    const testkit::TlsFiles& tls = {}) {
    return testkit::waitUntil(
        [&] {
            try {
                auto r =
                    testkit::httpRequest("GET", url, "", headers, std::chrono::seconds(5), tls);
                return r.status == 200 && empty(r.body); // a --fail-every 500: ask again
            } catch (const std::exception&) {
                return false;
            }
        },
        std::chrono::seconds(20), std::chrono::milliseconds(20));
}

} // namespace ow::itest
