#include "core/plugin/PluginLibrary.h"

#include <sstream>
#include <stdexcept>

#include <boost/dll/library_info.hpp>
#include <boost/dll/shared_library.hpp>

namespace ow::plugin {
namespace sdk = onewindow::sdk;

struct PluginLibrary::Handle {
    boost::dll::shared_library lib;
};

PluginLibrary::~PluginLibrary() = default;

const char* PluginLibrary::hostFingerprint() {
    return ONEWINDOW_SDK_BUILD_FINGERPRINT;
}

namespace {

// Collects what the plugin registers, refusing duplicates and empty names.
class Collector final : public sdk::Registry {
public:
    std::vector<RegisteredComponent> out;
    std::string error;
    void processor(sdk::ComponentInfo info, sdk::ProcessorFactory f) override {
        add(std::move(info), sdk::ComponentKind::Processor,
            [&](RegisteredComponent& c) { c.processor = std::move(f); });
    }
    void sink(sdk::ComponentInfo info, sdk::SinkFactory f) override {
        add(std::move(info), sdk::ComponentKind::Sink,
            [&](RegisteredComponent& c) { c.sink = std::move(f); });
    }
    void source(sdk::ComponentInfo info, sdk::SourceFactory f) override {
        add(std::move(info), sdk::ComponentKind::Source,
            [&](RegisteredComponent& c) { c.source = std::move(f); });
    }

private:
    template <typename Fill> void add(sdk::ComponentInfo info, sdk::ComponentKind kind, Fill fill) {
        if (!error.empty()) return;
        if (info.name.empty()) {
            error = "a component has no name";
            return;
        }
        for (const auto& c : out)
            if (c.info.name == info.name) {
                error = "component '" + info.name + "' is registered twice";
                return;
            }
        RegisteredComponent c;
        info.kind = kind;
        c.info = std::move(info);
        fill(c);
        out.push_back(std::move(c));
    }
};

std::string str(const char* s) {
    return s ? std::string(s) : std::string();
}

} // namespace

std::shared_ptr<PluginLibrary> PluginLibrary::load(const std::string& path,
                                                   const std::string& shownAs) {
    const std::string& who = shownAs.empty() ? path : shownAs;
    // Before dlopen: is it a shared library that declares a plugin at all?
    try {
        boost::dll::library_info info(path);
        bool found = false;
        for (const auto& s : info.symbols())
            found = found || s == ONEWINDOW_PLUGIN_SYMBOL;
        if (!found)
            throw PluginLoadError("plugin " + who +
                                  " does not export '" ONEWINDOW_PLUGIN_SYMBOL
                                  "': it was not built with ONEWINDOW_PLUGIN from the OneWindow "
                                  "SDK");
    } catch (const PluginLoadError&) {
        throw;
    } catch (const std::exception&) {
        // library_info's own message on a non-ELF file is "basic_ios::clear: iostream error".
        throw PluginLoadError("plugin " + who + " is not a shared library (ELF) for this system");
    }

    std::shared_ptr<PluginLibrary> self(new PluginLibrary());
    self->handle_ = std::make_unique<Handle>();
    self->path_ = who;
    try {
        self->handle_->lib.load(path, boost::dll::load_mode::rtld_now |
                                          boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        throw PluginLoadError("plugin " + who + " cannot be loaded: " + e.what());
    }
    const auto& decl =
        self->handle_->lib.get<const sdk::PluginDeclaration>(ONEWINDOW_PLUGIN_SYMBOL);
    if (decl.abiVersion != sdk::AbiVersion)
        throw PluginLoadError("plugin " + who + " was built for plugin ABI " +
                              std::to_string(decl.abiVersion) + " (SDK " + str(decl.sdkVersion) +
                              "); this hub speaks ABI " + std::to_string(sdk::AbiVersion) +
                              ": rebuild the plugin against OneWindow SDK " + sdk::SdkVersion);
    if (str(decl.buildFingerprint) != hostFingerprint())
        throw PluginLoadError("plugin " + who + " was built with toolchain '" +
                              str(decl.buildFingerprint) + "', the hub with '" + hostFingerprint() +
                              "': rebuild the plugin with the hub's compiler and standard library");
    self->name_ = str(decl.name);
    self->version_ = str(decl.version);
    self->description_ = str(decl.description);
    self->sdkVersion_ = str(decl.sdkVersion);
    if (self->name_.empty()) throw PluginLoadError("plugin " + path + " declares no name");
    if (!decl.registerComponents)
        throw PluginLoadError("plugin " + path + " declares no registration function");
    Collector collector;
    try {
        decl.registerComponents(collector);
    } catch (const std::exception& e) {
        throw PluginLoadError("plugin '" + self->name_ +
                              "' failed while registering its components: " + e.what());
    } catch (...) {
        throw PluginLoadError("plugin '" + self->name_ +
                              "' failed while registering its components (unknown exception)");
    }
    if (!collector.error.empty())
        throw PluginLoadError("plugin '" + self->name_ + "': " + collector.error);
    self->components_ = std::move(collector.out);
    return self;
}

const RegisteredComponent* PluginLibrary::find(const std::string& component) const {
    for (const auto& c : components_)
        if (c.info.name == component) return &c;
    return nullptr;
}

template <typename T, typename F>
std::shared_ptr<T> PluginLibrary::create(const std::string& component, sdk::ComponentKind kind,
                                         F RegisteredComponent::*factory, sdk::Services& s) {
    const auto* c = find(component);
    if (!c || c->info.kind != kind)
        throw std::runtime_error("plugin '" + name_ + "' has no component '" + component +
                                 "' of that kind");
    std::unique_ptr<T> obj;
    try {
        obj = (c->*factory)(s);
    } catch (const std::exception& e) {
        throw std::runtime_error("plugin '" + name_ + "' could not create '" + component +
                                 "': " + e.what());
    } catch (...) {
        throw std::runtime_error("plugin '" + name_ + "' could not create '" + component +
                                 "' (unknown exception)");
    }
    if (!obj)
        throw std::runtime_error("plugin '" + name_ + "' returned no object for '" + component +
                                 "'");
    // The deleter holds the library: the object's code is unmapped only after it is gone.
    auto keep = shared_from_this();
    return std::shared_ptr<T>(obj.release(), [keep](T* p) { delete p; });
}

std::shared_ptr<sdk::Processor> PluginLibrary::createProcessor(const std::string& component,
                                                               sdk::Services& s) {
    return create<sdk::Processor>(component, sdk::ComponentKind::Processor,
                                  &RegisteredComponent::processor, s);
}
std::shared_ptr<sdk::Sink> PluginLibrary::createSink(const std::string& component,
                                                     sdk::Services& s) {
    return create<sdk::Sink>(component, sdk::ComponentKind::Sink, &RegisteredComponent::sink, s);
}
std::shared_ptr<sdk::Source> PluginLibrary::createSource(const std::string& component,
                                                         sdk::Services& s) {
    return create<sdk::Source>(component, sdk::ComponentKind::Source, &RegisteredComponent::source,
                               s);
}

namespace {

const char* typeName(sdk::FieldType t) {
    switch (t) {
    case sdk::FieldType::String:
        return "string";
    case sdk::FieldType::Integer:
        return "integer";
    case sdk::FieldType::Number:
        return "number";
    case sdk::FieldType::Boolean:
        return "boolean";
    case sdk::FieldType::StringList:
        return "list of strings";
    case sdk::FieldType::Enum:
        return "one of";
    case sdk::FieldType::Secret:
        return "secret";
    }
    return "?";
}

const char* kindName(sdk::ComponentKind k) {
    switch (k) {
    case sdk::ComponentKind::Processor:
        return "processor";
    case sdk::ComponentKind::Sink:
        return "sink";
    case sdk::ComponentKind::Source:
        return "source";
    }
    return "?";
}

} // namespace

std::string describePlugin(const PluginLibrary& lib) {
    std::ostringstream o;
    o << "# " << lib.name() << " " << lib.version() << "\n\n"
      << lib.description() << "\n\n"
      << "- file: " << lib.path() << "\n- SDK " << lib.sdkVersion() << ", plugin ABI "
      << sdk::AbiVersion << ", toolchain " << PluginLibrary::hostFingerprint() << "\n";
    for (const auto& c : lib.components()) {
        o << "\n## " << kindName(c.info.kind) << " `" << lib.name() << "/" << c.info.name
          << "`\n\n";
        if (!c.info.spec.summary.empty()) o << c.info.spec.summary << "\n\n";
        if (c.info.spec.fields.empty()) {
            o << "No configuration.\n";
            continue;
        }
        o << "| key | type | required | default | description |\n|---|---|---|---|---|\n";
        for (const auto& f : c.info.spec.fields) {
            std::string type = typeName(f.type);
            if (f.type == sdk::FieldType::Enum) {
                type += " ";
                for (std::size_t i = 0; i < f.choices.size(); ++i)
                    type += (i ? ", `" : "`") + f.choices[i] + "`";
            }
            if (f.min || f.max) {
                std::ostringstream r;
                r << " [" << (f.min ? std::to_string(static_cast<long long>(*f.min)) : "") << " .. "
                  << (f.max ? std::to_string(static_cast<long long>(*f.max)) : "") << "]";
                type += r.str();
            }
            o << "| `" << f.name << "` | " << type << " | " << (f.isRequired ? "yes" : "no")
              << " | " << (f.defaultValue ? "`" + *f.defaultValue + "`" : "") << " | "
              << f.description << " |\n";
        }
    }
    return o.str();
}

} // namespace ow::plugin
