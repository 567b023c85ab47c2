#include "core/app/FeeReconcile.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/event/CloudEventCodec.h"

namespace ow::app {

using nlohmann::json;

namespace {

constexpr std::size_t MaxRows = 1'000'000;
constexpr std::int64_t MaxFen = 10'000'000'000'000;

/// RFC 4180 records: fields separated by commas, quoted fields may hold commas, quotes ("")
/// and line breaks. Each record carries the line it starts on.
std::vector<std::pair<int, std::vector<std::string>>> csvRecords(const std::string& text,
                                                                 const std::string& file) {
    std::vector<std::pair<int, std::vector<std::string>>> out;
    std::size_t i = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
    int line = 1;
    while (i < text.size()) {
        const int start = line;
        std::vector<std::string> fields(1);
        bool quoted = false, wasQuoted = false;
        for (; i < text.size(); ++i) {
            const char c = text[i];
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < text.size() && text[i + 1] == '"') {
                        fields.back() += '"';
                        ++i;
                    } else {
                        quoted = false;
                    }
                } else {
                    if (c == '\n') ++line;
                    fields.back() += c;
                }
            } else if (c == '"') {
                if (!fields.back().empty() || wasQuoted)
                    throw std::runtime_error(file + ":" + std::to_string(line) +
                                             ": a quote inside an unquoted field");
                quoted = wasQuoted = true;
            } else if (c == ',') {
                fields.emplace_back();
                wasQuoted = false;
            } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
                continue;
            } else if (c == '\n') {
                ++i;
                ++line;
                break;
            } else {
                if (wasQuoted)
                    throw std::runtime_error(file + ":" + std::to_string(line) +
                                             ": text after a closing quote");
                fields.back() += c;
            }
        }
        if (quoted)
            throw std::runtime_error(file + ":" + std::to_string(start) +
                                     ": a quoted field is not closed");
        const bool blank =
            fields.size() == 1 && fields[0].find_first_not_of(" \t") == std::string::npos;
        if (!blank) out.emplace_back(start, std::move(fields));
        if (out.size() > MaxRows + 1)
            throw std::runtime_error(file + ": more than " + std::to_string(MaxRows) + " rows");
    }
    return out;
}

std::string trim(std::string s) {
    const auto a = s.find_first_not_of(" \t");
    if (a == std::string::npos) return {};
    return s.substr(a, s.find_last_not_of(" \t") - a + 1);
}

/// "120", "120.5", "120.50" yuan -> fen, exactly; anything else is refused.
std::optional<std::int64_t> yuanToFen(const std::string& s) {
    if (s.empty() || s.size() > 16) return std::nullopt;
    const auto dot = s.find('.');
    const std::string whole = s.substr(0, dot);
    const std::string frac = dot == std::string::npos ? "" : s.substr(dot + 1);
    auto digits = [](const std::string& d) {
        return std::all_of(d.begin(), d.end(),
                           [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    };
    if (whole.empty() || !digits(whole) || !digits(frac) || frac.size() > 2 ||
        (dot != std::string::npos && frac.empty()))
        return std::nullopt;
    std::int64_t fen = std::stoll(whole) * 100;
    if (frac.size() >= 1) fen += (frac[0] - '0') * 10;
    if (frac.size() == 2) fen += frac[1] - '0';
    if (fen > MaxFen) return std::nullopt;
    return fen;
}

std::optional<std::int64_t> wholeFen(const std::string& s) {
    if (s.empty() || s.size() > 15 || !std::all_of(s.begin(), s.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c));
        }))
        return std::nullopt;
    return std::stoll(s);
}

std::string fenText(std::int64_t f) {
    std::string cents = std::to_string((f < 0 ? -f : f) % 100);
    if (cents.size() < 2) cents.insert(0, "0");
    return (f < 0 ? "-" : "") + std::to_string((f < 0 ? -f : f) / 100) + "." + cents;
}

std::string csvField(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

} // namespace

const char* toString(Verdict v) {
    switch (v) {
    case Verdict::Matched:
        return "matched";
    case Verdict::MissingInHub:
        return "missing_in_onewindow";
    case Verdict::MissingInStatement:
        return "missing_in_statement";
    case Verdict::AmountMismatch:
        return "amount_mismatch";
    case Verdict::Duplicate:
        return "duplicate";
    }
    return "?";
}

namespace {

enum class MoneyUnit { Fen, Yuan, Either };

/// "12050" is fen, "120.50" yuan (a bank prints yuan with a decimal point; OneWindow counts
/// fen): exact either way.
std::optional<std::int64_t> money(const std::string& s, MoneyUnit unit) {
    switch (unit) {
    case MoneyUnit::Fen:
        return wholeFen(s);
    case MoneyUnit::Yuan:
        return yuanToFen(s);
    case MoneyUnit::Either:
        return s.find('.') == std::string::npos ? wholeFen(s) : yuanToFen(s);
    }
    return std::nullopt;
}

const char* moneyHelp(MoneyUnit unit) {
    switch (unit) {
    case MoneyUnit::Fen:
        return "a whole number of fen, like 12050";
    case MoneyUnit::Yuan:
        return "yuan with at most two decimals, like 120.50";
    case MoneyUnit::Either:
        return "a whole number of fen (12050) or yuan with a decimal point (120.50)";
    }
    return "";
}

/// The header names a column may have: ours, and those of banks' reconciliation files
/// (DOMAIN §7.2), case-insensitive.
struct ColumnName {
    const char* name;
    MoneyUnit unit;
};
const std::vector<ColumnName> NoticeNames = {{"notice_no", MoneyUnit::Either},
                                             {"notice_number", MoneyUnit::Either},
                                             {"paynoteno", MoneyUnit::Either},
                                             {"paysno", MoneyUnit::Either}};
const std::vector<ColumnName> SerialNames = {{"bank_serial", MoneyUnit::Either},
                                             {"serial", MoneyUnit::Either},
                                             {"payserial", MoneyUnit::Either},
                                             {"chargeflowno", MoneyUnit::Either}};
const std::vector<ColumnName> BankNames = {{"bank_code", MoneyUnit::Either},
                                           {"agentbankcode", MoneyUnit::Either}};
const std::vector<ColumnName> ChannelNames = {{"channel", MoneyUnit::Either},
                                              {"paychannel", MoneyUnit::Either}};
const std::vector<ColumnName> PaidAtNames = {{"paid_at", MoneyUnit::Either},
                                             {"paid_time", MoneyUnit::Either}};
const std::vector<ColumnName> AmountNames = {{"amount_fen", MoneyUnit::Fen},
                                             {"amount_yuan", MoneyUnit::Yuan},
                                             {"amount", MoneyUnit::Either},
                                             {"amt", MoneyUnit::Either}};
const std::vector<ColumnName> LateNames = {{"late_fee_fen", MoneyUnit::Fen},
                                           {"late_fee_yuan", MoneyUnit::Yuan},
                                           {"late_fee", MoneyUnit::Either},
                                           {"latefee", MoneyUnit::Either},
                                           {"pnoverdueamt", MoneyUnit::Either}};

struct Column {
    std::optional<std::size_t> index;
    MoneyUnit unit = MoneyUnit::Either;
};

Column find(const std::map<std::string, std::size_t>& header,
            const std::vector<ColumnName>& names) {
    for (const auto& n : names)
        if (auto it = header.find(n.name); it != header.end()) return {it->second, n.unit};
    return {};
}

} // namespace

std::vector<StatementRow> parseStatement(const std::string& text, const std::string& file) {
    auto records = csvRecords(text, file);
    if (records.empty()) throw std::runtime_error(file + ": empty (a header line is needed)");
    std::map<std::string, std::size_t> col;
    const auto& header = records.front().second;
    for (std::size_t i = 0; i < header.size(); ++i) {
        std::string h = trim(header[i]);
        std::transform(h.begin(), h.end(), h.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        col.emplace(h, i);
    }
    const Column notice = find(col, NoticeNames), serial = find(col, SerialNames),
                 bank = find(col, BankNames), channel = find(col, ChannelNames),
                 paidAt = find(col, PaidAtNames), amount = find(col, AmountNames),
                 late = find(col, LateNames);
    std::vector<std::string> problems;
    auto where = [&](int line) { return file + ":" + std::to_string(line) + ": "; };
    const int headerLine = records.front().first;
    if (!notice.index) problems.push_back(where(headerLine) + "the header has no notice_no column");
    if (!serial.index)
        problems.push_back(where(headerLine) + "the header has no bank_serial column");
    if (!amount.index)
        problems.push_back(where(headerLine) +
                           "the header has no amount (or amount_fen, amount_yuan) column");
    if (!problems.empty()) {
        std::string all;
        for (const auto& p : problems)
            all += (all.empty() ? "" : "\n") + p;
        throw std::runtime_error(all);
    }
    std::vector<StatementRow> rows;
    for (std::size_t r = 1; r < records.size(); ++r) {
        const auto& [line, f] = records[r];
        auto get = [&](const Column& c) -> std::string {
            return !c.index || *c.index >= f.size() ? std::string() : trim(f[*c.index]);
        };
        if (f.size() != header.size()) {
            problems.push_back(where(line) + std::to_string(f.size()) + " fields, the header has " +
                               std::to_string(header.size()));
            continue;
        }
        StatementRow row;
        row.line = line;
        row.noticeNo = get(notice);
        row.bankSerial = get(serial);
        row.bankCode = get(bank);
        row.channel = get(channel);
        row.paidAt = get(paidAt);
        if (row.noticeNo.empty()) problems.push_back(where(line) + "notice_no is empty");
        if (row.bankSerial.empty()) problems.push_back(where(line) + "bank_serial is empty");
        const std::string amountText = get(amount), lateText = get(late);
        auto a = money(amountText, amount.unit);
        auto l = lateText.empty() ? std::optional<std::int64_t>(0) : money(lateText, late.unit);
        if (!a)
            problems.push_back(where(line) + "amount '" + amountText + "' is not " +
                               moneyHelp(amount.unit));
        if (!l)
            problems.push_back(where(line) + "late fee '" + lateText + "' is not " +
                               moneyHelp(late.unit));
        if (a && l && *l > *a)
            problems.push_back(where(line) + "the late fee is more than the amount");
        row.amountFen = a.value_or(0);
        row.lateFeeFen = l.value_or(0);
        rows.push_back(std::move(row));
    }
    if (!problems.empty()) {
        std::string all;
        for (std::size_t i = 0; i < problems.size() && i < 50; ++i)
            all += (all.empty() ? "" : "\n") + problems[i];
        if (problems.size() > 50)
            all += "\n(" + std::to_string(problems.size() - 50) + " more problems)";
        throw std::runtime_error(all);
    }
    return rows;
}

std::vector<RecordedPayment> readRecordedPayments(store::PluginState& state,
                                                  const std::string& instance,
                                                  const std::string& date) {
    std::vector<RecordedPayment> out;
    for (const auto& [key, value] : state.withPrefix(instance, "payments/" + date + "/")) {
        const json p = json::parse(value);
        RecordedPayment r;
        r.noticeNo = p.value("notice_no", "");
        r.bankSerial = p.value("bank_serial", "");
        r.bankCode = p.value("bank_code", "");
        r.channel = p.value("channel", "");
        r.paidAt = p.value("paid_at", "");
        r.terminal = p.value("terminal", "");
        r.status = p.value("status", "");
        r.reason = p.value("reason", "");
        r.amountFen = p.value("amount_fen", std::int64_t{0});
        r.lateFeeFen = p.value("late_fee_fen", std::int64_t{0});
        out.push_back(std::move(r));
    }
    return out;
}

int Reconciliation::count(Verdict v) const {
    return static_cast<int>(
        std::count_if(lines.begin(), lines.end(), [&](const auto& l) { return l.verdict == v; }));
}

Reconciliation reconcile(const std::string& date, const std::vector<StatementRow>& statement,
                         const std::vector<RecordedPayment>& recorded) {
    Reconciliation r;
    r.date = date;
    // Accepted payments are what the statement must show; refused and reversed ones only
    // explain a row that OneWindow did not take.
    std::map<std::pair<std::string, std::string>, const RecordedPayment*> accepted, other;
    std::map<std::string, int> acceptedPerNotice;
    for (const auto& p : recorded) {
        auto key = std::make_pair(p.noticeNo, p.bankSerial);
        if (p.status == "accepted") {
            accepted[key] = &p;
            ++acceptedPerNotice[p.noticeNo];
            r.recordedTotalFen += p.amountFen;
        } else {
            other[key] = &p;
        }
    }
    std::set<std::pair<std::string, std::string>> seenRows, matchedRecorded;
    std::map<std::string, int> firstLineOfNotice;
    for (const auto& row : statement) {
        r.statementTotalFen += row.amountFen;
        ReconLine l;
        l.statement = row;
        const auto key = std::make_pair(row.noticeNo, row.bankSerial);
        auto rec = accepted.find(key);
        if (!seenRows.insert(key).second) {
            l.verdict = Verdict::Duplicate;
            l.detail = "the bank lists serial " + row.bankSerial + " of notice " + row.noticeNo +
                       " again (first on line " + std::to_string(firstLineOfNotice[row.noticeNo]) +
                       ")";
        } else if (rec != accepted.end()) {
            l.recorded = *rec->second;
            matchedRecorded.insert(key);
            if (rec->second->amountFen == row.amountFen &&
                rec->second->lateFeeFen == row.lateFeeFen) {
                l.verdict = Verdict::Matched;
            } else {
                l.verdict = Verdict::AmountMismatch;
                l.detail = "the bank has " + fenText(row.amountFen) + " (late fee " +
                           fenText(row.lateFeeFen) + "), OneWindow recorded " +
                           fenText(rec->second->amountFen) + " (late fee " +
                           fenText(rec->second->lateFeeFen) + ")";
            }
        } else if (acceptedPerNotice.count(row.noticeNo) || firstLineOfNotice.count(row.noticeNo)) {
            // The notice is paid already (by another serial): the bank took it twice.
            l.verdict = Verdict::Duplicate;
            l.detail = "notice " + row.noticeNo + " is paid twice: OneWindow took one payment";
            if (auto o = other.find(key); o != other.end()) {
                l.recorded = *o->second;
                l.detail += "; this one it " + o->second->status + ": " + o->second->reason;
            }
        } else {
            l.verdict = Verdict::MissingInHub;
            l.detail = "OneWindow has no accepted payment with this serial on " + date;
            if (auto o = other.find(key); o != other.end()) {
                l.recorded = *o->second;
                l.detail = "OneWindow " + o->second->status + " this payment" +
                           (o->second->reason.empty() ? "" : ": " + o->second->reason);
            }
        }
        firstLineOfNotice.try_emplace(row.noticeNo, row.line);
        r.lines.push_back(std::move(l));
    }
    for (const auto& [key, p] : accepted) {
        if (matchedRecorded.count(key)) continue;
        ReconLine l;
        l.verdict = Verdict::MissingInStatement;
        l.recorded = *p;
        l.detail = "OneWindow accepted this payment (terminal " + p->terminal + ", " + p->paidAt +
                   "); the bank's statement does not list it";
        r.lines.push_back(std::move(l));
    }
    return r;
}

std::string reconciliationCsv(const Reconciliation& r) {
    std::ostringstream o;
    o << "\xEF\xBB\xBF"
      << "verdict,notice_no,bank_serial,statement_line,statement_amount,statement_late_fee,"
         "recorded_amount,recorded_late_fee,recorded_status,channel,paid_at,detail\r\n";
    for (const auto& l : r.lines) {
        const auto& s = l.statement;
        const auto& p = l.recorded;
        o << toString(l.verdict) << "," << csvField(s ? s->noticeNo : p->noticeNo) << ","
          << csvField(s ? s->bankSerial : p->bankSerial) << ","
          << (s ? std::to_string(s->line) : "") << "," << (s ? fenText(s->amountFen) : "") << ","
          << (s ? fenText(s->lateFeeFen) : "") << "," << (p ? fenText(p->amountFen) : "") << ","
          << (p ? fenText(p->lateFeeFen) : "") << "," << (p ? p->status : "") << ","
          << csvField(s ? s->channel : p->channel) << "," << csvField(s ? s->paidAt : p->paidAt)
          << "," << csvField(l.detail) << "\r\n";
    }
    return o.str();
}

std::string reconciliationSummary(const Reconciliation& r) {
    std::ostringstream o;
    const int mismatches = static_cast<int>(r.lines.size()) - r.count(Verdict::Matched);
    o << "Reconciliation of " << r.date << ": " << r.count(Verdict::Matched) << " matched, "
      << mismatches << " mismatch(es)\n";
    for (auto v : {Verdict::MissingInHub, Verdict::MissingInStatement, Verdict::AmountMismatch,
                   Verdict::Duplicate})
        o << "  " << toString(v) << ": " << r.count(v) << "\n";
    o << "  statement total " << fenText(r.statementTotalFen) << " yuan, OneWindow accepted "
      << fenText(r.recordedTotalFen) << " yuan, difference "
      << fenText(r.statementTotalFen - r.recordedTotalFen) << "\n";
    for (const auto& l : r.lines) {
        if (l.verdict == Verdict::Matched) continue;
        const auto& s = l.statement;
        const auto& p = l.recorded;
        o << "  - " << toString(l.verdict) << " notice " << (s ? s->noticeNo : p->noticeNo)
          << " serial " << (s ? s->bankSerial : p->bankSerial);
        if (s) o << " (statement line " << s->line << ")";
        o << ": " << l.detail << "\n";
    }
    return o.str();
}

std::vector<store::SubmittedEvent> reconciliationEvents(const Reconciliation& r,
                                                        const std::string& statementSha256,
                                                        const std::string& nowRfc3339) {
    const std::string source = "onewindow://fees-reconcile";
    const std::string tag = statementSha256.substr(0, 16);
    std::vector<store::SubmittedEvent> out;
    auto add = [&](const std::string& type, const std::string& id, const std::string& subject,
                   json data) {
        json ce = {{"specversion", "1.0"},   {"id", id},
                   {"source", source},       {"type", type},
                   {"time", nowRfc3339},     {"datacontenttype", "application/json"},
                   {"data", std::move(data)}};
        if (!subject.empty()) ce["subject"] = subject;
        // Validated as any accepted event is, so the router reads it back.
        auto e = event::fromJson(std::move(ce));
        out.push_back({e.source, e.id, e.type, "command:fees-reconcile", event::toStructured(e)});
    };
    json counts = json::object();
    for (auto v : {Verdict::Matched, Verdict::MissingInHub, Verdict::MissingInStatement,
                   Verdict::AmountMismatch, Verdict::Duplicate})
        counts[toString(v)] = r.count(v);
    int n = 0;
    for (const auto& l : r.lines) {
        ++n;
        if (l.verdict == Verdict::Matched) continue;
        const auto& s = l.statement;
        const auto& p = l.recorded;
        json d = {{"date", r.date},
                  {"kind", toString(l.verdict)},
                  {"notice_no", s ? s->noticeNo : p->noticeNo},
                  {"bank_serial", s ? s->bankSerial : p->bankSerial},
                  {"detail", l.detail}};
        if (s) {
            d["statement_line"] = s->line;
            d["statement_amount_fen"] = s->amountFen;
            d["statement_late_fee_fen"] = s->lateFeeFen;
        }
        if (p) {
            d["recorded_amount_fen"] = p->amountFen;
            d["recorded_late_fee_fen"] = p->lateFeeFen;
            d["recorded_status"] = p->status;
        }
        add("gov.fee.reconciliation_mismatch",
            "recon-" + r.date + "-" + tag + "-" + std::to_string(n), d["notice_no"], d);
    }
    add("gov.fee.reconciled", "reconciled-" + r.date + "-" + tag, "",
        {{"date", r.date},
         {"counts", counts},
         {"statement_total_fen", r.statementTotalFen},
         {"recorded_total_fen", r.recordedTotalFen},
         {"statement_sha256", statementSha256}});
    return out;
}

} // namespace ow::app
