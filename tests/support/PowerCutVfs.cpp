#include "tests/support/PowerCutVfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <new>
#include <random>
#include <stdexcept>
#include <vector>

namespace ow::testkit {

namespace {

// One write or truncate since the file's last sync, with what it replaced, so a cut can put
// the bytes back.
struct Change {
    bool truncate = false;
    sqlite3_int64 offset = 0;     ///< write: where it went; truncate: the new size
    sqlite3_int64 sizeBefore = 0; ///< the file's size before
    std::string before;           ///< bytes it overwrote (write) or cut off (truncate)
    std::string after;            ///< bytes written
};

// Placed at the start of the sqlite3_file SQLite allocates (szOsFile bytes); the default VFS's
// own file follows it.
struct File {
    sqlite3_file base{};
    PowerCutVfs::Impl* impl = nullptr;
    std::uint64_t generation = 0;
    bool tracked = false; ///< a named file that outlives its handle (not a temp file)
    std::string path;
    sqlite3_file* real = nullptr;
};

constexpr int FileBytes = (sizeof(File) + 15) & ~15;

File* self(sqlite3_file* f) {
    return reinterpret_cast<File*>(f);
}

bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void pwriteAll(int fd, const char* data, std::size_t n, sqlite3_int64 offset) {
    while (n > 0) {
        const auto w = ::pwrite(fd, data, n, offset);
        if (w <= 0) throw std::runtime_error("power-cut VFS: cannot restore a file");
        data += w;
        n -= static_cast<std::size_t>(w);
        offset += w;
    }
}

} // namespace

struct PowerCutVfs::Impl {
    sqlite3_vfs vfs{};
    sqlite3_vfs* real = nullptr;
    sqlite3_io_methods methods{};
    int sector = 512;

    mutable std::mutex mu;
    mutable std::condition_variable cv;
    bool powered = true;
    std::uint64_t generation = 0;
    std::uint64_t countdown = 0; ///< writes and syncs left before the armed cut; 0 = none
    bool tearAtCut = false;
    std::string failSuffix;
    int failLeft = 0;
    std::map<std::string, std::vector<Change>> unsynced;
    std::map<std::uint64_t, std::size_t> openByGeneration;
    std::mt19937_64 rng;
    Stats stats;

    bool dead(const File* f) const { return !powered || f->generation != generation; }

    // Counts a write or sync; true when it is the one the cut was armed for (then cut).
    bool tick() {
        if (countdown == 0 || --countdown > 0) return false;
        cutLocked(tearAtCut);
        return true;
    }

    void cutLocked(bool tear) {
        for (auto& [path, changes] : unsynced) {
            const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
            if (fd < 0) continue;
            // Back to the last synced state: undo every change, newest first.
            for (auto c = changes.rbegin(); c != changes.rend(); ++c) {
                if (c->truncate) {
                    if (::ftruncate(fd, c->sizeBefore) != 0) throw std::runtime_error("ftruncate");
                    pwriteAll(fd, c->before.data(), c->before.size(), c->offset);
                } else {
                    pwriteAll(fd, c->before.data(), c->before.size(), c->offset);
                    if (::ftruncate(fd, c->sizeBefore) != 0) throw std::runtime_error("ftruncate");
                }
            }
            // What the disk may still have written of them: each write dropped, kept, or torn
            // with every sector old or new at random; in order, so later writes win.
            for (const auto& c : changes) {
                if (c.truncate) continue;
                if (!tear) {
                    ++stats.droppedWrites;
                    continue;
                }
                const auto fate = rng() % 4;
                if (fate < 2) {
                    ++stats.droppedWrites;
                    continue;
                }
                const sqlite3_int64 end = c.offset + static_cast<sqlite3_int64>(c.after.size());
                int kept = 0, sectors = 0;
                for (sqlite3_int64 at = c.offset; at < end;) {
                    const sqlite3_int64 next = std::min(end, (at / sector + 1) * sector);
                    ++sectors;
                    if (fate == 2 || rng() % 2 == 0) {
                        pwriteAll(fd, c.after.data() + (at - c.offset),
                                  static_cast<std::size_t>(next - at), at);
                        ++kept;
                    }
                    at = next;
                }
                if (kept == sectors)
                    ++stats.keptWrites;
                else if (kept == 0)
                    ++stats.droppedWrites;
                else
                    ++stats.tornWrites;
            }
            ::close(fd);
        }
        unsynced.clear();
        powered = false;
        ++generation;
        ++stats.cuts;
        countdown = 0;
        failLeft = 0;
        cv.notify_all();
    }
};

namespace {

PowerCutVfs::Impl& implOf(sqlite3_vfs* v) {
    return *static_cast<PowerCutVfs::Impl*>(v->pAppData);
}

int xClose(sqlite3_file* f) {
    File* p = self(f);
    const int rc = p->real->pMethods->xClose(p->real);
    {
        std::lock_guard lock(p->impl->mu);
        auto it = p->impl->openByGeneration.find(p->generation);
        if (--it->second == 0) p->impl->openByGeneration.erase(it);
    }
    p->~File();
    return rc;
}

int xRead(sqlite3_file* f, void* buffer, int n, sqlite3_int64 offset) {
    File* p = self(f);
    std::lock_guard lock(p->impl->mu);
    if (p->impl->dead(p)) return SQLITE_IOERR_READ;
    return p->real->pMethods->xRead(p->real, buffer, n, offset);
}

int xWrite(sqlite3_file* f, const void* data, int n, sqlite3_int64 offset) {
    File* p = self(f);
    auto& impl = *p->impl;
    std::lock_guard lock(impl.mu);
    if (impl.dead(p)) return SQLITE_IOERR_WRITE;
    if (impl.failLeft > 0 && endsWith(p->path, impl.failSuffix)) {
        --impl.failLeft;
        ++impl.stats.failedWrites;
        return SQLITE_FULL;
    }
    if (impl.tick()) return SQLITE_IOERR_WRITE;
    ++impl.stats.writes;
    if (!p->tracked) return p->real->pMethods->xWrite(p->real, data, n, offset);
    Change c;
    c.offset = offset;
    p->real->pMethods->xFileSize(p->real, &c.sizeBefore);
    const auto overlap = std::clamp<sqlite3_int64>(c.sizeBefore - offset, 0, n);
    c.before.resize(static_cast<std::size_t>(overlap));
    if (overlap > 0) {
        const int rc =
            p->real->pMethods->xRead(p->real, c.before.data(), static_cast<int>(overlap), offset);
        if (rc != SQLITE_OK) return rc;
    }
    c.after.assign(static_cast<const char*>(data), static_cast<std::size_t>(n));
    const int rc = p->real->pMethods->xWrite(p->real, data, n, offset);
    if (rc == SQLITE_OK) impl.unsynced[p->path].push_back(std::move(c));
    return rc;
}

int xTruncate(sqlite3_file* f, sqlite3_int64 size) {
    File* p = self(f);
    auto& impl = *p->impl;
    std::lock_guard lock(impl.mu);
    if (impl.dead(p)) return SQLITE_IOERR_TRUNCATE;
    if (!p->tracked) return p->real->pMethods->xTruncate(p->real, size);
    Change c;
    c.truncate = true;
    c.offset = size;
    p->real->pMethods->xFileSize(p->real, &c.sizeBefore);
    if (c.sizeBefore > size) {
        c.before.resize(static_cast<std::size_t>(c.sizeBefore - size));
        const int rc = p->real->pMethods->xRead(p->real, c.before.data(),
                                                static_cast<int>(c.before.size()), size);
        if (rc != SQLITE_OK) return rc;
    }
    const int rc = p->real->pMethods->xTruncate(p->real, size);
    if (rc == SQLITE_OK) impl.unsynced[p->path].push_back(std::move(c));
    return rc;
}

int xSync(sqlite3_file* f, int) {
    File* p = self(f);
    auto& impl = *p->impl;
    std::lock_guard lock(impl.mu);
    if (impl.dead(p)) return SQLITE_IOERR_FSYNC;
    if (impl.tick()) return SQLITE_IOERR_FSYNC;
    ++impl.stats.syncs;
    // A sync through any handle makes the whole file durable, as fdatasync does.
    impl.unsynced.erase(p->path);
    return SQLITE_OK;
}

int xFileSize(sqlite3_file* f, sqlite3_int64* size) {
    File* p = self(f);
    return p->real->pMethods->xFileSize(p->real, size);
}
int xLock(sqlite3_file* f, int level) {
    return self(f)->real->pMethods->xLock(self(f)->real, level);
}
int xUnlock(sqlite3_file* f, int level) {
    return self(f)->real->pMethods->xUnlock(self(f)->real, level);
}
int xCheckReservedLock(sqlite3_file* f, int* out) {
    return self(f)->real->pMethods->xCheckReservedLock(self(f)->real, out);
}
int xFileControl(sqlite3_file* f, int op, void* arg) {
    return self(f)->real->pMethods->xFileControl(self(f)->real, op, arg);
}
int xSectorSize(sqlite3_file* f) {
    return self(f)->real->pMethods->xSectorSize(self(f)->real);
}
int xDeviceCharacteristics(sqlite3_file* f) {
    return self(f)->real->pMethods->xDeviceCharacteristics(self(f)->real);
}
// Shared memory (the WAL index) is not durable state: SQLite rebuilds it from the WAL when
// the first connection opens the database after the cut.
int xShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
    return self(f)->real->pMethods->xShmMap(self(f)->real, region, size, extend, out);
}
int xShmLock(sqlite3_file* f, int offset, int n, int flags) {
    return self(f)->real->pMethods->xShmLock(self(f)->real, offset, n, flags);
}
void xShmBarrier(sqlite3_file* f) {
    self(f)->real->pMethods->xShmBarrier(self(f)->real);
}
int xShmUnmap(sqlite3_file* f, int deleteFlag) {
    return self(f)->real->pMethods->xShmUnmap(self(f)->real, deleteFlag);
}

int vfsOpen(sqlite3_vfs* v, const char* name, sqlite3_file* f, int flags, int* outFlags) {
    auto& impl = implOf(v);
    std::lock_guard lock(impl.mu);
    f->pMethods = nullptr;
    if (!impl.powered) return SQLITE_CANTOPEN;
    File* p = new (f) File{};
    p->impl = &impl;
    p->generation = impl.generation;
    p->tracked = name != nullptr && (flags & SQLITE_OPEN_DELETEONCLOSE) == 0;
    p->path = name ? name : "";
    p->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + FileBytes);
    const int rc = impl.real->xOpen(impl.real, name, p->real, flags, outFlags);
    if (rc != SQLITE_OK) {
        if (p->real->pMethods) p->real->pMethods->xClose(p->real);
        p->~File();
        f->pMethods = nullptr;
        return rc;
    }
    p->base.pMethods = &impl.methods;
    ++impl.openByGeneration[impl.generation];
    return SQLITE_OK;
}

int vfsDelete(sqlite3_vfs* v, const char* name, int syncDir) {
    auto& impl = implOf(v);
    std::lock_guard lock(impl.mu);
    if (!impl.powered) return SQLITE_IOERR_DELETE;
    impl.unsynced.erase(name);
    return impl.real->xDelete(impl.real, name, syncDir);
}
int vfsAccess(sqlite3_vfs* v, const char* name, int flags, int* out) {
    return implOf(v).real->xAccess(implOf(v).real, name, flags, out);
}
int vfsFullPathname(sqlite3_vfs* v, const char* name, int n, char* out) {
    return implOf(v).real->xFullPathname(implOf(v).real, name, n, out);
}
void* vfsDlOpen(sqlite3_vfs* v, const char* name) {
    return implOf(v).real->xDlOpen(implOf(v).real, name);
}
void vfsDlError(sqlite3_vfs* v, int n, char* out) {
    implOf(v).real->xDlError(implOf(v).real, n, out);
}
void (*vfsDlSym(sqlite3_vfs* v, void* handle, const char* symbol))(void) {
    return implOf(v).real->xDlSym(implOf(v).real, handle, symbol);
}
void vfsDlClose(sqlite3_vfs* v, void* handle) {
    implOf(v).real->xDlClose(implOf(v).real, handle);
}
int vfsRandomness(sqlite3_vfs* v, int n, char* out) {
    return implOf(v).real->xRandomness(implOf(v).real, n, out);
}
int vfsSleep(sqlite3_vfs* v, int us) {
    return implOf(v).real->xSleep(implOf(v).real, us);
}
int vfsCurrentTime(sqlite3_vfs* v, double* out) {
    return implOf(v).real->xCurrentTime(implOf(v).real, out);
}
int vfsGetLastError(sqlite3_vfs* v, int n, char* out) {
    return implOf(v).real->xGetLastError(implOf(v).real, n, out);
}
int vfsCurrentTimeInt64(sqlite3_vfs* v, sqlite3_int64* out) {
    return implOf(v).real->xCurrentTimeInt64(implOf(v).real, out);
}

} // namespace

PowerCutVfs::PowerCutVfs(std::uint64_t seed, int sectorBytes) : impl_(std::make_unique<Impl>()) {
    auto& i = *impl_;
    i.rng.seed(seed);
    i.sector = sectorBytes;
    i.real = sqlite3_vfs_find(nullptr);
    if (!i.real) throw std::runtime_error("no default SQLite VFS");

    auto& m = i.methods;
    m.iVersion = 2; // no xFetch: every read of the database goes through xRead
    m.xClose = xClose;
    m.xRead = xRead;
    m.xWrite = xWrite;
    m.xTruncate = xTruncate;
    m.xSync = xSync;
    m.xFileSize = xFileSize;
    m.xLock = xLock;
    m.xUnlock = xUnlock;
    m.xCheckReservedLock = xCheckReservedLock;
    m.xFileControl = xFileControl;
    m.xSectorSize = xSectorSize;
    m.xDeviceCharacteristics = xDeviceCharacteristics;
    m.xShmMap = xShmMap;
    m.xShmLock = xShmLock;
    m.xShmBarrier = xShmBarrier;
    m.xShmUnmap = xShmUnmap;

    auto& v = i.vfs;
    v.iVersion = 2;
    v.szOsFile = FileBytes + i.real->szOsFile;
    v.mxPathname = i.real->mxPathname;
    v.zName = "ow-powercut";
    v.pAppData = impl_.get();
    v.xOpen = vfsOpen;
    v.xDelete = vfsDelete;
    v.xAccess = vfsAccess;
    v.xFullPathname = vfsFullPathname;
    v.xDlOpen = vfsDlOpen;
    v.xDlError = vfsDlError;
    v.xDlSym = vfsDlSym;
    v.xDlClose = vfsDlClose;
    v.xRandomness = vfsRandomness;
    v.xSleep = vfsSleep;
    v.xCurrentTime = vfsCurrentTime;
    v.xGetLastError = vfsGetLastError;
    v.xCurrentTimeInt64 = vfsCurrentTimeInt64;
    if (sqlite3_vfs_register(&v, 1) != SQLITE_OK)
        throw std::runtime_error("cannot register the power-cut VFS");
}

PowerCutVfs::~PowerCutVfs() {
    sqlite3_vfs_unregister(&impl_->vfs);
    sqlite3_vfs_register(impl_->real, 1); // the default again
}

void PowerCutVfs::cutAfter(std::uint64_t n, bool tear) {
    std::lock_guard lock(impl_->mu);
    impl_->countdown = n;
    impl_->tearAtCut = tear;
}

void PowerCutVfs::cut(bool tear) {
    std::lock_guard lock(impl_->mu);
    if (impl_->powered) impl_->cutLocked(tear);
}

bool PowerCutVfs::powered() const {
    std::lock_guard lock(impl_->mu);
    return impl_->powered;
}

bool PowerCutVfs::waitForCut(std::int64_t timeoutMs) const {
    std::unique_lock lock(impl_->mu);
    return impl_->cv.wait_for(lock, std::chrono::milliseconds(timeoutMs),
                              [this] { return !impl_->powered; });
}

std::uint64_t PowerCutVfs::generation() const {
    std::lock_guard lock(impl_->mu);
    return impl_->generation;
}

void PowerCutVfs::powerOn() {
    std::lock_guard lock(impl_->mu);
    for (const auto& [generation, n] : impl_->openByGeneration)
        if (generation < impl_->generation)
            throw std::runtime_error(std::to_string(n) +
                                     " file(s) opened before the power cut are still open");
    impl_->powered = true;
}

void PowerCutVfs::failWrites(const std::string& suffix, int n) {
    std::lock_guard lock(impl_->mu);
    impl_->failSuffix = suffix;
    impl_->failLeft = n;
}

std::size_t PowerCutVfs::openFiles() const {
    std::lock_guard lock(impl_->mu);
    std::size_t n = 0;
    for (const auto& [_, count] : impl_->openByGeneration)
        n += count;
    return n;
}

PowerCutVfs::Stats PowerCutVfs::stats() const {
    std::lock_guard lock(impl_->mu);
    return impl_->stats;
}

} // namespace ow::testkit
