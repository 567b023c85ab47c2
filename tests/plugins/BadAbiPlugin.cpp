// Declares ABI 999, as a plugin built against a future (or ancient) SDK would.
#include <onewindow/sdk/Plugin.h>

namespace {
void registerNothing(onewindow::sdk::Registry&) {}
} // namespace

extern "C" __attribute__((visibility("default")))
const onewindow::sdk::PluginDeclaration onewindow_plugin = {
    999,         "9.9.9",        ONEWINDOW_SDK_BUILD_FINGERPRINT, "test-bad-abi", "1.0.0",
    "wrong ABI", registerNothing};
