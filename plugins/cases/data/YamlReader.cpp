#include "plugins/cases/data/YamlReader.h"

#include <algorithm>
#include <filesystem>

namespace ow::cases {

std::vector<std::string> yamlFilesIn(const std::string& dir, const char* what) {
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
        if (entry.is_regular_file() && entry.path().extension() == ".yaml")
            files.push_back(entry.path().string());
    if (ec)
        throw DataError(
            {{dir, 0, 0, std::string("cannot read the ") + what + ": " + ec.message()}});
    std::sort(files.begin(), files.end());
    return files;
}

std::optional<YAML::Node> YamlReader::load() {
    try {
        return YAML::LoadFile(file_);
    } catch (const YAML::BadFile&) {
        fileProblem("cannot be read");
    } catch (const YAML::Exception& e) {
        problems_.push_back({file_, e.mark.line + 1, e.mark.column + 1, e.msg});
    }
    return std::nullopt;
}

void YamlReader::problem(const YAML::Node& at, const std::string& message) {
    const auto mark = at.Mark();
    if (mark.line < 0)
        problems_.push_back({file_, 0, 0, message});
    else
        problems_.push_back({file_, mark.line + 1, mark.column + 1, message});
}

void YamlReader::fileProblem(const std::string& message) {
    problems_.push_back({file_, 0, 0, message});
}

void YamlReader::onlyKeys(const YAML::Node& map, std::initializer_list<const char*> keys,
                          const std::string& where) {
    if (!map.IsMap()) return;
    for (const auto& kv : map) {
        const auto key = kv.first.Scalar();
        if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return key == k; }))
            problem(kv.first, "unknown key '" + key + "' " + where);
    }
}

std::optional<std::string> YamlReader::text(const YAML::Node& map, const char* key,
                                            const std::string& where, bool required) {
    const YAML::Node v = map[key];
    if (!v || v.IsNull()) {
        if (required) problem(map, "missing '" + std::string(key) + "' " + where);
        return std::nullopt;
    }
    if (!v.IsScalar()) {
        problem(v, "'" + std::string(key) + "' " + where + " must be a single value");
        return std::nullopt;
    }
    return v.Scalar();
}

std::optional<std::int64_t> YamlReader::integer(const YAML::Node& map, const char* key,
                                                const std::string& where, bool required,
                                                std::int64_t min, std::int64_t max) {
    auto t = text(map, key, where, required);
    if (!t) return std::nullopt;
    std::int64_t value = 0;
    try {
        std::size_t used = 0;
        value = std::stoll(*t, &used);
        if (used != t->size()) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
        problem(map[key], "'" + std::string(key) + "' " + where + " must be a whole number (not '" +
                              *t + "')");
        return std::nullopt;
    }
    if (value < min || value > max) {
        problem(map[key], "'" + std::string(key) + "' " + where + " must be between " +
                              std::to_string(min) + " and " + std::to_string(max) + " (not " + *t +
                              ")");
        return std::nullopt;
    }
    return value;
}

std::optional<bool> YamlReader::boolean(const YAML::Node& map, const char* key,
                                        const std::string& where, bool required) {
    auto t = text(map, key, where, required);
    if (!t) return std::nullopt;
    if (*t == "true") return true;
    if (*t == "false") return false;
    problem(map[key],
            "'" + std::string(key) + "' " + where + " must be true or false (not '" + *t + "')");
    return std::nullopt;
}

} // namespace ow::cases
