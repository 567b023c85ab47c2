#include "core/event/CloudEventCodec.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>

#include "core/event/Encoding.h"

namespace ow::event {

namespace {

using json = nlohmann::json;
using Kind = EventError::Kind;

constexpr std::size_t kMaxExtensionNameLength = 20;
// Echoed values are cut so that a hostile 1 MB id cannot bloat logs and problem responses.
constexpr std::size_t kMaxEchoBytes = 64;
constexpr std::size_t kMaxDetailBytes = 200;

constexpr std::array<std::string_view, 4> kRequired = {"specversion", "id", "source", "type"};
constexpr std::array<std::string_view, 4> kOptional = {"datacontenttype", "dataschema", "subject",
                                                       "time"};

bool isKnownAttribute(std::string_view name) {
    for (auto n : kRequired)
        if (n == name) return true;
    for (auto n : kOptional)
        if (n == name) return true;
    return false;
}

// Client input echoed in an error message. Messages end up in JSON problem bodies and logs,
// so they must stay valid UTF-8 and short whatever the input was.
std::string escapeInput(std::string_view s, std::size_t limit, bool inQuotes) {
    const bool utf8 = isValidUtf8(s);
    bool cut = false;
    if (s.size() > limit) {
        std::size_t n = limit;
        while (utf8 && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
            --n;
        s = s.substr(0, n);
        cut = true;
    }
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : s) {
        const auto b = static_cast<unsigned char>(c);
        if (inQuotes && (c == '"' || c == '\\')) {
            out += '\\';
            out += c;
        } else if (b < 0x20 || b == 0x7F || (b >= 0x80 && !utf8)) {
            out += "\\x";
            out += kHex[b >> 4];
            out += kHex[b & 0x0F];
        } else {
            out += c;
        }
    }
    if (cut) out += "...";
    return out;
}

std::string quoteInput(std::string_view s) {
    return '"' + escapeInput(s, kMaxEchoBytes, true) + '"';
}

std::string describe(const json& v) {
    if (v.is_string()) return "string " + quoteInput(v.get_ref<const std::string&>());
    if (v.is_number() || v.is_boolean()) return std::string(v.type_name()) + " " + v.dump();
    return v.type_name();
}

std::string codePointName(char32_t cp) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string digits;
    for (int shift = cp > 0xFFFF ? 20 : 12; shift >= 0; shift -= 4)
        digits += kHex[(cp >> shift) & 0xF];
    return "U+" + digits;
}

[[noreturn]] void invalid(const std::string& attr, const std::string& detail) {
    throw EventError(Kind::InvalidEvent, attr, detail);
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string_view trimOws(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool isAlpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isDigit(char c) {
    return c >= '0' && c <= '9';
}
bool isHex(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// ---------------------------------------------------------------------------------------------
// Syntax checks for the typed attributes.

// RFC 3986 §4.1 URI-reference, checked at the character level plus the scheme rule: anything
// before the first ':' that precedes '/', '?' and '#' must be a scheme, because a relative
// reference may not carry a ':' in its first segment.
bool isUriReference(std::string_view s, bool requireScheme) {
    bool inFragment = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size() || !isHex(s[i + 1]) || !isHex(s[i + 2])) return false;
            i += 2;
            continue;
        }
        if (c == '#') {
            if (inFragment) return false;
            inFragment = true;
            continue;
        }
        static constexpr std::string_view kAllowed = "-._~:/?[]@!$&'()*+,;=";
        if (!isAlpha(c) && !isDigit(c) && kAllowed.find(c) == std::string_view::npos) return false;
    }
    const auto stop = s.find_first_of(":/?#");
    if (stop == std::string_view::npos || s[stop] != ':') return !requireScheme;
    if (stop == 0 || !isAlpha(s[0])) return false;
    for (std::size_t i = 1; i < stop; ++i)
        if (!isAlpha(s[i]) && !isDigit(s[i]) && s[i] != '+' && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

bool isTchar(char c) {
    static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
    return isAlpha(c) || isDigit(c) || kExtra.find(c) != std::string_view::npos;
}

std::size_t skipToken(std::string_view s, std::size_t i) {
    while (i < s.size() && isTchar(s[i]))
        ++i;
    return i;
}

std::size_t skipOws(std::string_view s, std::size_t i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
        ++i;
    return i;
}

// RFC 2046 media type in the RFC 9110 §8.3.1 syntax: type "/" subtype *(OWS ";" OWS parameter).
bool isMediaType(std::string_view s) {
    std::size_t i = skipToken(s, 0);
    if (i == 0 || i >= s.size() || s[i] != '/') return false;
    const std::size_t sub = ++i;
    i = skipToken(s, i);
    if (i == sub) return false;
    while (true) {
        i = skipOws(s, i);
        if (i == s.size()) return true;
        if (s[i] != ';') return false;
        i = skipOws(s, i + 1);
        if (i == s.size()) return true; // a trailing ';' is common and harmless
        const std::size_t name = i;
        i = skipToken(s, i);
        if (i == name || i >= s.size() || s[i] != '=') return false;
        ++i;
        if (i < s.size() && s[i] == '"') {
            for (++i;; ++i) {
                if (i >= s.size()) return false;
                if (s[i] == '\\') {
                    if (++i >= s.size()) return false;
                } else if (s[i] == '"') {
                    ++i;
                    break;
                }
            }
        } else {
            const std::size_t value = i;
            i = skipToken(s, i);
            if (i == value) return false;
        }
    }
}

// The media type without parameters, lower-cased: "Application/JSON; charset=utf-8" ->
// "application/json".
std::string mediaTypeEssence(std::string_view contentType) {
    return lower(trimOws(contentType.substr(0, contentType.find(';'))));
}

bool isJsonMediaType(std::string_view contentType) {
    const std::string m = mediaTypeEssence(contentType);
    return m == "application/json" || m == "text/json" ||
           (m.size() > 5 && m.compare(m.size() - 5, 5, "+json") == 0);
}

bool isTextMediaType(std::string_view contentType) {
    return mediaTypeEssence(contentType).rfind("text/", 0) == 0;
}

bool digitsAt(std::string_view s, std::size_t pos, std::size_t n, int& value) {
    if (pos + n > s.size()) return false;
    value = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (!isDigit(s[i])) return false;
        value = value * 10 + (s[i] - '0');
    }
    return true;
}

void checkExtensionName(const std::string& name) {
    if (name == "data" || name == "data_base64")
        invalid(name,
                "'" + name + "' is reserved for the event payload and cannot be an attribute name");
    if (name.empty()) invalid(name, "an attribute name must not be empty");
    for (const char c : name)
        if (!(c >= 'a' && c <= 'z') && !isDigit(c))
            invalid(name, "attribute name " + quoteInput(name) +
                              " must consist of lowercase letters a-z and digits 0-9 only");
    if (name.size() > kMaxExtensionNameLength)
        invalid(name, "attribute name " + quoteInput(name) + " is " + std::to_string(name.size()) +
                          " characters long; at most " + std::to_string(kMaxExtensionNameLength) +
                          " are accepted");
}

void checkCharacters(const std::string& name, const std::string& value) {
    // The parsers only hand over valid UTF-8, but fromJson also serves hand-built objects.
    if (!isValidUtf8(value)) invalid(name, "attribute '" + name + "' is not valid UTF-8");
    if (const auto cp = firstForbiddenCodePoint(value))
        invalid(name, "attribute '" + name + "' contains the forbidden character " +
                          codePointName(*cp) + ", got " + quoteInput(value));
}

const std::string& requireString(const json& object, const std::string& name) {
    const auto it = object.find(name);
    if (it == object.end()) invalid(name, "required attribute '" + name + "' is missing");
    if (!it->is_string())
        invalid(name, "attribute '" + name + "' must be a string, got " + describe(*it));
    const auto& s = it->get_ref<const std::string&>();
    if (s.empty()) invalid(name, "attribute '" + name + "' must not be empty");
    checkCharacters(name, s);
    return s;
}

void checkOptional(const std::string& name, const json& value) {
    if (!value.is_string())
        invalid(name, "attribute '" + name + "' must be a string, got " + describe(value));
    const auto& s = value.get_ref<const std::string&>();
    if (s.empty()) invalid(name, "attribute '" + name + "' must not be empty");
    checkCharacters(name, s);
    if (name == "time" && !isRfc3339(s))
        invalid(name, "attribute 'time' must be an RFC 3339 timestamp, got " + quoteInput(s));
    if (name == "dataschema" && !isUriReference(s, true))
        invalid(name,
                "attribute 'dataschema' must be an absolute URI (RFC 3986), got " + quoteInput(s));
    if (name == "datacontenttype" && !isMediaType(s))
        invalid(name, "attribute 'datacontenttype' must be a media type (RFC 2046) such as "
                      "\"application/json\", got " +
                          quoteInput(s));
}

void checkExtension(const std::string& name, const json& value) {
    checkExtensionName(name);
    if (value.is_string()) {
        checkCharacters(name, value.get_ref<const std::string&>());
    } else if (value.is_number_unsigned()) {
        if (value.get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
            invalid(name, "extension attribute '" + name +
                              "' must be an integer in the signed 32-bit range, got " +
                              value.dump());
    } else if (value.is_number_integer()) {
        const auto v = value.get<std::int64_t>();
        if (v < std::numeric_limits<std::int32_t>::min() ||
            v > std::numeric_limits<std::int32_t>::max())
            invalid(name, "extension attribute '" + name +
                              "' must be an integer in the signed 32-bit range, got " +
                              value.dump());
    } else if (!value.is_boolean()) {
        invalid(name, "extension attribute '" + name +
                          "' must be a string, boolean or integer, got " + describe(value));
    }
}

// ---------------------------------------------------------------------------------------------
// Bounded parsing.

// Builds the document like nlohmann's own DOM parser and counts as it goes, refusing excessive
// depth and key counts from inside the parser so that no deep structure is ever built
// (destroying or dumping one can exhaust the stack). When `maxEntries` is set and the document
// is an array, its length is bounded the same way. A SAX handler rather than a parse callback:
// the callback parser calls a std::function per token and keeps a stack of its own, and was a
// third of an HTTP input thread's time at 10,000 events/s.
// " in 'attr'" for messages about a JSON document nested in an attribute; empty at the top.
std::string inAttribute(const std::string& attr) {
    return attr.empty() ? std::string() : " in '" + attr + "'";
}

class LimitedDomBuilder {
public:
    using Dom = nlohmann::detail::json_sax_dom_parser<json>;

    LimitedDomBuilder(json& result, const JsonLimits& limits, const std::string& attr,
                      std::optional<std::size_t> maxEntries)
        : dom_(result, /*allow_exceptions=*/true), limits_(limits), attr_(attr),
          maxEntries_(maxEntries) {}

    bool null() { return value() && dom_.null(); }
    bool boolean(bool v) { return value() && dom_.boolean(v); }
    bool number_integer(json::number_integer_t v) { return value() && dom_.number_integer(v); }
    bool number_unsigned(json::number_unsigned_t v) { return value() && dom_.number_unsigned(v); }
    bool number_float(json::number_float_t v, const json::string_t& s) {
        return value() && dom_.number_float(v, s);
    }
    bool string(json::string_t& v) { return value() && dom_.string(v); }
    bool binary(json::binary_t& v) { return value() && dom_.binary(v); }
    bool start_object(std::size_t n) {
        enter(false);
        return dom_.start_object(n);
    }
    bool key(json::string_t& k) {
        if (++keys_ > limits_.maxKeys)
            throw EventError(Kind::TooManyKeys, attr_,
                             "JSON document" + inAttribute(attr_) + " has more than " +
                                 std::to_string(limits_.maxKeys) + " object members");
        return dom_.key(k);
    }
    bool end_object() {
        leave();
        return dom_.end_object();
    }
    bool start_array(std::size_t n) {
        enter(true);
        return dom_.start_array(n);
    }
    bool end_array() {
        leave();
        return dom_.end_array();
    }
    template <class Exception>
    bool parse_error(std::size_t position, const std::string& token, const Exception& ex) {
        return dom_.parse_error(position, token, ex); // throws `ex`
    }

private:
    // A complete entry of the top-level array: a scalar, or a container just closed.
    void countEntry() {
        if (depth_ == 1 && topIsArray_ && maxEntries_ && ++entries_ > *maxEntries_)
            throw EventError(Kind::InvalidBatch, attr_,
                             "batch holds more than " + std::to_string(*maxEntries_) + " events",
                             static_cast<int>(*maxEntries_));
    }
    bool value() {
        countEntry();
        return true;
    }
    void enter(bool array) {
        if (depth_ == 0) topIsArray_ = array;
        if (depth_ + 1 > limits_.maxDepth)
            throw EventError(Kind::TooDeep, attr_,
                             "JSON nesting" + inAttribute(attr_) + " exceeds the limit of " +
                                 std::to_string(limits_.maxDepth) + " levels",
                             topIsArray_ && maxEntries_ ? static_cast<int>(entries_) : -1);
        ++depth_;
    }
    void leave() {
        --depth_;
        countEntry();
    }

    Dom dom_;
    const JsonLimits& limits_;
    const std::string& attr_;
    std::optional<std::size_t> maxEntries_;
    std::size_t depth_ = 0; // containers open
    std::size_t keys_ = 0;
    std::size_t entries_ = 0;
    bool topIsArray_ = false;
};

json parseLimited(std::string_view text, const JsonLimits& limits, const std::string& attr,
                  std::optional<std::size_t> maxEntries = std::nullopt) {
    try {
        json result;
        LimitedDomBuilder builder(result, limits, attr, maxEntries);
        json::sax_parse(text.begin(), text.end(), &builder);
        return result;
    } catch (const json::parse_error& e) {
        std::string detail = e.what();
        // Drop nlohmann's "[json.exception.parse_error.101] " tag; keep its position text.
        if (const auto p = detail.find("] "); p != std::string::npos) detail.erase(0, p + 2);
        // The detail echoes the offending token, which may be long or invalid UTF-8.
        throw EventError(Kind::MalformedJson, attr,
                         "malformed JSON" + inAttribute(attr) + " at byte " +
                             std::to_string(e.byte) + ": " +
                             escapeInput(detail, kMaxDetailBytes, false));
    } catch (const json::exception& e) {
        // e.g. out_of_range.406 for a number literal that overflows a double.
        std::string detail = e.what();
        if (const auto p = detail.find("] "); p != std::string::npos) detail.erase(0, p + 2);
        throw EventError(Kind::MalformedJson, attr,
                         "malformed JSON" + inAttribute(attr) + ": " +
                             escapeInput(detail, kMaxDetailBytes, false));
    }
}

} // namespace

bool isRfc3339(std::string_view s) {
    int year, month, day, hour, minute, second;
    if (!digitsAt(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digitsAt(s, 5, 2, month) ||
        s[7] != '-' || !digitsAt(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') ||
        !digitsAt(s, 11, 2, hour) || s[13] != ':' || !digitsAt(s, 14, 2, minute) || s[16] != ':' ||
        !digitsAt(s, 17, 2, second))
        return false;
    if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return false;
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const int maxDay = month == 2 && leap ? 29 : kDays[month - 1];
    if (day < 1 || day > maxDay) return false;
    std::size_t i = 19;
    if (s[i] == '.') {
        const std::size_t start = ++i;
        while (i < s.size() && isDigit(s[i]))
            ++i;
        if (i == start) return false;
    }
    if (i >= s.size()) return false;
    if (s[i] == 'Z' || s[i] == 'z') return i + 1 == s.size();
    if (s[i] != '+' && s[i] != '-') return false;
    int offHour, offMinute;
    return i + 6 == s.size() && digitsAt(s, i + 1, 2, offHour) && s[i + 3] == ':' &&
           digitsAt(s, i + 4, 2, offMinute) && offHour <= 23 && offMinute <= 59;
}

Event fromJson(nlohmann::json object) {
    if (!object.is_object())
        invalid("", "a CloudEvent must be a JSON object, got " + describe(object));
    // JSON format §2.4: a null attribute is an absent one. `data: null` is a payload, though.
    for (auto it = object.begin(); it != object.end();) {
        if (it->is_null() && it.key() != "data")
            it = object.erase(it);
        else
            ++it;
    }

    Event e;
    const auto& specversion = requireString(object, "specversion");
    if (specversion != "1.0")
        invalid("specversion",
                "attribute 'specversion' must be \"1.0\", got " + quoteInput(specversion));
    e.id = requireString(object, "id");
    e.source = requireString(object, "source");
    if (!isUriReference(e.source, false))
        invalid("source", "attribute 'source' must be a URI-reference (RFC 3986), got " +
                              quoteInput(e.source));
    e.type = requireString(object, "type");

    for (const auto& [name, value] : object.items()) {
        if (name == "data") continue;
        if (name == "data_base64") {
            if (object.contains("data"))
                invalid(name, "data and data_base64 are mutually exclusive");
            if (!value.is_string())
                invalid(name, "attribute 'data_base64' must be a string, got " + describe(value));
            if (!base64Decode(value.get_ref<const std::string&>()))
                invalid(name, "attribute 'data_base64' must be padded base64 (RFC 4648 §4), got " +
                                  quoteInput(value.get_ref<const std::string&>()));
        } else if (std::find(kRequired.begin(), kRequired.end(), name) != kRequired.end()) {
            continue; // checked above
        } else if (isKnownAttribute(name)) {
            checkOptional(name, value);
        } else {
            checkExtension(name, value);
        }
    }
    if (const auto it = object.find("subject"); it != object.end())
        e.subject = it->get<std::string>();
    e.json = std::move(object);
    return e;
}

Event parseStructured(std::string_view body, const JsonLimits& limits) {
    json j = parseLimited(body, limits, "");
    if (!j.is_object())
        invalid("", "a structured-mode CloudEvent must be a JSON object, got " + describe(j));
    return fromJson(std::move(j));
}

std::vector<Event> parseBatch(std::string_view body, const JsonLimits& limits,
                              std::size_t maxEvents) {
    json j = parseLimited(body, limits, "", maxEvents);
    if (!j.is_array())
        throw EventError(Kind::InvalidBatch, "",
                         "a CloudEvents batch must be a JSON array, got " + describe(j));
    if (j.size() > maxEvents)
        throw EventError(Kind::InvalidBatch, "",
                         "batch holds more than " + std::to_string(maxEvents) + " events",
                         static_cast<int>(maxEvents));
    std::vector<Event> events;
    events.reserve(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) {
        const int index = static_cast<int>(i);
        const std::string prefix = "batch entry " + std::to_string(i) + ": ";
        if (!j[i].is_object())
            throw EventError(Kind::InvalidEvent, "",
                             prefix + "a CloudEvent must be a JSON object, got " + describe(j[i]),
                             index);
        try {
            events.push_back(fromJson(std::move(j[i])));
        } catch (const EventError& e) {
            throw EventError(e.kind, e.attribute, prefix + e.what(), index);
        }
    }
    return events;
}

Event parseBinary(const HeaderList& headers, std::string_view body, const JsonLimits& limits) {
    json object = json::object();
    std::optional<std::string> contentType;
    for (const auto& [rawName, rawValue] : headers) {
        const std::string header = lower(rawName);
        const std::string_view value = trimOws(rawValue);
        if (header == "content-type") {
            if (contentType)
                invalid("datacontenttype", "the content-type header appears more than once");
            if (!isValidUtf8(value))
                invalid("datacontenttype",
                        "the content-type header is not valid UTF-8, got " + quoteInput(value));
            contentType = std::string(value);
            continue;
        }
        if (header.rfind("ce-", 0) != 0) continue;
        const std::string name = header.substr(3);
        if (name == "datacontenttype")
            invalid(name, "header ce-datacontenttype is not allowed in binary mode; the "
                          "content-type header carries the media type");
        if (!isKnownAttribute(name) && name != "specversion" && name != "id" && name != "source" &&
            name != "type")
            checkExtensionName(name);
        if (object.contains(name)) invalid(name, "header '" + header + "' appears more than once");
        const auto decoded = percentDecode(value);
        if (!decoded)
            invalid(name, "header '" + header + "' has an invalid percent-encoding, got " +
                              quoteInput(value));
        if (!isValidUtf8(*decoded))
            invalid(name, "header '" + header + "' does not percent-decode to UTF-8, got " +
                              quoteInput(value));
        object[name] = *decoded;
    }
    for (const auto name : kRequired) {
        const std::string n(name);
        if (!object.contains(n))
            invalid(n, "required attribute '" + n + "' is missing (no ce-" + n + " header)");
    }
    if (contentType) object["datacontenttype"] = *contentType;
    if (!body.empty()) {
        if (contentType && isJsonMediaType(*contentType)) {
            object["data"] = parseLimited(body, limits, "data");
        } else if (contentType && isTextMediaType(*contentType) && isValidUtf8(body)) {
            object["data"] = std::string(body);
        } else {
            // Text in another charset lands here too, so that its bytes survive unchanged.
            object["data_base64"] = base64Encode(body);
        }
    }
    return fromJson(std::move(object));
}

std::string toStructured(const Event& e) {
    return e.json.dump();
}

BinaryMessage toBinary(const Event& e) {
    BinaryMessage m;
    const auto addHeader = [&m](const std::string& name, const json& value) {
        std::string text;
        if (value.is_string())
            text = percentEncode(value.get_ref<const std::string&>());
        else if (value.is_boolean())
            text = value.get<bool>() ? "true" : "false";
        else
            text = value.dump();
        m.headers.emplace_back("ce-" + name, std::move(text));
    };
    for (const auto name : kRequired)
        if (const auto it = e.json.find(std::string(name)); it != e.json.end())
            addHeader(std::string(name), *it);
    for (const auto& [name, value] : e.json.items()) {
        if (name == "data" || name == "data_base64" || name == "datacontenttype") continue;
        if (std::find(kRequired.begin(), kRequired.end(), name) != kRequired.end()) continue;
        addHeader(name, value);
    }

    std::optional<std::string> contentType;
    if (const auto it = e.json.find("datacontenttype"); it != e.json.end() && it->is_string())
        contentType = it->get<std::string>();
    if (const auto it = e.json.find("data"); it != e.json.end()) {
        // JSON format §3.1: without datacontenttype, `data` is JSON.
        if (!contentType) contentType = "application/json";
        if (!isJsonMediaType(*contentType) && it->is_string())
            m.body = it->get<std::string>();
        else
            m.body = it->dump();
    } else if (const auto b64 = e.json.find("data_base64"); b64 != e.json.end()) {
        const auto bytes =
            b64->is_string() ? base64Decode(b64->get_ref<const std::string&>()) : std::nullopt;
        if (!bytes) invalid("data_base64", "attribute 'data_base64' is not valid base64");
        m.body = *bytes;
    }
    // Sent even without data so that datacontenttype survives the trip.
    if (contentType) m.headers.emplace_back("content-type", *contentType);
    return m;
}

} // namespace ow::event
