#include "core/plugin/PluginHost.h"

#include <filesystem>

#include "core/observability/Log.h"
#include "core/plugin/ConfigCheck.h"
#include "core/plugin/EventBridge.h"
#include "core/plugin/PluginFile.h"
#include "core/store/Journal.h"

namespace ow::plugin {
namespace sdk = onewindow::sdk;
namespace fs = std::filesystem;
using observability::Log;

namespace {

// Delivers rows through one sink instance. start() runs before the first delivery (and again
// after it failed, at the lane's backoff pace), through the instance's deadline caller.
class SinkOutputClient final : public delivery::OutputClient {
public:
    SinkOutputClient(std::shared_ptr<SinkInstance> inst, std::int64_t deadlineMs)
        : inst_(std::move(inst)), deadline_(deadlineMs),
          who_("sink " + inst_->plugin + "/" + inst_->component) {
        if (inst_->concurrent) own_ = std::make_unique<DeadlineCaller>(who_ + " deliver()");
    }
    delivery::DeliveryResult deliver(const store::OutboxRow& row) override {
        auto sink = inst_->sink;
        if (auto failed =
                inst_->lifecycle->ensureStarted(*inst_->calls, [sink] { return sink->start(); }))
            return *failed;
        sdk::Event ev;
        try {
            ev = toSdkEvent(*row.body, row.from);
        } catch (const std::exception& e) {
            return {delivery::DeliveryResult::Outcome::Reject, 0, std::nullopt,
                    std::string("journaled event unreadable: ") + e.what()};
        }
        auto& caller = own_ ? *own_ : *inst_->calls;
        // The event is copied into the call: a call that overruns outlives this frame.
        return toDelivery(
            caller.call([sink, ev = std::move(ev)] { return sink->deliver(ev); }, deadline_), who_);
    }

private:
    std::shared_ptr<SinkInstance> inst_;
    std::chrono::milliseconds deadline_;
    std::string who_;
    std::unique_ptr<DeadlineCaller> own_;
};

} // namespace

PluginHost::PluginHost(const config::HubConfig& cfg, std::vector<config::ConfigProblem>& problems,
                       observability::Metrics& metrics, const util::Clock& clock,
                       bool createInstances) {
    const std::string stageDir = (fs::path(cfg.hub.dataDir) / "plugins-loaded").string();
    for (const auto& p : cfg.plugins) {
        const auto pin = p.sha256.empty() ? std::nullopt : std::optional<std::string>(p.sha256);
        // A running hub compares the pin with the bytes of its private copy (stagePluginFile),
        // which are the bytes it loads: the file is read and hashed once.
        auto file =
            checkPluginFile(cfg.hub.pluginDirs, p.file, createInstances ? std::nullopt : pin);
        std::string load = file.path; // `check` loads the file itself
        if (file.ok() && createInstances) {
            try {
                load = stagePluginFile(file.path, stageDir, pin);
            } catch (const std::exception& e) {
                file.error = e.what();
            }
        }
        if (!file.ok()) {
            problems.push_back({p.where, "plugin '" + p.name + "': " + file.error});
            continue;
        }
        try {
            auto lib = PluginLibrary::load(load, file.path);
            if (lib->name() != p.name) {
                problems.push_back({p.where, "plugin file " + file.path + " declares the name '" +
                                                 lib->name() + "', the configuration expects '" +
                                                 p.name + "'"});
                continue;
            }
            libraries_[p.name] = std::move(lib);
        } catch (const std::exception& e) {
            problems.push_back({p.where, e.what()});
        }
    }
    // The component `ref` ("<plugin>/<component>") of kind `kind`, with the instance's config
    // checked against its spec; nullopt when either is refused (a problem says why, or the
    // plugin itself was refused and is reported already) or when no instance is wanted.
    struct Resolved {
        PluginLibrary* lib;
        const RegisteredComponent* component;
        sdk::Config config;
    };
    auto resolve = [&](const std::string& ref, sdk::ComponentKind kind, const std::string& owner,
                       const config::ConfigTree& tree,
                       const config::SourceLocation& where) -> std::optional<Resolved> {
        const auto slash = ref.find('/');
        const std::string pluginName = ref.substr(0, slash);
        const std::string component = ref.substr(slash + 1);
        auto lib = libraries_.find(pluginName);
        if (lib == libraries_.end()) return std::nullopt;
        const char* kindName = kind == sdk::ComponentKind::Sink        ? "sink"
                               : kind == sdk::ComponentKind::Processor ? "processor"
                                                                       : "source";
        const auto* c = lib->second->find(component);
        if (!c || c->info.kind != kind) {
            std::string list;
            for (const auto& rc : lib->second->components())
                if (rc.info.kind == kind)
                    list += (list.empty() ? "" : ", ") + pluginName + "/" + rc.info.name;
            problems.push_back({where, owner + ": plugin '" + pluginName + "' has no " + kindName +
                                           " '" + component + "'" +
                                           (list.empty() ? std::string(" (it has none)")
                                                         : " (it has: " + list + ")")});
            return std::nullopt;
        }
        const std::size_t before = problems.size();
        auto conf = checkConfig(c->info.spec, tree, owner + " (" + kindName + " " + ref + ")",
                                where, problems);
        if (problems.size() != before || !createInstances) return std::nullopt;
        return Resolved{lib->second.get(), c, std::move(conf)};
    };
    auto stuckGauge = [&metrics](const std::string& plugin, const std::string& instance,
                                 std::function<bool()> stuck) {
        metrics.gaugeFunction("onewindow_plugin_stuck",
                              "1 while a call into the plugin instance overran its deadline",
                              [stuck = std::move(stuck)] { return stuck() ? 1.0 : 0.0; },
                              {{"plugin", plugin}, {"instance", instance}});
    };

    for (const auto& o : cfg.outputs) {
        if (o.kind != config::OutputSpec::Kind::Sink) continue;
        const std::string owner = "output '" + o.name + "'";
        auto r = resolve(o.sink, sdk::ComponentKind::Sink, owner, o.pluginConfig, o.where);
        if (!r) continue;
        auto inst = std::make_shared<SinkInstance>();
        inst->plugin = r->lib->name();
        inst->component = r->component->info.name;
        inst->output = o.name;
        inst->concurrent = r->component->info.concurrent;
        inst->services = std::make_unique<HostServices>(inst->plugin, o.name, std::move(r->config),
                                                        metrics, clock, o.tls);
        try {
            inst->sink = r->lib->createSink(inst->component, inst->services->services());
        } catch (const std::exception& e) {
            problems.push_back({o.where, owner + ": " + e.what()});
            continue;
        }
        inst->calls = std::make_unique<DeadlineCaller>("sink " + o.sink);
        inst->lifecycle =
            std::make_unique<ComponentLifecycle>("sink", "sink " + o.sink, inst->plugin, o.name);
        stuckGauge(inst->plugin, o.name, [w = std::weak_ptr<SinkInstance>(inst)] {
            auto i = w.lock();
            return i && i->calls->stuck();
        });
        sinks_[o.name] = std::move(inst);
    }

    for (const auto& o : cfg.outputs) {
        if (o.kind != config::OutputSpec::Kind::Processor) continue;
        const std::string owner = "output '" + o.name + "'";
        auto r =
            resolve(o.processor, sdk::ComponentKind::Processor, owner, o.pluginConfig, o.where);
        if (!r) continue;
        auto services = std::make_unique<HostServices>(r->lib->name(), o.name, std::move(r->config),
                                                       metrics, clock);
        std::shared_ptr<sdk::Processor> processor;
        try {
            processor = r->lib->createProcessor(r->component->info.name, services->services());
        } catch (const std::exception& e) {
            problems.push_back({o.where, owner + ": " + e.what()});
            continue;
        }
        ProcessorRuntime::Settings settings;
        settings.plugin = r->lib->name();
        settings.component = r->component->info.name;
        settings.output = o.name;
        settings.journalFile = store::Journal::fileName(cfg.hub.dataDir);
        settings.limits = {static_cast<std::size_t>(cfg.hub.limits.maxJsonDepth),
                           static_cast<std::size_t>(cfg.hub.limits.maxJsonKeys)};
        settings.callDeadline = std::chrono::milliseconds(o.readTimeoutMs);
        auto rt = std::make_shared<ProcessorRuntime>(std::move(settings), std::move(services),
                                                     std::move(processor), metrics, clock);
        stuckGauge(r->lib->name(), o.name, [w = std::weak_ptr<ProcessorRuntime>(rt)] {
            auto i = w.lock();
            return i && i->stuck();
        });
        processors_[o.name] = std::move(rt);
    }

    for (const auto& in : cfg.inputs) {
        if (in.kind != config::InputSpec::Kind::Source) continue;
        const std::string owner = "input '" + in.name + "'";
        auto r = resolve(in.source, sdk::ComponentKind::Source, owner, in.sourceConfig, in.where);
        if (!r) continue;
        auto inst = std::make_shared<SourceInstance>();
        inst->plugin = r->lib->name();
        inst->component = r->component->info.name;
        inst->input = in.name;
        inst->services = std::make_unique<HostServices>(inst->plugin, in.name, std::move(r->config),
                                                        metrics, clock, in.tls);
        try {
            inst->source = r->lib->createSource(inst->component, inst->services->services());
        } catch (const std::exception& e) {
            problems.push_back({in.where, owner + ": " + e.what()});
            continue;
        }
        inst->calls = std::make_unique<DeadlineCaller>("source " + in.source);
        sources_[in.name] = std::move(inst);
    }
}

PluginHost::~PluginHost() {
    stop();
}

delivery::OutputClientFactory PluginHost::sinkClientFactory(const config::OutputSpec& output) {
    auto inst = sinks_.at(output.name);
    std::int64_t deadline = output.readTimeoutMs;
    return [inst, deadline] { return std::make_unique<SinkOutputClient>(inst, deadline); };
}

delivery::OutputClientFactory PluginHost::processorClientFactory(const config::OutputSpec& output,
                                                                 CommitSubmitter submit) {
    auto rt = processors_.at(output.name);
    rt->setCommitter(std::move(submit));
    return [rt] { return makeProcessorClient(rt); };
}

void PluginHost::startTimers() {
    for (auto& [_, rt] : processors_)
        rt->startTimers();
}

void PluginHost::stop() {
    for (auto& [_, rt] : processors_)
        rt->stop();
    for (auto& [_, inst] : sinks_) {
        auto sink = inst->sink;
        inst->lifecycle->stop(*inst->calls, [sink] { sink->stop(); });
    }
}

} // namespace ow::plugin
