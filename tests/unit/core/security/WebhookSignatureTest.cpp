// The signature check of payment terminals' requests against a generated vector set: valid
// requests; one-bit flips in body, timestamp, id and signature; a wrong key; missing,
// duplicate and malformed headers; timestamps ±301 s; exact replays; replays re-signed with a
// new timestamp but the old id; key rotation with two keys. None may be wrongly accepted and
// none wrongly refused, for HMAC-SHA256 and HMAC-SM3.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/event/Encoding.h"
#include "core/security/WebhookSignature.h"

using namespace ow;
using security::SignatureScheme;
using Headers = transport::http::HeaderList;

namespace {

class ManualClock final : public util::Clock {
public:
    [[nodiscard]] std::int64_t nowMs() const override { return now; }
    std::int64_t now = 1'795'856'400'000; // 2026-11-28T06:20:00Z
};

struct Message {
    std::string id;
    std::int64_t ts;
    std::string body;
    std::string signature;
    Headers headers() const {
        return {{"webhook-id", id},
                {"webhook-timestamp", std::to_string(ts)},
                {"webhook-signature", signature},
                {"content-type", "application/cloudevents+json"}};
    }
};

const std::string kOld = "terminal-07-key-2026-01";
const std::string kNew = "terminal-07-key-2026-11";

Message signedMessage(SignatureScheme s, const std::string& key, const std::string& id,
                      std::int64_t ts) {
    const std::string body =
        R"({"specversion":"1.0","id":")" + id +
        R"(","source":"/cib/terminal/07","type":"fee.paid","data":{"notice_no":"3505812026000123","amount_fen":12800}})";
    return {id, ts, body, security::signWebhook(s, key, id, ts, body)};
}

std::string flipBit(std::string s, std::size_t bit) {
    s[bit / 8] = static_cast<char>(s[bit / 8] ^ (1 << (bit % 8)));
    return s;
}

} // namespace

TEST_CASE("Webhook signatures: the vector set, for HMAC-SHA256 and HMAC-SM3", "[security]") {
    for (auto scheme : {SignatureScheme::HmacSha256, SignatureScheme::HmacSm3}) {
        INFO(security::schemeTag(scheme));
        ManualClock clock;
        security::WebhookVerifier v(scheme, 300, clock);
        const std::vector<security::WebhookSender> keys = {
            {"cib-terminal-03", {"terminal-03-key"}, {}},
            {"cib-terminal-07", {kOld, kNew}, {}}}; // terminal 07 during a rotation
        const std::int64_t now = clock.now / 1000;
        int n = 0;
        auto fresh = [&](const std::string& key, std::int64_t ts) {
            return signedMessage(scheme, key, "msg_" + std::to_string(++n), ts);
        };
        auto check = [&](const Message& m) { return v.verify(m.headers(), m.body, keys); };

        // Valid, with either key of the rotation, at the edges of the window; the sender is
        // the terminal whose key matched.
        CHECK(check(fresh(kOld, now)).client == "cib-terminal-07");
        CHECK(check(fresh("terminal-03-key", now)).client == "cib-terminal-03");
        CHECK(check(fresh(kNew, now)).ok);
        CHECK(check(fresh(kNew, now - 300)).ok);
        CHECK(check(fresh(kNew, now + 300)).ok);
        // Two signatures in the header (the sender mid-rotation): one matching is enough.
        {
            auto m = fresh(kNew, now);
            m.signature =
                security::signWebhook(scheme, "retired", m.id, m.ts, m.body) + " " + m.signature;
            CHECK(check(m).ok);
        }

        // Every one-bit flip of the body, the timestamp, the id and the signature is refused.
        const auto base = fresh(kNew, now);
        for (std::size_t bit = 0; bit < base.body.size() * 8; ++bit) {
            auto m = base;
            m.body = flipBit(m.body, bit);
            REQUIRE_FALSE(check(m).ok);
        }
        const std::string tsText = std::to_string(base.ts);
        for (std::size_t bit = 0; bit < tsText.size() * 8; ++bit) {
            auto h = base.headers();
            h[1].second = flipBit(tsText, bit);
            REQUIRE_FALSE(v.verify(h, base.body, keys).ok);
        }
        for (std::size_t bit = 0; bit < base.id.size() * 8; ++bit) {
            auto m = base;
            m.id = flipBit(m.id, bit);
            REQUIRE_FALSE(check(m).ok);
        }
        const std::string tag = std::string(security::schemeTag(scheme)) + ",";
        const std::string raw = *event::base64Decode(base.signature.substr(tag.size()));
        for (std::size_t bit = 0; bit < raw.size() * 8; ++bit) {
            auto m = base;
            m.signature = tag + event::base64Encode(flipBit(raw, bit));
            REQUIRE_FALSE(check(m).ok);
        }
        // The unflipped original is still good (the flips were refused, not remembered).
        CHECK(check(base).ok);

        // A wrong key; the other scheme's signature.
        CHECK(check(fresh("someone-else", now)).status == 401);
        {
            auto m = fresh(kNew, now);
            const auto other = scheme == SignatureScheme::HmacSha256 ? SignatureScheme::HmacSm3
                                                                     : SignatureScheme::HmacSha256;
            m.signature = security::signWebhook(other, kNew, m.id, m.ts, m.body);
            auto r = check(m);
            CHECK_FALSE(r.ok);
            CHECK_THAT(r.reason, Catch::Contains("no " + std::string(security::schemeTag(scheme)) +
                                                 " signature"));
        }

        // Missing, duplicate and malformed headers.
        for (const char* name : {"webhook-id", "webhook-timestamp", "webhook-signature"}) {
            auto m = fresh(kNew, now);
            auto h = m.headers();
            std::erase_if(h, [&](const auto& kv) { return kv.first == name; });
            auto r = v.verify(h, m.body, keys);
            CHECK_FALSE(r.ok);
            CHECK(r.status == 401);
            CHECK_THAT(r.reason, Catch::Contains(std::string("missing ") + name));
            auto d = m.headers();
            for (const auto& kv : m.headers())
                if (kv.first == name) d.push_back(kv);
            CHECK(v.verify(d, m.body, keys).status == 400);
        }
        for (const std::string& bad : {std::string("v1"), tag + "%%%notbase64", std::string("")}) {
            auto m = fresh(kNew, now);
            m.signature = bad;
            CHECK_FALSE(check(m).ok);
        }
        {
            auto m = fresh(kNew, now);
            auto h = m.headers();
            h[1].second = "1795856400.5";
            CHECK(v.verify(h, m.body, keys).status == 400);
            h[1].second = "";
            CHECK(v.verify(h, m.body, keys).status == 400);
        }

        // Outside the window by one second, either way, though correctly signed.
        CHECK(check(fresh(kNew, now - 301)).status == 401);
        CHECK(check(fresh(kNew, now + 301)).status == 401);

        // Replays: exactly the same request, and the same id re-signed with a new timestamp.
        const auto paid = fresh(kNew, now);
        REQUIRE(check(paid).ok);
        auto replay = check(paid);
        CHECK_FALSE(replay.ok);
        CHECK(replay.status == 409);
        clock.now += 60'000;
        auto resigned = signedMessage(scheme, kNew, paid.id, clock.now / 1000);
        CHECK(check(resigned).status == 409);
        // Once the original timestamp is out of the window, its replay fails the time check.
        clock.now += 300'000;
        CHECK(check(paid).status == 401);

        // After the rotation the old key is retired: only the new one is accepted.
        const std::vector<security::WebhookSender> rotated = {{"cib-terminal-07", {kNew}, {}}};
        const std::int64_t later = clock.now / 1000;
        auto byOld = fresh(kOld, later);
        CHECK(v.verify(byOld.headers(), byOld.body, rotated).status == 401);
        auto byNew = fresh(kNew, later);
        CHECK(v.verify(byNew.headers(), byNew.body, rotated).ok);
    }
}

TEST_CASE("Webhook signatures: the Standard Webhooks test vector", "[security]") {
    // From the Standard Webhooks specification's example (secret base64-decoded).
    const std::string secret = *event::base64Decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    const std::string body = R"({"test": 2432232314})";
    CHECK(security::signWebhook(SignatureScheme::HmacSha256, secret, "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                1614265330,
                                body) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}
