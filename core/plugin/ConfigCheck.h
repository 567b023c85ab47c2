// Checks a plugin instance's configuration (as written in the hub's YAML) against the config
// spec its component declares, with the same file:line:column messages as the rest of the
// configuration, and turns it into the typed sdk::Config the component receives.
#pragma once

#include <string>
#include <vector>

#include "core/config/ConfigLoader.h"
#include "core/config/HubConfig.h"
#include "onewindow/sdk/ConfigSpec.h"

namespace ow::plugin {

/// `owner` names the instance in messages, e.g. "output 'gongshang' (sink commerce/registry)".
/// Problems are appended; the returned Config holds every valid value and the defaults.
onewindow::sdk::Config checkConfig(const onewindow::sdk::ConfigSpec& spec,
                                   const config::ConfigTree& tree, const std::string& owner,
                                   const config::SourceLocation& ownerWhere,
                                   std::vector<config::ConfigProblem>& problems);

} // namespace ow::plugin
