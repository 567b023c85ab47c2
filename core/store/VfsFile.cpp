#include "core/store/VfsFile.h"

#include <sqlite3.h>

#include <cstring>

#include "core/store/Sqlite.h"

namespace ow::store {

VfsFile::VfsFile(sqlite3_vfs* vfs, const std::string& path, int flags)
    : path_(path), name_(path + '\0'),
      storage_(std::make_unique<char[]>(static_cast<std::size_t>(vfs->szOsFile))) {
    std::memset(storage_.get(), 0, static_cast<std::size_t>(vfs->szOsFile));
    file_ = reinterpret_cast<sqlite3_file*>(storage_.get());
    int outFlags = 0;
    // SQLite hands a VFS names that stay valid until the file is closed and end in two NULs.
    const int rc = vfs->xOpen(vfs, name_.c_str(), file_, flags, &outFlags);
    // Even a failed xOpen may have set pMethods; then xClose must still be called.
    open_ = file_->pMethods != nullptr;
    if (rc == SQLITE_OK) return;
    const std::string why = describe(rc);
    if (open_) file_->pMethods->xClose(file_);
    open_ = false;
    throw StoreError(rc, "cannot open " + path_ + ": " + why);
}

VfsFile::~VfsFile() {
    if (open_) file_->pMethods->xClose(file_);
}

sqlite3_vfs* VfsFile::vfsOf(sqlite3* db) {
    sqlite3_vfs* vfs = nullptr;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &vfs) != SQLITE_OK || !vfs)
        vfs = sqlite3_vfs_find(nullptr);
    return vfs;
}

std::int64_t VfsFile::size() {
    sqlite3_int64 n = 0;
    const int rc = file_->pMethods->xFileSize(file_, &n);
    if (rc != SQLITE_OK) fail(rc, "cannot read the size of");
    return n;
}

int VfsFile::read(void* buffer, int n, std::int64_t offset) {
    const std::int64_t have = size() - offset;
    const int want = have <= 0 ? 0 : have < n ? static_cast<int>(have) : n;
    if (want == 0) return 0;
    const int rc = file_->pMethods->xRead(file_, buffer, want, offset);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) fail(rc, "cannot read");
    return want;
}

void VfsFile::write(const void* data, int n, std::int64_t offset) {
    const int rc = file_->pMethods->xWrite(file_, data, n, offset);
    if (rc != SQLITE_OK) fail(rc, "cannot write");
}

void VfsFile::sync() {
    const int rc = file_->pMethods->xSync(file_, SQLITE_SYNC_NORMAL);
    if (rc != SQLITE_OK) fail(rc, "cannot sync (fdatasync)");
}

std::string VfsFile::describe(int rc) {
    // The unix VFS keeps the errno of the failed call; SQLite's code alone says only
    // "disk I/O error".
    int err = 0;
    if (open_) file_->pMethods->xFileControl(file_, SQLITE_FCNTL_LAST_ERRNO, &err);
    std::string why = sqlite3_errstr(rc);
    if (err != 0) why += std::string(" (") + std::strerror(err) + ")";
    return why;
}

void VfsFile::fail(int rc, const char* what) {
    throw StoreError(rc, std::string(what) + " " + path_ + ": " + describe(rc));
}

} // namespace ow::store
