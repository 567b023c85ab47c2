#include "core/app/EventValidate.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "onewindow/sdk/catalog/EventCatalog.h"

namespace ow::app {
namespace {

namespace catalog = onewindow::sdk::catalog;

struct Candidate {
    std::size_t line = 0; ///< 1-based line of NDJSON, 0 for a single event or a batch element
    catalog::JsonValue event;
    std::string parseError; ///< not empty: the line is not JSON
};

std::vector<Candidate> split(const std::string& text) {
    std::vector<Candidate> out;
    try {
        catalog::JsonValue whole = catalog::parseJson(text);
        if (whole.kind == catalog::JsonValue::Kind::Array) {
            for (auto& e : whole.array)
                out.push_back({0, std::move(e), {}});
            return out;
        }
        out.push_back({0, std::move(whole), {}});
        return out;
    } catch (const catalog::JsonError&) {
        // Not one JSON text: NDJSON, one event per line.
    }
    std::istringstream in(text);
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        Candidate c;
        c.line = n;
        try {
            c.event = catalog::parseJson(line);
        } catch (const catalog::JsonError& e) {
            c.parseError = e.what();
        }
        out.push_back(std::move(c));
    }
    return out;
}

std::string attribute(const catalog::JsonValue& e, const char* name) {
    const catalog::JsonValue* v =
        e.kind == catalog::JsonValue::Kind::Object ? e.find(name) : nullptr;
    return v && v->kind == catalog::JsonValue::Kind::String ? v->string : std::string();
}

} // namespace

std::string defaultCatalogDir() {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path installed = exe.parent_path().parent_path() / "share/onewindow/catalog";
        if (fs::is_directory(installed / "schemas", ec)) return installed.string();
    }
    return OW_CATALOG_DIR;
}

int validateEvents(const std::string& text, const std::string& catalogDir, std::ostream& out) {
    const auto cat = catalog::EventCatalog::load(catalogDir);
    const auto events = split(text);
    if (events.empty()) {
        out << "no event in the input\n";
        return 1;
    }
    int invalid = 0, n = 0;
    for (const auto& c : events) {
        ++n;
        std::string who = "event " + std::to_string(n);
        if (c.line) who += " (line " + std::to_string(c.line) + ")";
        const auto problems = c.parseError.empty()
                                  ? cat.check(c.event)
                                  : std::vector<catalog::Problem>{{"", "json", c.parseError}};
        if (problems.empty()) continue;
        ++invalid;
        const std::string id = attribute(c.event, "id"), type = attribute(c.event, "type");
        if (!id.empty()) who += " id " + catalog::quoteJson(id);
        if (!type.empty()) who += " type " + type;
        for (const auto& p : problems)
            out << who << ": " << (p.pointer.empty() ? "/" : p.pointer) << ": " << p.rule << ": "
                << p.message << "\n";
    }
    out << n << " event(s), " << n - invalid << " valid, " << invalid << " invalid\n";
    return invalid;
}

int cmdEvent(int argc, char** argv) {
    auto usage = [](const std::string& msg) {
        std::cerr << "onewindow: " << msg << "\nRun 'onewindow --help' for usage.\n";
        return 2;
    };
    if (argc < 3 || std::string(argv[2]) != "validate")
        return usage("event needs: validate [--catalog DIR] FILE|-");
    std::string catalogDir, file;
    for (int i = 3; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--catalog") {
            if (i + 1 >= argc) return usage("--catalog needs a value");
            catalogDir = argv[++i];
        } else if (a != "-" && !a.empty() && a[0] == '-') {
            return usage("unknown option '" + a + "'");
        } else if (!file.empty()) {
            return usage("event validate takes one FILE (or - for standard input)");
        } else {
            file = a;
        }
    }
    if (file.empty()) return usage("event validate needs a FILE (or - for standard input)");
    if (catalogDir.empty()) catalogDir = defaultCatalogDir();
    std::stringstream text;
    if (file == "-") {
        text << std::cin.rdbuf();
    } else {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            std::cerr << "onewindow: cannot read " << file << "\n";
            return 1;
        }
        text << in.rdbuf();
    }
    return validateEvents(text.str(), catalogDir, std::cout) == 0 ? 0 : 1;
}

} // namespace ow::app
