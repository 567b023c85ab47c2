#include "core/ingest/EventIngress.h"

#include <algorithm>
#include <chrono>

#include "core/observability/Log.h"
#include "core/security/AllowList.h"
#include "core/security/TokenAuth.h"
#include "core/transport/http/Problem.h"
#include "core/util/Clock.h"

namespace ow::ingest {

using observability::Log;
using transport::http::problem;
using transport::http::Reply;
using transport::http::Request;
using transport::http::Response;

namespace {

std::string mediaType(const std::string* contentType) {
    if (!contentType) return "";
    std::string t = contentType->substr(0, contentType->find(';'));
    t.erase(t.find_last_not_of(" \t") + 1);
    t.erase(0, std::min(t.size(), t.find_first_not_of(" \t")));
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
    return t;
}

// draft-ietf-httpapi-idempotency-key-header: an sf-string; we accept 1..255 visible ASCII
// characters (quotes around it are stripped).
bool validIdempotencyKey(std::string& key) {
    if (key.size() >= 2 && key.front() == '"' && key.back() == '"')
        key = key.substr(1, key.size() - 2);
    if (key.empty() || key.size() > 255) return false;
    return std::all_of(key.begin(), key.end(),
                       [](unsigned char c) { return c >= 0x21 && c <= 0x7e; });
}

// Appends `s` as a JSON string. The answer is built by hand because it is written for every
// accepted request and a JSON tree for five members cost more than the journal insert.
void appendJsonString(std::string& out, std::string_view s) {
    static const char* hex = "0123456789abcdef";
    out.push_back('"');
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(ch);
        } else if (c < 0x20) {
            out += "\\u00";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        } else {
            out.push_back(ch); // UTF-8 was validated by the codec
        }
    }
    out.push_back('"');
}

void appendOutcome(std::string& out, const event::Event& e, const store::AcceptOutcome& o) {
    out += o.status == store::AcceptOutcome::Status::Accepted ? R"({"status":"accepted","id":)"
                                                              : R"({"status":"duplicate","id":)";
    appendJsonString(out, e.id);
    out += R"(,"source":)";
    appendJsonString(out, e.source);
    out += R"(,"seq":)" + std::to_string(o.seq) + R"(,"accepted_at":")" +
           util::formatRfc3339Ms(o.acceptedAtMs) + "\"}";
}

// The answer to an accepted request; the same text is stored for Idempotency-Key replays.
std::pair<int, std::string>
buildAnswer(const std::vector<std::shared_ptr<const event::Event>>& events,
            const std::vector<store::AcceptOutcome>& out, bool batch, std::size_t& fresh) {
    fresh = 0;
    for (const auto& o : out)
        if (o.status == store::AcceptOutcome::Status::Accepted) ++fresh;
    std::string body;
    body.reserve(160 * out.size() + 64);
    if (!batch) {
        appendOutcome(body, *events[0], out[0]);
    } else {
        body = R"({"accepted":)" + std::to_string(fresh) + R"(,"duplicates":)" +
               std::to_string(out.size() - fresh) + R"(,"events":[)";
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (i) body.push_back(',');
            appendOutcome(body, *events[i], out[i]);
        }
        body += "]}";
    }
    // 202 when something new was journaled (or an empty batch), 200 when all were duplicates.
    return {fresh > 0 || out.empty() ? 202 : 200, std::move(body)};
}

const char* errorType(event::EventError::Kind k) {
    switch (k) {
    case event::EventError::Kind::MalformedJson:
        return "malformed-json";
    case event::EventError::Kind::TooDeep:
        return "json-too-deep";
    case event::EventError::Kind::TooManyKeys:
        return "json-too-many-keys";
    case event::EventError::Kind::InvalidBatch:
        return "invalid-batch";
    case event::EventError::Kind::InvalidEvent:
        break;
    }
    return "invalid-cloudevent";
}

security::SignatureScheme schemeOf(const config::SignedAuth& a) {
    return a.scheme == "hmac-sm3" ? security::SignatureScheme::HmacSm3
                                  : security::SignatureScheme::HmacSha256;
}

} // namespace

EventIngress::Policy::Policy(config::InputSpec s) : spec(std::move(s)), auth(spec.tokens) {
    for (const auto& t : spec.tokens)
        clientAllow[t.client] = &t.allow;
    if (spec.signedAuth)
        for (const auto& sd : spec.signedAuth->senders)
            clientAllow[sd.client] = &sd.allow;
    if (security::forClient(spec.allow, "") != spec.allow)
        for (const auto& [client, _] : clientAllow)
            inputAllowFor[client] = security::forClient(spec.allow, client);
}

const config::AllowSpec& EventIngress::Policy::inputAllow(const std::string& client) const {
    const auto it = inputAllowFor.find(client);
    return it == inputAllowFor.end() ? spec.allow : it->second;
}

EventIngress::EventIngress(config::InputSpec spec, const config::Limits& limits,
                           pipeline::JournalWriter& writer, observability::Metrics& metrics,
                           const util::Clock& clock)
    : name_(spec.name), path_(spec.path), jsonLimits_{static_cast<std::size_t>(limits.maxJsonDepth),
                                                      static_cast<std::size_t>(limits.maxJsonKeys)},
      maxBatch_(static_cast<std::size_t>(limits.maxBatchEvents)), writer_(writer),
      counters_(metrics, spec.name),
      acceptLatency_(
          metrics.histogram("onewindow_accept_seconds", "From request received to answer sent",
                            observability::Metrics::latencyBuckets(), {{"input", spec.name}})) {
    const config::SignedAuth defaults;
    const auto& a = spec.signedAuth ? *spec.signedAuth : defaults;
    signatures_ = std::make_unique<security::WebhookVerifier>(schemeOf(a), a.toleranceS, clock);
    // Ids and signatures seen before a restart are still replays.
    if (spec.signedAuth) signatures_->preload(writer_.signedSeen(name_, clock.nowMs() / 1000));
    policy_.store(std::make_shared<const Policy>(std::move(spec)));
}

void EventIngress::reconfigure(const config::InputSpec& spec) {
    if (spec.signedAuth)
        signatures_->reconfigure(schemeOf(*spec.signedAuth), spec.signedAuth->toleranceS);
    policy_.store(std::make_shared<const Policy>(spec));
}

Response EventIngress::reject(Admitted& a, int status, const std::string& reason,
                              const std::string& type, const std::string& title,
                              const std::string& detail, const nlohmann::json& extra) {
    counters_.rejected(reason).inc();
    a.refusal = reason;
    Log::debug("ingress", "request refused",
               {{"input", name_},
                {"principal", a.principal.id.empty() ? "unauthenticated" : a.principal.id},
                {"status", status},
                {"reason", detail}});
    return problem(status, type, title, detail, extra);
}

void EventIngress::handleAsync(const Request& req, Reply reply) {
    auto started = std::chrono::steady_clock::now();
    auto admitted = std::make_shared<Admitted>();
    if (std::optional<Response> refused = admit(req, *admitted)) {
        // Who was refused and why, in the audit trail ("unauthenticated" before a valid
        // credential was seen).
        writer_.auditRefusal(
            name_, admitted->principal.id.empty() ? "unauthenticated" : admitted->principal.id,
            req.peerAddress, refused->status, admitted->refusal);
        observeSince(started);
        reply(std::move(*refused));
        return;
    }
    std::vector<pipeline::AcceptItem> items = std::move(admitted->items);
    std::optional<pipeline::IdempotencyBinding> idem = std::move(admitted->idem);
    std::vector<store::SeenSignature> signatures = std::move(admitted->signatures);
    const std::string client = admitted->client;
    writer_.acceptAsync(std::move(items), name_, client, std::move(idem), std::move(signatures),
                        [this, admitted, started, peer = req.peerAddress,
                         reply = std::move(reply)](const pipeline::AcceptResult& result) {
                            Response r = conclude(*admitted, result);
                            if (r.status == 422)
                                writer_.auditRefusal(name_, admitted->client, peer, r.status,
                                                     admitted->refusal);
                            observeSince(started);
                            reply(std::move(r));
                        });
}

void EventIngress::observeSince(std::chrono::steady_clock::time_point started) {
    acceptLatency_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

std::optional<Response> EventIngress::refuseBeforeBody(const Request& head) {
    Admitted a;
    auto refused = authenticate(head, *policy_.load(), a);
    if (refused)
        writer_.auditRefusal(name_, "unauthenticated", head.peerAddress, refused->status,
                             a.refusal);
    return refused;
}

std::optional<Response> EventIngress::authenticate(const Request& req, const Policy& policy,
                                                   Admitted& a) {
    security::Principal& who = a.principal;
    who.input = name_;
    a.client = req.clientCertSubject.empty() ? "anonymous" : req.clientCertSubject;
    who.method = req.clientCertSubject.empty() ? security::AuthMethod::None
                                               : security::AuthMethod::Certificate;
    if (!policy.auth.required()) return std::nullopt;
    auto tokenClient = policy.auth.authenticate(req.header("authorization"));
    if (!tokenClient) {
        auto r = reject(a, 401, "unauthorized", "unauthorized", "Unauthorized",
                        req.header("authorization")
                            ? "the bearer token is not valid for this input"
                            : "this input requires an Authorization: Bearer token");
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"onewindow\"");
        return r;
    }
    a.client = *tokenClient;
    who.method = security::AuthMethod::Token;
    return std::nullopt;
}

std::optional<Response> EventIngress::admit(const Request& req, Admitted& a) {
    // One reading of the input's settings for the whole request, even if a reload swaps them.
    const std::shared_ptr<const Policy> policy = policy_.load();
    const config::InputSpec& spec = policy->spec;

    // --- who is calling
    std::string& client = a.client;
    if (auto refused = authenticate(req, *policy, a)) return refused;
    security::Principal& who = a.principal;
    std::vector<store::SeenSignature>& seenSignatures = a.signatures;
    if (spec.signedAuth) {
        // The signature covers the body as sent: checked before anything reads it.
        auto check = signatures_->verify(req.headers, req.body, spec.signedAuth->senders);
        if (!check.ok) {
            const char* slug = check.status == 409   ? "replayed"
                               : check.status == 400 ? "bad-signature-headers"
                                                     : "bad-signature";
            return reject(a, check.status, slug, slug,
                          check.status == 409   ? "Conflict"
                          : check.status == 400 ? "Bad Request"
                                                : "Unauthorized",
                          check.reason);
        }
        client = check.client;
        who.method = security::AuthMethod::Signature;
        seenSignatures = std::move(check.remembered);
    }
    who.id = client;

    // --- which mode, then parse
    std::string type = mediaType(req.header("content-type"));
    std::vector<event::Event> parsed;
    bool& batch = a.batch;
    try {
        if (type == "application/cloudevents+json") {
            parsed.push_back(event::parseStructured(req.body, jsonLimits_));
        } else if (type == "application/cloudevents-batch+json") {
            batch = true;
            parsed = event::parseBatch(req.body, jsonLimits_, maxBatch_);
        } else if (req.header("ce-specversion")) {
            parsed.push_back(event::parseBinary(req.headers, req.body, jsonLimits_));
        } else {
            return reject(
                a, 415, "unsupported-media-type", "unsupported-media-type",
                "Unsupported Media Type",
                "send application/cloudevents+json (structured), "
                "application/cloudevents-batch+json "
                "(batch) or binary mode with ce-specversion, ce-id, ce-source and ce-type headers; "
                "got " +
                    (type.empty() ? std::string("no Content-Type") : "Content-Type " + type));
        }
    } catch (const event::EventError& e) {
        nlohmann::json extra = nlohmann::json::object();
        if (!e.attribute.empty()) extra["attribute"] = e.attribute;
        if (e.index >= 0) extra["index"] = e.index;
        std::string detail = e.what();
        if (e.index >= 0)
            detail = "event " + std::to_string(e.index) + " of the batch: " + detail +
                     " (no event of the batch was accepted)";
        return reject(a, 400, errorType(e.kind), errorType(e.kind), "Bad Request", detail, extra);
    }
    if (auto refused = screen(parsed, *policy, a, batch)) return refused;
    std::vector<pipeline::AcceptItem>& items = a.items;
    std::vector<std::shared_ptr<const event::Event>>& events = a.events;
    items.reserve(parsed.size());
    for (auto& e : parsed) {
        // Stored as sent (receivers get it so); the hub's view carries who sent it.
        std::string body = event::toStructured(e);
        security::stamp(e, who);
        items.push_back({std::make_shared<const event::Event>(std::move(e)), std::move(body)});
        events.push_back(items.back().event);
    }

    // --- Idempotency-Key
    std::optional<pipeline::IdempotencyBinding>& idem = a.idem;
    std::string key;
    if (const auto* k = req.header("idempotency-key")) {
        key = *k;
        if (!validIdempotencyKey(key))
            return reject(a, 400, "bad-idempotency-key", "bad-idempotency-key", "Bad Request",
                          "Idempotency-Key must be 1 to 255 visible ASCII characters");
        std::string fingerprint =
            security::sha256Hex(req.method + " " + req.path + "\n" + type + "\n" + req.body);
        {
            std::lock_guard lock(inFlightMu_);
            if (!inFlight_.insert({client, key}).second)
                return reject(
                    a, 409, "idempotency-in-flight", "idempotency-key-in-flight", "Conflict",
                    "a request with this Idempotency-Key is still being processed; retry later");
        }
        a.inFlight = std::make_unique<InFlightKey>(*this, client, key);
        idem = pipeline::IdempotencyBinding{
            client, key, fingerprint,
            [events, batch](const std::vector<store::AcceptOutcome>& out) {
                std::size_t fresh = 0;
                return buildAnswer(events, out, batch, fresh);
            }};
    }
    a.fingerprint = idem ? idem->fingerprint : std::string();
    a.count = items.size();
    return std::nullopt;
}

std::optional<Response> EventIngress::screen(std::vector<event::Event>& events,
                                             const Policy& policy, Admitted& a, bool batch) {
    const auto allow = policy.clientAllow.find(a.client);
    const config::AllowSpec* clientAllow =
        allow == policy.clientAllow.end() ? nullptr : allow->second;
    for (std::size_t i = 0; i < events.size(); ++i) {
        auto refusal =
            security::screen(events[i], a.principal, policy.inputAllow(a.client), clientAllow);
        if (!refusal) continue;
        nlohmann::json extra = {{"client", a.client}, {"attribute", refusal->attribute}};
        std::string detail = refusal->detail;
        if (batch) {
            extra["index"] = i;
            detail = "event " + std::to_string(i) + " of the batch: " + detail +
                     " (no event of the batch was accepted)";
        }
        counters_.refused(a.client, refusal->reason).inc();
        return reject(a, refusal->status, refusal->reason,
                      refusal->status == 403 ? "not-allowed" : refusal->reason,
                      refusal->status == 403 ? "Forbidden" : "Bad Request", detail, extra);
    }
    return std::nullopt;
}

EventIngress::InFlightKey::~InFlightKey() {
    std::lock_guard lock(self.inFlightMu_);
    self.inFlight_.erase({client, key});
}

Response EventIngress::conclude(Admitted& a, const pipeline::AcceptResult& result) {
    // Before the answer leaves: a client retrying at once with the key must not be told that
    // it is still in flight.
    a.inFlight.reset();
    if (!result.ok) {
        auto r = reject(a, 503, "store-unavailable", "store-unavailable", "Service Unavailable",
                        "the event could not be stored durably and was NOT accepted; retry later");
        r.headers.emplace_back("Retry-After", "1");
        return r;
    }
    if (result.previous) {
        if (result.previous->fingerprint != a.fingerprint)
            return reject(a, 422, "idempotency-key-reused", "idempotency-key-reused",
                          "Unprocessable Content",
                          "this Idempotency-Key was already used with a different request");
        Response r;
        r.status = result.previous->status;
        r.body = result.previous->response;
        r.headers.emplace_back("Content-Type", "application/json");
        r.headers.emplace_back("Idempotent-Replayed", "true");
        return r;
    }

    std::size_t fresh = 0;
    auto [status, text] = buildAnswer(a.events, result.outcomes, a.batch, fresh);
    counters_.accepted.inc(fresh);
    counters_.duplicates.inc(a.count - fresh);
    Response r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(text);
    return r;
}

} // namespace ow::ingest
