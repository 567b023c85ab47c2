#include "core/util/FileTrust.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ow::util {

namespace {

std::string userName(uid_t uid) {
    struct passwd pw {};
    struct passwd* found = nullptr;
    char buf[1024];
    if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found)
        return std::string(found->pw_name) + " (uid " + std::to_string(uid) + ")";
    return "uid " + std::to_string(uid);
}

std::optional<std::string> wrongOwner(const struct stat& st, const std::string& path,
                                      const std::string& what) {
    const uid_t me = ::geteuid();
    if (st.st_uid == me || st.st_uid == 0) return std::nullopt;
    return what + " " + path + " belongs to " + userName(st.st_uid) + ", not to the hub's user " +
           userName(me) + " or root (chown it): its owner could change it";
}

} // namespace

std::optional<std::string> untrustedEntry(const std::string& path, const std::string& what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return "cannot check " + what + " " + path + ": " + std::strerror(errno);
    if (auto owner = wrongOwner(st, path, what)) return owner;
    if (st.st_mode & S_IWOTH)
        return what + " " + path + " is writable by other users (chmod o-w): anyone could " +
               "change it";
    if (st.st_mode & S_IWGRP)
        return what + " " + path + " is writable by its group (chmod g-w): the group's " +
               "members could change it";
    return std::nullopt;
}

std::optional<std::string> untrustedAncestors(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path dir = fs::absolute(path, ec).lexically_normal().parent_path();
    for (;;) {
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0)
            return "cannot check folder " + dir.string() + ": " + std::strerror(errno);
        if (auto owner = wrongOwner(st, dir.string(), "folder")) return owner;
        if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
            return "folder " + dir.string() +
                   " is writable by other users without the sticky bit (chmod o-w or +t): " + path +
                   " could be renamed away and replaced";
        if (dir == dir.root_path() || dir.empty()) return std::nullopt;
        dir = dir.parent_path();
    }
}

} // namespace ow::util
