// One loaded plugin library: its declaration, checked before anything in it is called, and
// the components it registered. Objects created from it keep it loaded (each holds a
// shared_ptr to this), because unmapping a library while one of its objects, vtables or
// exceptions is alive crashes the next call (STACK-NOTES, Boost.DLL unload rule).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "onewindow/sdk/Plugin.h"

namespace ow::plugin {

struct RegisteredComponent {
    onewindow::sdk::ComponentInfo info;
    onewindow::sdk::ProcessorFactory processor;
    onewindow::sdk::SinkFactory sink;
    onewindow::sdk::SourceFactory source;
};

class PluginLibrary : public std::enable_shared_from_this<PluginLibrary> {
public:
    /// Loads `path` (already checked by checkPluginFile) and verifies its declaration: the
    /// symbol exists, the ABI number and the build fingerprint equal the hub's. Throws
    /// PluginLoadError with a message saying what to rebuild; on failure nothing in the
    /// library was called (its static initializers aside, which dlopen runs).
    /// `shownAs`: the file the operator configured, for messages, when `path` is a staged copy.
    static std::shared_ptr<PluginLibrary> load(const std::string& path,
                                               const std::string& shownAs = "");
    ~PluginLibrary();

    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] const std::string& version() const { return version_; }
    [[nodiscard]] const std::string& description() const { return description_; }
    [[nodiscard]] const std::string& sdkVersion() const { return sdkVersion_; }
    [[nodiscard]] const std::vector<RegisteredComponent>& components() const { return components_; }
    [[nodiscard]] const RegisteredComponent* find(const std::string& component) const;

    /// Creates a component; the returned object keeps this library loaded. Exceptions from
    /// the plugin's factory are turned into std::runtime_error with the plugin's message.
    std::shared_ptr<onewindow::sdk::Processor> createProcessor(const std::string& component,
                                                               onewindow::sdk::Services& s);
    std::shared_ptr<onewindow::sdk::Sink> createSink(const std::string& component,
                                                     onewindow::sdk::Services& s);
    std::shared_ptr<onewindow::sdk::Source> createSource(const std::string& component,
                                                         onewindow::sdk::Services& s);

    /// The fingerprint of the hub itself, for messages and `plugin inspect`.
    static const char* hostFingerprint();

private:
    PluginLibrary() = default;
    template <typename T, typename F>
    std::shared_ptr<T> create(const std::string& component, onewindow::sdk::ComponentKind kind,
                              F RegisteredComponent::*factory, onewindow::sdk::Services& s);

    struct Handle;
    std::unique_ptr<Handle> handle_;
    std::string path_, name_, version_, description_, sdkVersion_;
    std::vector<RegisteredComponent> components_;
};

/// A plugin refused at load.
class PluginLoadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The reference documentation of a plugin: its declaration and each component's config spec.
std::string describePlugin(const PluginLibrary& lib);

} // namespace ow::plugin
