// ow-utility-sim: the convenience units' counters (water supply, telecom) of the hall as the
// utility-accounts chain reaches them: they take gov.utility.account_requested (CloudEvents
// over HTTP) and, --step-ms later, answer the hub's input --hub-url with
// gov.utility.account_opened (an account number) or, for every --refuse-every-th request,
// gov.utility.account_refused with a reason; an answer the hub does not take (down, 503) is
// posted again until it does. Requests seen twice (same ce id) are answered once. Summary on
// SIGTERM/SIGINT.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/HttpClient.h"
#include "tests/support/Simulator.h"

using nlohmann::json;

namespace {

struct Arguments {
    int port = 0;
    std::string portFile, hubUrl, token;
    int stepMs = 20, refuseEvery = 0;
};

Arguments parse(int argc, char** argv) {
    Arguments a;
    ow::testkit::SimulatorOptions o("ow-utility-sim",
                                    "ow-utility-sim --port N --hub-url URL [--port-file F] "
                                    "[--token T] [--step-ms M] [--refuse-every N]");
    o.parse(argc, argv, [&](const std::string& name) {
        if (name == "--port")
            a.port = o.number();
        else if (name == "--port-file")
            a.portFile = o.text();
        else if (name == "--hub-url")
            a.hubUrl = o.text();
        else if (name == "--token")
            a.token = o.text();
        else if (name == "--step-ms")
            a.stepMs = o.number();
        else if (name == "--refuse-every")
            a.refuseEvery = o.number();
        else
            return false;
        return true;
    });
    if (a.hubUrl.empty()) o.fail("--hub-url is required");
    return a;
}

class Counters {
public:
    explicit Counters(const Arguments& a) : a_(a), sender_([this] { send(); }) {}
    ~Counters() {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        sender_.join();
    }

    ow::testkit::Reply answer(const ow::testkit::ReceivedRequest& q) {
        ow::testkit::Reply r;
        const json e = json::parse(q.body, nullptr, false);
        if (!e.is_object() || e.value("type", "") != "gov.utility.account_requested" ||
            !e.contains("data")) {
            r.status = 400;
            r.body = "not a gov.utility.account_requested CloudEvent";
            return r;
        }
        std::lock_guard lock(mu_);
        if (!seen_.insert(e.value("id", "")).second) return r; // told again: answered once
        const json& d = e["data"];
        const bool refuse = a_.refuseEvery > 0 && ++requests_ % a_.refuseEvery == 0;
        json out = {
            {"specversion", "1.0"},
            {"id", "utility-" + e.value("id", "")},
            {"source", "unit:" + d.value("service", "")},
            {"type", refuse ? "gov.utility.account_refused" : "gov.utility.account_opened"},
            {"subject", d.value("case_no", "")},
            {"datacontenttype", "application/json"},
            {"data", {{"case_no", d.value("case_no", "")}, {"service", d.value("service", "")}}}};
        if (refuse) {
            out["data"]["reason"] = "经营场所不在供水管网覆盖范围";
        } else {
            char account[48];
            std::snprintf(account, sizeof account, "%s-%06ld", d.value("service", "").c_str(),
                          ++opened_);
            out["data"]["account_no"] = account;
        }
        queue_.push_back(
            {std::chrono::steady_clock::now() + std::chrono::milliseconds(a_.stepMs), out.dump()});
        cv_.notify_all();
        return r;
    }

    json summary() {
        std::lock_guard lock(mu_);
        return {{"requests", seen_.size()}, {"answered", answered_}, {"pending", queue_.size()}};
    }

private:
    void send() {
        std::unique_lock lock(mu_);
        while (!stop_) {
            if (queue_.empty() || queue_.front().first > std::chrono::steady_clock::now()) {
                auto until = queue_.empty()
                                 ? std::chrono::steady_clock::now() + std::chrono::seconds(1)
                                 : queue_.front().first;
                cv_.wait_until(lock, until);
                continue;
            }
            const std::string body = queue_.front().second;
            lock.unlock();
            int status = 0;
            try {
                ow::testkit::Headers auth;
                if (!a_.token.empty()) auth.emplace_back("Authorization", "Bearer " + a_.token);
                status = ow::testkit::postCloudEvent(a_.hubUrl, body, auth).status;
            } catch (const std::exception&) {
            }
            lock.lock();
            if (status >= 200 && status < 300) {
                queue_.pop_front();
                ++answered_;
            } else {
                // Not taken: try again shortly (the hub may be restarting).
                queue_.front().first =
                    std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
            }
        }
    }

    const Arguments& a_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> queue_;
    std::set<std::string> seen_;
    long requests_ = 0, opened_ = 0, answered_ = 0;
    bool stop_ = false;
    std::thread sender_;
};

} // namespace

int main(int argc, char** argv) {
    const Arguments args = parse(argc, argv);
    ow::testkit::blockStopSignals(); // before the sender thread starts
    Counters counters(args);
    return ow::testkit::serveSimulator(
        "ow-utility-sim", args.port, args.portFile,
        [&](const ow::testkit::ReceivedRequest& q, int) { return counters.answer(q); },
        [&] { return counters.summary(); });
}
