// A component's configuration, declared once in code: the hub validates each instance's YAML
// against it (with the same file:line:column errors as the rest of the configuration), fills
// in defaults, and prints it as reference documentation (`onewindow plugin inspect FILE`).
//
//   ConfigSpec spec("Maps canonical case events to the business-registration system.");
//   spec.field(Field::string("base_url").required().describe("The department's REST endpoint"))
//       .field(Field::integer("timeout_ms").defaultsTo(5000).range(100, 60000)
//                  .describe("How long one call may take"))
//       .field(Field::oneOf("mode", {"rest", "batch"}).defaultsTo("rest"));
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace onewindow::sdk {

enum class FieldType {
    String,     ///< any scalar, as text
    Integer,    ///< 64-bit signed
    Number,     ///< double
    Boolean,    ///< true/false
    StringList, ///< a YAML sequence of scalars
    Enum,       ///< one of `choices`
    Secret,     ///< a string given as ${ENV} or a file reference in YAML; never logged
};

/// One configuration key of a component.
struct Field {
    std::string name;
    FieldType type = FieldType::String;
    bool isRequired = false;
    /// As it would be written in a YAML scalar; for a StringList, the items separated by
    /// commas ("a,b"; "" is the empty list).
    std::optional<std::string> defaultValue;
    std::optional<double> min; ///< Integer/Number: inclusive bounds
    std::optional<double> max;
    std::vector<std::string> choices; ///< Enum
    std::string description;

    static Field string(std::string n) { return make(std::move(n), FieldType::String); }
    static Field integer(std::string n) { return make(std::move(n), FieldType::Integer); }
    static Field number(std::string n) { return make(std::move(n), FieldType::Number); }
    static Field boolean(std::string n) { return make(std::move(n), FieldType::Boolean); }
    static Field stringList(std::string n) { return make(std::move(n), FieldType::StringList); }
    static Field secret(std::string n) { return make(std::move(n), FieldType::Secret); }
    static Field oneOf(std::string n, std::vector<std::string> options) {
        Field f = make(std::move(n), FieldType::Enum);
        f.choices = std::move(options);
        return f;
    }

    Field& required() {
        isRequired = true;
        return *this;
    }
    Field& defaultsTo(std::string v) {
        defaultValue = std::move(v);
        return *this;
    }
    Field& defaultsTo(const char* v) { return defaultsTo(std::string(v)); }
    Field& defaultsTo(std::int64_t v) { return defaultsTo(std::to_string(v)); }
    Field& defaultsTo(int v) { return defaultsTo(std::to_string(v)); }
    Field& defaultsTo(bool v) { return defaultsTo(std::string(v ? "true" : "false")); }
    Field& defaultsTo(const std::vector<std::string>& items) {
        std::string joined;
        for (const auto& i : items)
            joined += (joined.empty() ? "" : ",") + i;
        return defaultsTo(joined);
    }
    Field& range(double lo, double hi) {
        min = lo;
        max = hi;
        return *this;
    }
    Field& describe(std::string d) {
        description = std::move(d);
        return *this;
    }

private:
    static Field make(std::string n, FieldType t) {
        Field f;
        f.name = std::move(n);
        f.type = t;
        return f;
    }
};

/// All keys of a component. Keys not declared here are refused at load (with the nearest
/// declared name suggested), so a typo never silently falls back to a default.
struct ConfigSpec {
    std::string summary;
    std::vector<Field> fields;

    ConfigSpec() = default;
    explicit ConfigSpec(std::string s) : summary(std::move(s)) {}
    ConfigSpec& field(Field f) {
        fields.push_back(std::move(f));
        return *this;
    }
};

/// A validated instance configuration, as the plugin receives it: every declared field that
/// has a value or a default is present, with the declared type. A Secret field holds the
/// secret itself, resolved by the hub from the ${NAME} the operator wrote.
class Config {
public:
    using Value = std::variant<std::string, std::int64_t, double, bool, std::vector<std::string>>;

    void set(const std::string& key, Value v) { values_[key] = std::move(v); }
    [[nodiscard]] bool has(const std::string& key) const { return values_.count(key) != 0; }

    /// The value of `key` as T (std::string for String/Enum/Secret, std::int64_t, double,
    /// bool, std::vector<std::string>), or `fallback` when absent or of another type.
    template <typename T> [[nodiscard]] T get(const std::string& key, T fallback = T{}) const {
        auto it = values_.find(key);
        if (it == values_.end()) return fallback;
        if (const T* v = std::get_if<T>(&it->second)) return *v;
        return fallback;
    }
    [[nodiscard]] const std::map<std::string, Value>& values() const { return values_; }

private:
    std::map<std::string, Value> values_;
};

/// The items of a StringList default ("a,b" -> {"a","b"}; "" -> {}), surrounding spaces
/// trimmed. The hub and the test kit read defaults with this one function.
inline std::vector<std::string> splitListDefault(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size() && !text.empty()) {
        std::size_t comma = text.find(',', start);
        std::string item =
            text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        const auto first = item.find_first_not_of(' ');
        const auto last = item.find_last_not_of(' ');
        out.push_back(first == std::string::npos ? std::string()
                                                 : item.substr(first, last - first + 1));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

} // namespace onewindow::sdk
