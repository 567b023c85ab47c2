// 一条龙服务 ("one chain of service"): a business registration concluded by 工商局 opens the new
// company's water and telephone accounts at the convenience units in the hall, and their
// confirmations come back to the case. The processor `chain`:
//   gov.case.accepted                 remembers the case's item and applicant
//   gov.case.concluded (result 0) of a chained item
//                                   -> one gov.utility.account_requested per service
//                                      (`utility` extension: water, telecom, ... for routes)
//   gov.utility.account_opened        -> recorded; when every service answered,
//                                      gov.case.chain_completed with the account numbers
//   gov.utility.account_refused       -> recorded with the reason; the chain completes without it
//   no answer within confirm_hours    -> a yellow gov.supervision.alert naming the silent units
#include <onewindow/sdk/Plugin.h>

#include <algorithm>
#include <memory>

#include <nlohmann/json.hpp>

#include "adapters/common/DeptRecords.h"

namespace sdk = onewindow::sdk;
using nlohmann::json;
using ow::adapters::fieldText;

namespace {

const char* const Source = "onewindow://utility-accounts";

bool globMatch(const std::string& glob, const std::string& s) {
    if (!glob.empty() && glob.back() == '*')
        return s.rfind(glob.substr(0, glob.size() - 1), 0) == 0;
    return glob == s;
}

class Chain final : public sdk::Processor {
public:
    explicit Chain(sdk::Services& s)
        : s_(s), items_(s.config.get<std::vector<std::string>>("items")),
          services_(s.config.get<std::vector<std::string>>("services")),
          confirmMs_(s.config.get<std::int64_t>("confirm_hours", 72) * 3600 * 1000) {}

    sdk::Result process(const sdk::Event& e, sdk::ProcessContext& ctx) override {
        const json d = json::parse(e.data, nullptr, false);
        if (!d.is_object()) return sdk::Result::ok();
        const std::string caseNo = d.contains("case_no") ? fieldText(d, "case_no") : e.subject;
        if (caseNo.empty()) return sdk::Result::ok();
        const std::string key = "case/" + caseNo;
        json c = ctx.get(key) ? json::parse(*ctx.get(key)) : json::object();
        if (e.type == "gov.case.accepted") {
            c["item_code"] = fieldText(d, "item_code");
            if (d.contains("applicant") && d["applicant"].is_object())
                c["company"] = fieldText(d["applicant"], "name");
            if (d.contains("address")) c["address"] = fieldText(d, "address");
            ctx.put(key, c.dump());
            return sdk::Result::ok();
        }
        if (e.type == "gov.case.concluded") return concluded(caseNo, d, c, ctx);
        if (e.type == "gov.utility.account_opened" || e.type == "gov.utility.account_refused")
            return answered(e, caseNo, d, c, ctx);
        return sdk::Result::ok();
    }

    sdk::Result onTimer(const std::string& name, const std::string&,
                        sdk::ProcessContext& ctx) override {
        const std::string caseNo = name.substr(std::string("chain/").size());
        auto v = ctx.get("case/" + caseNo);
        if (!v) return sdk::Result::ok();
        json c = json::parse(*v);
        std::vector<std::string> silent;
        const json services = c.value("services", json::object()); // items() needs it alive
        for (const auto& [service, st] : services.items())
            if (st.value("state", "") == "requested") silent.push_back(service);
        if (silent.empty()) return sdk::Result::ok();
        std::string list;
        for (const auto& s : silent)
            list += (list.empty() ? "" : "、") + s;
        sdk::Event a;
        a.type = "gov.supervision.alert";
        a.source = Source;
        a.id = "chain-silent-" + caseNo;
        a.subject = caseNo;
        a.extensions["alertlevel"] = "yellow";
        a.data = json{
            {"alert_id", caseNo + "/chain/yellow"},
            {"case_no", caseNo},
            {"level", "yellow"},
            {"category", "02"},
            {"rule", "chain_not_confirmed"},
            {"message", "办件" + caseNo + "联动开户未回复: " + list},
            {"units",
             silent}}.dump();
        ctx.emit(std::move(a));
        return sdk::Result::ok();
    }

private:
    sdk::Result concluded(const std::string& caseNo, const json& d, json& c,
                          sdk::ProcessContext& ctx) {
        if (fieldText(d, "result_code") != "0" || c.contains("services"))
            return sdk::Result::ok(); // not a licence, or the chain is under way
        const std::string item =
            d.contains("item_code") ? fieldText(d, "item_code") : c.value("item_code", "");
        if (std::none_of(items_.begin(), items_.end(),
                         [&](const auto& g) { return globMatch(g, item); }))
            return sdk::Result::ok();
        const std::string licence =
            d.contains("certificate") ? fieldText(d["certificate"], "no") : "";
        c["services"] = json::object();
        for (const auto& service : services_) {
            c["services"][service] = {{"state", "requested"}};
            sdk::Event r;
            r.type = "gov.utility.account_requested";
            r.source = Source;
            r.id = "chain-" + caseNo + "-" + service;
            r.subject = caseNo;
            r.extensions["utility"] = service;
            r.data = json{{"case_no", caseNo},
                          {"service", service},
                          {"company", c.value("company", "")},
                          {"licence_no", licence},
                          {"address", c.value("address", "")}}
                         .dump();
            ctx.emit(std::move(r));
        }
        ctx.put("case/" + caseNo, c.dump());
        if (confirmMs_ > 0) ctx.setTimer("chain/" + caseNo, s_.clock.nowMs() + confirmMs_, "");
        return sdk::Result::ok();
    }

    sdk::Result answered(const sdk::Event& e, const std::string& caseNo, const json& d, json& c,
                         sdk::ProcessContext& ctx) {
        const std::string service = fieldText(d, "service");
        if (!c.contains("services") || !c["services"].contains(service))
            return sdk::Result::reject("case " + caseNo + " has no " + service +
                                       " account requested");
        auto& st = c["services"][service];
        if (st["state"] != "requested") return sdk::Result::ok(); // told again
        if (e.type == "gov.utility.account_opened") {
            st = {{"state", "opened"}, {"account_no", fieldText(d, "account_no")}};
        } else {
            st = {{"state", "refused"}, {"reason", fieldText(d, "reason")}};
        }
        const bool done = std::all_of(c["services"].begin(), c["services"].end(),
                                      [](const json& s) { return s["state"] != "requested"; });
        if (done) {
            ctx.cancelTimer("chain/" + caseNo);
            sdk::Event out;
            out.type = "gov.case.chain_completed";
            out.source = Source;
            out.id = "chain-done-" + caseNo;
            out.subject = caseNo;
            out.data = json{{"case_no", caseNo}, {"services", c["services"]}}.dump();
            ctx.emit(std::move(out));
        }
        ctx.put("case/" + caseNo, c.dump());
        return sdk::Result::ok();
    }

    sdk::Services& s_;
    std::vector<std::string> items_, services_;
    std::int64_t confirmMs_;
};

void registerComponents(sdk::Registry& r) {
    using sdk::Field;
    r.processor(
        {sdk::ComponentKind::Processor, "chain",
         sdk::ConfigSpec("一条龙服务: a business registration concluded with a licence opens the "
                         "company's accounts at the convenience units (gov.utility.account_"
                         "requested per service); their confirmations come back to the case "
                         "(gov.case.chain_completed).")
             .field(Field::stringList("items")
                        .defaultsTo(std::vector<std::string>{"350581003785001A000101",
                                                             "350581003785001A000109"})
                        .describe("Item codes (a trailing * matches a prefix) whose licence "
                                  "starts the chain"))
             .field(Field::stringList("services")
                        .defaultsTo(std::vector<std::string>{"water", "telecom"})
                        .describe("The convenience units asked to open an account"))
             .field(Field::integer("confirm_hours")
                        .defaultsTo(72)
                        .range(0, 8760)
                        .describe("Hours to answer before a yellow alert; 0: none"))},
        [](sdk::Services& s) { return std::make_unique<Chain>(s); });
}

} // namespace

ONEWINDOW_PLUGIN("utility-accounts", "1.0.0",
                 "一条龙服务: water and telephone accounts opened for a newly registered company",
                 registerComponents)
