// A JSON value and a strict RFC 8259 parser, standard library only: what the event catalog's
// validator reads schemas and events with, so the SDK's public headers need no JSON library.
// It is not a general JSON API for plugin code (read-only, no serialiser beyond what messages
// need).
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace onewindow::sdk::catalog {

struct JsonValue {
    enum class Kind { Null, Bool, Integer, Number, String, Array, Object };
    Kind kind = Kind::Null;
    bool boolean = false;
    std::int64_t integer = 0; ///< Kind::Integer: written without fraction or exponent
    double number = 0;        ///< Kind::Number, and Kind::Integer's value as a double
    std::string string;
    std::vector<JsonValue> array;
    std::vector<std::pair<std::string, JsonValue>> object; ///< in document order, keys unique

    [[nodiscard]] bool isNumber() const { return kind == Kind::Integer || kind == Kind::Number; }
    /// JSON Schema's "integer": any number with a zero fractional part (1 and 1.0).
    [[nodiscard]] bool isWholeNumber() const {
        return kind == Kind::Integer ||
               (kind == Kind::Number && std::isfinite(number) && number == std::floor(number));
    }
    [[nodiscard]] const JsonValue* find(const std::string& key) const {
        for (const auto& [k, v] : object)
            if (k == key) return &v;
        return nullptr;
    }

    static JsonValue makeString(std::string s) {
        JsonValue v;
        v.kind = Kind::String;
        v.string = std::move(s);
        return v;
    }
    static JsonValue makeObject() {
        JsonValue v;
        v.kind = Kind::Object;
        return v;
    }
    /// Sets `key` (replacing an earlier value of it).
    void set(const std::string& key, JsonValue value) {
        for (auto& [k, v] : object)
            if (k == key) {
                v = std::move(value);
                return;
            }
        object.emplace_back(key, std::move(value));
    }
};

/// What is wrong with a text that should be JSON, and where (byte offset).
class JsonError : public std::runtime_error {
public:
    JsonError(const std::string& what, std::size_t offset)
        : std::runtime_error(what + " at byte " + std::to_string(offset)), offset_(offset) {}
    [[nodiscard]] std::size_t offset() const { return offset_; }

private:
    std::size_t offset_;
};

namespace detail {

class JsonParser {
public:
    explicit JsonParser(const std::string& text) : t_(text) {}

    JsonValue document() {
        JsonValue v = value(0);
        space();
        if (p_ != t_.size()) fail("text after the JSON value");
        return v;
    }

private:
    static constexpr int MaxDepth = 128;

    [[noreturn]] void fail(const std::string& what) const { throw JsonError(what, p_); }

    void space() {
        while (p_ < t_.size() &&
               (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\n' || t_[p_] == '\r'))
            ++p_;
    }

    bool literal(const char* word) {
        const std::string w(word);
        if (t_.compare(p_, w.size(), w) != 0) return false;
        p_ += w.size();
        return true;
    }

    JsonValue value(int depth) {
        if (depth > MaxDepth) fail("JSON nested deeper than 128 levels");
        space();
        if (p_ >= t_.size()) fail("unexpected end of the JSON text");
        JsonValue v;
        const char c = t_[p_];
        if (c == '{') {
            v.kind = JsonValue::Kind::Object;
            ++p_;
            space();
            if (p_ < t_.size() && t_[p_] == '}') {
                ++p_;
                return v;
            }
            for (;;) {
                space();
                if (p_ >= t_.size() || t_[p_] != '"') fail("expected a string as object key");
                std::string key = string();
                space();
                if (p_ >= t_.size() || t_[p_] != ':') fail("expected ':' after an object key");
                ++p_;
                v.set(key, value(depth + 1));
                space();
                if (p_ < t_.size() && t_[p_] == ',') {
                    ++p_;
                    continue;
                }
                if (p_ < t_.size() && t_[p_] == '}') {
                    ++p_;
                    return v;
                }
                fail("expected ',' or '}' in an object");
            }
        }
        if (c == '[') {
            v.kind = JsonValue::Kind::Array;
            ++p_;
            space();
            if (p_ < t_.size() && t_[p_] == ']') {
                ++p_;
                return v;
            }
            for (;;) {
                v.array.push_back(value(depth + 1));
                space();
                if (p_ < t_.size() && t_[p_] == ',') {
                    ++p_;
                    continue;
                }
                if (p_ < t_.size() && t_[p_] == ']') {
                    ++p_;
                    return v;
                }
                fail("expected ',' or ']' in an array");
            }
        }
        if (c == '"') {
            v.kind = JsonValue::Kind::String;
            v.string = string();
            return v;
        }
        if (literal("true")) {
            v.kind = JsonValue::Kind::Bool;
            v.boolean = true;
            return v;
        }
        if (literal("false")) {
            v.kind = JsonValue::Kind::Bool;
            return v;
        }
        if (literal("null")) return v;
        if (c == '-' || (c >= '0' && c <= '9')) return numberValue();
        fail(std::string("unexpected character '") + c + "'");
    }

    JsonValue numberValue() {
        const std::size_t start = p_;
        auto digits = [&] {
            const std::size_t from = p_;
            while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9')
                ++p_;
            return p_ - from;
        };
        if (t_[p_] == '-') ++p_;
        if (p_ < t_.size() && t_[p_] == '0')
            ++p_;
        else if (digits() == 0)
            fail("a number needs digits");
        bool whole = true;
        if (p_ < t_.size() && t_[p_] == '.') {
            ++p_;
            whole = false;
            if (digits() == 0) fail("a number needs digits after '.'");
        }
        if (p_ < t_.size() && (t_[p_] == 'e' || t_[p_] == 'E')) {
            ++p_;
            whole = false;
            if (p_ < t_.size() && (t_[p_] == '+' || t_[p_] == '-')) ++p_;
            if (digits() == 0) fail("a number needs digits in its exponent");
        }
        const std::string text = t_.substr(start, p_ - start);
        JsonValue v;
        v.number = std::strtod(text.c_str(), nullptr);
        v.kind = JsonValue::Kind::Number;
        if (whole) {
            errno = 0;
            char* end = nullptr;
            const long long i = std::strtoll(text.c_str(), &end, 10);
            if (errno == 0) {
                v.kind = JsonValue::Kind::Integer;
                v.integer = i;
            }
        }
        return v;
    }

    unsigned hex4() {
        if (p_ + 4 > t_.size()) fail("a \\u escape needs four hex digits");
        unsigned u = 0;
        for (int i = 0; i < 4; ++i) {
            const char h = t_[p_++];
            u <<= 4;
            if (h >= '0' && h <= '9')
                u |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f')
                u |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
                u |= static_cast<unsigned>(h - 'A' + 10);
            else
                fail("a \\u escape needs four hex digits");
        }
        return u;
    }

    static void utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    std::string string() {
        ++p_; // the opening quote
        std::string out;
        for (;;) {
            if (p_ >= t_.size()) fail("unterminated string");
            const auto c = static_cast<unsigned char>(t_[p_]);
            if (c == '"') {
                ++p_;
                return out;
            }
            if (c < 0x20) fail("a control character in a string must be escaped");
            if (c != '\\') {
                out += static_cast<char>(c);
                ++p_;
                continue;
            }
            ++p_;
            if (p_ >= t_.size()) fail("unterminated escape");
            const char e = t_[p_++];
            switch (e) {
            case '"':
                out += '"';
                break;
            case '\\':
                out += '\\';
                break;
            case '/':
                out += '/';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'u': {
                unsigned cp = hex4();
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (t_.compare(p_, 2, "\\u") != 0) fail("a lone UTF-16 surrogate");
                    p_ += 2;
                    const unsigned low = hex4();
                    if (low < 0xDC00 || low > 0xDFFF) fail("a lone UTF-16 surrogate");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    fail("a lone UTF-16 surrogate");
                }
                utf8(out, cp);
                break;
            }
            default:
                fail(std::string("unknown escape '\\") + e + "'");
            }
        }
    }

    const std::string& t_;
    std::size_t p_ = 0;
};

} // namespace detail

/// Parses one JSON text (RFC 8259; duplicate keys: the last wins). Throws JsonError.
inline JsonValue parseJson(const std::string& text) {
    return detail::JsonParser(text).document();
}

/// `s` as a JSON string literal (for messages).
inline std::string quoteJson(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            static const char* hex = "0123456789abcdef";
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

/// A short rendering of `v` for messages: scalars as JSON, containers as their kind.
inline std::string describeJson(const JsonValue& v) {
    switch (v.kind) {
    case JsonValue::Kind::Null:
        return "null";
    case JsonValue::Kind::Bool:
        return v.boolean ? "true" : "false";
    case JsonValue::Kind::Integer:
        return std::to_string(v.integer);
    case JsonValue::Kind::Number: {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", v.number);
        return buf;
    }
    case JsonValue::Kind::String: {
        if (v.string.size() <= 80) return quoteJson(v.string);
        std::size_t n = 80; // cut at a character boundary, never inside a UTF-8 sequence
        while (n > 0 && (static_cast<unsigned char>(v.string[n]) & 0xC0) == 0x80)
            --n;
        return quoteJson(v.string.substr(0, n) + "...");
    }
    case JsonValue::Kind::Array:
        return "an array";
    case JsonValue::Kind::Object:
        return "an object";
    }
    return "?";
}

} // namespace onewindow::sdk::catalog
