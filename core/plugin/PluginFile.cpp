#include "core/plugin/PluginFile.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
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

std::string sha256File(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 is not available");
    std::array<char, 65536> buf{};
    while (in) {
        in.read(buf.data(), buf.size());
        if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), in.gcount());
    }
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
        std::string want = *sha256;
        std::transform(want.begin(), want.end(), want.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::string got;
        try {
            got = sha256File(real.string());
        } catch (const std::exception& e) {
            r.error = e.what();
            return r;
        }
        if (got != want) {
            r.error = "plugin file " + real.string() + " has SHA-256 " + got +
                      ", the configuration pins " + want;
            return r;
        }
    }
    r.path = real.string();
    return r;
}

} // namespace ow::plugin
