// Serves a processor's public state read-only over HTTP (`queries:` in the configuration):
// GET <path><key>?password=<secret> answers the JSON the processor keeps under
// <state_prefix><key>, without its secret_* members, when SHA-256("<key>:<secret>") equals
// its `secret_sha256`. An unknown key and a wrong password get the same 404 after the same
// work (the hashing, a read, and the parse and comparison of a record: a missing one is stood
// in for by the last record read), so neither the answer nor its time tells which case
// numbers exist; each client (an IPv4 address, an IPv6 /64, behind hub.trusted_proxies the
// address they forward) is rate-limited. The case ledger uses it for the public
// progress query of the website and the hall's touch screens.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "core/config/HubConfig.h"
#include "core/query/RateLimiter.h"
#include "core/store/PluginState.h"
#include "core/store/Sqlite.h"
#include "core/transport/http/ClientAddress.h"
#include "core/transport/http/HttpMessage.h"
#include "core/util/Clock.h"

namespace ow::query {

class StateQuery {
public:
    /// `proxies` must outlive the query.
    StateQuery(config::QuerySpec spec, std::string journalFile, const util::Clock& clock,
               const transport::http::TrustedProxies& proxies);

    [[nodiscard]] const config::QuerySpec& spec() const { return spec_; }
    /// Whether `path` is this query's (starts with its prefix).
    [[nodiscard]] bool serves(const std::string& path) const;
    transport::http::Response handle(const transport::http::Request& req);

private:
    std::optional<std::string> read(const std::string& stateKey);

    config::QuerySpec spec_;
    std::string journalFile_;
    const transport::http::TrustedProxies& proxies_;
    RateLimiter limiter_;
    std::mutex dbMu_;
    std::string decoy_; // the last record read, under dbMu_
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<store::PluginState> state_;
};

} // namespace ow::query
