// Reads one YAML data file and collects every problem at its file:line:column, so a loader
// reports all of a file's mistakes at once instead of the first one.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "plugins/cases/data/DataProblem.h"

namespace ow::cases {

/// The `*.yaml` files of `dir`, in name order. Throws DataError naming `what` when the
/// folder cannot be read.
std::vector<std::string> yamlFilesIn(const std::string& dir, const char* what);

class YamlReader {
public:
    YamlReader(std::string file, std::vector<DataProblem>& problems)
        : file_(std::move(file)), problems_(problems) {}

    /// The parsed file, or nullopt (with a problem) when it is not valid YAML.
    std::optional<YAML::Node> load();
    [[nodiscard]] const std::string& file() const { return file_; }
    /// Problems collected so far (by every reader sharing the list).
    [[nodiscard]] std::size_t problemCount() const { return problems_.size(); }

    void problem(const YAML::Node& at, const std::string& message);
    void fileProblem(const std::string& message);
    /// A problem for each key of `map` not in `keys`; `where` ends the message ("in item X").
    void onlyKeys(const YAML::Node& map, std::initializer_list<const char*> keys,
                  const std::string& where);

    /// A scalar member; a problem when it is missing (if required) or not a scalar.
    std::optional<std::string> text(const YAML::Node& map, const char* key,
                                    const std::string& where, bool required);
    /// A whole number in [min, max].
    std::optional<std::int64_t> integer(const YAML::Node& map, const char* key,
                                        const std::string& where, bool required, std::int64_t min,
                                        std::int64_t max);
    std::optional<bool> boolean(const YAML::Node& map, const char* key, const std::string& where,
                                bool required);
    /// One of `choices` (the spelling in the file, the value).
    template <typename E>
    std::optional<E> choice(const YAML::Node& map, const char* key, const std::string& where,
                            bool required,
                            std::initializer_list<std::pair<const char*, E>> choices) {
        auto t = text(map, key, where, required);
        if (!t) return std::nullopt;
        std::string list;
        for (const auto& [name, value] : choices) {
            if (*t == name) return value;
            list += (list.empty() ? "" : ", ") + std::string(name);
        }
        problem(map[key], "'" + std::string(key) + "' " + where + " must be one of " + list +
                              " (not '" + *t + "')");
        return std::nullopt;
    }

private:
    std::string file_;
    std::vector<DataProblem>& problems_;
};

} // namespace ow::cases
