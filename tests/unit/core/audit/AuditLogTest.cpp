// The audit trail against tampering: a log is written, copied, and each copy damaged in one
// way (a record modified, removed, inserted, reordered, the log cut, a checkpoint forged, the
// journal's event altered). The verifier must name the first record at fault every time, and
// pass the untouched log, with SHA-256 + Ed25519 and with SM3 + SM2.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "core/audit/AuditLog.h"
#include "core/audit/AuditVerifier.h"
#include "core/store/Journal.h"
#include "tests/support/TempDir.h"

using namespace ow;
using ow::testkit::TempDir;

namespace {

std::shared_ptr<audit::SigningKey> makeKey(const TempDir& dir, const std::string& name,
                                           const std::string& genpkeyArgs) {
    const std::string file = dir.path() + "/" + name;
    const std::string cmd = "openssl genpkey " + genpkeyArgs + " -out " + file + " 2>/dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::string why;
    auto key = audit::SigningKey::load(file, false, why);
    INFO(why);
    REQUIRE(key);
    return std::shared_ptr<audit::SigningKey>(std::move(key));
}

struct Trail {
    audit::HashAlgorithm hash;
    std::shared_ptr<audit::SigningKey> key;
};

/// A journal with 40 audit records (accepted events among them) and checkpoints every 10.
std::string writeTrail(const TempDir& dir, const std::string& name, const Trail& t) {
    const std::string dataDir = dir.path() + "/" + name;
    store::Journal journal(dataDir, "normal");
    audit::AuditLog::createTables(journal.database());
    audit::AuditLog::Settings s;
    s.hash = t.hash;
    s.key = t.key;
    s.checkpointEvery = 10;
    s.checkpointIntervalMs = 1'000'000;
    audit::AuditLog log(journal.database(), s);
    std::int64_t now = 1'796'000'000'000;
    for (int i = 0; i < 40; ++i) {
        journal.begin();
        log.beginTransaction();
        if (i % 3 == 0) {
            const std::string body =
                R"({"id":")" + std::to_string(i) + R"(","n":)" + std::to_string(i) + "}";
            const auto seq =
                journal.insertEvent("dept:x", std::to_string(i), "t", "in", "c", now, body);
            log.append(
                "accepted", now,
                {{"event_seq", seq}, {"id", std::to_string(i)}, {"body_hash", log.bodyHash(body)}});
        } else {
            log.append("refused", now, {{"input", "in"}, {"status", 403}, {"count", i}});
        }
        log.checkpointIfDue(now);
        journal.commit();
        now += 1000;
    }
    return journal.fileName(dataDir);
}

audit::VerifyReport verify(const std::string& file, const Trail& t) {
    store::Database db(file, true);
    return audit::verifyAuditTrail(db, t.hash, t.key.get());
}

void damage(const std::string& file, const std::string& sql) {
    store::Database db(file);
    db.exec(sql);
}

} // namespace

TEST_CASE("Audit trail: every kind of tampering is named by its first record", "[audit]") {
    TempDir dir("ow-audit");
    const std::vector<std::pair<std::string, Trail>> profiles = {
        {"sha256+ed25519",
         {audit::HashAlgorithm::Sha256, makeKey(dir, "ed.key", "-algorithm ED25519")}},
        {"sm3+sm2",
         {audit::HashAlgorithm::Sm3,
          makeKey(dir, "sm2.key", "-algorithm EC -pkeyopt ec_paramgen_curve:SM2")}},
    };
    for (const auto& [label, trail] : profiles) {
        INFO(label);
        const std::string original = writeTrail(dir, label, trail);
        auto intact = verify(original, trail);
        INFO(intact.fault);
        REQUIRE(intact.ok);
        CHECK(intact.records == 40);
        CHECK(intact.checkpoints == 4);
        CHECK(intact.signedCheckpoints == 4);
        CHECK(intact.eventsChecked == 14);

        struct Case {
            const char* what;
            std::string sql;
            std::int64_t first; // the record the verifier must name (0: not a record)
        };
        const std::vector<Case> cases = {
            {"a record modified",
             "UPDATE audit SET record=replace(record,'403','200') WHERE seq=17", 17},
            {"a record removed", "DELETE FROM audit WHERE seq=23", 23},
            {"a record inserted (the rest renumbered)",
             "UPDATE audit SET seq=seq+1000 WHERE seq>=12; UPDATE audit SET seq=seq-999 WHERE "
             "seq>=1012; INSERT INTO audit SELECT 12, at_ms, record, hash FROM audit WHERE seq=5",
             12},
            {"two records swapped",
             "UPDATE audit SET seq=-1 WHERE seq=31; UPDATE audit SET seq=31 WHERE seq=32; "
             "UPDATE audit SET seq=32 WHERE seq=-1",
             31},
            {"the log cut before its last checkpoint", "DELETE FROM audit WHERE seq>=35", 35},
            {"the log cut after its last checkpoint (the journal still holds the events)",
             "DELETE FROM audit WHERE seq>=38; DELETE FROM audit_checkpoints WHERE seq=40", 38},
            {"the first records removed", "DELETE FROM audit WHERE seq<=3", 4},
            {"a checkpoint's hash forged",
             "UPDATE audit_checkpoints SET hash=(SELECT hash FROM audit WHERE seq=19) WHERE seq=20",
             20},
        };
        for (const auto& c : cases) {
            INFO(c.what);
            const std::string copy = dir.path() + "/copy-" + label + ".db";
            std::filesystem::copy_file(original, copy,
                                       std::filesystem::copy_options::overwrite_existing);
            damage(copy, c.sql);
            auto r = verify(copy, trail);
            INFO(r.fault);
            CHECK_FALSE(r.ok);
            if (c.first) CHECK(r.faultSeq == c.first);
        }
        // A journaled event altered after it was accepted.
        const std::string copy = dir.path() + "/copy-event-" + label + ".db";
        std::filesystem::copy_file(original, copy);
        damage(copy, "UPDATE events SET body=replace(body,'\"n\":9','\"n\":99') WHERE seq=4");
        auto r = verify(copy, trail);
        CHECK_FALSE(r.ok);
        CHECK(r.fault.find("journaled event 4") != std::string::npos);
    }
}

TEST_CASE("Audit trail: a whole log rewritten consistently fails on the signed checkpoints",
          "[audit]") {
    TempDir dir("ow-audit");
    const Trail real{audit::HashAlgorithm::Sha256, makeKey(dir, "real.key", "-algorithm ED25519")};
    const Trail forger{audit::HashAlgorithm::Sha256,
                       makeKey(dir, "forger.key", "-algorithm ED25519")};
    const std::string forged = writeTrail(dir, "forged", forger);
    auto r = verify(forged, real);
    CHECK_FALSE(r.ok);
    CHECK(r.fault.find("signed by key") != std::string::npos);
    // Without a key the checkpoints' hashes are still checked, but a forgery passes: the
    // report says signatures were not checked.
    store::Database db(forged, true);
    auto unsignedCheck = audit::verifyAuditTrail(db, audit::HashAlgorithm::Sha256, nullptr);
    CHECK(unsignedCheck.ok);
    CHECK(unsignedCheck.signedCheckpoints == 0);
}

TEST_CASE("Audit trail: retention removes old records up to a checkpoint that anchors the rest",
          "[audit]") {
    TempDir dir("ow-audit");
    const Trail t{audit::HashAlgorithm::Sha256, makeKey(dir, "k.key", "-algorithm ED25519")};
    const std::string file = writeTrail(dir, "kept", t);
    {
        store::Database db(file);
        audit::AuditLog::Settings s;
        s.key = t.key;
        audit::AuditLog log(db, s);
        // Records are one second apart from 1'796'000'000'000; checkpoints at 10, 20, 30, 40.
        // Before 25 s: the newest checkpoint older than that is at record 20 (19 s).
        CHECK(log.prune(1'796'000'025'000, 5) == 5); // a chunk at a time
        CHECK(log.prune(1'796'000'025'000, 100) == 15);
        CHECK(log.prune(1'796'000'025'000, 100) == 0);
        CHECK(audit::AuditLog::records(db, 0, 1).front().seq == 21);
    }
    // The events before record 21 are still in the journal; they predate the trail now.
    auto r = verify(file, t);
    INFO(r.fault);
    CHECK(r.ok);
    CHECK(r.firstSeq == 21);
}

TEST_CASE("Audit trail: keys that are not Ed25519 or SM2 private keys are refused", "[audit]") {
    TempDir dir("ow-audit");
    std::string why;
    CHECK_FALSE(audit::SigningKey::load(dir.path() + "/missing.key", false, why));
    CHECK(why.find("cannot read") != std::string::npos);
    const std::string rsa = dir.path() + "/rsa.key";
    REQUIRE(std::system(("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out " +
                         rsa + " 2>/dev/null")
                            .c_str()) == 0);
    CHECK_FALSE(audit::SigningKey::load(rsa, false, why));
    CHECK(why.find("Ed25519 or SM2") != std::string::npos);
    const std::string text = dir.path() + "/text.key";
    std::ofstream(text) << "not a key\n";
    CHECK_FALSE(audit::SigningKey::load(text, false, why));
    CHECK(why.find("no PEM private key") != std::string::npos);
}
