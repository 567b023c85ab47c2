// What the ledger keeps per case in its durable state: the facts it was told (one per
// logical fact, the newest data_version of each) and the alerts it raised. Everything else
// (state, deadlines, watches) is derived from the facts by CaseFold, in business-time order,
// so the same facts give the same case whatever order they arrived in.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugins/cases/calendar/WorkCalendar.h"

namespace ow::cases {

/// One fact about a case, from one event.
struct Fact {
    std::string type;  ///< "accepted", "step_completed", "order_issued", ...
    std::string key;   ///< identifies the logical fact: "accepted", "step_completed/review"
    int version = 1;   ///< data_version: a correction re-sends a fact with version + 1
    Instant at = 0;    ///< business time (occurred_at)
    std::string event; ///< the event's source + id, to tell a redelivery from a correction
    nlohmann::json data = nlohmann::json::object(); ///< the fields the fold reads
};

/// An alert the ledger raised and has not cleared.
struct RaisedAlert {
    Instant raisedAt = 0;
    Instant due = 0; ///< the deadline it was about, as it stood when raised
};

struct CaseRecord {
    std::string caseNo;
    std::vector<Fact> facts;
    std::map<std::string, RaisedAlert> raised; ///< alert id -> when
    int stale = 0;               ///< events ignored as repeats or older versions of a known fact
    std::optional<Instant> wake; ///< when the case's timer is set for
    /// Every alert raised (level, when), cleared or not: the monthly statistics count them.
    std::vector<std::pair<std::string, Instant>> alertLog;
    /// What this case adds to each row of the monthly statistics ("2026-03/<dept>/<item>" ->
    /// metric -> count), as last written: a change is applied as the difference.
    std::map<std::string, std::map<std::string, std::int64_t>> contributed;
    /// The case's payment as the fee book reports it (null: no fees): status awaiting_payment,
    /// paid or cancelled, notice_no, total_fen, paid_at. A case waiting for its payment is
    /// released by the book's gov.fee.paid.
    nlohmann::json payment;

    [[nodiscard]] const Fact* fact(const std::string& key) const;
    [[nodiscard]] nlohmann::json toJson() const;
    static CaseRecord fromJson(const nlohmann::json& j);
};

} // namespace ow::cases
