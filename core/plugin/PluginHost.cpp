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

constexpr std::chrono::milliseconds LifecycleDeadline{5000};

delivery::DeliveryResult toDelivery(const sdk::Result& r, const std::string& who) {
    using Outcome = delivery::DeliveryResult::Outcome;
    switch (r.kind) {
    case sdk::Result::Kind::Ok:
        return {Outcome::Delivered, 0, std::nullopt, ""};
    case sdk::Result::Kind::Reject:
        return {Outcome::Reject, 0, std::nullopt, who + ": " + r.reason};
    case sdk::Result::Kind::Retry:
        break;
    }
    return {Outcome::Retry, 0, r.retryAfterMs, who + ": " + r.reason};
}

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
        if (auto failed = ensureStarted()) return *failed;
        sdk::Event ev;
        try {
            ev = toSdkEvent(*row.body);
        } catch (const std::exception& e) {
            return {delivery::DeliveryResult::Outcome::Reject, 0, std::nullopt,
                    std::string("journaled event unreadable: ") + e.what()};
        }
        auto sink = inst_->sink;
        auto& caller = own_ ? *own_ : *inst_->calls;
        // The event is copied into the call: a call that overruns outlives this frame.
        return toDelivery(
            caller.call([sink, ev = std::move(ev)] { return sink->deliver(ev); }, deadline_), who_);
    }

private:
    std::optional<delivery::DeliveryResult> ensureStarted() {
        std::lock_guard lock(inst_->startMu);
        if (inst_->started) return std::nullopt;
        auto sink = inst_->sink;
        auto r = inst_->calls->call([sink] { return sink->start(); }, LifecycleDeadline);
        if (r.kind == sdk::Result::Kind::Ok) {
            inst_->started = true;
            Log::info("plugin", "sink started",
                      {{"plugin", inst_->plugin}, {"output", inst_->output}});
            return std::nullopt;
        }
        Log::warn("plugin", "sink failed to start; will retry",
                  {{"plugin", inst_->plugin}, {"output", inst_->output}, {"reason", r.reason}});
        // Start failures are transient by contract: the lane backs off and tries again.
        return delivery::DeliveryResult{delivery::DeliveryResult::Outcome::Retry, 0, std::nullopt,
                                        who_ + " start() failed: " + r.reason};
    }

    std::shared_ptr<SinkInstance> inst_;
    std::chrono::milliseconds deadline_;
    std::string who_;
    std::unique_ptr<DeadlineCaller> own_;
};

} // namespace

PluginHost::PluginHost(const config::HubConfig& cfg, std::vector<config::ConfigProblem>& problems,
                       observability::Metrics& metrics, const util::Clock& clock,
                       bool createInstances) {
    for (const auto& p : cfg.plugins) {
        auto file =
            checkPluginFile(cfg.hub.pluginDirs, p.file,
                            p.sha256.empty() ? std::nullopt : std::optional<std::string>(p.sha256));
        if (!file.ok()) {
            problems.push_back({p.where, "plugin '" + p.name + "': " + file.error});
            continue;
        }
        try {
            // A running hub loads a private copy (see stagePluginFile); `check` the file itself.
            const std::string load =
                createInstances
                    ? stagePluginFile(
                          file.path, (fs::path(cfg.hub.dataDir) / "plugins-loaded").string(),
                          p.sha256.empty() ? std::nullopt : std::optional<std::string>(p.sha256))
                    : file.path;
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
    // The component `ref` ("<plugin>/<component>") of kind `kind`, or null with a problem
    // (or silence, when the plugin itself was refused and already reported).
    auto resolve = [&](const std::string& ref, sdk::ComponentKind kind, const std::string& owner,
                       const config::SourceLocation& where)
        -> std::pair<PluginLibrary*, const RegisteredComponent*> {
        const auto slash = ref.find('/');
        const std::string pluginName = ref.substr(0, slash);
        const std::string component = ref.substr(slash + 1);
        auto lib = libraries_.find(pluginName);
        if (lib == libraries_.end()) return {nullptr, nullptr};
        const auto* c = lib->second->find(component);
        if (c && c->info.kind == kind) return {lib->second.get(), c};
        const char* kindName = kind == sdk::ComponentKind::Sink        ? "sink"
                               : kind == sdk::ComponentKind::Processor ? "processor"
                                                                       : "source";
        std::string list;
        for (const auto& rc : lib->second->components())
            if (rc.info.kind == kind)
                list += (list.empty() ? "" : ", ") + pluginName + "/" + rc.info.name;
        problems.push_back(
            {where,
             owner + ": plugin '" + pluginName + "' has no " + kindName + " '" + component + "'" +
                 (list.empty() ? std::string(" (it has none)") : " (it has: " + list + ")")});
        return {nullptr, nullptr};
    };

    for (const auto& o : cfg.outputs) {
        if (o.kind != config::OutputSpec::Kind::Sink) continue;
        const std::string owner = "output '" + o.name + "'";
        auto [lib, c] = resolve(o.sink, sdk::ComponentKind::Sink, owner, o.where);
        if (!c) continue;
        const std::size_t before = problems.size();
        auto conf = checkConfig(c->info.spec, o.pluginConfig, owner + " (sink " + o.sink + ")",
                                o.where, problems);
        if (problems.size() != before || !createInstances) continue;

        auto inst = std::make_shared<SinkInstance>();
        inst->plugin = lib->name();
        inst->component = c->info.name;
        inst->output = o.name;
        inst->concurrent = c->info.concurrent;
        inst->services =
            std::make_unique<HostServices>(inst->plugin, o.name, std::move(conf), metrics, clock);
        try {
            inst->sink = lib->createSink(c->info.name, inst->services->services());
        } catch (const std::exception& e) {
            problems.push_back({o.where, owner + ": " + e.what()});
            continue;
        }
        inst->calls = std::make_unique<DeadlineCaller>("sink " + o.sink);
        metrics.gaugeFunction("onewindow_plugin_stuck",
                              "1 while a call into the plugin instance overran its deadline",
                              [w = std::weak_ptr<SinkInstance>(inst)] {
                                  auto i = w.lock();
                                  return i && i->calls->stuck() ? 1.0 : 0.0;
                              },
                              {{"plugin", inst->plugin}, {"instance", o.name}});
        sinks_[o.name] = std::move(inst);
    }

    for (const auto& o : cfg.outputs) {
        if (o.kind != config::OutputSpec::Kind::Processor) continue;
        const std::string owner = "output '" + o.name + "'";
        auto [lib, c] = resolve(o.processor, sdk::ComponentKind::Processor, owner, o.where);
        if (!c) continue;
        const std::size_t before = problems.size();
        auto conf = checkConfig(c->info.spec, o.pluginConfig,
                                owner + " (processor " + o.processor + ")", o.where, problems);
        if (problems.size() != before || !createInstances) continue;

        auto services =
            std::make_unique<HostServices>(lib->name(), o.name, std::move(conf), metrics, clock);
        std::shared_ptr<sdk::Processor> processor;
        try {
            processor = lib->createProcessor(c->info.name, services->services());
        } catch (const std::exception& e) {
            problems.push_back({o.where, owner + ": " + e.what()});
            continue;
        }
        ProcessorRuntime::Settings settings;
        settings.plugin = lib->name();
        settings.component = c->info.name;
        settings.output = o.name;
        settings.journalFile = store::Journal::fileName(cfg.hub.dataDir);
        settings.limits = {static_cast<std::size_t>(cfg.hub.limits.maxJsonDepth),
                           static_cast<std::size_t>(cfg.hub.limits.maxJsonKeys)};
        settings.callDeadline = std::chrono::milliseconds(o.readTimeoutMs);
        auto rt = std::make_shared<ProcessorRuntime>(std::move(settings), std::move(services),
                                                     std::move(processor), metrics, clock);
        metrics.gaugeFunction("onewindow_plugin_stuck",
                              "1 while a call into the plugin instance overran its deadline",
                              [w = std::weak_ptr<ProcessorRuntime>(rt)] {
                                  auto i = w.lock();
                                  return i && i->stuck() ? 1.0 : 0.0;
                              },
                              {{"plugin", lib->name()}, {"instance", o.name}});
        processors_[o.name] = std::move(rt);
    }

    for (const auto& in : cfg.inputs) {
        if (in.kind != config::InputSpec::Kind::Source) continue;
        const std::string owner = "input '" + in.name + "'";
        auto [lib, c] = resolve(in.source, sdk::ComponentKind::Source, owner, in.where);
        if (!c) continue;
        const std::size_t before = problems.size();
        auto conf = checkConfig(c->info.spec, in.sourceConfig,
                                owner + " (source " + in.source + ")", in.where, problems);
        if (problems.size() != before || !createInstances) continue;

        auto inst = std::make_shared<SourceInstance>();
        inst->plugin = lib->name();
        inst->component = c->info.name;
        inst->input = in.name;
        inst->services =
            std::make_unique<HostServices>(inst->plugin, in.name, std::move(conf), metrics, clock);
        try {
            inst->source = lib->createSource(c->info.name, inst->services->services());
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
    for (auto& [name, inst] : sinks_) {
        std::lock_guard lock(inst->startMu);
        if (!inst->started || inst->stopped) continue;
        inst->stopped = true;
        auto sink = inst->sink;
        auto r = inst->calls->call(
            [sink] {
                sink->stop();
                return sdk::Result::ok();
            },
            LifecycleDeadline);
        if (r.kind != sdk::Result::Kind::Ok)
            Log::warn("plugin", "sink did not stop cleanly",
                      {{"plugin", inst->plugin}, {"output", name}, {"reason", r.reason}});
    }
}

} // namespace ow::plugin
