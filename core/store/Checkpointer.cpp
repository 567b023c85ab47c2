#include "core/store/Checkpointer.h"
#include "core/util/ThreadName.h"

#include <sqlite3.h>

#include <chrono>

#include "core/observability/Log.h"
#include "core/store/Sqlite.h"

namespace ow::store {

using observability::Log;

namespace {
// The WAL size past which every commit asks again (8 x 1,000 pages of 4 KiB: 32 MiB), and the
// least time between checkpoints below it.
constexpr int kCatchUpFactor = 8;
constexpr std::int64_t kMinIntervalMs = 20;

std::int64_t steadyMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
} // namespace

Checkpointer::Checkpointer(const std::string& dbFile, int walPages, int intervalMs)
    : dbFile_(dbFile), intervalMs_(intervalMs),
      pacer_(walPages, kCatchUpFactor * walPages, kMinIntervalMs) {}

Checkpointer::~Checkpointer() {
    stop();
}

void Checkpointer::start() {
    thread_ = std::thread([this] {
        util::nameThisThread("ow-checkpoint");
        run();
    });
}

void Checkpointer::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Checkpointer::walGrew(int pages) {
    if (!pacer_.due(pages, steadyMs())) return;
    {
        std::lock_guard lock(mu_);
        due_ = true;
    }
    cv_.notify_one();
}

void Checkpointer::run() {
    std::unique_ptr<Database> db;
    try {
        db = std::make_unique<Database>(dbFile_);
        // A connection learns that the file is in WAL mode only when it first reads it;
        // until then a checkpoint call is a silent no-op.
        db->exec("SELECT count(*) FROM sqlite_master");
    } catch (const std::exception& e) {
        Log::error("journal", "checkpointer cannot open the journal; WAL will grow until restart",
                   {{"error", e.what()}});
        return;
    }
    std::unique_lock lock(mu_);
    while (!stopping_) {
        cv_.wait_for(lock, std::chrono::milliseconds(intervalMs_),
                     [&] { return stopping_ || due_; });
        if (stopping_) break;
        due_ = false;
        lock.unlock();
        int logFrames = 0, checkpointed = 0;
        int rc = sqlite3_wal_checkpoint_v2(db->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                           &logFrames, &checkpointed);
        if (rc == SQLITE_OK) {
            checkpoints_.fetch_add(1);
        } else if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
            Log::warn("journal", "checkpoint failed", {{"error", sqlite3_errmsg(db->handle())}});
        }
        lock.lock();
    }
    lock.unlock();
    // A last full pass so a cleanly stopped hub leaves a small WAL behind.
    sqlite3_wal_checkpoint_v2(db->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
}

} // namespace ow::store
