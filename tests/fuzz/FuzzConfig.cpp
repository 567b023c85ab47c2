// libFuzzer target: the YAML configuration loader reports problems for any input and never
// throws, crashes or walks forever (aliases, cycles and depth are bounded).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/config/ConfigLoader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    auto env = [](const std::string& name) -> std::optional<std::string> {
        if (name == "SET") return std::string("value");
        return std::nullopt;
    };
    auto r = ow::config::loadConfigText(text, "fuzz.yaml", "/nonexistent-fuzz-dir", env);
    for (const auto& p : r.problems)
        (void)ow::config::formatProblem(p);
    return 0;
}
