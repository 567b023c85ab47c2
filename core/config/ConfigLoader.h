// Reads the YAML configuration into HubConfig, collecting every problem with its location.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/config/HubConfig.h"

namespace ow::config {

struct ConfigProblem {
    SourceLocation where;
    std::string message;
};

/// "file:line:column: message" (line/column omitted when unknown).
std::string formatProblem(const ConfigProblem& p);
/// "file:line:column" (line/column omitted when unknown).
std::string formatLocation(const SourceLocation& where);

/// Looks up an environment variable; replaceable in tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup processEnvironment();

struct LoadResult {
    HubConfig config;                    ///< meaningful only when problems is empty
    std::vector<ConfigProblem> problems; ///< all problems found, in file order
    /// What is valid but probably not meant (an input that lets a client send anything);
    /// `check` prints them, `run` logs them.
    std::vector<ConfigProblem> warnings;
    [[nodiscard]] bool ok() const { return problems.empty(); }
};

/// Loads `path` and its includes. Never throws for bad input: every problem (unreadable
/// file, YAML syntax, unknown key with a suggestion, wrong type, out-of-range value, missing
/// ${ENV}, route naming an unknown output, duplicate names, ...) is returned.
/// `unsetStandIn`, when given, supplies the text for a ${NAME} that env leaves unset and that has
/// no default (commands that never use the hub's secrets), instead of a problem.
/// `checkFiles` false: plugin folders and TLS files need not exist (commands that read only
/// the data dir, on a machine that has the configuration but not the hub's files).
LoadResult loadConfigFile(const std::string& path, const EnvLookup& env = processEnvironment(),
                          const EnvLookup& unsetStandIn = {}, bool checkFiles = true);

/// Same, from text (file name used only in messages; includes resolve against `baseDir`).
LoadResult loadConfigText(const std::string& text, const std::string& fileName,
                          const std::string& baseDir, const EnvLookup& env = processEnvironment());

} // namespace ow::config
