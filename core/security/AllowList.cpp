#include "core/security/AllowList.h"

#include <algorithm>

#include "core/routing/RouteTable.h"

namespace ow::security {
namespace {

std::string quoted(const std::string& s) {
    return "'" + s + "'";
}

// A rule cut down to its conditions on type, source and subject, the first `depth` of them.
config::MatchSpec cut(const config::MatchSpec& rule, int depth) {
    config::MatchSpec p;
    p.type = rule.type;
    if (depth > 1) p.source = rule.source;
    if (depth > 2) p.subject = rule.subject;
    return p;
}

// Why no rule lets `e` through: the first attribute, in the order type, source, subject,
// extensions, that no rule takes together with the ones before it.
std::optional<AllowRefusal> refusalBy(const event::Event& e, const config::AllowSpec& allow,
                                      const std::string& who) {
    using routing::RouteTable;
    const auto& rules = allow.rules;
    if (rules.empty()) return std::nullopt;
    auto any = [&](auto&& pred) { return std::any_of(rules.begin(), rules.end(), pred); };
    if (any([&](const config::MatchSpec& r) { return RouteTable::matches(r, e); }))
        return std::nullopt;
    const std::string what = who + " may not send events of type " + quoted(e.type);
    if (!any([&](const auto& r) { return RouteTable::matches(cut(r, 1), e); }))
        return AllowRefusal{"type", "type-not-allowed", what};
    if (!any([&](const auto& r) { return RouteTable::matches(cut(r, 2), e); }))
        return AllowRefusal{"source", "source-not-allowed",
                            what + " with source " + quoted(e.source)};
    if (!any([&](const auto& r) { return RouteTable::matches(cut(r, 3), e); }))
        return AllowRefusal{"subject", "subject-not-allowed",
                            what + " with subject " + quoted(e.subject.value_or("(none)"))};
    for (const auto& rule : rules)
        for (const auto& [name, globs] : rule.extensions) {
            auto withThis = [&, &n = name](const config::MatchSpec& r) {
                config::MatchSpec p = cut(r, 3);
                for (const auto& x : r.extensions)
                    if (x.first == n) p.extensions.push_back(x);
                return RouteTable::matches(p, e);
            };
            if (!any(withThis))
                return AllowRefusal{name, "extension-not-allowed",
                                    what + " with " + name + " " +
                                        quoted(e.attribute(name).value_or("(none)"))};
        }
    return AllowRefusal{"data", "data-not-allowed", what + " with this data"};
}

} // namespace

std::optional<AllowRefusal> checkAllowed(const event::Event& e, const std::string& input,
                                         const config::AllowSpec& inputAllow,
                                         const std::string& client,
                                         const config::AllowSpec* clientAllow) {
    const std::string who = "client " + quoted(client) + " of input " + quoted(input);
    if (e.source.starts_with(HubSourcePrefix))
        return AllowRefusal{"source", "reserved-source",
                            who + " may not send source " + quoted(e.source) + ": sources " +
                                std::string(HubSourcePrefix) + "... belong to the hub itself"};
    if (auto r = refusalBy(e, inputAllow, who)) return r;
    if (clientAllow)
        if (auto r = refusalBy(e, *clientAllow, who)) return r;
    return std::nullopt;
}

config::AllowSpec forClient(const config::AllowSpec& allow, const std::string& client) {
    auto expand = [&](std::vector<std::string>& globs) {
        for (auto& g : globs)
            for (std::size_t at; (at = g.find("{client}")) != std::string::npos;)
                g.replace(at, 8, client);
    };
    config::AllowSpec out = allow;
    for (auto& rule : out.rules) {
        expand(rule.type);
        expand(rule.source);
        expand(rule.subject);
        for (auto& [_, globs] : rule.extensions)
            expand(globs);
        for (auto& [_, globs] : rule.data)
            expand(globs);
    }
    return out;
}

std::optional<EventRefusal> screen(const event::Event& e, const Principal& who,
                                   const config::AllowSpec& inputAllow,
                                   const config::AllowSpec* clientAllow) {
    if (auto reserved = reservedAttributeIn(e); !reserved.empty())
        return EventRefusal{400, "reserved-attribute", std::string(reserved),
                            "client " + quoted(who.id) + " of input " + quoted(who.input) +
                                " may not send attribute '" + std::string(reserved) +
                                "': the hub sets it (who sent an event)"};
    if (auto refusal = checkAllowed(e, who.input, inputAllow, who.id, clientAllow))
        return EventRefusal{403, std::move(refusal->reason), std::move(refusal->attribute),
                            std::move(refusal->detail)};
    return std::nullopt;
}

} // namespace ow::security
