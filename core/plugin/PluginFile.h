// Where a plugin file may come from. A plugin runs with the hub's rights, so the hub loads
// only files inside the directories the operator configured, that nobody else can swap, and,
// when the configuration pins one, whose SHA-256 is the pinned one.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ow::plugin {

struct PluginFileCheck {
    std::string path;  ///< the resolved, canonical path to load (when `error` is empty)
    std::string error; ///< why the file is refused
    [[nodiscard]] bool ok() const { return error.empty(); }
};

/// Resolves `file` (relative to the first directory that has it, or absolute) and refuses:
/// a `..` component; a path, or a symlink's target, outside every directory in `dirs`; a
/// file that is not a regular file; a file or plugin directory owned by another user than
/// the hub's or root, or writable by its group or others; a folder above them that another
/// user owns or that others can write without the sticky bit; and, with `sha256` (hex), a
/// file whose digest differs.
PluginFileCheck checkPluginFile(const std::vector<std::string>& dirs, const std::string& file,
                                const std::optional<std::string>& sha256 = std::nullopt);

/// Lower-case hex SHA-256 of a file's contents; throws std::runtime_error if unreadable.
std::string sha256File(const std::string& path);

/// Copies a checked plugin file into `stageDir` (private to the hub) under a name made of its
/// digest, and returns the copy's path, which is what the hub loads. Two reasons: the bytes
/// hashed (and compared with `sha256`, when pinned) are the bytes loaded, even if someone
/// replaces the original meanwhile; and a plugin file replaced for a reload gets a new name,
/// because the dynamic loader would hand back the library already loaded from the old path.
/// `stageDir` is made 0700 if missing, else refused unless only the hub's user or root can
/// change it; the copy is written to a new file (O_EXCL|O_NOFOLLOW), never through a name
/// planted in advance. Throws std::runtime_error with the reason.
std::string stagePluginFile(const std::string& path, const std::string& stageDir,
                            const std::optional<std::string>& sha256);

} // namespace ow::plugin
