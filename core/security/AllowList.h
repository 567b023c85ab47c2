// Which events a client may send through an input: the input's `allow` and the client's own
// must both let the event's `type` and `source` through, and no input may use the hub's own
// source namespace (onewindow://). Checked after the event is parsed and before anything of
// the request is journaled, so a refused batch leaves nothing behind.
#pragma once

#include <optional>
#include <string>

#include "core/config/HubConfig.h"
#include "core/event/Event.h"
#include "core/security/Principal.h"

namespace ow::security {

struct AllowRefusal {
    std::string attribute; ///< "type" or "source"
    std::string reason;    ///< metric label: "type-not-allowed", "source-not-allowed",
                           ///< "reserved-source"
    std::string detail;    ///< for the problem answer and the audit trail
};

/// Why `e` may not come from `client` through `input`, or nullopt when it may. `clientAllow`
/// may be null (a client without a list of its own).
std::optional<AllowRefusal> checkAllowed(const event::Event& e, const std::string& input,
                                         const config::AllowSpec& inputAllow,
                                         const std::string& client,
                                         const config::AllowSpec* clientAllow);

/// `allow` with "{client}" in its patterns replaced by `client`: one input-wide rule such as
/// { source: "dept:{client}" } binds every client of the input to a source of its own.
config::AllowSpec forClient(const config::AllowSpec& allow, const std::string& client);

struct EventRefusal {
    int status = 403;      ///< 400: an attribute only the hub sets; 403: not allowed
    std::string reason;    ///< metric label ("reserved-attribute", or AllowRefusal's)
    std::string attribute; ///< the attribute at fault
    std::string detail;
};

/// What every input does with an event from a client before it is journaled: refuses one
/// that carries the hub's own attributes (400) or is outside the allow lists (403). The
/// caller stamps the principal on one that passes, once its body (as sent) is made.
std::optional<EventRefusal> screen(const event::Event& e, const Principal& who,
                                   const config::AllowSpec& inputAllow,
                                   const config::AllowSpec* clientAllow);

} // namespace ow::security
