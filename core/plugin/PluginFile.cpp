#include "core/plugin/PluginFile.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/util/FileTrust.h"

namespace ow::plugin {
namespace fs = std::filesystem;

namespace {

bool inside(const fs::path& dir, const fs::path& p) {
    auto d = dir.begin(), e = dir.end();
    auto q = p.begin();
    for (; d != e; ++d, ++q)
        if (q == p.end() || *q != *d) return false;
    return q != p.end();
}

} // namespace

namespace {

// One read of the whole file: a character-wise istreambuf_iterator copy took minutes for the
// sanitizer build's plugins (11 files, 250 MB with debug info) and held up the hub's start.
std::string readAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw std::runtime_error("cannot read " + path);
    const std::streamoff size = in.tellg();
    if (size < 0) throw std::runtime_error("cannot read " + path);
    std::string bytes(static_cast<std::size_t>(size), '\0');
    in.seekg(0);
    if (!in.read(bytes.data(), size)) throw std::runtime_error("cannot read " + path);
    return bytes;
}

std::string sha256Hex(const std::string& bytes) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 is not available");
    EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size());
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md.data(), &len);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 0xf];
    }
    return out;
}

// Why `digest` (of the file at `path`) does not match the pinned `pin`, or nullopt.
std::optional<std::string> pinMismatch(const std::string& path, const std::string& digest,
                                       std::string pin) {
    std::transform(pin.begin(), pin.end(), pin.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (digest == pin) return std::nullopt;
    return "plugin file " + path + " has SHA-256 " + digest + ", the configuration pins " + pin;
}

} // namespace

std::string sha256File(const std::string& path) {
    return sha256Hex(readAll(path));
}

namespace {

// The private folder for the copies: made by the hub (0700), or, when it exists, a real
// folder (not a symlink) that only the hub's user or root can change.
void checkStageDir(const std::string& stageDir) {
    if (::mkdir(stageDir.c_str(), 0700) != 0 && errno != EEXIST)
        throw std::runtime_error("cannot make the folder for plugin copies " + stageDir + ": " +
                                 std::strerror(errno));
    struct stat st {};
    if (::lstat(stageDir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw std::runtime_error("the folder for plugin copies " + stageDir +
                                 " is not a folder (a symlink?); remove it, the hub makes it");
    if (auto why = util::untrustedEntry(stageDir, "the folder for plugin copies"))
        throw std::runtime_error(*why);
}

// The bytes of an existing copy, or nullopt when there is none. A copy that is not a regular
// file of the hub's own is refused: the folder is private, so something is wrong.
std::optional<std::string> existingCopy(const fs::path& target) {
    const int fd = ::open(target.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw std::runtime_error("plugin copy " + target.string() +
                                 " cannot be read (a symlink?): " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw std::runtime_error("plugin copy " + target.string() + " is not a regular file");
    }
    ::close(fd);
    if (auto why = util::untrustedEntry(target.string(), "plugin copy"))
        throw std::runtime_error(*why);
    return readAll(target.string());
}

// Writes `bytes` to a file that did not exist: a name planted in advance (a symlink, say)
// is removed, never followed.
void writeNew(const fs::path& path, const std::string& bytes) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw std::runtime_error("cannot remove " + path.string() + ": " + std::strerror(errno));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = errno;
            ::close(fd);
            throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(err));
        }
        done += static_cast<std::size_t>(n);
    }
    ::fchmod(fd, 0500);
    ::close(fd);
}

} // namespace

std::string stagePluginFile(const std::string& path, const std::string& stageDir,
                            const std::optional<std::string>& sha256) {
    // The bytes are read once: what is hashed, compared with the pin and loaded is the same,
    // whatever happens to the original file afterwards.
    const std::string bytes = readAll(path);
    const std::string digest = sha256Hex(bytes);
    if (sha256)
        if (auto mismatch = pinMismatch(path, digest, *sha256)) throw std::runtime_error(*mismatch);
    checkStageDir(stageDir);
    const fs::path target =
        fs::path(stageDir) / (fs::path(path).stem().string() + "-" + digest.substr(0, 16) + ".so");
    // Content-addressed: an existing copy of the same bytes is the same library (and may be
    // loaded right now; it is never rewritten).
    if (existingCopy(target) == bytes) return target.string();
    const fs::path tmp = target.string() + ".tmp";
    writeNew(tmp, bytes);
    fs::rename(tmp, target);
    return target.string();
}

PluginFileCheck checkPluginFile(const std::vector<std::string>& dirs, const std::string& file,
                                const std::optional<std::string>& sha256) {
    PluginFileCheck r;
    if (dirs.empty()) {
        r.error = "no plugin directory is configured (hub.plugin_dirs)";
        return r;
    }
    const fs::path given(file);
    for (const auto& part : given)
        if (part == "..") {
            r.error = "plugin path '" + file + "' contains '..'";
            return r;
        }
    std::vector<fs::path> roots;
    for (const auto& d : dirs) {
        std::error_code ec;
        auto c = fs::canonical(d, ec);
        if (!ec) roots.push_back(c);
    }
    if (roots.empty()) {
        r.error = "none of the plugin directories exists";
        return r;
    }
    fs::path candidate;
    if (given.is_absolute()) {
        candidate = given;
    } else {
        for (const auto& root : roots)
            if (std::error_code ec; fs::exists(root / given, ec)) {
                candidate = root / given;
                break;
            }
        if (candidate.empty()) {
            r.error = "plugin file '" + file + "' is not in any plugin directory";
            return r;
        }
    }
    std::error_code ec;
    fs::path real = fs::canonical(candidate, ec);
    if (ec) {
        r.error = "plugin file '" + file + "': " + ec.message();
        return r;
    }
    // Both the path as written and where its symlinks lead must stay inside a directory.
    auto root = std::find_if(roots.begin(), roots.end(),
                             [&](const fs::path& d) { return inside(d, real); });
    if (root == roots.end()) {
        r.error = "plugin file '" + file + "' resolves to " + real.string() +
                  ", outside the plugin directories";
        return r;
    }
    if (given.is_absolute() && std::none_of(roots.begin(), roots.end(), [&](const fs::path& d) {
            return inside(d, fs::weakly_canonical(given.parent_path()) / given.filename());
        })) {
        r.error = "plugin file '" + file + "' is outside the plugin directories";
        return r;
    }
    if (!fs::is_regular_file(real, ec)) {
        r.error = "plugin file '" + file + "' is not a regular file";
        return r;
    }
    // Whoever can change the file, its folder, or a folder above them can run code as the hub:
    // only the hub's user and root may. The plugin directory the path was written against is
    // checked too (a symlink in it may lead elsewhere inside another one).
    for (auto why : {util::untrustedEntry(real.string(), "plugin file"),
                     util::untrustedEntry(real.parent_path().string(), "plugin directory"),
                     util::untrustedAncestors(real.parent_path().string()),
                     util::untrustedEntry(root->string(), "plugin directory")}) {
        if (why) {
            r.error = *why;
            return r;
        }
    }
    if (sha256) {
        try {
            if (auto mismatch = pinMismatch(real.string(), sha256File(real.string()), *sha256)) {
                r.error = *mismatch;
                return r;
            }
        } catch (const std::exception& e) {
            r.error = e.what();
            return r;
        }
    }
    r.path = real.string();
    return r;
}

} // namespace ow::plugin
