// `onewindow report monthly`: renders the monthly statistics a processor keeps in its state
// (the case ledger's `stats/<YYYY-MM>/<department>/<item>` rows, described by `stats/_columns`)
// as CSV and as a self-contained HTML page with charts. The hub knows nothing of the metrics:
// the processor names its columns, their labels, which are charted, and which are ratios of
// two others (an average).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/store/PluginState.h"

namespace ow::app {

struct MonthlyReport {
    std::string month;                ///< "2026-03"
    std::string instance;             ///< the processor output
    nlohmann::json group;             ///< [{key, label}] identifying a row (department, item)
    nlohmann::json columns;           ///< [{key, label, chart?, ratio?: [num, den]}]
    std::vector<nlohmann::json> rows; ///< sorted by the group keys
};

/// Throws std::runtime_error when the processor keeps no column description.
MonthlyReport readMonthlyReport(store::PluginState& state, const std::string& instance,
                                const std::string& month);

/// UTF-8 with a byte-order mark (spreadsheet programs then read the Chinese labels right);
/// one line per row, a subtotal per first group key and a total.
std::string reportCsv(const MonthlyReport& r);
std::string reportHtml(const MonthlyReport& r);
/// A short plain-text summary per first group key (for the terminal).
std::string reportSummary(const MonthlyReport& r);

} // namespace ow::app
