// A SQLite VFS that simulates power cuts, after SQLite's own crash tests (its src/test6.c).
// It passes every call on to the default VFS and remembers, per file, what was written since
// that file's last sync. cut() leaves every file as a disk would after a power loss: what was
// synced stays; what was not is dropped, or, with tearing, kept sector by sector at random;
// and every handle opened before the cut fails from then on, like a process whose machine went
// dark. Then powerOn() lets new connections open what is left.
//
// While it lives it is the process's default VFS, so every connection the code under test
// opens goes through it, and so does every file the journal opens through its connection's
// VFS itself (the WAL's fdatasync, the record of acknowledged events: see store::VfsFile).
// Syncs are not passed on (the simulation decides what is durable, not the real disk), which
// also keeps hundreds of cuts fast.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace ow::testkit {

class PowerCutVfs {
public:
    struct Stats {
        std::uint64_t writes = 0;
        std::uint64_t syncs = 0;
        std::uint64_t cuts = 0;
        std::uint64_t droppedWrites = 0; ///< unsynced writes a cut threw away whole
        std::uint64_t tornWrites = 0;    ///< kept in part, some sectors old and some new
        std::uint64_t keptWrites = 0;    ///< unsynced, but all their sectors reached the disk
        std::uint64_t failedWrites = 0;  ///< refused by failWrites() (a full disk)
    };

    /// Registers and makes itself the default VFS; `seed` drives the tearing.
    explicit PowerCutVfs(std::uint64_t seed, int sectorBytes = 512);
    /// Restores the previous default VFS. Every file must be closed by then.
    ~PowerCutVfs();
    PowerCutVfs(const PowerCutVfs&) = delete;
    PowerCutVfs& operator=(const PowerCutVfs&) = delete;

    /// Cuts the power at the `n`-th write or sync from now (all files together; the write or
    /// sync itself does not happen). `tear`: unsynced writes are kept, dropped or torn at
    /// random instead of all dropped. 0 disarms.
    void cutAfter(std::uint64_t n, bool tear);
    /// Cuts the power now.
    void cut(bool tear);
    [[nodiscard]] bool powered() const;
    /// Waits until the power is cut or `timeoutMs` passed; returns powered() == false.
    bool waitForCut(std::int64_t timeoutMs) const;
    /// Increments at every cut: a handle opened in an earlier generation is dead.
    [[nodiscard]] std::uint64_t generation() const;
    /// Power back on. Throws if a handle of before the cut is still open.
    void powerOn();

    /// The next `n` writes to a file whose name ends with `suffix` fail with SQLITE_FULL and
    /// write nothing.
    void failWrites(const std::string& suffix, int n);

    [[nodiscard]] std::size_t openFiles() const;
    [[nodiscard]] Stats stats() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace ow::testkit
