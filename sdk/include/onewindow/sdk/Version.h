// What a plugin and the hub must agree on before the hub calls anything in the plugin.
//
// The SDK's public headers use only the standard library: a department developer needs this
// SDK, a C++20 compiler and CMake, nothing else.
#pragma once

#include <cstdint>

// The toolchain facts that decide whether C++ objects (std::string, std::function, vtables,
// exceptions) can cross between hub and plugin: the standard library and its string ABI, the
// architecture and the pointer size. Expanded in the plugin's own translation unit by
// ONEWINDOW_PLUGIN, so the plugin reports how *it* was built.
#if defined(_LIBCPP_VERSION)
#define ONEWINDOW_SDK_STDLIB "libc++"
#elif defined(__GLIBCXX__) && defined(_GLIBCXX_USE_CXX11_ABI) && _GLIBCXX_USE_CXX11_ABI
#define ONEWINDOW_SDK_STDLIB "libstdc++-cxx11abi"
#elif defined(__GLIBCXX__)
#define ONEWINDOW_SDK_STDLIB "libstdc++-oldabi"
#else
#define ONEWINDOW_SDK_STDLIB "unknown-stdlib"
#endif
#if defined(__x86_64__)
#define ONEWINDOW_SDK_ARCH "x86_64"
#elif defined(__aarch64__)
#define ONEWINDOW_SDK_ARCH "aarch64"
#else
#define ONEWINDOW_SDK_ARCH "other-arch"
#endif
#define ONEWINDOW_SDK_STR2(x) #x
#define ONEWINDOW_SDK_STR(x) ONEWINDOW_SDK_STR2(x)
#define ONEWINDOW_SDK_BUILD_FINGERPRINT                                                            \
    ONEWINDOW_SDK_STDLIB "/" ONEWINDOW_SDK_ARCH "/ptr" ONEWINDOW_SDK_STR(__SIZEOF_POINTER__)

// SDK interfaces keep default visibility in plugins built with -fvisibility=hidden, so their
// type information is one and the same in hub and plugin.
#define ONEWINDOW_SDK_API __attribute__((visibility("default")))

namespace onewindow::sdk {

/// The binary interface between hub and plugin: the declaration structure and the virtual
/// tables of the component interfaces. Raised whenever either changes; the hub refuses a
/// plugin built for another number and says to rebuild it against this hub's SDK.
inline constexpr std::uint32_t AbiVersion = 2;

/// The SDK release these headers come from (reported; the ABI number decides).
inline constexpr const char* SdkVersion = "0.1.1";

} // namespace onewindow::sdk
