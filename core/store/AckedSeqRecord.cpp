#include "core/store/AckedSeqRecord.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "core/store/Sqlite.h"

namespace ow::store {

namespace {

// One line of fixed length, overwritten in place (one sector: a power cut leaves the old
// line or the new one), with a check value so that a damaged file is not read as a number.
constexpr const char* Magic = "onewindow acked-seq";
constexpr int RecordBytes = 19 + 1 + 20 + 1 + 16 + 1;
constexpr std::int64_t SyncEveryMs = 1000;

std::uint64_t check(std::int64_t seq) {
    // splitmix64 of the number: any change to a digit changes it.
    auto z = static_cast<std::uint64_t>(seq) + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

std::string format(std::int64_t seq) {
    char line[RecordBytes + 1];
    std::snprintf(line, sizeof line, "%s %020lld %016llx\n", Magic, static_cast<long long>(seq),
                  static_cast<unsigned long long>(check(seq)));
    return std::string(line, RecordBytes);
}

std::int64_t steadyMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

std::string AckedSeqRecord::fileName(const std::string& dataDir) {
    return (std::filesystem::path(dataDir) / "journal.acked").string();
}

std::optional<std::int64_t> AckedSeqRecord::read(sqlite3_vfs* vfs, const std::string& file) {
    if (!std::filesystem::exists(file)) return std::nullopt;
    VfsFile f(vfs, file, SQLITE_OPEN_READONLY | SQLITE_OPEN_SUPER_JOURNAL);
    std::string line(RecordBytes + 1, '\0');
    const int n = f.read(line.data(), RecordBytes + 1, 0);
    line.resize(static_cast<std::size_t>(n));
    // The number's 20 digits start after the magic and a space; the first is always 0.
    const std::string digits = n == RecordBytes ? line.substr(20, 20) : std::string();
    if (digits.size() == 20 && digits[0] == '0' &&
        digits.find_first_not_of("0123456789") == std::string::npos) {
        const std::int64_t seq = std::stoll(digits);
        if (line == format(seq)) return seq;
    }
    throw StoreError(SQLITE_CORRUPT, "the record of acknowledged events " + file +
                                         " is damaged (it does not hold a sequence number)");
}

AckedSeqRecord::AckedSeqRecord(sqlite3_vfs* vfs, const std::string& file, std::int64_t seq)
    : file_(std::make_unique<VfsFile>(
          vfs, file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_SUPER_JOURNAL)) {
    write(seq);
    sync();
}

AckedSeqRecord::~AckedSeqRecord() {
    try {
        if (dirty_) sync();
    } catch (...) {
        // Stopping anyway: the record lags, which can only hide a loss, never invent one.
    }
}

void AckedSeqRecord::store(std::int64_t seq) {
    if (seq <= value_) return;
    write(seq);
}

void AckedSeqRecord::write(std::int64_t seq) {
    const std::string line = format(seq);
    file_->write(line.data(), RecordBytes, 0);
    value_ = seq;
    dirty_ = true;
}

void AckedSeqRecord::syncIfDue() {
    if (!dirty_) return;
    const auto now = steadyMs();
    if (now - lastSyncMs_ < SyncEveryMs) return;
    sync();
}

void AckedSeqRecord::sync() {
    file_->sync();
    dirty_ = false;
    lastSyncMs_ = steadyMs();
}

} // namespace ow::store
