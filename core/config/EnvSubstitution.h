// ${NAME} expansion in configuration values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config/ConfigLoader.h"

namespace ow::config {

/// Replaces each ${NAME} in `text` with env(NAME), each ${NAME:-default} with env(NAME) or,
/// when that is unset or empty, `default` (which cannot contain '}'), and each "$${" with a
/// literal "${"; the
/// result goes to `out`. Returns one message per problem (unset variable, bad name,
/// unterminated reference). Messages name variables but never contain their values, since
/// those are often secrets. Substituted values are not expanded again.
/// With `unsetStandIn`, an unset NAME without a default takes unsetStandIn(NAME) instead.
std::vector<std::string> substituteEnv(std::string_view text, const EnvLookup& env,
                                       std::string& out, const EnvLookup& unsetStandIn = {});

} // namespace ow::config
