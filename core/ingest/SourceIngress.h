// An input fed by a plugin source (a poller of a department's front-end database table, a
// folder watcher, ...). The source runs on a thread of its own; each batch it emits is
// journaled in one commit before emit() returns true, so the source acknowledges upstream
// only what is durable. start() is retried with backoff until it succeeds; a run() that
// fails or returns early is run again after a backoff; stop() asks it to return and waits a
// bounded time.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "core/config/HubConfig.h"
#include "core/event/CloudEventCodec.h"
#include "core/ingest/InputCounters.h"
#include "core/observability/Metrics.h"
#include "core/pipeline/JournalWriter.h"
#include "core/plugin/PluginHost.h"
#include "core/util/Clock.h"

namespace ow::ingest {

class SourceIngress {
public:
    SourceIngress(config::InputSpec spec, const config::Limits& limits,
                  pipeline::JournalWriter& writer, std::shared_ptr<plugin::SourceInstance> inst,
                  observability::Metrics& metrics, const util::Clock& clock);
    ~SourceIngress();

    void start();
    /// Asks the source to return from run() and waits up to `deadline`; a source that does
    /// not return in time is left to finish on its own thread, cut off from the journal.
    void stop(std::chrono::milliseconds deadline);

private:
    class Context;
    struct Shared; // what the source's thread and emit() share, outliving this object
    static void run(std::string input, std::shared_ptr<plugin::SourceInstance> inst,
                    std::shared_ptr<Shared> shared);

    config::InputSpec spec_;
    std::shared_ptr<plugin::SourceInstance> inst_;
    std::shared_ptr<Shared> shared_;
    std::thread thread_;
};

} // namespace ow::ingest
