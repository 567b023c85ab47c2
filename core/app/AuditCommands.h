// The `onewindow audit` commands, and the operator actions other commands record in the
// audit trail (dlq replay and discard, revealing personal data).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/config/HubConfig.h"
#include "core/store/Sqlite.h"

namespace ow::app {

/// `audit verify`: 0 when the trail is intact, 1 naming the first record at fault. The
/// checkpoints' signatures are checked with `publicKeyFile`, else with the public half of the
/// configured signing key, else not at all (said in the output).
int auditVerify(const config::HubConfig& cfg, const std::optional<std::string>& publicKeyFile,
                std::ostream& out, std::ostream& err);

/// `audit export`: the records of [fromMs, toMs) as JSON lines for the archive, personal data
/// masked. Returns how many were written.
std::int64_t auditExport(const config::HubConfig& cfg, std::int64_t fromMs, std::int64_t toMs,
                         std::ostream& out);

/// Appends an operator action to the trail inside the caller's transaction on `db` (the hub
/// may be running: the transaction holds the write lock). Does nothing when the audit trail is
/// disabled.
void recordOperatorAction(store::Database& db, const config::HubConfig& cfg, nlohmann::json action,
                          std::int64_t nowMs);

} // namespace ow::app
