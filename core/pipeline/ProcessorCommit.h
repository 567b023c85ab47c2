// The effects of one processor call, committed by the JournalWriter in one transaction with
// "this outbox row is handled" (or "this timer fired"): state writes, timers, emitted events.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/pipeline/AcceptItem.h"

namespace ow::pipeline {

struct ProcessorCommit {
    std::string instance; ///< the processor output's name: the state's namespace
    /// Commits of an instance whose earlier commit failed are refused until the instance has
    /// seen the failure (its generation moved on): they may rest on state that never existed.
    std::uint64_t generation = 0;
    std::int64_t rowId = 0; ///< the outbox row handled; 0 for a timer
    struct Fired {
        std::string name;
        std::int64_t dueMs = 0;
    };
    std::optional<Fired> fired; ///< the timer handled, removed unless set again
    /// Final value per key (a later write in the call replaces an earlier one); nullopt: erase.
    std::map<std::string, std::optional<std::string>> state;
    struct TimerOp {
        std::optional<std::int64_t> dueMs; ///< nullopt: cancel
        std::string payload;
    };
    std::map<std::string, TimerOp> timers; ///< by timer name, the last setting of the call
    std::vector<AcceptItem> emitted;
};

enum class CommitOutcome {
    Committed,
    /// The row (or timer) was handled by an earlier commit, e.g. after the lane timed out and
    /// processed the event again; nothing of this one was applied.
    AlreadyHandled,
    /// Not applied: the transaction failed, or an earlier commit of the instance did (the
    /// error says which). The row stays pending and is processed again.
    Failed,
};

/// Called once after the transaction, on the writer's completion thread, in commit order.
/// Must not block for long: the callbacks of later commits wait behind it.
using CommitCallback = std::function<void(CommitOutcome, const std::string& error)>;

} // namespace ow::pipeline
