// ow-post-sim: a stand-in for EMS's 政务专递 interface as adapters/post speaks it. Orders get
// a mail number (the same order number: the same mail number); each order's parcel is then
// 收寄 (10), 投递 (50) and 妥投 (40, signed by 本人), one step every --step-ms; every
// --undeliverable-every-th is 退回 (70) instead of delivered. An order without the receiver's
// name, mobile or address is refused (B01), a wrong key with A01; --fail-every N answers every
// N-th request HTTP 500. Tracking records are served until acknowledged.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/Simulator.h"

using nlohmann::json;

namespace {

struct Arguments {
    int port = 0;
    std::string portFile, apiKey;
    int stepMs = 30, failEvery = 0, undeliverableEvery = 0;
};

Arguments parse(int argc, char** argv) {
    Arguments a;
    ow::testkit::SimulatorOptions o("ow-post-sim",
                                    "ow-post-sim --port N [--port-file F] [--api-key K] "
                                    "[--step-ms M] [--fail-every N] [--undeliverable-every N]");
    o.parse(argc, argv, [&](const std::string& name) {
        if (name == "--port")
            a.port = o.number();
        else if (name == "--port-file")
            a.portFile = o.text();
        else if (name == "--api-key")
            a.apiKey = o.text();
        else if (name == "--step-ms")
            a.stepMs = o.number();
        else if (name == "--fail-every")
            a.failEvery = o.number();
        else if (name == "--undeliverable-every")
            a.undeliverableEvery = o.number();
        else
            return false;
        return true;
    });
    return a;
}

class Ems {
public:
    explicit Ems(const Arguments& a) : a_(a) {}

    ow::testkit::Reply answer(const ow::testkit::ReceivedRequest& q) {
        ow::testkit::Reply r;
        r.headers.emplace_back("Content-Type", "application/json");
        std::lock_guard lock(mu_);
        ++requests_;
        if (a_.failEvery > 0 && requests_ % a_.failEvery == 0) {
            r.status = 502;
            r.body = "Bad Gateway";
            return r;
        }
        auto reply = [&](json b) {
            r.body = b.dump();
            return r;
        };
        if (!a_.apiKey.empty()) {
            std::string key;
            for (const auto& [k, v] : q.headers)
                if (k.size() == 6 && (k[0] | 0x20) == 'a' && (k[3] | 0x20) == 'k') key = v;
            if (key != a_.apiKey)
                return reply(
                    {{"success", false}, {"errorCode", "A01"}, {"errorMsg", "apiKey 无效"}});
        }
        const std::string path = q.path.substr(0, q.path.find('?'));
        if (q.method == "POST" && path == "/ems/api/orders") return reply(order(q.body));
        if (q.method == "GET" && path == "/ems/api/traces") {
            int limit = 100;
            if (auto p = q.path.find("limit="); p != std::string::npos)
                limit = std::max(1, std::atoi(q.path.c_str() + p + 6));
            return reply(traces(limit));
        }
        if (q.method == "POST" && path == "/ems/api/traces/ack") {
            const json b = json::parse(q.body, nullptr, false);
            if (!b.is_object() || !b.contains("seq") || !b["seq"].is_number_integer())
                return reply({{"success", false}, {"errorCode", "B02"}, {"errorMsg", "seq 必填"}});
            feed_.acknowledge(b["seq"].get<long long>());
            return reply({{"success", true}});
        }
        r.status = 404;
        return reply({{"success", false}, {"errorCode", "404"}, {"errorMsg", "no such interface"}});
    }

    json summary() {
        std::lock_guard lock(mu_);
        return {{"requests", requests_},  {"orders", orders_.size()},
                {"repeats", repeats_},    {"traces", feed_.released()},
                {"acked", feed_.acked()}, {"pending", feed_.pending()}};
    }

private:
    json order(const std::string& body) {
        const json b = json::parse(body, nullptr, false);
        if (!b.is_object() || !b.contains("orderNo") || !b["orderNo"].is_string())
            return {{"success", false}, {"errorCode", "B02"}, {"errorMsg", "orderNo 必填"}};
        const json to = b.value("receiver", json::object());
        for (const char* f : {"name", "mobile", "address"})
            if (!to.contains(f) || !to[f].is_string() || to[f].get<std::string>().empty())
                return {{"success", false}, {"errorCode", "B01"}, {"errorMsg", "收件信息不完整"}};
        const std::string orderNo = b["orderNo"];
        if (auto it = orders_.find(orderNo); it != orders_.end()) {
            ++repeats_;
            return {{"success", true}, {"mailNo", it->second}};
        }
        char mail[48];
        std::snprintf(mail, sizeof mail, "11%09zuCN", orders_.size() + 1);
        orders_[orderNo] = mail;
        const bool back = a_.undeliverableEvery > 0 && orders_.size() % a_.undeliverableEvery == 0;
        const std::int64_t t0 = ow::testkit::steadyMs();
        int k = 1;
        auto later = [&](const char* code, const char* name, const char* signer) {
            json t = {{"mailNo", mail}, {"orderNo", orderNo}, {"opCode", code}, {"opName", name}};
            if (signer) t["signer"] = signer;
            t["opTime"] = ow::testkit::chinaLocalTime(k * 60);
            feed_.schedule(t0 + static_cast<std::int64_t>(a_.stepMs) * k, std::move(t));
            ++k;
        };
        later("10", "收寄", nullptr);
        later("50", "投递", nullptr);
        if (back)
            later("70", "退回", nullptr);
        else
            later("40", "妥投", "本人");
        return {{"success", true}, {"mailNo", mail}};
    }

    json traces(int limit) {
        return {{"success", true},
                {"traces", feed_.page(static_cast<std::size_t>(limit), ow::testkit::steadyMs())}};
    }

    const Arguments& a_;
    std::mutex mu_;
    std::map<std::string, std::string> orders_;
    ow::testkit::ReleasedFeed feed_{"seq"};
    long requests_ = 0, repeats_ = 0;
};

} // namespace

int main(int argc, char** argv) {
    const Arguments args = parse(argc, argv);
    Ems ems(args);
    return ow::testkit::serveSimulator(
        "ow-post-sim", args.port, args.portFile,
        [&](const ow::testkit::ReceivedRequest& q, int) { return ems.answer(q); },
        [&] { return ems.summary(); });
}
