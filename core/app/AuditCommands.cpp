#include "core/app/AuditCommands.h"

#include "core/audit/AuditLog.h"
#include "core/audit/AuditVerifier.h"
#include "core/privacy/PersonalData.h"
#include "core/store/Journal.h"
#include "core/util/Clock.h"

namespace ow::app {
namespace {

audit::HashAlgorithm hashOf(const config::HubConfig& cfg) {
    return audit::hashAlgorithmNamed(cfg.hub.audit.hash).value_or(audit::HashAlgorithm::Sha256);
}

} // namespace

int auditVerify(const config::HubConfig& cfg, const std::optional<std::string>& publicKeyFile,
                std::ostream& out, std::ostream& err) {
    const std::string file = store::Journal::fileName(cfg.hub.dataDir);
    std::unique_ptr<audit::SigningKey> key;
    const std::string keyFile = publicKeyFile.value_or(cfg.hub.audit.signingKeyFile);
    if (!keyFile.empty()) {
        std::string why;
        key = audit::SigningKey::load(keyFile, /*publicOnly=*/true, why);
        if (!key) {
            err << "onewindow: audit key " << keyFile << ": " << why << "\n";
            return 1;
        }
    }
    store::Database db(file, /*readOnly=*/true);
    const auto r = audit::verifyAuditTrail(db, hashOf(cfg), key.get());
    if (!r.ok) {
        err << "onewindow: audit trail of " << file << " is NOT intact: " << r.fault << "\n";
        if (r.faultSeq > 0) err << "first record at fault: " << r.faultSeq << "\n";
        return 1;
    }
    out << "audit trail intact: records " << r.firstSeq << " to " << r.lastSeq << " (" << r.records
        << "), " << r.checkpoints << " checkpoint(s), " << r.signedCheckpoints
        << " signature(s) verified"
        << (key ? " with key " + key->keyId() : std::string(" (no key: signatures not checked)"))
        << ", " << r.eventsChecked << " journaled event(s) match their records\n";
    return 0;
}

std::int64_t auditExport(const config::HubConfig& cfg, std::int64_t fromMs, std::int64_t toMs,
                         std::ostream& out) {
    store::Database db(store::Journal::fileName(cfg.hub.dataDir), /*readOnly=*/true);
    std::int64_t written = 0, after = 0;
    for (;;) {
        auto page = audit::AuditLog::records(db, after, 10000);
        if (page.empty()) break;
        for (const auto& rec : page) {
            if (rec.atMs < fromMs || rec.atMs >= toMs) continue;
            auto fields = nlohmann::json::parse(rec.text, nullptr, false);
            if (fields.is_discarded()) fields = {{"unreadable_record", rec.text}};
            fields["hash"] = rec.hash;
            fields["at"] = util::formatRfc3339Ms(rec.atMs);
            // Records name principals, reasons and refusals: any ID number or mobile quoted
            // there stays in the journal, not in the archive.
            out << privacy::maskText(
                       fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
                << "\n";
            ++written;
        }
        after = page.back().seq;
    }
    return written;
}

void recordOperatorAction(store::Database& db, const config::HubConfig& cfg, nlohmann::json action,
                          std::int64_t nowMs) {
    if (!cfg.hub.audit.enabled) return;
    audit::AuditLog::createTables(db);
    audit::AuditLog::Settings s;
    s.hash = hashOf(cfg);
    audit::AuditLog log(db, s);
    log.append("operator", nowMs, std::move(action));
}

} // namespace ow::app
