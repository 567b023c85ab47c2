// A file the journal reads, writes and syncs itself (outside SQLite's own statements: the
// WAL's fdatasync on the sync thread, the acknowledged-sequence record), opened through the
// VFS of the journal's connection. In production that is SQLite's default unix VFS (pwrite,
// fdatasync); a test that installs a VFS of its own (the power-cut harness) sees every write
// and sync of every journal file through that one layer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

struct sqlite3;
struct sqlite3_file;
struct sqlite3_vfs;

namespace ow::store {

class VfsFile {
public:
    /// Opens `path` with SQLite open flags (SQLITE_OPEN_READWRITE | ... | a file type).
    /// Throws StoreError naming the file.
    VfsFile(sqlite3_vfs* vfs, const std::string& path, int flags);
    ~VfsFile();
    VfsFile(const VfsFile&) = delete;
    VfsFile& operator=(const VfsFile&) = delete;

    /// The VFS a connection uses.
    static sqlite3_vfs* vfsOf(sqlite3* db);

    [[nodiscard]] std::int64_t size();
    /// Reads up to `n` bytes at `offset`; returns how many the file had.
    int read(void* buffer, int n, std::int64_t offset);
    void write(const void* data, int n, std::int64_t offset);
    /// fdatasync, through the VFS; the first one also syncs the folder when the file was opened
    /// with SQLITE_OPEN_CREATE (so a new file's name survives a power cut too).
    void sync();
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string describe(int rc);
    [[noreturn]] void fail(int rc, const char* what);

    std::string path_;
    std::string name_;                // path_ with the second NUL SQLite expects after it
    std::unique_ptr<char[]> storage_; // the VFS's sqlite3_file, szOsFile bytes
    sqlite3_file* file_ = nullptr;
    bool open_ = false;
};

} // namespace ow::store
