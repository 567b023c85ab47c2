// A private scratch folder for one test or tool run.
#pragma once

#include <string>

namespace ow::testkit {

/// Creates a fresh folder (mkdtemp under $TMPDIR, else /tmp) and removes it with everything
/// inside when destroyed. Set OW_KEEP_TMP=1 to keep it for a post-mortem; its path is then
/// printed to stderr so it can be found.
class TempDir {
public:
    explicit TempDir(const std::string& prefix = "ow-test");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&& other) noexcept;

    [[nodiscard]] const std::string& path() const { return path_; }

    /// path() + "/" + relative.
    [[nodiscard]] std::string file(const std::string& relative) const;

    /// Writes `content` to file(relative), creating parent folders; returns the full path.
    std::string writeFile(const std::string& relative, const std::string& content) const;

private:
    void remove() noexcept;

    std::string path_;
};

/// Whole content of a file; "" if it cannot be read (tests then fail on the content).
std::string readFile(const std::string& path);

} // namespace ow::testkit
