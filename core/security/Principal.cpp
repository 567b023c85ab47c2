#include "core/security/Principal.h"

namespace ow::security {

const char* toString(AuthMethod m) {
    switch (m) {
    case AuthMethod::None:
        return "none";
    case AuthMethod::Token:
        return "token";
    case AuthMethod::Signature:
        return "signature";
    case AuthMethod::Certificate:
        return "certificate";
    case AuthMethod::Mqtt:
        return "mqtt";
    case AuthMethod::Source:
        return "source";
    case AuthMethod::Processor:
        return "processor";
    case AuthMethod::Command:
        return "command";
    }
    return "none";
}

const char* Principal::authType() const {
    switch (method) {
    case AuthMethod::None:
        return "unauthenticated";
    case AuthMethod::Token:
        return "api_key";
    case AuthMethod::Signature:
    case AuthMethod::Certificate:
    case AuthMethod::Mqtt:
        return "service_account";
    case AuthMethod::Source:
    case AuthMethod::Processor:
    case AuthMethod::Command:
        return "system";
    }
    return "unknown";
}

AuthMethod authMethodNamed(std::string_view name) {
    for (auto m :
         {AuthMethod::Token, AuthMethod::Signature, AuthMethod::Certificate, AuthMethod::Mqtt,
          AuthMethod::Source, AuthMethod::Processor, AuthMethod::Command})
        if (name == toString(m)) return m;
    return AuthMethod::None;
}

Principal principalOf(const store::Provenance& from) {
    return {from.input, authMethodNamed(from.auth), from.client};
}

std::string_view reservedAttributeIn(const event::Event& e) {
    if (!e.json.is_object()) return {};
    for (std::string_view name : ReservedAttributes)
        if (e.json.contains(name)) return name;
    return {};
}

void stamp(nlohmann::json& event, const Principal& p) {
    event.erase("authclaims");
    event["owinput"] = p.input;
    event["owauth"] = toString(p.method);
    event["authid"] = p.id;
    event["authtype"] = p.authType();
}

void stamp(event::Event& e, const Principal& p) {
    stamp(e.json, p);
}

} // namespace ow::security
