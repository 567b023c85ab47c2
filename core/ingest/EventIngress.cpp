#include "core/ingest/EventIngress.h"

#include <algorithm>
#include <chrono>

#include "core/observability/Log.h"
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

} // namespace

EventIngress::EventIngress(config::InputSpec spec, const config::Limits& limits,
                           pipeline::JournalWriter& writer, observability::Metrics& metrics,
                           const util::Clock& clock)
    : spec_(std::move(spec)), jsonLimits_{static_cast<std::size_t>(limits.maxJsonDepth),
                                          static_cast<std::size_t>(limits.maxJsonKeys)},
      maxBatch_(static_cast<std::size_t>(limits.maxBatchEvents)), writer_(writer),
      auth_(spec_.tokens), counters_(metrics, spec_.name),
      acceptLatency_(
          metrics.histogram("onewindow_accept_seconds", "From request received to answer sent",
                            observability::Metrics::latencyBuckets(), {{"input", spec_.name}})) {
    if (spec_.signedAuth) {
        const auto& a = *spec_.signedAuth;
        signatures_ = std::make_unique<security::WebhookVerifier>(
            a.scheme == "hmac-sm3" ? security::SignatureScheme::HmacSm3
                                   : security::SignatureScheme::HmacSha256,
            a.toleranceS, clock);
        // Ids and signatures seen before a restart are still replays.
        signatures_->preload(writer_.signedSeen(spec_.name, clock.nowMs() / 1000));
    }
}

Response EventIngress::reject(int status, const std::string& reason, const std::string& type,
                              const std::string& title, const std::string& detail,
                              const nlohmann::json& extra) {
    counters_.rejected(reason).inc();
    Log::debug("ingress", "request refused",
               {{"input", spec_.name}, {"status", status}, {"reason", detail}});
    return problem(status, type, title, detail, extra);
}

void EventIngress::handleAsync(const Request& req, Reply reply) {
    auto started = std::chrono::steady_clock::now();
    auto admitted = std::make_shared<Admitted>();
    if (std::optional<Response> refused = admit(req, *admitted)) {
        observeSince(started);
        reply(std::move(*refused));
        return;
    }
    std::vector<pipeline::AcceptItem> items = std::move(admitted->items);
    std::optional<pipeline::IdempotencyBinding> idem = std::move(admitted->idem);
    std::vector<store::SeenSignature> signatures = std::move(admitted->signatures);
    const std::string client = admitted->client;
    writer_.acceptAsync(
        std::move(items), spec_.name, client, std::move(idem), std::move(signatures),
        [this, admitted, started, reply = std::move(reply)](const pipeline::AcceptResult& result) {
            Response r = conclude(*admitted, result);
            observeSince(started);
            reply(std::move(r));
        });
}

void EventIngress::observeSince(std::chrono::steady_clock::time_point started) {
    acceptLatency_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

std::optional<Response> EventIngress::refuseBeforeBody(const Request& head) {
    std::string client;
    return authenticate(head, client);
}

std::optional<Response> EventIngress::authenticate(const Request& req, std::string& client) {
    client = req.clientCertSubject.empty() ? "anonymous" : req.clientCertSubject;
    if (!auth_.required()) return std::nullopt;
    auto who = auth_.authenticate(req.header("authorization"));
    if (!who) {
        auto r = reject(401, "unauthorized", "unauthorized", "Unauthorized",
                        req.header("authorization")
                            ? "the bearer token is not valid for this input"
                            : "this input requires an Authorization: Bearer token");
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"onewindow\"");
        return r;
    }
    client = *who;
    return std::nullopt;
}

std::optional<Response> EventIngress::admit(const Request& req, Admitted& a) {
    // --- who is calling
    std::string& client = a.client;
    if (auto refused = authenticate(req, client)) return refused;
    std::vector<store::SeenSignature>& seenSignatures = a.signatures;
    if (signatures_) {
        // The signature covers the body as sent: checked before anything reads it.
        auto check = signatures_->verify(req.headers, req.body, spec_.signedAuth->senders);
        if (!check.ok) {
            const char* slug = check.status == 409   ? "replayed"
                               : check.status == 400 ? "bad-signature-headers"
                                                     : "bad-signature";
            return reject(check.status, slug, slug,
                          check.status == 409   ? "Conflict"
                          : check.status == 400 ? "Bad Request"
                                                : "Unauthorized",
                          check.reason);
        }
        client = check.client;
        seenSignatures = std::move(check.remembered);
    }

    // --- which mode, then parse
    std::string type = mediaType(req.header("content-type"));
    std::vector<pipeline::AcceptItem>& items = a.items;
    bool& batch = a.batch;
    try {
        if (type == "application/cloudevents+json") {
            auto e = event::parseStructured(req.body, jsonLimits_);
            items.push_back({std::make_shared<const event::Event>(std::move(e)), {}});
        } else if (type == "application/cloudevents-batch+json") {
            batch = true;
            for (auto& e : event::parseBatch(req.body, jsonLimits_, maxBatch_))
                items.push_back({std::make_shared<const event::Event>(std::move(e)), {}});
        } else if (req.header("ce-specversion")) {
            auto e = event::parseBinary(req.headers, req.body, jsonLimits_);
            items.push_back({std::make_shared<const event::Event>(std::move(e)), {}});
        } else {
            return reject(
                415, "unsupported-media-type", "unsupported-media-type", "Unsupported Media Type",
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
        return reject(400, errorType(e.kind), errorType(e.kind), "Bad Request", detail, extra);
    }
    std::vector<std::shared_ptr<const event::Event>>& events = a.events;
    for (auto& item : items) {
        item.body = event::toStructured(*item.event);
        events.push_back(item.event);
    }

    // --- Idempotency-Key
    std::optional<pipeline::IdempotencyBinding>& idem = a.idem;
    std::string key;
    if (const auto* k = req.header("idempotency-key")) {
        key = *k;
        if (!validIdempotencyKey(key))
            return reject(400, "bad-idempotency-key", "bad-idempotency-key", "Bad Request",
                          "Idempotency-Key must be 1 to 255 visible ASCII characters");
        std::string fingerprint =
            security::sha256Hex(req.method + " " + req.path + "\n" + type + "\n" + req.body);
        {
            std::lock_guard lock(inFlightMu_);
            if (!inFlight_.insert({client, key}).second)
                return reject(
                    409, "idempotency-in-flight", "idempotency-key-in-flight", "Conflict",
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

EventIngress::InFlightKey::~InFlightKey() {
    std::lock_guard lock(self.inFlightMu_);
    self.inFlight_.erase({client, key});
}

Response EventIngress::conclude(Admitted& a, const pipeline::AcceptResult& result) {
    // Before the answer leaves: a client retrying at once with the key must not be told that
    // it is still in flight.
    a.inFlight.reset();
    if (!result.ok) {
        auto r = reject(503, "store-unavailable", "store-unavailable", "Service Unavailable",
                        "the event could not be stored durably and was NOT accepted; retry later");
        r.headers.emplace_back("Retry-After", "1");
        return r;
    }
    if (result.previous) {
        if (result.previous->fingerprint != a.fingerprint)
            return reject(422, "idempotency-key-reused", "idempotency-key-reused",
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
