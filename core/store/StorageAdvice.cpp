#include "core/store/StorageAdvice.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ow::store {

namespace {

std::string folderOf(const std::string& file) {
    auto dir = std::filesystem::path(file).parent_path().string();
    return dir.empty() ? "." : dir;
}

// Why this process cannot write `file` or create files next to it ("" if it can).
std::string notWritable(const std::string& file) {
    const std::string dir = folderOf(file);
    const std::string user = "this user (uid " + std::to_string(::geteuid()) + ")";
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        return "The folder " + dir + " is not writable by " + user + ": " + std::strerror(errno) +
               ". Give that user write access to it, or set " +
               "hub.data_dir (or --data-dir) to a folder it may write";
    if (::access(file.c_str(), F_OK) == 0 && ::access(file.c_str(), R_OK | W_OK) != 0)
        return file + " is not readable and writable by " + user + ": " + std::strerror(errno) +
               ". Give that user access to it (and to the journal's -wal and -shm files)";
    return "";
}

} // namespace

bool isDamage(int code) {
    return (code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB;
}

std::string storageAdvice(int code, const std::string& file) {
    const std::string dir = folderOf(file);
    switch (code & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return "The file is damaged. Stop the hub and keep a copy of " + dir + "; then restore " +
               file + " from a backup, or save what is still readable with " + "`sqlite3 " + file +
               " .recover | sqlite3 recovered.db` and put recovered.db in " +
               "its place; start with --accept-journal-loss (README, Durability)";
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: {
        std::string why = notWritable(file);
        return why.empty() ? "Check that " + dir + " exists and that this user may create and " +
                                 "write files in it"
                           : why;
    }
    case SQLITE_FULL:
        return "The disk holding " + dir + " is full: free space there; events are answered " +
               "503 until the journal can be written again";
    case SQLITE_IOERR:
        return "The disk reported an I/O error: check it (dmesg, SMART) before trusting " + dir +
               " again";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return "Another process holds " + file + " locked: is another hub running on " + dir + "?";
    default:
        return "";
    }
}

} // namespace ow::store
