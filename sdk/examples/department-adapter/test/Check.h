// A tiny test runner, so the example needs nothing but the SDK: CHECK records a failure and
// goes on; run() runs each named test, reports it and returns the exit code for main.
#pragma once

#include <cstdio>
#include <exception>
#include <functional>
#include <initializer_list>
#include <utility>

namespace check {

inline int failures = 0;

inline bool that(bool ok, const char* expr, const char* file, int line) {
    if (!ok) {
        ++failures;
        std::fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", file, line, expr);
    }
    return ok;
}

inline int run(std::initializer_list<std::pair<const char*, std::function<void()>>> tests) {
    int failed = 0;
    for (const auto& [name, test] : tests) {
        const int before = failures;
        try {
            test();
        } catch (const std::exception& e) {
            ++failures;
            std::fprintf(stderr, "  unexpected exception: %s\n", e.what());
        }
        const bool ok = failures == before;
        failed += ok ? 0 : 1;
        std::printf("%s %s\n", ok ? "ok    " : "FAILED", name);
    }
    std::printf("%d of %zu tests failed\n", failed, tests.size());
    return failed == 0 ? 0 : 1;
}

} // namespace check

#define CHECK(expr) ::check::that(static_cast<bool>(expr), #expr, __FILE__, __LINE__)
