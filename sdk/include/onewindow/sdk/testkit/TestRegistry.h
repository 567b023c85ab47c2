// The plugin under test, registered and created the way the hub does it: the test links the
// plugin's sources into its executable and hands the declaration ONEWINDOW_PLUGIN defined to
// a TestRegistry. Components then come from the plugin's own factories and specs, so the test
// covers the registration too (a misspelt component name fails here, not in production).
//
//   testkit::TestRegistry registry(onewindow_plugin);
//   testkit::TestServices env(testkit::configFor(registry.info("case-forwarder").spec, given));
//   auto sink = registry.createSink("case-forwarder", env.services());
#pragma once

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onewindow/sdk/Plugin.h"

/// The declaration ONEWINDOW_PLUGIN defines, reachable from a test that links the plugin's
/// sources (it is only a declaration: a test that does not use it need not define it).
extern "C" ONEWINDOW_SDK_API const ::onewindow::sdk::PluginDeclaration onewindow_plugin;

namespace onewindow::sdk::testkit {

class TestRegistry final : public Registry {
public:
    /// Checks the declaration as the hub does (ABI number, toolchain fingerprint, a name, a
    /// registration function), then registers the plugin's components. Throws
    /// std::runtime_error on what the hub would refuse, including duplicate component names.
    explicit TestRegistry(const PluginDeclaration& plugin) : plugin_(plugin) {
        if (plugin.abiVersion != AbiVersion)
            throw std::runtime_error("plugin declares ABI " + std::to_string(plugin.abiVersion) +
                                     ", these SDK headers are ABI " + std::to_string(AbiVersion));
        if (!plugin.buildFingerprint ||
            std::strcmp(plugin.buildFingerprint, ONEWINDOW_SDK_BUILD_FINGERPRINT) != 0)
            throw std::runtime_error("plugin was built with another toolchain fingerprint");
        if (!plugin.name || !*plugin.name) throw std::runtime_error("plugin declares no name");
        if (!plugin.registerComponents)
            throw std::runtime_error("plugin declares no registration function");
        plugin.registerComponents(*this);
    }

    void processor(ComponentInfo info, ProcessorFactory factory) override {
        add(std::move(info), ComponentKind::Processor).processor = std::move(factory);
    }
    void sink(ComponentInfo info, SinkFactory factory) override {
        add(std::move(info), ComponentKind::Sink).sink = std::move(factory);
    }
    void source(ComponentInfo info, SourceFactory factory) override {
        add(std::move(info), ComponentKind::Source).source = std::move(factory);
    }

    [[nodiscard]] const PluginDeclaration& declaration() const { return plugin_; }
    [[nodiscard]] std::vector<ComponentInfo> components() const {
        std::vector<ComponentInfo> out;
        for (const auto& e : entries_)
            out.push_back(e.info);
        return out;
    }
    /// The registered info of `name` (its spec, kind, concurrency); throws if there is none.
    [[nodiscard]] const ComponentInfo& info(const std::string& name) const {
        return find(name).info;
    }

    /// Creates a component with its factory; throws std::runtime_error if `name` is not a
    /// component of that kind or the factory returns nothing. Exceptions from the factory (a
    /// config the component refuses) pass through unchanged, for the test to check.
    std::unique_ptr<Processor> createProcessor(const std::string& name, Services& services) {
        return nonNull(name, of(name, ComponentKind::Processor).processor(services));
    }
    std::unique_ptr<Sink> createSink(const std::string& name, Services& services) {
        return nonNull(name, of(name, ComponentKind::Sink).sink(services));
    }
    std::unique_ptr<Source> createSource(const std::string& name, Services& services) {
        return nonNull(name, of(name, ComponentKind::Source).source(services));
    }

private:
    struct Entry {
        ComponentInfo info;
        ProcessorFactory processor;
        SinkFactory sink;
        SourceFactory source;
    };

    Entry& add(ComponentInfo info, ComponentKind kind) {
        if (info.name.empty()) throw std::runtime_error("a component has no name");
        for (const auto& e : entries_)
            if (e.info.name == info.name)
                throw std::runtime_error("component '" + info.name + "' is registered twice");
        info.kind = kind; // the registration call, not the info, decides the kind (as in the hub)
        entries_.push_back(Entry{std::move(info), {}, {}, {}});
        return entries_.back();
    }
    const Entry& find(const std::string& name) const {
        for (const auto& e : entries_)
            if (e.info.name == name) return e;
        throw std::runtime_error(std::string("plugin '") + plugin_.name +
                                 "' registers no component '" + name + "'");
    }
    const Entry& of(const std::string& name, ComponentKind kind) const {
        const Entry& e = find(name);
        if (e.info.kind != kind)
            throw std::runtime_error("component '" + name + "' is not of the kind asked for");
        return e;
    }
    template <typename T>
    static std::unique_ptr<T> nonNull(const std::string& name, std::unique_ptr<T> p) {
        if (!p) throw std::runtime_error("the factory of '" + name + "' returned no object");
        return p;
    }

    const PluginDeclaration& plugin_;
    std::vector<Entry> entries_;
};

} // namespace onewindow::sdk::testkit
