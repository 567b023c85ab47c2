// Claims a toolchain the hub was not built with.
#include <onewindow/sdk/Plugin.h>

namespace {
void registerNothing(onewindow::sdk::Registry&) {}
} // namespace

extern "C" __attribute__((visibility("default")))
const onewindow::sdk::PluginDeclaration onewindow_plugin = {onewindow::sdk::AbiVersion,
                                                            onewindow::sdk::SdkVersion,
                                                            "libc++/riscv64/ptr4",
                                                            "test-bad-fingerprint",
                                                            "1.0.0",
                                                            "wrong toolchain",
                                                            registerNothing};
