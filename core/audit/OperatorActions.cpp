#include "core/audit/OperatorActions.h"

#include <pwd.h>
#include <unistd.h>

namespace ow::audit {

std::string currentUser() {
    const uid_t uid = geteuid();
    if (const passwd* pw = getpwuid(uid); pw && pw->pw_name) return pw->pw_name;
    return "uid " + std::to_string(uid);
}

nlohmann::json operatorAction(const std::string& action, nlohmann::json more) {
    nlohmann::json r = std::move(more);
    r["action"] = action;
    r["user"] = currentUser();
    return r;
}

} // namespace ow::audit
