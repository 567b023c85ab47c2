// An input fed by a plugin source (a poller of a department's front-end database table, a
// folder watcher, ...). The source runs on a thread of its own; each batch it emits is
// journaled in one commit before emit() returns true, so the source acknowledges upstream
// only what is durable. While its system cannot be read (the source says so with
// ctx.unavailable(), or start() or run() fails) the source is down: it backs off
// exponentially with jitter up to a cap (hub.outages.source_retry), at least the system's
// Retry-After, and the log and metrics say so once, as reminders and once it is back
// (observability::Availability). stop() asks it to return and waits a bounded time.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "core/config/HubConfig.h"
#include "core/event/CloudEventCodec.h"
#include "core/ingest/InputCounters.h"
#include "core/observability/Availability.h"
#include "core/observability/Metrics.h"
#include "core/pipeline/JournalWriter.h"
#include "core/plugin/PluginHost.h"
#include "core/util/Clock.h"

namespace ow::ingest {

class SourceIngress {
public:
    SourceIngress(config::InputSpec spec, const config::Limits& limits,
                  pipeline::JournalWriter& writer, std::shared_ptr<plugin::SourceInstance> inst,
                  observability::Metrics& metrics, const util::Clock& clock,
                  const config::OutageSettings& outages = {});
    ~SourceIngress();

    void start();
    /// Asks the source to return from run() and waits up to `deadline`; a source that does
    /// not return in time is left to finish on its own thread, cut off from the journal.
    void stop(std::chrono::milliseconds deadline);

    [[nodiscard]] const std::string& name() const { return spec_.name; }
    /// Whether the source's system answers (up), since when, failed attempts in a row.
    [[nodiscard]] observability::Availability::State state() const;

private:
    class Context;
    struct Shared; // what the source's thread and emit() share, outliving this object
    static void run(std::string input, std::shared_ptr<plugin::SourceInstance> inst,
                    std::shared_ptr<Shared> shared);

    config::InputSpec spec_;
    observability::Metrics& metrics_;
    std::shared_ptr<plugin::SourceInstance> inst_;
    std::shared_ptr<Shared> shared_;
    std::thread thread_;
};

} // namespace ow::ingest
