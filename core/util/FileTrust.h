// Whether the hub can trust what a file or folder holds: code it loads (plugins) and data it
// keeps (the journal, the private copies of plugins). Only the hub's own user and root may be
// able to change them; anyone else who can write them, or rename them away and put something
// else in their place, could run code as the hub or change what it delivers.
#pragma once

#include <optional>
#include <string>

namespace ow::util {

/// Why `path` (a file or folder; where a symlink leads) is not trusted, or nullopt: it must be
/// owned by the hub's user or root, and not writable by its group or by others. `what` names
/// it in the message ("plugin file", "data folder").
std::optional<std::string> untrustedEntry(const std::string& path, const std::string& what);

/// Why a folder above `path` is not trusted, or nullopt: each, up to the root, must be owned
/// by the hub's user or root, and writable by others only with the sticky bit (like /tmp:
/// others then cannot rename or delete what is not theirs).
std::optional<std::string> untrustedAncestors(const std::string& path);

} // namespace ow::util
