#include "plugins/cases/ledger/CaseRecord.h"

namespace ow::cases {

const Fact* CaseRecord::fact(const std::string& key) const {
    for (const auto& f : facts)
        if (f.key == key) return &f;
    return nullptr;
}

// Short member names: a month of the center is ~100,000 cases of ~10 facts each.
nlohmann::json CaseRecord::toJson() const {
    nlohmann::json j;
    j["no"] = caseNo;
    auto& fs = j["f"] = nlohmann::json::array();
    for (const auto& f : facts) {
        nlohmann::json o = {{"t", f.type}, {"k", f.key}, {"v", f.version}, {"at", f.at}};
        if (!f.event.empty()) o["e"] = f.event;
        if (!f.data.empty()) o["d"] = f.data;
        fs.push_back(std::move(o));
    }
    if (!raised.empty()) {
        auto& r = j["r"] = nlohmann::json::object();
        for (const auto& [id, a] : raised)
            r[id] = {a.raisedAt, a.due};
    }
    if (stale) j["s"] = stale;
    if (wake) j["w"] = *wake;
    if (!alertLog.empty()) {
        auto& al = j["al"] = nlohmann::json::array();
        for (const auto& [level, at] : alertLog)
            al.push_back({level, at});
    }
    if (!contributed.empty()) j["c"] = contributed;
    if (!payment.is_null()) j["p"] = payment;
    return j;
}

CaseRecord CaseRecord::fromJson(const nlohmann::json& j) {
    CaseRecord c;
    c.caseNo = j.at("no").get<std::string>();
    for (const auto& o : j.value("f", nlohmann::json::array())) {
        Fact f;
        f.type = o.at("t").get<std::string>();
        f.key = o.at("k").get<std::string>();
        f.version = o.at("v").get<int>();
        f.at = o.at("at").get<Instant>();
        f.event = o.value("e", "");
        f.data = o.value("d", nlohmann::json::object());
        c.facts.push_back(std::move(f));
    }
    const auto raised = j.value("r", nlohmann::json::object()); // items() needs it alive
    for (const auto& [id, a] : raised.items())
        c.raised[id] = {a.at(0).get<Instant>(), a.at(1).get<Instant>()};
    c.stale = j.value("s", 0);
    if (j.contains("w")) c.wake = j.at("w").get<Instant>();
    if (auto al = j.find("al"); al != j.end())
        for (const auto& e : *al)
            c.alertLog.emplace_back(e.at(0).get<std::string>(), e.at(1).get<Instant>());
    if (auto cc = j.find("c"); cc != j.end())
        c.contributed = cc->get<std::map<std::string, std::map<std::string, std::int64_t>>>();
    if (auto p = j.find("p"); p != j.end()) c.payment = *p;
    return c;
}

} // namespace ow::cases
