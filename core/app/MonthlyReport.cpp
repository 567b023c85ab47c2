#include "core/app/MonthlyReport.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <stdexcept>

namespace ow::app {
namespace {

using json = nlohmann::json;

std::string str(const json& row, const std::string& key) {
    auto it = row.find(key);
    if (it == row.end() || it->is_null()) return "";
    return it->is_string() ? it->get<std::string>() : it->dump();
}

double num(const json& row, const std::string& key) {
    auto it = row.find(key);
    return it != row.end() && it->is_number() ? it->get<double>() : 0.0;
}

/// A row's value for a column: a count, or a ratio of two counts with one decimal.
std::string cell(const json& row, const json& column) {
    if (column.contains("ratio")) {
        const double den = num(row, column["ratio"][1].get<std::string>());
        if (den == 0) return "";
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f",
                      num(row, column["ratio"][0].get<std::string>()) / den);
        return buf;
    }
    return std::to_string(static_cast<long long>(num(row, column["key"].get<std::string>())));
}

/// Sums of every numeric member over `rows`.
json total(const std::vector<const json*>& rows) {
    json t = json::object();
    for (const json* r : rows)
        for (const auto& [k, v] : r->items())
            if (v.is_number()) t[k] = t.value(k, 0.0) + v.get<double>();
    return t;
}

struct Section {
    std::string name; ///< the first group key's label value (the department)
    std::vector<const json*> rows;
};

std::vector<Section> sections(const MonthlyReport& r) {
    const std::string first = r.group.at(0).at("key").get<std::string>();
    std::vector<Section> out;
    for (const auto& row : r.rows) {
        std::string name = str(row, first);
        if (name.empty()) name = str(row, "department");
        if (out.empty() || out.back().name != name) out.push_back({name, {}});
        out.back().rows.push_back(&row);
    }
    return out;
}

std::string csvField(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s)
        q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string html(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
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
        default:
            out += c;
        }
    }
    return out;
}

} // namespace

MonthlyReport readMonthlyReport(store::PluginState& state, const std::string& instance,
                                const std::string& month) {
    MonthlyReport r;
    r.month = month;
    r.instance = instance;
    auto columns = state.get(instance, "stats/_columns");
    if (!columns)
        throw std::runtime_error("processor '" + instance +
                                 "' keeps no statistics (no stats/_columns in its state)");
    const json spec = json::parse(*columns);
    r.group = spec.at("group");
    r.columns = spec.at("columns");
    for (const auto& [key, value] : state.withPrefix(instance, "stats/" + month + "/"))
        r.rows.push_back(json::parse(value));
    std::vector<std::string> keys;
    for (const auto& g : r.group)
        keys.push_back(g.at("key").get<std::string>());
    std::stable_sort(r.rows.begin(), r.rows.end(), [&](const json& a, const json& b) {
        for (const auto& k : keys)
            if (str(a, k) != str(b, k)) return str(a, k) < str(b, k);
        return false;
    });
    return r;
}

std::string reportCsv(const MonthlyReport& r) {
    std::ostringstream out;
    out << "\xEF\xBB\xBF"; // byte-order mark
    bool firstCell = true;
    auto put = [&](const std::string& s) {
        out << (firstCell ? "" : ",") << csvField(s);
        firstCell = false;
    };
    auto endLine = [&] {
        out << "\r\n";
        firstCell = true;
    };
    put("月份");
    for (const auto& g : r.group)
        put(g.at("label").get<std::string>());
    for (const auto& c : r.columns)
        put(c.at("label").get<std::string>());
    endLine();
    std::vector<const json*> all;
    for (const auto& s : sections(r)) {
        for (const json* row : s.rows) {
            put(r.month);
            for (const auto& g : r.group)
                put(str(*row, g.at("key").get<std::string>()));
            for (const auto& c : r.columns)
                put(cell(*row, c));
            endLine();
            all.push_back(row);
        }
        const json sub = total(s.rows);
        put(r.month);
        put(s.name);
        for (std::size_t i = 1; i < r.group.size(); ++i)
            put(i == 1 ? "小计" : "");
        for (const auto& c : r.columns)
            put(cell(sub, c));
        endLine();
    }
    const json t = total(all);
    put(r.month);
    put("合计");
    for (std::size_t i = 1; i < r.group.size(); ++i)
        put("");
    for (const auto& c : r.columns)
        put(cell(t, c));
    endLine();
    return out.str();
}

std::string reportSummary(const MonthlyReport& r) {
    std::ostringstream out;
    std::vector<const json*> all;
    for (const auto& s : sections(r)) {
        const json sub = total(s.rows);
        out << s.name << ":";
        for (const auto& c : r.columns)
            if (c.value("chart", false))
                out << " " << c.at("label").get<std::string>() << " " << cell(sub, c);
        out << "\n";
        all.insert(all.end(), s.rows.begin(), s.rows.end());
    }
    const json t = total(all);
    out << "合计:";
    for (const auto& c : r.columns)
        out << " " << c.at("label").get<std::string>() << " " << cell(t, c);
    out << "\n";
    return out.str();
}

std::string reportHtml(const MonthlyReport& r) {
    std::ostringstream out;
    const auto secs = sections(r);
    std::vector<const json*> all;
    for (const auto& s : secs)
        all.insert(all.end(), s.rows.begin(), s.rows.end());
    const json grand = total(all);
    std::vector<json> charted;
    for (const auto& c : r.columns)
        if (c.value("chart", false)) charted.push_back(c);

    out << "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        << "<title>审批情况月报 " << html(r.month) << "</title><style>"
        << "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;color:#222}"
        << "table{border-collapse:collapse;font-size:13px}"
        << "th,td{border:1px solid #bbb;padding:3px 8px}td.n{text-align:right}"
        << "tr.sub td{background:#f0f0f0;font-weight:bold}tr.total td{background:#ddd;"
        << "font-weight:bold}.legend span{display:inline-block;margin-right:1em}"
        << ".sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}"
        << "</style></head><body>\n";
    out << "<h1>审批情况月报 " << html(r.month) << "</h1>\n<p>" << all.size()
        << " 行，数据来自处理器 <code>" << html(r.instance) << "</code>。</p>\n";

    // One bar group per department: the charted columns side by side, scaled to the largest.
    static const char* colours[] = {"#4e79a7", "#59a14f", "#76b7b2", "#e15759",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f"};
    double maxValue = 1;
    std::vector<json> subtotals;
    for (const auto& s : secs) {
        subtotals.push_back(total(s.rows));
        for (const auto& c : charted)
            maxValue = std::max(maxValue, num(subtotals.back(), c["key"].get<std::string>()));
    }
    const int barH = 9, gap = 10, labelW = 180, chartW = 560;
    const int groupH = static_cast<int>(charted.size()) * barH + gap;
    out << "<h2>各部门概况</h2>\n<div class=\"legend\">";
    for (std::size_t i = 0; i < charted.size(); ++i)
        out << "<span><i class=\"sw\" style=\"background:" << colours[i % 8] << "\"></i>"
            << html(charted[i]["label"].get<std::string>()) << "</span>";
    out << "</div>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << labelW + chartW + 60
        << "\" height=\"" << static_cast<int>(secs.size()) * groupH + 10 << "\">\n";
    for (std::size_t si = 0; si < secs.size(); ++si) {
        const int y0 = static_cast<int>(si) * groupH + 5;
        out << "<text x=\"0\" y=\"" << y0 + groupH / 2 << "\" font-size=\"12\">"
            << html(secs[si].name) << "</text>\n";
        for (std::size_t ci = 0; ci < charted.size(); ++ci) {
            const double v = num(subtotals[si], charted[ci]["key"].get<std::string>());
            const int w = static_cast<int>(v / maxValue * chartW);
            const int y = y0 + static_cast<int>(ci) * barH;
            out << "<rect x=\"" << labelW << "\" y=\"" << y << "\" width=\"" << w << "\" height=\""
                << barH - 1 << "\" fill=\"" << colours[ci % 8] << "\"><title>"
                << html(charted[ci]["label"].get<std::string>()) << " " << static_cast<long long>(v)
                << "</title></rect>";
            out << "<text x=\"" << labelW + w + 3 << "\" y=\"" << y + barH - 1
                << "\" font-size=\"9\">" << static_cast<long long>(v) << "</text>\n";
        }
    }
    out << "</svg>\n";

    out << "<h2>明细</h2>\n<table><tr>";
    for (const auto& g : r.group)
        out << "<th>" << html(g.at("label").get<std::string>()) << "</th>";
    for (const auto& c : r.columns)
        out << "<th>" << html(c.at("label").get<std::string>()) << "</th>";
    out << "</tr>\n";
    for (std::size_t si = 0; si < secs.size(); ++si) {
        for (const json* row : secs[si].rows) {
            out << "<tr>";
            for (const auto& g : r.group)
                out << "<td>" << html(str(*row, g.at("key").get<std::string>())) << "</td>";
            for (const auto& c : r.columns)
                out << "<td class=\"n\">" << cell(*row, c) << "</td>";
            out << "</tr>\n";
        }
        out << "<tr class=\"sub\"><td colspan=\"" << r.group.size() << "\">" << html(secs[si].name)
            << " 小计</td>";
        for (const auto& c : r.columns)
            out << "<td class=\"n\">" << cell(subtotals[si], c) << "</td>";
        out << "</tr>\n";
    }
    out << "<tr class=\"total\"><td colspan=\"" << r.group.size() << "\">合计</td>";
    for (const auto& c : r.columns)
        out << "<td class=\"n\">" << cell(grand, c) << "</td>";
    out << "</tr>\n</table>\n</body></html>\n";
    return out.str();
}

} // namespace ow::app
