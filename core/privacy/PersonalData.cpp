#include "core/privacy/PersonalData.h"

#include <algorithm>
#include <cctype>

#include "core/routing/Glob.h"

namespace ow::privacy {
namespace {

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}
// ASCII letters and digits continue a token; anything else (punctuation, spaces, CJK) ends it.
bool isWordByte(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

bool validDate(std::string_view yyyymmdd) {
    const int y = std::stoi(std::string(yyyymmdd.substr(0, 4)));
    const int m = std::stoi(std::string(yyyymmdd.substr(4, 2)));
    const int d = std::stoi(std::string(yyyymmdd.substr(6, 2)));
    if (y < 1900 || y > 2099 || m < 1 || m > 12 || d < 1) return false;
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return d <= days[m - 1];
}

std::string stars(std::size_t n) {
    return std::string(n, '*');
}

// The byte length of the UTF-8 character starting with `lead`.
std::size_t charLength(unsigned char lead) {
    return lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
}

std::vector<std::string> segments(const std::string& pointer) {
    std::vector<std::string> out;
    std::size_t at = 1;
    while (at <= pointer.size() && !pointer.empty()) {
        const auto slash = pointer.find('/', at);
        std::string seg =
            pointer.substr(at, slash == std::string::npos ? std::string::npos : slash - at);
        for (std::size_t p = 0; (p = seg.find('~', p)) != std::string::npos; ++p)
            seg.replace(p, 2, p + 1 < seg.size() && seg[p + 1] == '1' ? "/" : "~");
        out.push_back(std::move(seg));
        if (slash == std::string::npos) break;
        at = slash + 1;
    }
    return out;
}

void maskLeaves(nlohmann::json& v) {
    if (v.is_string()) {
        v = maskValue(v.get_ref<const std::string&>());
    } else if (v.is_number()) {
        v = maskValue(v.dump());
    } else if (v.is_structured()) {
        for (auto& child : v)
            maskLeaves(child);
    }
}

// Applies `t` to what `segs[i..]` points at under `v`.
void applyAt(nlohmann::json& v, const std::vector<std::string>& segs, std::size_t i, Treatment t) {
    if (i == segs.size()) {
        maskLeaves(v);
        return;
    }
    const std::string& seg = segs[i];
    const bool last = i + 1 == segs.size();
    if (v.is_object()) {
        if (seg == "*") {
            if (last && t == Treatment::Drop) {
                v = nlohmann::json::object();
                return;
            }
            for (auto& [_, child] : v.items())
                applyAt(child, segs, i + 1, t);
            return;
        }
        auto it = v.find(seg);
        if (it == v.end()) return;
        if (last && t == Treatment::Drop)
            v.erase(it);
        else
            applyAt(*it, segs, i + 1, t);
    } else if (v.is_array()) {
        if (seg == "*") {
            if (last && t == Treatment::Drop) {
                v = nlohmann::json::array();
                return;
            }
            for (auto& child : v)
                applyAt(child, segs, i + 1, t);
            return;
        }
        if (seg.empty() || !std::all_of(seg.begin(), seg.end(), isDigit)) return;
        const std::size_t index = std::stoul(seg);
        if (index >= v.size()) return;
        if (last && t == Treatment::Drop)
            v.erase(index);
        else
            applyAt(v[index], segs, i + 1, t);
    }
}

void maskStrings(nlohmann::json& v) {
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        if (containsPersonalData(s)) v = maskText(s);
    } else if (v.is_structured()) {
        for (auto& child : v)
            maskStrings(child);
    }
}

} // namespace

bool isResidentId(std::string_view s) {
    if (s.size() != 18) return false;
    static const int weights[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char checks[] = "10X98765432";
    int sum = 0;
    for (int i = 0; i < 17; ++i) {
        if (!isDigit(s[i])) return false;
        sum += (s[i] - '0') * weights[i];
    }
    const char last = static_cast<char>(std::toupper(static_cast<unsigned char>(s[17])));
    return last == checks[sum % 11] && validDate(s.substr(6, 8));
}

bool isMobile(std::string_view s) {
    return s.size() == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' &&
           std::all_of(s.begin(), s.end(), isDigit);
}

std::string maskValue(std::string_view value) {
    if (isResidentId(value))
        return std::string(value.substr(0, 6)) + stars(8) + std::string(value.substr(14));
    if (isMobile(value))
        return std::string(value.substr(0, 3)) + stars(4) + std::string(value.substr(7));
    // Names and addresses: the first third of the characters (at least one unless there is
    // only one), the rest as stars.
    std::vector<std::size_t> starts;
    for (std::size_t i = 0; i < value.size(); i += charLength(static_cast<unsigned char>(value[i])))
        starts.push_back(i);
    if (starts.empty()) return {};
    const std::size_t keep = starts.size() == 1 ? 0 : (starts.size() + 2) / 3;
    const std::size_t cut = keep < starts.size() ? starts[keep] : value.size();
    return std::string(value.substr(0, cut)) + stars(starts.size() - keep);
}

std::string maskText(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        if (!isDigit(text[i]) || (i > 0 && isWordByte(text[i - 1]))) {
            out.push_back(text[i++]);
            continue;
        }
        std::size_t j = i;
        while (j < text.size() && isDigit(text[j]))
            ++j;
        std::size_t end = j;
        if (j - i == 17 && j < text.size() && (text[j] == 'X' || text[j] == 'x')) end = j + 1;
        const bool bounded = end == text.size() || !isWordByte(text[end]);
        const std::string_view token = text.substr(i, end - i);
        if (bounded && (isResidentId(token) || isMobile(token))) {
            out += maskValue(token);
        } else {
            out.append(text.substr(i, j - i));
            end = j;
        }
        i = end;
    }
    return out;
}

bool containsPersonalData(std::string_view text) {
    // Cheap test first: most text has no run of 11 digits at all.
    std::size_t run = 0;
    bool longRun = false;
    for (char c : text) {
        run = isDigit(c) ? run + 1 : 0;
        if (run >= 11) {
            longRun = true;
            break;
        }
    }
    return longRun && maskText(text) != text;
}

Declarations declarationsOf(const std::vector<config::PersonalDataSpec>& specs) {
    Declarations d;
    for (const auto& spec : specs)
        for (const auto& type : spec.types)
            d.byType.emplace_back(type, spec.pointers);
    return d;
}

const char* toString(Treatment t) {
    return t == Treatment::Keep ? "keep" : t == Treatment::Mask ? "mask" : "drop";
}

Masker::Masker(Declarations d) : d_(std::move(d)) {}

void Masker::apply(nlohmann::json& event, Treatment t) const {
    if (t == Treatment::Keep) return;
    const auto type = event.is_object() ? event.value("type", "") : std::string();
    for (const auto& [glob, pointers] : d_.byType) {
        if (!routing::globMatch(glob, type)) continue;
        for (const auto& p : pointers)
            applyAt(event, segments(p), 0, t);
    }
    maskStrings(event);
}

std::string Masker::applyToText(std::string_view eventJson, Treatment t) const {
    auto event = nlohmann::json::parse(eventJson, nullptr, false);
    if (event.is_discarded()) return maskText(eventJson);
    apply(event, t);
    return event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace ow::privacy
