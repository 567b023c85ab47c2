// Told by the journal's connections when SQLite finds a damaged page while the hub runs
// (SQLITE_CORRUPT, SQLITE_NOTADB). Without it the hub went on answering 202 and saying it was
// ready while its dispatcher could never read its deliveries again; with it /readyz answers
// 503, onewindow_journal_damaged is 1 and the log says once which file and what to do.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

namespace ow::store {

class DamageMonitor {
public:
    /// Thread-safe; logs the first report at error level.
    void report(const std::string& file, const std::string& what);
    [[nodiscard]] bool damaged() const { return damaged_.load(); }
    /// The file and the error of the first report ("" while none).
    [[nodiscard]] std::string firstReport() const;

private:
    std::atomic<bool> damaged_{false};
    mutable std::mutex mu_;
    std::string first_;
};

} // namespace ow::store
