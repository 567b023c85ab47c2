// Processor plugins' durable key-value state and timers, in the journal's file. The writer's
// connection changes them inside the transaction that also marks the event handled (so the
// effects of one event exist once); each processor instance reads through a connection of
// its own (WAL readers never wait for the writer).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/store/Sqlite.h"

namespace ow::store {

/// The tables, created by the Journal with the rest of the schema.
extern const char* const PluginStateSchema;

/// Where a sweep over due timers stands: timers are taken in (due, name) order.
struct TimerKey {
    std::int64_t dueMs = 0;
    std::string name;
};

struct DueTimer {
    std::string name;
    std::int64_t dueMs = 0;
    std::string payload;
};

/// Statements over one connection; not thread-safe (as the connection).
class PluginState {
public:
    explicit PluginState(Database& db);
    ~PluginState();

    [[nodiscard]] std::optional<std::string> get(const std::string& instance,
                                                 const std::string& key);
    void put(const std::string& instance, const std::string& key, const std::string& value);
    void erase(const std::string& instance, const std::string& key);
    /// Every (key, value) whose key starts with `prefix`, in key order.
    std::vector<std::pair<std::string, std::string>> withPrefix(const std::string& instance,
                                                                const std::string& prefix);

    void setTimer(const std::string& instance, const std::string& name, std::int64_t dueMs,
                  const std::string& payload);
    void cancelTimer(const std::string& instance, const std::string& name);
    /// Removes a timer that fired; false when it is gone or was set again since (its due time
    /// changed), and then nothing was removed.
    bool removeFired(const std::string& instance, const std::string& name, std::int64_t dueMs);
    /// Timers due at `nowMs` or before, earliest first (by due time, then name), after
    /// `after` when given: a sweep over many due timers goes page by page.
    std::vector<DueTimer> due(const std::string& instance, std::int64_t nowMs, int limit,
                              const std::optional<TimerKey>& after = std::nullopt);
    [[nodiscard]] std::optional<DueTimer> timer(const std::string& instance,
                                                const std::string& name);

private:
    struct Statements;
    Database& db_;
    std::unique_ptr<Statements> st_;
};

} // namespace ow::store
