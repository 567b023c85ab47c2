// Who put an event into the hub. Every journaled event carries its principal in attributes
// that only the hub sets, so routes, processors, the dead-letter queue, the logs and the audit
// trail all see the same answer to "who said this":
//
//   owinput   the input it came through ("terminals", "processor:ledger", "command:fees")
//   owauth    how the principal was established (see AuthMethod)
//   authid    the principal: a bearer-token client, a signed sender, a client certificate's
//             subject, "mqtt:<broker>", "source:<input>", "processor:<output>", ...
//   authtype  the same as the CloudEvents Auth Context extension's value (api_key,
//             service_account, system, unauthenticated), for receivers that know it
//
// An event that arrives over HTTP or MQTT with any of these attributes is refused: a client
// cannot speak for somebody else. Events that plugins produce get them overwritten. They are
// kept beside the stored event (its provenance), not in its body, and set wherever the hub
// looks at an event: routing, plugins, the dead-letter queue; outputs deliver the event as
// it was sent.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "core/event/Event.h"
#include "core/store/Records.h"

namespace ow::security {

enum class AuthMethod {
    None,        ///< an input without authentication
    Token,       ///< a bearer token
    Signature,   ///< a signed request (Standard Webhooks)
    Certificate, ///< a verified TLS client certificate, without a token
    Mqtt,        ///< a message taken from a broker subscription
    Source,      ///< a plugin source of the hub's configuration
    Processor,   ///< a plugin processor of the hub's configuration
    Command,     ///< a command run by an operator on the hub's machine (fees reconcile)
};

/// "none", "token", "signature", "certificate", "mqtt", "source", "processor", "command".
const char* toString(AuthMethod m);

struct Principal {
    std::string input; ///< the input's name (processors: "processor:<output>")
    AuthMethod method = AuthMethod::None;
    std::string id; ///< the client; "anonymous" when there is none

    /// The CloudEvents Auth Context `authtype` value for `method`.
    [[nodiscard]] const char* authType() const;
};

/// The attributes the hub reserves for itself (see the file comment).
inline constexpr std::array<std::string_view, 5> ReservedAttributes = {
    "owinput", "owauth", "authid", "authtype", "authclaims"};

/// The first reserved attribute `e` carries, or "" when it carries none.
std::string_view reservedAttributeIn(const event::Event& e);

/// The principal recorded beside a stored event.
Principal principalOf(const store::Provenance& from);

/// The method named by toString(); None for anything else ("" from an old journal included).
AuthMethod authMethodNamed(std::string_view name);

/// Sets the principal's attributes on `e` (replacing any it had). The hub keeps them beside
/// the stored event (store::Provenance), not in its body: receivers get what was sent.
void stamp(event::Event& e, const Principal& p);
void stamp(nlohmann::json& event, const Principal& p);

/// The source namespace that belongs to the hub: no input may send it.
inline constexpr std::string_view HubSourcePrefix = "onewindow://";

} // namespace ow::security
