// The highest sequence number the hub acknowledged, kept outside the journal in
// `<data_dir>/journal.acked`. The journal can lose acknowledged events without SQLite
// noticing: a deleted WAL, a WAL damaged mid-way (SQLite stops reading it at the first bad
// checksum), a deleted or replaced journal.db. Compared at start with the highest sequence
// number the journal ever handed out, the record names such a loss instead of letting the hub
// silently start over and hand acknowledged numbers out again.
//
// Cost on the hot path: one pwrite of 58 bytes per WAL sync, after the fdatasync and before
// the answers; no fsync of its own there. That makes it exact after a process crash (the page
// cache keeps it). Against a power cut it is fsynced at most once a second, after answers are
// released, so it may then lag by up to a second: it never claims more than the WAL holds (it
// is written after the WAL's sync), so it cannot raise a false alarm, only miss a loss of the
// last second's events.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/store/VfsFile.h"

namespace ow::store {

class AckedSeqRecord {
public:
    static std::string fileName(const std::string& dataDir);

    /// The recorded number; nullopt when there is no record. Throws StoreError when the file
    /// exists but does not hold a record (damaged).
    static std::optional<std::int64_t> read(sqlite3_vfs* vfs, const std::string& file);

    /// Opens (creating) the record and makes `seq` durable in it, folder entry included.
    AckedSeqRecord(sqlite3_vfs* vfs, const std::string& file, std::int64_t seq);
    /// Syncs what was stored last (a clean stop leaves it exact).
    ~AckedSeqRecord();

    /// Records `seq` if higher than the last: written, not synced (see above).
    void store(std::int64_t seq);
    /// fdatasync of the record, when something was stored since the last one and the last was
    /// at least a second ago.
    void syncIfDue();
    void sync();
    [[nodiscard]] std::int64_t value() const { return value_; }

private:
    void write(std::int64_t seq);

    std::unique_ptr<VfsFile> file_;
    std::int64_t value_ = 0;
    bool dirty_ = false;
    std::int64_t lastSyncMs_ = 0;
};

} // namespace ow::store
