#include "core/plugin/PluginFile.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

#include <openssl/evp.h>
#include <sys/stat.h>

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

bool writableByOthers(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return false;
    return (st.st_mode & S_IWOTH) != 0;
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

std::string stagePluginFile(const std::string& path, const std::string& stageDir,
                            const std::optional<std::string>& sha256) {
    // The bytes are read once: what is hashed, compared with the pin and loaded is the same,
    // whatever happens to the original file afterwards.
    const std::string bytes = readAll(path);
    const std::string digest = sha256Hex(bytes);
    if (sha256)
        if (auto mismatch = pinMismatch(path, digest, *sha256)) throw std::runtime_error(*mismatch);
    fs::create_directories(stageDir);
    fs::permissions(stageDir, fs::perms::owner_all, fs::perm_options::replace);
    const fs::path target =
        fs::path(stageDir) / (fs::path(path).stem().string() + "-" + digest.substr(0, 16) + ".so");
    // Content-addressed: an existing copy of the same bytes is the same library (and may be
    // loaded right now; it is never rewritten).
    if (fs::exists(target) && fs::file_size(target) == bytes.size() &&
        readAll(target.string()) == bytes)
        return target.string();
    const fs::path tmp = target.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_exec, fs::perm_options::replace);
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
    if (writableByOthers(real)) {
        r.error = "plugin file " + real.string() +
                  " is writable by other users (chmod o-w): anyone could replace the code";
        return r;
    }
    if (writableByOthers(real.parent_path())) {
        r.error = "plugin directory " + real.parent_path().string() +
                  " is writable by other users (chmod o-w): anyone could swap the plugin";
        return r;
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
