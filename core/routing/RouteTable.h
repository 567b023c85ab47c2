// Decides, for one event, which outputs it goes to. Built once per configuration generation.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/config/HubConfig.h"
#include "core/event/Event.h"

namespace ow::routing {

/// One delivery the event needs. When `error` is set the target could not be resolved (a
/// template named a missing attribute or an output that does not exist): the delivery is
/// dead-lettered at once with that reason, so the event is never silently dropped.
struct Target {
    std::string route;
    std::string output;
    std::string error;
    std::string orderingKey; ///< value of the output's ordering attribute ("" = unordered)
};

class RouteTable {
public:
    /// `outputs` maps each defined output to the attribute that orders its deliveries ("" = none).
    RouteTable(std::vector<config::RouteSpec> routes, std::map<std::string, std::string> outputs);

    /// All targets of all matching routes; an output reached by two routes appears once.
    [[nodiscard]] std::vector<Target> route(const event::Event& e) const;

    /// Does this route's match block accept the event? (exposed for tests and `onewindow test`)
    [[nodiscard]] static bool matches(const config::MatchSpec& m, const event::Event& e);

    /// Expands "{attr}" placeholders; returns false with `error` set if an attribute is missing.
    static bool expand(const std::string& tmpl, const event::Event& e, std::string& out,
                       std::string& error);

private:
    std::vector<config::RouteSpec> routes_;
    std::map<std::string, std::string> outputs_;
};

} // namespace ow::routing
