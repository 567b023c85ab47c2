#include "adapters/e-supervision/exchange/ExchangeOrder.h"

#include <algorithm>

using nlohmann::json;
namespace sdk = onewindow::sdk;

namespace ow::adapters::esupervision {

namespace {

json toJson(const ExchangeObject& o) {
    return {{"t", static_cast<int>(o.type)},
            {"dept", o.department},
            {"key", o.factKey},
            {"v", o.version},
            {"f", o.fields}};
}

ExchangeObject fromJson(const std::string& caseNo, const json& j) {
    ExchangeObject o;
    o.type = static_cast<ObjectType>(j.at("t").get<int>());
    o.caseNo = caseNo;
    o.department = j.value("dept", "");
    o.factKey = j.at("key").get<std::string>();
    o.version = j.at("v").get<int>();
    o.fields = j.at("f");
    return o;
}

} // namespace

void ExchangeOrder::emit(const ExchangeObject& o, sdk::ProcessContext& ctx) const {
    sdk::Event e;
    e.type = "gov.supervision.exchange";
    e.source = s_.source;
    // The same object (fact and version) has the same id: a repeat is a duplicate.
    e.id = "xch-" + o.caseNo + "-" + o.factKey + "-v" + std::to_string(o.version);
    e.subject = o.caseNo;
    e.extensions["sptype"] = code(o.type);
    if (!o.department.empty()) e.extensions["department"] = o.department;
    e.data = o.fields.dump();
    ctx.emit(std::move(e));
}

sdk::Result ExchangeOrder::process(const sdk::Event& e, sdk::ProcessContext& ctx) {
    if (e.source == s_.source) return sdk::Result::ok();
    // The fee book's splits: what 办结 reports as the fee (SFJE).
    if (e.type == "gov.fee.paid" || e.type == "gov.fee.payment_reversed" ||
        e.type == "gov.fee.share_adjusted") {
        const auto d = json::parse(e.data, nullptr, false);
        if (!d.is_object() || !d.contains("case_no") || !d["case_no"].is_string())
            return sdk::Result::ok();
        const std::string key = caseKey(d["case_no"]);
        json doc = ctx.get(key) ? json::parse(*ctx.get(key)) : json::object();
        long long fee = doc.value("fee_fen", 0LL);
        if (e.type == "gov.fee.paid") fee += d.value("amount_fen", 0LL);
        if (e.type == "gov.fee.payment_reversed") fee -= d.value("amount_fen", 0LL);
        if (e.type == "gov.fee.share_adjusted") fee += d.value("delta_fen", 0LL);
        doc["fee_fen"] = std::max(0LL, fee);
        ctx.put(key, doc.dump());
        return sdk::Result::ok();
    }
    std::optional<ExchangeObject> mapped;
    try {
        mapped = toExchange(e, s_.mapping);
    } catch (const std::exception& x) {
        return sdk::Result::reject(std::string("cannot map to an exchange object: ") + x.what());
    }
    if (!mapped) return sdk::Result::ok();
    ExchangeObject& o = *mapped;
    const std::string k = caseKey(o.caseNo);
    json doc = ctx.get(k) ? json::parse(*ctx.get(k)) : json::object();
    // 办结 without a fee of its own reports what the fee book's shares paid on the case.
    if (o.type == ObjectType::BanJie && !o.fields.contains("SFJE"))
        o.fields["SFJE"] = wireYuan(doc.value("fee_fen", 0LL));
    auto& sent = doc["sent"];
    if (sent.is_null()) sent = json::object();
    auto& held = doc["held"];
    if (held.is_null()) held = json::array();
    // A repeat of what was sent (or held) at this version or higher: nothing new.
    if (sent.contains(o.factKey) && sent[o.factKey].get<int>() >= o.version)
        return sdk::Result::ok();
    for (const auto& h : held)
        if (h["key"] == o.factKey && h["v"].get<int>() >= o.version) return sdk::Result::ok();

    const Tier tier = tierOf(o.type);
    const bool basic = doc.value("basic", false);
    if (tier == Tier::Step || tier == Tier::Conclusion) {
        if (!basic) {
            if (static_cast<int>(held.size()) >= s_.maxHeldPerCase)
                return sdk::Result::reject(
                    "case " + o.caseNo + " already holds " + std::to_string(held.size()) +
                    " exchange objects waiting for its basic information (申办/受理)");
            held.push_back(toJson(o));
            ctx.put(k, doc.dump());
            return sdk::Result::ok();
        }
    }
    emit(o, ctx);
    sent[o.factKey] = o.version;
    if (tier == Tier::Basic && !basic) {
        doc["basic"] = true;
        // What waited for it goes now: steps and special nodes first, then the conclusion,
        // each group in the order it arrived.
        std::vector<ExchangeObject> waiting;
        for (const auto& h : held)
            waiting.push_back(fromJson(o.caseNo, h));
        std::stable_sort(waiting.begin(), waiting.end(), [](const auto& a, const auto& b) {
            return tierOf(a.type) < tierOf(b.type);
        });
        for (const auto& w : waiting) {
            emit(w, ctx);
            sent[w.factKey] = w.version;
        }
        held = json::array();
    }
    ctx.put(k, doc.dump());
    return sdk::Result::ok();
}

} // namespace ow::adapters::esupervision
