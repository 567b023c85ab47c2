#include "adapters/public-security/gongan/FlatXml.h"

#include <cstdint>

namespace ow::adapters::gongan {

namespace {

bool isXmlChar(std::uint32_t c) {
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/// Decodes the code point at `s[i]` and moves `i` past it; false for invalid UTF-8 (overlong
/// forms, surrogates, past U+10FFFF, truncated sequences).
bool decodeUtf8(std::string_view s, std::size_t& i, std::uint32_t& cp) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    std::size_t n = 0;
    std::uint32_t min = 0;
    if (c < 0x80) {
        cp = c;
        ++i;
        return true;
    }
    if ((c & 0xE0) == 0xC0) {
        n = 1;
        cp = c & 0x1F;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 2;
        cp = c & 0x0F;
        min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 3;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return false;
    }
    if (i + n >= s.size()) return false; // truncated
    for (std::size_t k = 1; k <= n; ++k) {
        if ((b(i + k) & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (b(i + k) & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
    return true;
}

void appendUtf8(std::string& out, std::uint32_t cp) {
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

bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool blank(std::string_view s) {
    for (char c : s)
        if (!isSpace(c)) return false;
    return true;
}

std::string lower(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

class Parser {
public:
    Parser(std::string_view d, const XmlLimits& l) : d_(d), limits_(l) {}

    XmlElement document() {
        if (d_.size() > limits_.maxBytes)
            throw XmlError("the XML is " + std::to_string(d_.size()) +
                           " bytes, over the limit of " + std::to_string(limits_.maxBytes));
        checkCharacters();
        if (starts("\xEF\xBB\xBF")) pos_ += 3;
        if (starts("<?xml") && pos_ + 5 < d_.size() && isSpace(d_[pos_ + 5])) declaration();
        misc();
        if (pos_ >= d_.size()) fail("no root element");
        if (d_[pos_] != '<') fail("text outside the root element");
        XmlElement root;
        element(root, 1);
        misc();
        if (pos_ < d_.size()) fail("content after the root element </" + root.name + ">");
        return root;
    }

private:
    [[noreturn]] void fail(const std::string& why) const {
        int line = 1, column = 1;
        for (std::size_t i = 0; i < pos_ && i < d_.size(); ++i) {
            if (d_[i] == '\n') {
                ++line;
                column = 1;
            } else if ((static_cast<unsigned char>(d_[i]) & 0xC0) != 0x80) {
                ++column; // characters, not bytes
            }
        }
        throw XmlError("line " + std::to_string(line) + ", column " + std::to_string(column) +
                       ": " + why);
    }

    bool starts(std::string_view s) const { return d_.substr(pos_, s.size()) == s; }

    void expect(char c) {
        if (pos_ >= d_.size() || d_[pos_] != c)
            fail(std::string("expected '") + c + "'" +
                 (pos_ >= d_.size() ? " before the end" : ""));
        ++pos_;
    }

    void skipSpace() {
        while (pos_ < d_.size() && isSpace(d_[pos_]))
            ++pos_;
    }

    // Checked once up front, so every later step works on valid characters only.
    void checkCharacters() {
        std::size_t i = 0;
        while (i < d_.size()) {
            pos_ = i;
            std::uint32_t cp = 0;
            if (!decodeUtf8(d_, i, cp)) fail("invalid UTF-8");
            if (!isXmlChar(cp)) fail("a character XML does not allow (U+" + hex(cp) + ")");
        }
        pos_ = 0;
    }

    static std::string hex(std::uint32_t cp) {
        static const char digits[] = "0123456789ABCDEF";
        std::string s;
        for (int shift = cp > 0xFFFF ? 20 : 12; shift >= 0; shift -= 4)
            s += digits[(cp >> shift) & 0xF];
        return s;
    }

    void declaration() {
        pos_ += 5;
        std::string encoding;
        attributes(&encoding);
        if (!starts("?>")) fail("the XML declaration is not closed with '?>'");
        pos_ += 2;
        if (!encoding.empty() && lower(encoding) != "utf-8")
            fail("encoding '" + encoding + "' is not accepted: the interface is UTF-8");
    }

    // Whitespace and comments around the root; DTDs and processing instructions are refused.
    void misc() {
        for (;;) {
            skipSpace();
            if (starts("<!--")) {
                comment();
            } else if (starts("<!")) {
                fail(starts("<!DOCTYPE") ? "a DTD (<!DOCTYPE) is not accepted"
                                         : "a markup declaration (<!...) is not accepted");
            } else if (starts("<?")) {
                fail("a processing instruction (<?...?>) is not accepted");
            } else {
                return;
            }
        }
    }

    void comment() {
        const auto end = d_.find("-->", pos_ + 4);
        if (end == std::string_view::npos) fail("a comment is not closed");
        pos_ = end + 3;
    }

    std::string name() {
        const std::size_t start = pos_;
        auto nameStart = [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':';
        };
        if (pos_ >= d_.size() || !nameStart(d_[pos_]))
            fail(pos_ < d_.size() && static_cast<unsigned char>(d_[pos_]) >= 0x80
                     ? "names are ASCII letters, digits, '_', ':', '.', '-' here"
                     : "a name was expected");
        while (pos_ < d_.size() && (nameStart(d_[pos_]) || (d_[pos_] >= '0' && d_[pos_] <= '9') ||
                                    d_[pos_] == '.' || d_[pos_] == '-'))
            ++pos_;
        if (pos_ - start > 128) fail("a name longer than 128 characters");
        return std::string(d_.substr(start, pos_ - start));
    }

    // Reads attributes up to '>', '/>' or '?>' (not consumed). `encoding`, when given, gets
    // the value of an `encoding` attribute (the declaration's).
    void attributes(std::string* encoding = nullptr) {
        std::vector<std::string> seen;
        for (;;) {
            const std::size_t before = pos_;
            skipSpace();
            if (pos_ >= d_.size()) fail("a tag is not closed");
            if (d_[pos_] == '>' || starts("/>") || starts("?>")) return;
            if (pos_ == before) fail("attributes must be separated by whitespace");
            const std::string key = name();
            for (const auto& s : seen)
                if (s == key) fail("attribute '" + key + "' appears twice");
            seen.push_back(key);
            skipSpace();
            expect('=');
            skipSpace();
            if (pos_ >= d_.size() || (d_[pos_] != '"' && d_[pos_] != '\'')) {
                fail("an attribute value must be quoted");
            }
            const char quote = d_[pos_++];
            std::string value;
            while (pos_ < d_.size() && d_[pos_] != quote) {
                if (d_[pos_] == '<') fail("'<' in an attribute value");
                if (d_[pos_] == '&')
                    value += reference();
                else
                    value += d_[pos_++];
            }
            expect(quote);
            if (encoding && key == "encoding") *encoding = value;
        }
    }

    std::string reference() {
        const std::size_t at = pos_;
        const auto semi = d_.find(';', pos_);
        if (semi == std::string_view::npos || semi - pos_ > 12)
            fail("'&' that starts no reference");
        const std::string_view ref = d_.substr(pos_ + 1, semi - pos_ - 1);
        pos_ = semi + 1;
        if (ref == "amp") return "&";
        if (ref == "lt") return "<";
        if (ref == "gt") return ">";
        if (ref == "quot") return "\"";
        if (ref == "apos") return "'";
        if (ref.size() >= 2 && ref[0] == '#') {
            const bool hexForm = ref[1] == 'x';
            const std::string_view digits = ref.substr(hexForm ? 2 : 1);
            std::uint32_t cp = 0;
            bool ok = !digits.empty();
            for (char c : digits) {
                int v = c >= '0' && c <= '9'              ? c - '0'
                        : hexForm && c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : hexForm && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                          : -1;
                if (v < 0 || cp > 0x10FFFF) {
                    ok = false;
                    break;
                }
                cp = cp * (hexForm ? 16 : 10) + static_cast<std::uint32_t>(v);
            }
            if (ok && isXmlChar(cp)) {
                std::string out;
                appendUtf8(out, cp);
                return out;
            }
            pos_ = at;
            fail("'&" + std::string(ref) + ";' is not a character XML allows");
        }
        pos_ = at;
        fail("entity '&" + std::string(ref) +
             ";' is not defined (only &amp; &lt; &gt; &quot; &apos; and character references)");
    }

    void element(XmlElement& e, int depth) {
        if (depth > limits_.maxDepth)
            fail("elements nested deeper than " + std::to_string(limits_.maxDepth));
        if (++elements_ > limits_.maxElements)
            fail("more than " + std::to_string(limits_.maxElements) + " elements");
        const std::size_t open = pos_;
        ++pos_; // '<'
        e.name = name();
        attributes();
        if (starts("/>")) {
            pos_ += 2;
            return;
        }
        expect('>');
        std::string text;
        for (;;) {
            if (pos_ >= d_.size()) {
                pos_ = open;
                fail("<" + e.name + "> is not closed");
            }
            if (starts("</")) {
                pos_ += 2;
                const std::size_t closeAt = pos_;
                const std::string closing = name();
                if (closing != e.name) {
                    pos_ = closeAt;
                    fail("</" + closing + "> where </" + e.name + "> was expected");
                }
                skipSpace();
                expect('>');
                break;
            }
            if (starts("<!--")) {
                comment();
            } else if (starts("<![CDATA[")) {
                const auto end = d_.find("]]>", pos_ + 9);
                if (end == std::string_view::npos) fail("a CDATA section is not closed");
                text.append(d_.substr(pos_ + 9, end - pos_ - 9));
                pos_ = end + 3;
            } else if (starts("<!")) {
                fail(starts("<!DOCTYPE") || starts("<!ENTITY")
                         ? "a DTD or entity declaration is not accepted"
                         : "a markup declaration (<!...) is not accepted");
            } else if (starts("<?")) {
                fail("a processing instruction (<?...?>) is not accepted");
            } else if (d_[pos_] == '<') {
                e.children.emplace_back();
                element(e.children.back(), depth + 1);
            } else if (d_[pos_] == '&') {
                text += reference();
            } else {
                if (starts("]]>")) fail("']]>' in text");
                text += d_[pos_++];
            }
        }
        if (e.children.empty()) {
            e.text = std::move(text);
        } else if (!blank(text)) {
            pos_ = open;
            fail("<" + e.name + "> mixes text and elements");
        }
    }

    std::string_view d_;
    XmlLimits limits_;
    std::size_t pos_ = 0, elements_ = 0;
};

} // namespace

const XmlElement* XmlElement::child(std::string_view childName) const {
    for (const auto& c : children)
        if (c.name == childName) return &c;
    return nullptr;
}

std::string XmlElement::childText(std::string_view childName) const {
    const XmlElement* c = child(childName);
    return c ? c->text : std::string();
}

XmlElement parseXml(std::string_view document, const XmlLimits& limits) {
    return Parser(document, limits).document();
}

std::string xmlEscape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t at = i;
        std::uint32_t cp = 0;
        if (!decodeUtf8(text, i, cp))
            throw XmlError("invalid UTF-8 at byte " + std::to_string(at) + " of '" +
                           std::string(text.substr(0, 40)) + "'");
        if (!isXmlChar(cp))
            throw XmlError("a control character (code " + std::to_string(cp) +
                           ") XML cannot carry, at byte " + std::to_string(at));
        switch (cp) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&apos;";
            break;
        case '\r': // a parser would turn a bare CR into LF
            out += "&#13;";
            break;
        default:
            out.append(text.substr(at, i - at));
        }
    }
    return out;
}

void appendElement(std::string& out, std::string_view name, std::string_view text) {
    out += '<';
    out += name;
    if (text.empty()) {
        out += "/>";
        return;
    }
    out += '>';
    out += xmlEscape(text);
    out += "</";
    out += name;
    out += '>';
}

} // namespace ow::adapters::gongan
