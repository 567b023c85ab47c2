#include "core/store/DamageMonitor.h"

#include <sqlite3.h>

#include "core/observability/Log.h"
#include "core/store/StorageAdvice.h"

namespace ow::store {

void DamageMonitor::report(const std::string& file, const std::string& what) {
    {
        std::lock_guard lock(mu_);
        if (!first_.empty()) return;
        first_ = file + ": " + what;
    }
    damaged_ = true;
    observability::Log::error(
        "journal", "the journal is damaged; /readyz answers 503 until the hub is restarted",
        {{"file", file}, {"error", what}, {"what_to_do", storageAdvice(SQLITE_CORRUPT, file)}});
}

std::string DamageMonitor::firstReport() const {
    std::lock_guard lock(mu_);
    return first_;
}

} // namespace ow::store
