#include "core/event/JsonScan.h"

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace ow::event {
namespace {

class Scanner {
public:
    explicit Scanner(std::string_view t) : t_(t) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw std::runtime_error("malformed JSON at offset " + std::to_string(i_) + ": " + what);
    }
    void ws() {
        while (i_ < t_.size() &&
               (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r'))
            ++i_;
    }
    char peek() {
        if (i_ >= t_.size()) fail("unexpected end");
        return t_[i_];
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++i_;
    }
    [[nodiscard]] bool atEnd() const { return i_ >= t_.size(); }
    [[nodiscard]] std::size_t pos() const { return i_; }
    [[nodiscard]] std::string_view slice(std::size_t from) const {
        return t_.substr(from, i_ - from);
    }

    /// A string at the cursor; appends its unescaped text to `out` when given.
    void string(std::string* out) {
        expect('"');
        while (true) {
            char c = peek();
            ++i_;
            if (c == '"') return;
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
            if (c != '\\') {
                if (out) out->push_back(c);
                continue;
            }
            char e = peek();
            ++i_;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                if (out) out->push_back(e);
                break;
            case 'b':
                if (out) out->push_back('\b');
                break;
            case 'f':
                if (out) out->push_back('\f');
                break;
            case 'n':
                if (out) out->push_back('\n');
                break;
            case 'r':
                if (out) out->push_back('\r');
                break;
            case 't':
                if (out) out->push_back('\t');
                break;
            case 'u': {
                std::uint32_t cp = hex4();
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    // A high surrogate needs its low half: \uD83D\uDE00 is one code point.
                    if (i_ + 1 >= t_.size() || t_[i_] != '\\' || t_[i_ + 1] != 'u')
                        fail("unpaired surrogate");
                    i_ += 2;
                    std::uint32_t lo = hex4();
                    if (lo < 0xDC00 || lo > 0xDFFF) fail("unpaired surrogate");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    fail("unpaired surrogate");
                }
                if (out) utf8(cp, *out);
                break;
            }
            default:
                fail("bad escape");
            }
        }
    }

    /// Any value at the cursor, skipped.
    void value() {
        std::vector<char> open; // brackets still to close
        do {
            ws();
            char c = peek();
            if (c == '{' || c == '[') {
                ++i_;
                open.push_back(c);
                ws();
                if (peek() == (c == '{' ? '}' : ']')) {
                    ++i_;
                    open.pop_back();
                } else if (c == '{') {
                    member();
                    continue;
                } else {
                    continue;
                }
            } else if (c == '"') {
                string(nullptr);
            } else {
                scalar();
            }
            // After a value: a comma for the next one, or the closing brackets.
            while (!open.empty()) {
                ws();
                char n = peek();
                if (n == ',') {
                    ++i_;
                    if (open.back() == '{') {
                        ws();
                        member();
                    }
                    break;
                }
                if (n != (open.back() == '{' ? '}' : ']'))
                    fail("expected ',' or a closing bracket");
                ++i_;
                open.pop_back();
            }
        } while (!open.empty());
    }

private:
    // Inside an object being skipped: `"key":`, the value follows.
    void member() {
        string(nullptr);
        ws();
        expect(':');
    }
    void scalar() {
        const std::size_t from = i_;
        while (i_ < t_.size()) {
            char c = t_[i_];
            if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' ||
                c == 'E' || (c >= 'a' && c <= 'z'))
                ++i_;
            else
                break;
        }
        auto word = t_.substr(from, i_ - from);
        if (word.empty()) fail("expected a value");
        if (word == "true" || word == "false" || word == "null") return;
        const char first = word.front();
        if (!(first == '-' || (first >= '0' && first <= '9'))) fail("expected a value");
        bool digit = false;
        for (char c : word) {
            if (c >= 'a' && c <= 'z' && c != 'e') fail("expected a number");
            digit = digit || (c >= '0' && c <= '9');
        }
        if (!digit) fail("expected a number");
    }
    std::uint32_t hex4() {
        if (i_ + 4 > t_.size()) fail("short \\u escape");
        std::uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            char c = t_[i_++];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= static_cast<std::uint32_t>(c - 'A' + 10);
            else
                fail("bad \\u escape");
        }
        return v;
    }
    static void utf8(std::uint32_t cp, std::string& out) {
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    }

    std::string_view t_;
    std::size_t i_ = 0;
};

} // namespace

void forEachMember(std::string_view text, const std::function<void(const JsonMember&)>& fn) {
    Scanner s(text);
    s.ws();
    s.expect('{');
    s.ws();
    if (s.peek() == '}') {
        s.expect('}');
    } else {
        JsonMember m;
        while (true) {
            s.ws();
            m.key.clear();
            m.text.clear();
            s.string(&m.key);
            s.ws();
            s.expect(':');
            s.ws();
            const std::size_t from = s.pos();
            m.isString = s.peek() == '"';
            if (m.isString)
                s.string(&m.text);
            else
                s.value();
            m.raw = s.slice(from);
            fn(m);
            s.ws();
            if (s.peek() == ',') {
                s.expect(',');
                continue;
            }
            s.expect('}');
            break;
        }
    }
    s.ws();
    if (!s.atEnd()) s.fail("text after the object");
}

} // namespace ow::event
