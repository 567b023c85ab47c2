// Loads the configured plugins and keeps the component instances the configuration names.
// Plugin files are checked (PluginFile) and their declarations verified (PluginLibrary)
// before anything in them runs; each instance's config is checked against its spec. A
// plugin's exception or hang is contained here: it becomes a retry or a dead letter for the
// event at hand, never a crash or a stall of another route.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config/ConfigLoader.h"
#include "core/config/HubConfig.h"
#include "core/delivery/OutputClient.h"
#include "core/observability/Metrics.h"
#include "core/plugin/ComponentLifecycle.h"
#include "core/plugin/DeadlineCaller.h"
#include "core/plugin/HostServices.h"
#include "core/plugin/PluginLibrary.h"
#include "core/plugin/ProcessorRuntime.h"
#include "core/util/Clock.h"

namespace ow::plugin {

/// One configured sink: the plugin's object, its services, and whether start() succeeded.
struct SinkInstance {
    std::string plugin, component, output;
    bool concurrent = false;
    std::unique_ptr<HostServices> services; // outlives `sink` (declared first)
    std::shared_ptr<onewindow::sdk::Sink> sink;
    std::unique_ptr<DeadlineCaller> calls; // lifecycle, and deliveries of non-concurrent sinks
    std::unique_ptr<ComponentLifecycle> lifecycle;
};

/// One configured source: the plugin's object and its services.
struct SourceInstance {
    std::string plugin, component, input;
    std::unique_ptr<HostServices> services; // outlives `source` (declared first)
    std::shared_ptr<onewindow::sdk::Source> source;
    std::unique_ptr<DeadlineCaller> calls; // start() and stop()
};

class PluginHost {
public:
    /// Loads every plugin of `cfg` and checks every sink output against its component; each
    /// refusal is appended to `problems` at the plugin entry's or output's location.
    /// Instances are created only when `createInstances` (not for `onewindow check`).
    PluginHost(const config::HubConfig& cfg, std::vector<config::ConfigProblem>& problems,
               observability::Metrics& metrics, const util::Clock& clock, bool createInstances);
    ~PluginHost();

    /// The delivery client factory for a sink output (one client per lane worker).
    delivery::OutputClientFactory sinkClientFactory(const config::OutputSpec& output);
    /// The delivery client factory for a processor output; its effects are committed through
    /// `submit` (the journal writer).
    delivery::OutputClientFactory processorClientFactory(const config::OutputSpec& output,
                                                         CommitSubmitter submit);
    /// Starts firing processors' durable timers (after the journal writer runs).
    void startTimers();
    /// The instance behind a source input.
    std::shared_ptr<SourceInstance> sourceFor(const std::string& input) const {
        return sources_.at(input);
    }
    /// Stops processors' timers, then calls stop() on every started processor and sink
    /// (bounded by a deadline each). Idempotent.
    void stop();

    [[nodiscard]] const std::map<std::string, std::shared_ptr<PluginLibrary>>& libraries() const {
        return libraries_;
    }

private:
    std::map<std::string, std::shared_ptr<PluginLibrary>> libraries_;
    std::map<std::string, std::shared_ptr<SinkInstance>> sinks_;          // by output name
    std::map<std::string, std::shared_ptr<ProcessorRuntime>> processors_; // by output name
    std::map<std::string, std::shared_ptr<SourceInstance>> sources_;      // by input name
};

} // namespace ow::plugin
