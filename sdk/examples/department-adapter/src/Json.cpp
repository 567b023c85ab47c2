#include "Json.h"

#include <cctype>
#include <cstdlib>

namespace dept_market::json {

namespace {

// A recursive-descent reader over the text; every method returns false on malformed input.
class Reader {
public:
    explicit Reader(std::string_view s) : s_(s) {}

    bool object(std::map<std::string, std::string>* out) {
        ws();
        if (!eat('{')) return false;
        ws();
        if (eat('}')) return true;
        while (true) {
            std::string key;
            ws();
            if (!string(key)) return false;
            ws();
            if (!eat(':')) return false;
            ws();
            if (peek() == '{' || peek() == '[') {
                if (!skipNested()) return false;
            } else {
                std::string value;
                if (!scalar(value)) return false;
                if (out) (*out)[key] = std::move(value);
            }
            ws();
            if (eat('}')) return true;
            if (!eat(',')) return false;
        }
    }
    bool atEnd() {
        ws();
        return i_ == s_.size();
    }

private:
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    bool eat(char c) {
        if (peek() != c) return false;
        ++i_;
        return true;
    }
    void ws() {
        while (i_ < s_.size() &&
               (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
            ++i_;
    }

    bool skipNested() {
        if (++depth_ > 64) return false; // hostile nesting must not exhaust the stack
        bool ok = false;
        if (peek() == '{') {
            ok = object(nullptr);
        } else {
            ++i_; // '['
            ws();
            ok = eat(']');
            while (!ok) {
                ws();
                if (peek() == '{' || peek() == '[') {
                    if (!skipNested()) break;
                } else {
                    std::string ignored;
                    if (!scalar(ignored)) break;
                }
                ws();
                if (eat(']'))
                    ok = true;
                else if (!eat(','))
                    break;
            }
        }
        --depth_;
        return ok;
    }

    bool scalar(std::string& out) {
        if (peek() == '"') return string(out);
        for (std::string_view lit : {"true", "false", "null"})
            if (s_.substr(i_, lit.size()) == lit) {
                i_ += lit.size();
                out = lit == "null" ? "" : std::string(lit);
                return true;
            }
        // A number: -?digits[.digits][e[+-]digits], kept as written.
        const std::size_t start = i_;
        eat('-');
        if (!digits()) return false;
        if (eat('.') && !digits()) return false;
        if (peek() == 'e' || peek() == 'E') {
            ++i_;
            if (!eat('+')) eat('-');
            if (!digits()) return false;
        }
        out = std::string(s_.substr(start, i_ - start));
        return true;
    }
    bool digits() {
        const std::size_t start = i_;
        while (std::isdigit(static_cast<unsigned char>(peek())))
            ++i_;
        return i_ > start;
    }

    bool string(std::string& out) {
        if (!eat('"')) return false;
        while (i_ < s_.size()) {
            const char c = s_[i_++];
            if (c == '"') return true;
            if (static_cast<unsigned char>(c) < 0x20) return false;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i_ >= s_.size()) return false;
            switch (s_[i_++]) {
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
                std::uint32_t cp = 0;
                if (!hex4(cp)) return false;
                if (cp >= 0xD800 && cp <= 0xDBFF) { // a UTF-16 surrogate pair
                    std::uint32_t low = 0;
                    if (!eat('\\') || !eat('u') || !hex4(low) || low < 0xDC00 || low > 0xDFFF)
                        return false;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return false;
                }
                utf8(cp, out);
                break;
            }
            default:
                return false;
            }
        }
        return false;
    }
    bool hex4(std::uint32_t& v) {
        if (i_ + 4 > s_.size()) return false;
        for (int k = 0; k < 4; ++k) {
            const char c = s_[i_++];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= static_cast<std::uint32_t>(c - 'A' + 10);
            else
                return false;
        }
        return true;
    }
    static void utf8(std::uint32_t cp, std::string& out) {
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

    std::string_view s_;
    std::size_t i_ = 0;
    int depth_ = 0;
};

} // namespace

std::optional<std::map<std::string, std::string>> topLevelScalars(std::string_view text) {
    std::map<std::string, std::string> out;
    Reader r(text);
    if (!r.object(&out) || !r.atEnd()) return std::nullopt;
    return out;
}

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                static const char* hex = "0123456789abcdef";
                out += "\\u00";
                out += hex[(c >> 4) & 0xF];
                out += hex[c & 0xF];
            } else {
                out += c; // UTF-8 passes through: JSON text is UTF-8
            }
        }
    }
    return out + "\"";
}

} // namespace dept_market::json
