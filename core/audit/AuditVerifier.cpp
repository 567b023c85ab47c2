#include "core/audit/AuditVerifier.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/audit/AuditLog.h"

namespace ow::audit {
namespace {

constexpr int Page = 10000;

VerifyReport fail(VerifyReport r, std::int64_t seq, std::string why) {
    r.ok = false;
    r.faultSeq = seq;
    r.fault = std::move(why);
    return r;
}

std::string recordName(std::int64_t seq) {
    return "record " + std::to_string(seq);
}

bool tableExists(store::Database& db, const char* name) {
    store::Statement s(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1");
    s.bind(1, std::string_view(name));
    return s.step();
}

} // namespace

VerifyReport verifyAuditTrail(store::Database& db, HashAlgorithm hash, const SigningKey* key) {
    VerifyReport r;
    if (!tableExists(db, "audit")) return fail(r, 0, "the journal has no audit trail");
    const std::vector<Checkpoint> checkpoints = AuditLog::checkpoints(db);
    std::map<std::int64_t, const Checkpoint*> bySeq;
    for (const auto& c : checkpoints) {
        bySeq[c.seq] = &c;
        if (c.hashAlgorithm != toString(hash))
            return fail(r, c.seq,
                        "checkpoint at " + recordName(c.seq) + " uses " + c.hashAlgorithm +
                            ", the configuration " + toString(hash));
        if (key && c.signatureAlgorithm != "none") {
            if (c.keyId != key->keyId())
                return fail(r, c.seq,
                            "checkpoint at " + recordName(c.seq) + " was signed by key " + c.keyId +
                                ", not by " + key->keyId());
            auto sig = fromHex(c.signature);
            if (!sig || !key->verify(checkpointMessage(c), *sig))
                return fail(r, c.seq,
                            "the signature of the checkpoint at " + recordName(c.seq) +
                                " does not verify: the checkpoint was altered");
            ++r.signedCheckpoints;
        } else if (key) {
            return fail(r, c.seq,
                        "the checkpoint at " + recordName(c.seq) +
                            " is not signed, but a key is "
                            "configured");
        }
    }
    r.checkpoints = static_cast<std::int64_t>(checkpoints.size());

    // Which hash the first record follows: zeros for record 1, else the checkpoint kept as
    // the anchor when retention removed the records before it.
    std::string previous(32, '\0');
    std::int64_t expected = 0;
    std::unordered_map<std::int64_t, std::string> accepted; // event seq -> body digest
    std::int64_t after = 0;
    for (;;) {
        auto page = AuditLog::records(db, after, Page);
        if (page.empty()) break;
        for (const auto& rec : page) {
            if (expected == 0) {
                r.firstSeq = rec.seq;
                if (rec.seq != 1) {
                    auto anchor = bySeq.find(rec.seq - 1);
                    if (anchor == bySeq.end())
                        return fail(r, rec.seq,
                                    "the log starts at " + recordName(rec.seq) +
                                        ", but no checkpoint anchors it: the records before it "
                                        "were removed");
                    auto raw = fromHex(anchor->second->hash);
                    if (!raw) return fail(r, rec.seq, "the anchoring checkpoint is malformed");
                    previous = *raw;
                }
                expected = rec.seq;
            }
            if (rec.seq != expected)
                return fail(r, expected,
                            recordName(expected) + " is missing (the log goes on with " +
                                recordName(rec.seq) + "): records were removed");
            const auto fields = nlohmann::json::parse(rec.text, nullptr, false);
            if (fields.is_discarded() || !fields.is_object() ||
                fields.value("seq", std::int64_t{-1}) != rec.seq)
                return fail(r, rec.seq,
                            recordName(rec.seq) +
                                " is not the record written at that position: it was inserted, "
                                "moved or modified");
            const std::string computed = digest(hash, previous + rec.text);
            if (toHex(computed) != rec.hash)
                return fail(r, rec.seq,
                            recordName(rec.seq) +
                                " does not follow from the one before it: it was modified, "
                                "inserted or moved");
            if (auto c = bySeq.find(rec.seq); c != bySeq.end() && c->second->hash != rec.hash)
                return fail(r, rec.seq,
                            "the checkpoint at " + recordName(rec.seq) +
                                " does not match the chain: records up to it were rewritten");
            if (fields.value("kind", "") == "accepted" && fields.contains("event_seq"))
                accepted[fields["event_seq"].get<std::int64_t>()] = fields.value("body_hash", "");
            previous = computed;
            r.lastSeq = rec.seq;
            ++expected;
            ++r.records;
        }
        after = page.back().seq;
    }
    if (!checkpoints.empty() && checkpoints.back().seq > r.lastSeq)
        return fail(r, r.lastSeq + 1,
                    "the log ends at " + recordName(r.lastSeq) + ", but a checkpoint covers " +
                        recordName(checkpoints.back().seq) + ": records " +
                        std::to_string(r.lastSeq + 1) + " to " +
                        std::to_string(checkpoints.back().seq) + " were cut");

    // Every event the journal still holds was audited, with the body it holds now; events
    // journaled before the trail began (a journal from before it, or retention) are older than
    // its first accepted record.
    if (tableExists(db, "events")) {
        std::int64_t firstAudited = INT64_MAX;
        for (const auto& [seq, _] : accepted)
            firstAudited = std::min(firstAudited, seq);
        if (accepted.empty() && r.records > 0) firstAudited = 0; // records, but no event's
        store::Statement ev(db, "SELECT seq, body FROM events WHERE seq >= ?1 ORDER BY seq");
        ev.bind(1, r.records == 0 && checkpoints.empty() ? std::int64_t{0} : firstAudited);
        while (ev.step()) {
            const std::int64_t seq = ev.int64(0);
            auto it = accepted.find(seq);
            if (it == accepted.end())
                return fail(r, r.lastSeq + 1,
                            "journaled event " + std::to_string(seq) +
                                " has no audit record: the log was cut after " +
                                recordName(r.lastSeq) + " (or the event was added behind it)");
            if (it->second != toHex(digest(hash, ev.text(1))))
                return fail(r, 0,
                            "journaled event " + std::to_string(seq) +
                                " differs from what was accepted (its audit record holds another "
                                "digest): the journal was altered");
            ++r.eventsChecked;
        }
    }
    r.ok = true;
    return r;
}

} // namespace ow::audit
