// The configuration of the trust boundary: allow lists, route conditions on who sent an event,
// Standard Webhooks keys, the audit trail's key, personal data; every mistake named with its
// file, line and column, and what is valid but open said as a warning.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

#include "core/config/ConfigLoader.h"
#include "tests/support/TempDir.h"

using namespace ow::config;
using ow::testkit::TempDir;

namespace {

LoadResult load(const TempDir& dir, const std::string& text) {
    return loadConfigText(text, "test.yaml", dir.path(),
                          [](const std::string&) { return std::optional<std::string>(); });
}

std::string dump(const std::vector<ConfigProblem>& v) {
    std::string out;
    for (const auto& p : v)
        out += formatProblem(p) + "\n";
    return out;
}

bool has(const std::vector<ConfigProblem>& v, int line, int column, const std::string& text) {
    for (const auto& p : v)
        if (p.where.line == line && p.where.column == column &&
            p.message.find(text) != std::string::npos)
            return true;
    return false;
}

} // namespace

TEST_CASE("Trust config: allow lists on inputs, bearer clients and signed senders", "[config]") {
    TempDir dir("ow-config");
    const auto r = load(dir, R"(
inputs:
  - name: units
    path: /v1/units
    allow: { source: "unit:*" }
    auth:
      bearer_tokens:
        - client: water
          token: water-token-0123456789
          allow:
            - { type: "gov.utility.*", source: "unit:water" }
            - { type: gov.case.note, extensions: { department: water-supply } }
  - name: terminals
    path: /v1/payments
    auth:
      signed:
        senders:
          - { client: t1, keys: [ "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" ],
              allow: { type: [ gov.fee.paid ], source: "bank:t1" } }
)");
    INFO(dump(r.problems));
    REQUIRE(r.ok());
    const auto& units = r.config.inputs[0];
    REQUIRE(units.allow.rules.size() == 1);
    CHECK(units.allow.rules[0].source == std::vector<std::string>{"unit:*"});
    const auto& water = units.tokens[0].allow;
    REQUIRE(water.rules.size() == 2);
    CHECK(water.rules[1].extensions.front().first == "department");
    const auto& t1 = r.config.inputs[1].signedAuth->senders[0];
    CHECK(t1.allow.rules[0].type == std::vector<std::string>{"gov.fee.paid"});
    // The Standard Webhooks secret is the base64-decoded bytes, not the text.
    CHECK(t1.keys[0].size() == 24);
    CHECK(t1.keys[0].rfind("whsec_", 0) == std::string::npos);
    // The terminals input lets its sender through as its allow list says: no warning for it;
    // the units input restricts its clients: none either.
    INFO(dump(r.warnings));
    CHECK(r.warnings.empty());
}

TEST_CASE("Trust config: malformed allow lists and keys are named where they are", "[config]") {
    TempDir dir("ow-config");
    const auto r = load(dir, R"(inputs:
  - name: a
    path: /a
    allow: []
  - name: b
    path: /b
    allow: [ { tpye: x } ]
  - name: c
    path: /c
    allow: { input: c }
  - name: d
    path: /d
    auth:
      signed:
        senders:
          - { client: t1, keys: [ "whsec_not base64!" ] }
          - { client: t2, keys: [ "whsec_c2hvcnQ=" ] }
)");
    INFO(dump(r.problems));
    CHECK(has(r.problems, 4, 12, "must be a rule"));
    CHECK(has(r.problems, 7, 16, "unknown key 'tpye'"));
    CHECK(has(r.problems, 10, 14, "unknown key 'input'"));
    CHECK(has(r.problems, 16, 35, "rest is not base64"));
    CHECK(has(r.problems, 17, 35, "shorter than 16 bytes once decoded"));
}

TEST_CASE("Trust config: routes on input, client and auth must name what exists", "[config]") {
    TempDir dir("ow-config");
    const auto r = load(dir, R"(inputs:
  - name: platform
    path: /p
    auth: { bearer_tokens: [ { client: intranet-platform, token: platform-token-0123456789 } ] }
outputs:
  - { name: o, url: "http://127.0.0.1:9/x" }
  - { name: ledger, processor: cases/ledger }
routes:
  - { name: ok1, match: { input: platform, client: intranet-platform, auth: token }, to: [ o ] }
  - { name: ok2, match: { input: "processor:*", client: [ "processor:ledger", "CN=*" ] }, to: [ o ] }
  - { name: bad1, match: { input: platfrom }, to: [ o ] }
  - { name: bad2, match: { client: [ "nobody*" ] }, to: [ o ] }
  - { name: bad3, match: { auth: tokens }, to: [ o ] }
plugins:
  - { name: cases, file: cases.so }
)");
    INFO(dump(r.problems));
    CHECK(has(r.problems, 11, 35, "\"platfrom\" is no input"));
    CHECK(has(r.problems, 11, 35, "did you mean 'platform'"));
    CHECK(has(r.problems, 12, 36, "matches no client"));
    CHECK(has(r.problems, 13, 34, "is no way in"));
    for (const auto& p : r.problems) {
        INFO(formatProblem(p));
        CHECK(p.where.line >= 11); // ok1 and ok2 are fine
    }
}

TEST_CASE("Trust config: inputs that let a client send anything are warned about", "[config]") {
    TempDir dir("ow-config");
    const auto r = load(dir, R"(inputs:
  - name: open
    path: /open
  - name: tokens
    path: /t
    auth:
      bearer_tokens:
        - { client: a, token: a-token-0123456789, allow: { type: x } }
        - { client: b, token: b-token-0123456789 }
)");
    REQUIRE(r.ok());
    INFO(dump(r.warnings));
    CHECK(has(r.warnings, 2, 5, "input 'open' has no authentication"));
    CHECK(has(r.warnings, 4, 5, "lets client 'b' send any type and source"));
    for (const auto& w : r.warnings)
        CHECK(w.message.find("client 'a'") == std::string::npos);
}

TEST_CASE("Trust config: the audit trail's signing key is checked when loaded", "[config]") {
    TempDir dir("ow-config");
    REQUIRE(std::system(
                ("openssl genpkey -algorithm ED25519 -out " + dir.path() + "/good.key 2>/dev/null")
                    .c_str()) == 0);
    REQUIRE(std::system(("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out " +
                         dir.path() + "/rsa.key 2>/dev/null")
                            .c_str()) == 0);
    auto with = [&](const std::string& key) {
        return load(dir, "hub:\n  audit:\n    signing_key_file: " + key + "\n    hash: sm3\n");
    };
    auto good = with("good.key");
    INFO(dump(good.problems));
    CHECK(good.ok());
    CHECK(good.config.hub.audit.hash == "sm3");
    CHECK(good.warnings.empty());
    auto rsa = with("rsa.key");
    CHECK(has(rsa.problems, 3, 23, "Ed25519 or SM2"));
    auto missing = with("missing.key");
    CHECK(has(missing.problems, 3, 23, "cannot read the key file"));
    // Without a key: valid, with a warning that checkpoints are not signed.
    auto none = load(dir, "hub:\n  audit: { retention_days: 200 }\n");
    CHECK(none.ok());
    CHECK(none.config.hub.audit.retentionDays == 200);
    CHECK(has(none.warnings, 2, 10, "not signed"));
}

TEST_CASE("Trust config: personal data declarations and what each output gets", "[config]") {
    TempDir dir("ow-config");
    const auto r = load(dir, R"(personal_data:
  - { type: "gov.case.*", fields: [ /data/applicant/id_number, "/data/contacts/*/mobile" ] }
  - { type: gov.x, fields: [ "no-slash" ] }
brokers:
  - { name: hall, url: "tcp://127.0.0.1:1883" }
outputs:
  - { name: led, mqtt: { broker: hall, topic: t }, personal_data: mask }
  - { name: open-wall, mqtt: { broker: hall, topic: t } }
  - { name: dept, url: "http://127.0.0.1:9/x", personal_data: hide }
)");
    INFO(dump(r.problems));
    CHECK(has(r.problems, 3, 28, "is not a JSON pointer"));
    CHECK(has(r.problems, 9, 63, "must be one of keep, mask, drop"));
    CHECK(has(r.warnings, 8, 5, "output 'open-wall' publishes to a broker"));
    REQUIRE(r.config.personalData.size() == 2);
    CHECK(r.config.personalData[0].pointers.size() == 2);
    CHECK(r.config.outputs[0].personalData == "mask");
}
