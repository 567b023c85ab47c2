// `onewindow audit verify`: recomputes the audit trail's hash chain, checks every checkpoint
// against it (and its signature against the public key), and checks that every event still in
// the journal has its "accepted" record with the digest of its stored body. The first record
// at fault is named: modified (its hash does not follow), removed or inserted (the numbering
// breaks), reordered, or the log cut (a checkpoint or a journaled event points past its end).
#pragma once

#include <cstdint>
#include <string>

#include "core/audit/AuditCrypto.h"
#include "core/store/Sqlite.h"

namespace ow::audit {

struct VerifyReport {
    bool ok = false;
    std::int64_t faultSeq = 0; ///< the first record at fault (0 when the fault is not one)
    std::string fault;         ///< what is wrong, for the operator
    std::int64_t records = 0;
    std::int64_t firstSeq = 0, lastSeq = 0;
    std::int64_t checkpoints = 0, signedCheckpoints = 0;
    std::int64_t eventsChecked = 0; ///< journaled events matched with their record
};

/// `key`: the public key checkpoints must verify with; null: signatures are not checked (the
/// report says so), but checkpoint hashes still are.
VerifyReport verifyAuditTrail(store::Database& db, HashAlgorithm hash, const SigningKey* key);

} // namespace ow::audit
