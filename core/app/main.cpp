// onewindow: the hub binary. Subcommands: run, check, dlq, report, fees, plugin; see
// `onewindow --help`.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/SSLManager.h>

#include "core/app/AuditCommands.h"
#include "core/app/EventValidate.h"
#include "core/app/FeeReconcile.h"
#include "core/app/Hub.h"
#include "core/app/MonthlyReport.h"
#include "core/audit/OperatorActions.h"
#include "core/config/ConfigLoader.h"
#include "core/observability/Log.h"
#include "core/plugin/PluginHost.h"
#include "core/privacy/PersonalData.h"
#include "core/security/TokenAuth.h"
#include "core/store/Journal.h"
#include "core/store/PluginState.h"
#include "core/util/Clock.h"

namespace {

using ow::observability::Log;

constexpr const char* Usage = R"(onewindow - integration hub of an Administrative Service Center

Usage:
  onewindow run -c FILE [--data-dir DIR] [--listen HOST:PORT] [--accept-journal-loss]
      Run the hub. --data-dir and --listen override hub.data_dir and hub.listen,
      so several hubs can run side by side. SIGTERM or SIGINT stop it cleanly;
      SIGHUP reloads plugins, outputs, routes and source inputs from FILE (drain,
      then switch; a refused reload keeps the running configuration).
      A journal that lacks acknowledged events (a deleted or damaged WAL, a deleted
      journal.db) is refused; --accept-journal-loss starts anyway, logs the loss as
      an error and continues the sequence numbers after the last acknowledged one.
  onewindow check -c FILE
      Validate the configuration (and its includes); print every problem as
      file:line:column: message. Exit 0 if valid, 1 if not.
  onewindow dlq list -c FILE [--data-dir DIR] [--output NAME] [--limit N] [--json]
  onewindow dlq show ID -c FILE [--data-dir DIR] [--reveal --reason TEXT]
  onewindow dlq replay (ID | --all) -c FILE [--data-dir DIR] [--output NAME]
      Inspect and replay dead-lettered deliveries. Replay works whether or not the
      hub is running: a running hub picks replayed rows up within a second.
  onewindow report monthly --month YYYY-MM -c FILE [--data-dir DIR]
                   [--instance NAME] [--out DIR]
      The monthly statistics a processor keeps (the case ledger's: received,
      accepted, concluded, on time, overdue, returned, supplements, yellow and red
      alerts, average working days) as report-YYYY-MM.csv and .html in --out
      (default: the current folder). --instance is the processor output (default
      ledger). Works whether or not the hub is running.
  onewindow fees reconcile --date YYYY-MM-DD --statement FILE -c FILE
                   [--data-dir DIR] [--instance NAME] [--out DIR]
      Compare the bank's statement of a day (CSV with a header: notice_no,
      bank_serial, amount, late_fee, channel, paid_at; amounts in whole fen, or
      yuan with a decimal point) with the payments
      the fee book recorded: matched, missing on either side, amount mismatch,
      duplicate. Writes reconciliation-DATE.csv and .txt in --out (default: the
      current folder) and hands one gov.fee.reconciliation_mismatch per mismatch
      and a gov.fee.reconciled to the hub's journal, routed like any event (by a
      running hub within a second, else at its next start; a second run on the
      same statement raises nothing twice). --instance is the fee book's output
      (default: the one output running fees/book). Exits 3 when there are
      mismatches.
  onewindow dlq discard (ID | --all) --reason TEXT -c FILE [--data-dir DIR] [--output NAME]
      Remove dead letters for good (recorded in the audit trail with the reason).
  onewindow audit verify -c FILE [--data-dir DIR] [--public-key FILE]
      Recompute the audit trail's hash chain, check its signed checkpoints and that
      every journaled event has its record. Exit 0 if intact; 1 naming the first
      record at fault (modified, removed, inserted, reordered, or the log cut).
  onewindow audit export -c FILE --from TIME --to TIME [--data-dir DIR] [--out FILE]
      The records of [--from, --to) as JSON lines for the archive, personal data
      masked.
  onewindow event validate [--catalog DIR] FILE|-
      Check events against the center's event catalog (the JSON Schemas shipped
      with the SDK): one event, a JSON array, or NDJSON (one per line; - reads
      standard input). Prints each problem with the event, the JSON pointer at
      fault and the rule. Exit 0 if every event is valid, 1 if not.
  onewindow plugin inspect FILE
      Load a plugin library, check its ABI and toolchain like the hub does, and
      print its reference: name, version, components and each one's config keys.
  onewindow --version | --help

Exit codes: 0 success, 1 invalid configuration or failed command, 2 usage error,
3 a reconciliation found mismatches.
)";

struct Args {
    std::vector<std::string> positional;
    std::string config;
    std::optional<std::string> dataDir, listen, output, month, instance, out, date, statement;
    std::optional<std::string> publicKey, from, to, reason;
    int limit = 100;
    bool all = false, json = false, reveal = false, acceptJournalLoss = false;
};

[[noreturn]] void usageError(const std::string& msg) {
    std::cerr << "onewindow: " << msg << "\nRun 'onewindow --help' for usage.\n";
    std::exit(2);
}

Args parseArgs(int argc, char** argv, int from) {
    Args a;
    for (int i = from; i < argc; ++i) {
        std::string s = argv[i];
        auto value = [&](const char* name) -> std::string {
            if (i + 1 >= argc) usageError(std::string(name) + " needs a value");
            return argv[++i];
        };
        if (s == "-c" || s == "--config")
            a.config = value("-c");
        else if (s == "--data-dir")
            a.dataDir = value("--data-dir");
        else if (s == "--listen")
            a.listen = value("--listen");
        else if (s == "--output")
            a.output = value("--output");
        else if (s == "--month")
            a.month = value("--month");
        else if (s == "--instance")
            a.instance = value("--instance");
        else if (s == "--out")
            a.out = value("--out");
        else if (s == "--date")
            a.date = value("--date");
        else if (s == "--statement")
            a.statement = value("--statement");
        else if (s == "--public-key")
            a.publicKey = value("--public-key");
        else if (s == "--from")
            a.from = value("--from");
        else if (s == "--to")
            a.to = value("--to");
        else if (s == "--reason")
            a.reason = value("--reason");
        else if (s == "--limit") {
            std::string v = value("--limit");
            try {
                a.limit = std::stoi(v);
            } catch (...) {
                usageError("--limit must be a number, got '" + v + "'");
            }
        } else if (s == "--all")
            a.all = true;
        else if (s == "--json")
            a.json = true;
        else if (s == "--reveal")
            a.reveal = true;
        else if (s == "--accept-journal-loss")
            a.acceptJournalLoss = true;
        else if (!s.empty() && s[0] == '-')
            usageError("unknown option '" + s + "'");
        else
            a.positional.push_back(s);
    }
    return a;
}

// Loads and validates, with the command line's overrides; prints problems to stderr (or, with
// `problems`, appends them there). nullopt when invalid.
// `offline`: the command only reads the data dir (dlq, report, fees), so a secret the
// hub needs (${NAME} unset in this shell) does not stop it (it stands in as a placeholder),
// nor do plugin folders, TLS and token files missing on this machine.
// `warnings`, when given, receives what is valid but probably not meant.
std::optional<ow::config::HubConfig>
loadConfig(const Args& a, std::vector<std::string>* problems = nullptr, bool offline = false,
           std::vector<ow::config::ConfigProblem>* warnings = nullptr) {
    if (a.config.empty()) usageError("missing -c FILE");
    ow::config::EnvLookup standIn;
    if (offline)
        standIn = [](const std::string& name) -> std::optional<std::string> {
            return "unset-for-this-command:" + name;
        };
    auto result = ow::config::loadConfigFile(a.config, ow::config::processEnvironment(), standIn,
                                             /*checkFiles=*/!offline);
    for (const auto& p : result.problems) {
        if (problems)
            problems->push_back(ow::config::formatProblem(p));
        else
            std::cerr << ow::config::formatProblem(p) << "\n";
    }
    if (!result.ok()) {
        if (!problems) std::cerr << result.problems.size() << " problem(s) in " << a.config << "\n";
        return std::nullopt;
    }
    if (warnings) *warnings = std::move(result.warnings);
    auto cfg = std::move(result.config);
    if (a.dataDir) cfg.hub.dataDir = *a.dataDir;
    if (a.listen) {
        const std::string& l = *a.listen;
        auto colon = l.rfind(':');
        int port = -1;
        if (colon != std::string::npos) {
            try {
                std::size_t used = 0;
                port = std::stoi(l.substr(colon + 1), &used);
                if (used != l.size() - colon - 1) port = -1;
            } catch (...) {
                port = -1;
            }
        }
        if (port < 0 || port > 65535 || colon == 0)
            usageError("--listen must be HOST:PORT, got '" + l + "'");
        std::string host = l.substr(0, colon);
        if (host.size() > 2 && host.front() == '[' && host.back() == ']')
            host = host.substr(1, host.size() - 2);
        cfg.hub.listenHost = host;
        cfg.hub.listenPort = port;
    }
    return cfg;
}

// SIGHUP: read the configuration file again and apply what can change while running.
void reload(ow::app::Hub& hub, const Args& a) {
    Log::info("hub", "reloading the configuration", {{"file", a.config}});
    std::vector<std::string> problems;
    std::optional<ow::config::HubConfig> next;
    try {
        next = loadConfig(a, &problems);
    } catch (const std::exception& e) {
        problems.emplace_back(e.what());
    }
    std::string error;
    if (!next) {
        for (const auto& p : problems)
            error += (error.empty() ? "" : "; ") + p;
    } else {
        try {
            error = hub.reload(std::move(*next));
        } catch (const std::exception& e) {
            // A seam: a reload must never take the running hub down with it.
            error = std::string("reload failed: ") + e.what();
        }
    }
    if (error.empty()) return;
    if (!next) hub.recordRefusedReload("", error);
    Log::error("hub", "configuration not reloaded; the running one stays", {{"reason", error}});
}

int cmdRun(const Args& a) {
    std::vector<ow::config::ConfigProblem> warnings;
    auto cfg = loadConfig(a, nullptr, false, &warnings);
    if (!cfg) return 1;
    ow::observability::Level level;
    if (ow::observability::parseLevel(cfg->hub.logLevel, level)) Log::setLevel(level);
    for (const auto& w : warnings)
        Log::warn("config", w.message, {{"at", ow::config::formatLocation(w.where)}});

    // Block the stop signals in every thread; the main thread waits for them below.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    // A file-size limit (ulimit -f, quotas) must become a write error the journal answers with
    // 503, not a signal that kills the hub.
    std::signal(SIGXFSZ, SIG_IGN);

    Poco::Net::initializeSSL();
    int rc = 0;
    {
        ow::app::Hub hub(*cfg);
        hub.acceptJournalLoss(a.acceptJournalLoss);
        try {
            hub.start();
        } catch (const std::exception& e) {
            // Poco's what() is only the exception's class name ("Net Exception").
            const auto* poco = dynamic_cast<const Poco::Exception*>(&e);
            std::string why = poco ? poco->displayText() : e.what();
            Log::error("hub", "cannot start", {{"error", why}});
            std::cerr << "onewindow: cannot start: " << why << "\n";
            hub.stop();
            Poco::Net::uninitializeSSL();
            return 1;
        }
        int sig = 0;
        for (;;) {
            sigwait(&set, &sig);
            if (sig != SIGHUP) break;
            reload(hub, a);
        }
        Log::info("hub", "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
        // Whatever receivers, plugins or the disk do, the process ends: the work in flight
        // gets shutdown_timeout_ms, the last commits and the plugins' stop() a margin after
        // it. What is not finished then stays pending in the journal (at-least-once).
        std::thread([limitMs = cfg->hub.shutdownTimeoutMs + ow::app::kStopMarginMs] {
            std::this_thread::sleep_for(std::chrono::milliseconds(limitMs));
            Log::error("hub",
                       "stopping took too long; exiting now, unfinished deliveries stay "
                       "pending in the journal",
                       {{"limit_ms", limitMs}});
            std::_Exit(1);
        }).detach();
        try {
            hub.stop();
        } catch (const std::exception& e) {
            Log::error("hub", "error while stopping", {{"error", e.what()}});
            rc = 1;
        }
        Log::info("hub", "stopped");
    }
    Poco::Net::uninitializeSSL();
    return rc;
}

int cmdCheck(const Args& a) {
    std::vector<ow::config::ConfigProblem> warnings;
    auto cfg = loadConfig(a, nullptr, false, &warnings);
    if (!cfg) return 1;
    for (const auto& w : warnings) {
        const std::string at = ow::config::formatLocation(w.where);
        std::cerr << (at.empty() ? "" : at + ": ") << "warning: " << w.message << "\n";
    }
    // Plugins are loaded (not started) so each sink's config meets its component's spec.
    std::vector<ow::config::ConfigProblem> problems;
    ow::observability::Metrics metrics;
    ow::util::SystemClock clock;
    ow::plugin::PluginHost host(*cfg, problems, metrics, clock, /*createInstances=*/false);
    for (const auto& p : problems)
        std::cerr << ow::config::formatProblem(p) << "\n";
    if (!problems.empty()) {
        std::cerr << problems.size() << " problem(s) in " << a.config << "\n";
        return 1;
    }
    std::cout << a.config << ": OK (" << cfg->inputs.size() << " inputs, " << cfg->outputs.size()
              << " outputs, " << cfg->routes.size() << " routes, " << cfg->files.size()
              << " files)\n";
    return 0;
}

// Personal data in what `dlq` prints is masked unless revealed (with a reason, audited).
nlohmann::json deadJson(const ow::store::DeadLetter& d, bool withBody,
                        const ow::privacy::Masker& masker, bool reveal = false) {
    const auto t = reveal ? ow::privacy::Treatment::Keep : ow::privacy::Treatment::Mask;
    nlohmann::json j = {
        {"id", d.row.id},
        {"output", d.row.output},
        {"route", d.row.route},
        {"event_source", d.eventSource},
        {"event_id", d.eventId},
        {"event_type", d.eventType},
        {"input", d.row.from.input},
        {"principal", d.row.from.client},
        {"attempts", d.row.attempts},
        {"dead_at", ow::util::formatRfc3339Ms(d.deadAtMs)},
        {"last_error", reveal ? d.row.lastError : ow::privacy::maskText(d.row.lastError)}};
    if (withBody) {
        j["event"] = nlohmann::json::parse(*d.row.body, nullptr, false);
        masker.apply(j["event"], t);
    }
    return j;
}

// The journal file of a configured data dir, for the commands that read it; nullopt (with
// the reason on stderr) when the hub never ran there.
std::optional<std::string> existingJournal(const ow::config::HubConfig& cfg) {
    const std::string file = ow::store::Journal::fileName(cfg.hub.dataDir);
    if (std::filesystem::exists(file)) return file;
    std::cerr << "onewindow: no journal in " << cfg.hub.dataDir
              << " (has the hub run with this data dir?)\n";
    return std::nullopt;
}

void writeFile(const std::filesystem::path& p, const std::string& text) {
    std::ofstream f(p, std::ios::binary);
    f << text;
    if (!f) throw std::runtime_error("cannot write " + p.string());
}

int cmdDlq(const Args& a) {
    if (a.positional.size() < 2) usageError("dlq needs list, show or replay");
    auto cfg = loadConfig(a, nullptr, /*offline=*/true);
    if (!cfg) return 1;
    if (!existingJournal(*cfg)) return 1;
    ow::store::Journal journal(cfg->hub.dataDir, cfg->hub.journal.synchronous);
    const std::string& verb = a.positional[1];
    const ow::privacy::Masker masker(ow::privacy::declarationsOf(cfg->personalData));
    if (verb == "list") {
        auto rows = journal.deadLetters(a.output.value_or(""), a.limit);
        if (a.json) {
            nlohmann::json arr = nlohmann::json::array();
            for (const auto& d : rows)
                arr.push_back(deadJson(d, false, masker));
            std::cout << arr.dump(2) << "\n";
        } else {
            std::printf("%-8s %-20s %-24s %-20s %-8s %s\n", "ID", "OUTPUT", "EVENT", "FROM",
                        "ATTEMPTS", "LAST ERROR");
            for (const auto& d : rows)
                std::printf("%-8lld %-20s %-24s %-20s %-8d %s\n", static_cast<long long>(d.row.id),
                            d.row.output.c_str(), ow::privacy::maskText(d.eventId).c_str(),
                            d.row.from.client.c_str(), d.row.attempts,
                            ow::privacy::maskText(d.row.lastError).c_str());
            std::printf("%zu dead letter(s)\n", rows.size());
        }
        return 0;
    }
    auto parseId = [&]() -> std::int64_t {
        if (a.positional.size() < 3) usageError("dlq " + verb + " needs an ID");
        try {
            return std::stoll(a.positional[2]);
        } catch (...) {
            usageError("ID must be a number, got '" + a.positional[2] + "'");
        }
    };
    if (verb == "show") {
        const std::int64_t id = parseId();
        if (a.reveal && (!a.reason || a.reason->empty()))
            usageError("dlq show --reveal needs --reason TEXT (it is recorded in the audit trail)");
        auto d = journal.deadLetter(id);
        if (!d) {
            std::cerr << "onewindow: no dead letter with id " << a.positional[2] << "\n";
            return 1;
        }
        if (a.reveal) {
            // Who saw whose personal data, and why: recorded before anything is shown.
            journal.begin();
            try {
                ow::app::recordOperatorAction(
                    journal.database(), *cfg,
                    ow::audit::operatorAction("reveal", {{"dead_letter", id},
                                                         {"event_id", d->eventId},
                                                         {"event_source", d->eventSource},
                                                         {"reason", *a.reason}}),
                    ow::util::SystemClock().nowMs());
                journal.commit();
            } catch (...) {
                journal.rollback();
                throw;
            }
        }
        std::cout << deadJson(*d, true, masker, a.reveal).dump(2) << "\n";
        return 0;
    }
    if (verb == "replay" || verb == "discard") {
        std::int64_t id = 0;
        if (!a.all) id = parseId();
        if (verb == "discard" && (!a.reason || a.reason->empty()))
            usageError("dlq discard needs --reason TEXT (it is recorded in the audit trail)");
        // The change and its audit record in one transaction: never one without the other.
        journal.begin();
        int n = 0;
        try {
            n = verb == "replay" ? journal.requestReplay(id, a.output.value_or(""))
                                 : journal.requestDiscard(id, a.output.value_or(""));
            if (n > 0) {
                nlohmann::json action = {{"rows", n}};
                if (id) action["dead_letter"] = id;
                if (a.output) action["output"] = *a.output;
                if (a.reason) action["reason"] = *a.reason;
                ow::app::recordOperatorAction(journal.database(), *cfg,
                                              ow::audit::operatorAction("dlq-" + verb, action),
                                              ow::util::SystemClock().nowMs());
            }
            journal.commit();
        } catch (...) {
            journal.rollback();
            throw;
        }
        if (n == 0 && !a.all) {
            std::cerr << "onewindow: no dead letter with id " << id << "\n";
            return 1;
        }
        std::cout << n << " dead letter(s) "
                  << (verb == "replay" ? "queued for replay" : "discarded") << "\n";
        return 0;
    }
    usageError("unknown dlq command '" + verb + "'");
}

int cmdAudit(const Args& a) {
    if (a.positional.size() != 2 || (a.positional[1] != "verify" && a.positional[1] != "export"))
        usageError("audit needs verify or export");
    auto cfg = loadConfig(a, nullptr, /*offline=*/true);
    if (!cfg) return 1;
    if (!existingJournal(*cfg)) return 1;
    if (a.positional[1] == "verify")
        return ow::app::auditVerify(*cfg, a.publicKey, std::cout, std::cerr);
    if (!a.from || !a.to) usageError("audit export needs --from TIME --to TIME (RFC 3339)");
    const auto from = ow::util::parseRfc3339Ms(*a.from);
    const auto to = ow::util::parseRfc3339Ms(*a.to);
    if (!from) usageError("--from must be an RFC 3339 time, got '" + *a.from + "'");
    if (!to) usageError("--to must be an RFC 3339 time, got '" + *a.to + "'");
    std::int64_t n = 0;
    if (a.out) {
        std::ofstream f(*a.out, std::ios::binary);
        n = ow::app::auditExport(*cfg, *from, *to, f);
        if (!f.flush()) throw std::runtime_error("cannot write " + *a.out);
    } else {
        n = ow::app::auditExport(*cfg, *from, *to, std::cout);
    }
    std::cerr << n << " audit record(s) exported\n";
    return 0;
}

int cmdReport(const Args& a) {
    if (a.positional.size() != 2 || a.positional[1] != "monthly")
        usageError("report needs: monthly --month YYYY-MM");
    if (!a.month) usageError("report monthly needs --month YYYY-MM");
    const std::string& m = *a.month;
    if (m.size() != 7 || m[4] != '-' || !std::isdigit(static_cast<unsigned char>(m[0])) ||
        std::count_if(m.begin(), m.end(),
                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) != 6 ||
        m.substr(5) < "01" || m.substr(5) > "12")
        usageError("--month must be YYYY-MM, got '" + m + "'");
    auto cfg = loadConfig(a, nullptr, /*offline=*/true);
    if (!cfg) return 1;
    const std::string instance = a.instance.value_or("ledger");
    const auto file = existingJournal(*cfg);
    if (!file) return 1;
    ow::store::Database db(*file, /*readOnly=*/true);
    ow::store::PluginState state(db);
    const auto report = ow::app::readMonthlyReport(state, instance, m);
    const std::filesystem::path dir = a.out.value_or(".");
    std::filesystem::create_directories(dir);
    const auto csv = dir / ("report-" + m + ".csv");
    const auto html = dir / ("report-" + m + ".html");
    writeFile(csv, ow::app::reportCsv(report));
    writeFile(html, ow::app::reportHtml(report));
    std::cout << ow::app::reportSummary(report) << report.rows.size() << " row(s) for " << m << ": "
              << csv.string() << ", " << html.string() << "\n";
    return 0;
}

int cmdFees(const Args& a) {
    if (a.positional.size() != 2 || a.positional[1] != "reconcile")
        usageError("fees needs: reconcile --date YYYY-MM-DD --statement FILE");
    if (!a.date) usageError("fees reconcile needs --date YYYY-MM-DD");
    if (!a.statement) usageError("fees reconcile needs --statement FILE");
    const std::string& d = *a.date;
    const bool dateOk =
        d.size() == 10 && d[4] == '-' && d[7] == '-' &&
        std::all_of(
            d.begin(), d.end(),
            [](char c) { return c == '-' || std::isdigit(static_cast<unsigned char>(c)); }) &&
        d.substr(5, 2) >= "01" && d.substr(5, 2) <= "12" && d.substr(8) >= "01" &&
        d.substr(8) <= "31";
    if (!dateOk) usageError("--date must be YYYY-MM-DD, got '" + d + "'");
    auto cfg = loadConfig(a, nullptr, /*offline=*/true);
    if (!cfg) return 1;
    std::string instance;
    if (a.instance) {
        instance = *a.instance;
    } else {
        for (const auto& o : cfg->outputs)
            if (o.kind == ow::config::OutputSpec::Kind::Processor && o.processor == "fees/book") {
                if (!instance.empty())
                    usageError("several outputs run fees/book; name one with --instance");
                instance = o.name;
            }
        if (instance.empty()) {
            std::cerr << "onewindow: no output of " << a.config
                      << " runs the fee book (processor: fees/book); name it with --instance\n";
            return 1;
        }
    }
    std::ifstream in(*a.statement, std::ios::binary);
    if (!in) {
        std::cerr << "onewindow: cannot read the statement " << *a.statement << "\n";
        return 1;
    }
    in.seekg(0, std::ios::end);
    if (in.tellg() > 256LL * 1024 * 1024) {
        std::cerr << "onewindow: " << *a.statement << " is larger than 256 MiB\n";
        return 1;
    }
    in.seekg(0);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<ow::app::StatementRow> rows;
    try {
        rows = ow::app::parseStatement(text, *a.statement);
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\nonewindow: the statement was not reconciled\n";
        return 1;
    }
    const auto file = existingJournal(*cfg);
    if (!file) return 1;
    std::vector<ow::app::RecordedPayment> recorded;
    {
        ow::store::Database db(*file, /*readOnly=*/true);
        ow::store::PluginState state(db);
        recorded = ow::app::readRecordedPayments(state, instance, d);
    }
    const auto result = ow::app::reconcile(d, rows, recorded);
    const std::filesystem::path dir = a.out.value_or(".");
    std::filesystem::create_directories(dir);
    const auto csv = dir / ("reconciliation-" + d + ".csv");
    const auto txt = dir / ("reconciliation-" + d + ".txt");
    const std::string summary = ow::app::reconciliationSummary(result);
    writeFile(csv, ow::app::reconciliationCsv(result));
    writeFile(txt, summary);

    ow::util::SystemClock clock;
    const auto events = ow::app::reconciliationEvents(result, ow::security::sha256Hex(text),
                                                      ow::util::formatRfc3339Ms(clock.nowMs()));
    ow::store::Journal journal(cfg->hub.dataDir, cfg->hub.journal.synchronous);
    journal.submit(events, clock.nowMs());
    std::cout << summary << "Report: " << csv.string() << ", " << txt.string() << "\n"
              << events.size() - 1
              << " mismatch alert(s) and the day's summary handed to the hub's journal\n";
    return result.count(ow::app::Verdict::Matched) == static_cast<int>(result.lines.size()) ? 0 : 3;
}

int cmdPlugin(int argc, char** argv) {
    if (argc < 3 || std::string(argv[2]) != "inspect") usageError("plugin needs: inspect FILE");
    if (argc != 4) usageError("plugin inspect needs exactly one FILE");
    auto lib = ow::plugin::PluginLibrary::load(std::filesystem::absolute(argv[3]).string());
    std::cout << ow::plugin::describePlugin(*lib);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) usageError("missing command");
    std::string cmd = argv[1];
    try {
        bool help = false;
        for (int i = 1; i < argc; ++i)
            help = help || std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h";
        if (help || cmd == "help") {
            std::cout << Usage;
            return 0;
        }
        if (cmd == "--version" || cmd == "version") {
            std::cout << "onewindow " << OW_VERSION << "\n";
            return 0;
        }
        if (cmd == "plugin") return cmdPlugin(argc, argv);
        if (cmd == "event") return ow::app::cmdEvent(argc, argv);
        Args a = parseArgs(
            argc, argv, cmd == "dlq" || cmd == "report" || cmd == "fees" || cmd == "audit" ? 1 : 2);
        if (cmd == "run") return cmdRun(a);
        if (cmd == "check") return cmdCheck(a);
        if (cmd == "dlq") return cmdDlq(a);
        if (cmd == "report") return cmdReport(a);
        if (cmd == "fees") return cmdFees(a);
        if (cmd == "audit") return cmdAudit(a);
        usageError("unknown command '" + cmd + "'");
    } catch (const Poco::Exception& e) {
        std::cerr << "onewindow: " << e.displayText() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "onewindow: " << e.what() << "\n";
        return 1;
    }
}
