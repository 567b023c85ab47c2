#include "core/query/StateQuery.h"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include "core/event/Encoding.h"
#include "core/security/TokenAuth.h"
#include "core/transport/http/Problem.h"

namespace ow::query {
using transport::http::problem;
using transport::http::Request;
using transport::http::Response;

namespace {

constexpr std::size_t MaxKey = 64;

bool validKey(const std::string& k) {
    if (k.empty() || k.size() > MaxKey) return false;
    for (unsigned char c : k)
        if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.')) return false;
    return true;
}

/// The value of `name` in an undecoded query string, decoded; nullopt when absent or bad.
std::optional<std::string> parameter(const std::string& query, const std::string& name) {
    std::size_t at = 0;
    while (at <= query.size()) {
        std::size_t end = query.find('&', at);
        if (end == std::string::npos) end = query.size();
        const std::string pair = query.substr(at, end - at);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name && eq != std::string::npos) {
            std::string v = pair.substr(eq + 1);
            for (auto& c : v)
                if (c == '+') c = ' ';
            return event::percentDecode(v);
        }
        at = end + 1;
    }
    return std::nullopt;
}

// Stands in for a record when there is none yet to stand in for a missing one.
const std::string kFirstDecoy = R"({"secret_sha256":")" + std::string(64, '0') +
                                R"(","status":"received","steps":[],"note":")" +
                                std::string(400, ' ') + R"("})";

} // namespace

StateQuery::StateQuery(config::QuerySpec spec, std::string journalFile, const util::Clock& clock,
                       const transport::http::TrustedProxies& proxies)
    : spec_(std::move(spec)), journalFile_(std::move(journalFile)), proxies_(proxies),
      limiter_(spec_.perClientPerMinute, clock), decoy_(kFirstDecoy) {}

bool StateQuery::serves(const std::string& path) const {
    return path.rfind(spec_.path, 0) == 0;
}

std::optional<std::string> StateQuery::read(const std::string& stateKey) {
    std::lock_guard lock(dbMu_);
    if (!state_) {
        db_ = std::make_unique<store::Database>(journalFile_, /*readOnly=*/true);
        state_ = std::make_unique<store::PluginState>(*db_);
    }
    auto text = state_->get(spec_.processor, stateKey);
    if (text) {
        decoy_ = *text;
        return text;
    }
    // No such record: what follows checks the decoy instead, as much work as a real one.
    return std::nullopt;
}

Response StateQuery::handle(const Request& req) {
    if (req.method != "GET" && req.method != "HEAD") {
        auto r = problem(405, "method-not-allowed", "Method Not Allowed",
                         req.method + " is not allowed on " + spec_.path + "...; use GET");
        r.headers.emplace_back("Allow", "GET, HEAD");
        return r;
    }
    const std::string client = proxies_.clientOf(req);
    const auto address = util::IpAddress::parse(client);
    if (int wait = limiter_.admit(address ? address->clientKey() : client)) {
        auto r = problem(429, "too-many-requests", "Too Many Requests",
                         "at most " + std::to_string(spec_.perClientPerMinute) +
                             " queries a minute from one address; try again in " +
                             std::to_string(wait) + " s");
        r.headers.emplace_back("Retry-After", std::to_string(wait));
        return r;
    }
    const std::string key = req.path.substr(spec_.path.size());
    const auto password = parameter(req.query, "password");
    if (!password || password->empty())
        return problem(400, "password-required", "Bad Request",
                       "add the query password: " + spec_.path + "<number>?password=...");
    // Unknown, malformed or wrong: one answer, after the same work.
    const std::string given = security::sha256Hex(key + ":" + *password);
    auto notFound = [&] {
        return problem(404, "not-found", "Not Found", "no record with this number and password");
    };
    // A malformed key is looked up too (as a key no record can have), for the same work.
    const bool wellFormed = validKey(key);
    std::optional<std::string> text;
    std::string decoy;
    try {
        text = read(spec_.statePrefix + (wellFormed ? key : std::string("\x01")));
        if (!text) {
            std::lock_guard lock(dbMu_);
            decoy = decoy_;
        }
    } catch (const std::exception& e) {
        return problem(503, "unavailable", "Service Unavailable",
                       std::string("the store cannot be read: ") + e.what());
    }
    auto doc = nlohmann::json::parse(text ? *text : decoy, nullptr, false);
    const auto secret = doc.is_object() ? doc.find("secret_sha256") : doc.end();
    const bool secretOk =
        doc.is_object() && secret != doc.end() && secret->is_string() &&
        secret->get<std::string>().size() == given.size() &&
        CRYPTO_memcmp(secret->get<std::string>().data(), given.data(), given.size()) == 0;
    if (!text || !wellFormed || !secretOk) return notFound();
    for (auto it = doc.begin(); it != doc.end();)
        it = it.key().rfind("secret", 0) == 0 ? doc.erase(it) : std::next(it);
    Response r;
    r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    r.headers.emplace_back("Cache-Control", "no-store");
    r.body = doc.dump(); // for HEAD too: the server sends its length, not the body
    return r;
}

} // namespace ow::query
