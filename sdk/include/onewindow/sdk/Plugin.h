// Declaring a plugin: one macro, one exported symbol.
//
//   #include <onewindow/sdk/Plugin.h>
//   namespace sdk = onewindow::sdk;
//
//   static void registerComponents(sdk::Registry& r) {
//       r.processor({sdk::ComponentKind::Processor, "counter", counterSpec()},
//                   [](sdk::Services& s) { return std::make_unique<Counter>(s); });
//   }
//   ONEWINDOW_PLUGIN("hall-counters", "1.2.0", "Counts events per case", registerComponents)
//
// The hub reads the declaration before it calls anything in the library: a plugin built for
// another ABI number or with another toolchain (fingerprint) is refused with a message that
// says what to rebuild, and registerComponents is never called.
#pragma once

#include <cstdint>

#include "onewindow/sdk/Components.h"
#include "onewindow/sdk/Version.h"

namespace onewindow::sdk {

/// Where a plugin registers its components; called once, right after the checks.
class ONEWINDOW_SDK_API Registry {
public:
    virtual ~Registry() = default;
    virtual void processor(ComponentInfo info, ProcessorFactory factory) = 0;
    virtual void sink(ComponentInfo info, SinkFactory factory) = 0;
    virtual void source(ComponentInfo info, SourceFactory factory) = 0;
};

/// The one exported symbol (`onewindow_plugin`). Plain data, so the hub can read it before
/// trusting anything else: the first three fields keep their place in every future ABI.
struct PluginDeclaration {
    std::uint32_t abiVersion;
    const char* sdkVersion;
    const char* buildFingerprint;
    const char* name;        ///< unique per hub; lower-case, digits and '-'
    const char* version;     ///< the plugin's own version
    const char* description; ///< one line, shown by `onewindow plugin inspect`
    void (*registerComponents)(Registry&);
};

} // namespace onewindow::sdk

/// The name of the exported declaration symbol.
#define ONEWINDOW_PLUGIN_SYMBOL "onewindow_plugin"

#define ONEWINDOW_PLUGIN(NAME, VERSION, DESCRIPTION, REGISTER)                                     \
    extern "C" __attribute__((visibility("default")))                                              \
    const ::onewindow::sdk::PluginDeclaration onewindow_plugin = {                                 \
        ::onewindow::sdk::AbiVersion,                                                              \
        ::onewindow::sdk::SdkVersion,                                                              \
        ONEWINDOW_SDK_BUILD_FINGERPRINT,                                                           \
        NAME,                                                                                      \
        VERSION,                                                                                   \
        DESCRIPTION,                                                                               \
        +[](::onewindow::sdk::Registry& registry) { REGISTER(registry); }};
