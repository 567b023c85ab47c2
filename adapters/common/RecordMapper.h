// The processor step of a department that reports on cases under its own serial (YWLSH) with
// the records of DeptRecords.h: a registration (DJ) teaches YWLSH <-> SBLSH, kept in the
// processor's durable state because the department never repeats the center's number; every
// other record becomes the canonical event of the center's case. A record for a serial not
// registered yet is retried: the department's feed may be read in another order than written.
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <onewindow/sdk/Components.h>

#include "adapters/common/DeptRecords.h"

namespace ow::adapters {

/// Maps one department record (a JSON object of its fields) of `who`; the department's wire
/// times are at `utcOffsetMinutes`.
inline onewindow::sdk::Result mapDeptRecord(const nlohmann::json& item,
                                            onewindow::sdk::ProcessContext& ctx,
                                            int utcOffsetMinutes, const DeptIdentity& who) {
    namespace sdk = onewindow::sdk;
    if (!item.is_object()) return sdk::Result::reject("the update is not a JSON object");
    const std::string kind = fieldText(item, "LX"), ywlsh = fieldText(item, "YWLSH");
    if (ywlsh.empty()) return sdk::Result::reject("update without YWLSH");
    try {
        if (kind == "DJ") {
            const std::string sblsh = fieldText(item, "SBLSH");
            if (sblsh.empty()) return sdk::Result::reject("registration (DJ) without SBLSH");
            ctx.put("ywlsh/" + ywlsh, sblsh);
            ctx.put("sblsh/" + sblsh, ywlsh);
            return sdk::Result::ok();
        }
        const auto sblsh = ctx.get("ywlsh/" + ywlsh);
        if (!sblsh)
            return sdk::Result::retry("YWLSH " + ywlsh + " is not registered (DJ) yet", 2000);
        const std::string counter = "count/" + *sblsh + "/" + kind;
        const int n = std::stoi(ctx.get(counter).value_or("0")) + 1;
        auto ev = canonicalFromRecord(item, *sblsh, n, utcOffsetMinutes, who);
        if (!ev) return sdk::Result::ok();
        ctx.put(counter, std::to_string(n));
        ctx.emit(std::move(*ev));
        return sdk::Result::ok();
    } catch (const WireError& x) {
        return sdk::Result::reject(x.what());
    }
}

} // namespace ow::adapters
