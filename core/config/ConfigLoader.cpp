#include "core/config/ConfigLoader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <Poco/Exception.h>
#include <Poco/URI.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "core/audit/AuditCrypto.h"
#include "core/config/EnvSubstitution.h"
#include "core/config/Numbers.h"
#include "core/config/Suggest.h"
#include "core/routing/Glob.h"
#include "core/security/AllowList.h"
#include "core/security/TokenAuth.h"
#include "core/security/WebhookSignature.h"
#include "core/util/Clock.h"
#include "core/util/IpAddress.h"

namespace ow::config {

namespace {

namespace fs = std::filesystem;

// Operator input still gets caps: yaml-cpp itself only stops recursion at depth 500 and
// expands nothing, so these keep a hostile or broken file from costing time or stack.
constexpr std::uintmax_t kMaxFileBytes = 1u << 20;
constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxFiles = 256;
constexpr std::size_t kMaxTokenFileBytes = 64 * 1024;
// A bearer token anyone can guess is no authentication: shorter ones are refused at load.
constexpr std::size_t kMinTokenLength = 16;
constexpr std::int64_t kDay = 24LL * 3600 * 1000;

struct FileCtx {
    std::string display; ///< how messages name the file
    fs::path abs;        ///< absolute and normalized: identity for cycle detection
    fs::path dir;        ///< absolute folder that relative paths resolve against
    fs::path displayDir; ///< folder of `display`, so includes are named the way they were reached
    bool isMain = false;
};

/// A scalar after ${ENV} substitution; `raw` is the text as written in the file, and is what
/// messages quote, so a secret taken from the environment never reaches a message.
struct Value {
    std::string text;
    std::string raw;
    SourceLocation where;
};

struct TooDeep {
    YAML::Mark mark;
};
struct SecondDocument {
    YAML::Mark mark;
};

/// First pass over the parser's events: refuses aliases (a tree walk over shared or
/// self-containing nodes can explode or never end) and nesting deeper than kMaxDepth before
/// any tree is built.
class StructureScan : public YAML::EventHandler {
public:
    int aliases = 0;
    YAML::Mark firstAlias = YAML::Mark::null_mark();

    void OnDocumentStart(const YAML::Mark& mark) override {
        if (++documents_ > 1) throw SecondDocument{mark};
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
        if (aliases++ == 0) firstAlias = mark;
    }
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        enter(mark);
    }
    void OnSequenceEnd() override { --depth_; }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        enter(mark);
    }
    void OnMapEnd() override { --depth_; }

private:
    void enter(const YAML::Mark& mark) {
        if (++depth_ > kMaxDepth) throw TooDeep{mark};
    }
    int depth_ = 0;
    int documents_ = 0;
};

std::string quote(std::string_view s) {
    constexpr std::size_t kMax = 60;
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    if (s.size() > kMax) out += "...";
    return out + "\"";
}

std::string kindOf(const YAML::Node& n) {
    switch (n.Type()) {
    case YAML::NodeType::Map:
        return "a map";
    case YAML::NodeType::Sequence:
        return "a list";
    case YAML::NodeType::Null:
        return "nothing";
    case YAML::NodeType::Scalar:
        return quote(n.Scalar());
    default:
        return "nothing";
    }
}

bool matchesChars(std::string_view s, std::string_view extra, bool allowUpper = false) {
    if (s.empty()) return false;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        (allowUpper && c >= 'A' && c <= 'Z') ||
                        extra.find(ch) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

/// CloudEvents attribute names are lower-case ASCII letters and digits.
bool isAttributeName(std::string_view s) {
    return matchesChars(s, "");
}

bool hasSpaceOrControl(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c <= 0x20 || c == 0x7f;
    });
}

std::string lower(std::string s) {
    for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// Only '*' is special, matching any run of characters.
bool globMatch(std::string_view pattern, std::string_view name) {
    std::size_t p = 0, n = 0, starP = std::string_view::npos, starN = 0;
    while (n < name.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            starP = p++;
            starN = n;
        } else if (p < pattern.size() && pattern[p] == name[n]) {
            ++p;
            ++n;
        } else if (starP != std::string_view::npos) {
            p = starP + 1;
            n = ++starN;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*')
        ++p;
    return p == pattern.size();
}

/// Reads at most kMaxFileBytes (or `limit`) of a regular file; on failure returns nullopt and
/// says why. The file is opened without blocking and checked before anything is read: a FIFO
/// (or a device) named by mistake or on purpose would otherwise block `check` and `run`.
std::optional<std::string> readLimited(const fs::path& path, std::uintmax_t limit,
                                       std::string& why) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        why = std::strerror(errno);
        return std::nullopt;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        why = S_ISDIR(st.st_mode) ? "it is a directory"
                                  : "it is not a regular file (a FIFO, socket or device)";
        ::close(fd);
        return std::nullopt;
    }
    std::string text;
    // Read one byte past the limit rather than trusting the size from stat: the file may be
    // still growing.
    text.resize(static_cast<std::size_t>(limit) + 1);
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            why = std::strerror(errno);
            ::close(fd);
            return std::nullopt;
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text.resize(got);
    if (text.size() > limit) {
        why = "file is larger than the limit of " + std::to_string(limit) + " bytes (" +
              std::to_string(st.st_size) + " bytes)";
        return std::nullopt;
    }
    return text;
}

class Loader {
public:
    explicit Loader(const EnvLookup& env, const EnvLookup& unsetStandIn = {},
                    bool checkFiles = true)
        : env_(env), unsetStandIn_(unsetStandIn), checkFiles_(checkFiles) {}

    LoadResult loadFile(const std::string& path) {
        FileCtx f = makeCtx(path, fs::path(path).parent_path(), path, true);
        std::string why;
        auto text = readLimited(f.abs, kMaxFileBytes, why);
        if (!text) {
            problem(fileOnly(path), "cannot read configuration file: " + why);
            return finish(f);
        }
        process(*text, f);
        return finish(f);
    }

    LoadResult loadText(const std::string& text, const std::string& fileName,
                        const std::string& baseDir) {
        FileCtx f = makeCtx(fileName, baseDir, (fs::path(baseDir) / fileName).string(), true);
        f.dir = absolute(baseDir);
        f.displayDir = baseDir;
        if (text.size() > kMaxFileBytes) {
            problem(fileOnly(fileName), "file is larger than the limit of " +
                                            std::to_string(kMaxFileBytes) + " bytes (" +
                                            std::to_string(text.size()) + " bytes)");
            return finish(f);
        }
        process(text, f);
        return finish(f);
    }

private:
    static fs::path absolute(const fs::path& p) {
        std::error_code ec;
        fs::path a = fs::absolute(p.empty() ? fs::path(".") : p, ec);
        return (ec ? p : a).lexically_normal();
    }

    static FileCtx makeCtx(const std::string& display, const fs::path& displayDir,
                           const fs::path& file, bool isMain) {
        FileCtx f;
        f.display = display;
        f.abs = absolute(file);
        f.dir = f.abs.parent_path();
        f.displayDir = displayDir;
        f.isMain = isMain;
        return f;
    }

    LoadResult finish(const FileCtx& main) {
        if (!dataDirSet_)
            config_.hub.dataDir = (main.dir / config_.hub.dataDir).lexically_normal().string();
        checkRouteTargets();
        checkQueryTargets();
        checkBrokerReferences();
        checkPluginReferences();
        checkPrincipalReferences();
        warnOpenInputs();
        warnBroadcastOutputs();

        // Problems are found section by section and some only after every file is read;
        // sorting restores file order so operators can fix them top to bottom.
        std::map<std::string, std::size_t> order;
        for (std::size_t i = 0; i < displays_.size(); ++i)
            order.emplace(displays_[i], i + 1);
        auto key = [&](const ConfigProblem& p) {
            auto it = order.find(p.where.file);
            return std::tuple(it == order.end() ? 0 : it->second, p.where.line, p.where.column);
        };
        auto inFileOrder = [&](std::vector<ConfigProblem>& v) {
            std::stable_sort(
                v.begin(), v.end(),
                [&](const ConfigProblem& a, const ConfigProblem& b) { return key(a) < key(b); });
        };
        inFileOrder(problems_);
        inFileOrder(warnings_);
        config_.digest = audit::toHex(audit::digest(audit::HashAlgorithm::Sha256, loaded_));
        LoadResult r;
        r.config = std::move(config_);
        r.problems = std::move(problems_);
        r.warnings = std::move(warnings_);
        return r;
    }

    // ---- locations and problems --------------------------------------------------------

    SourceLocation at(const YAML::Node& n) const {
        SourceLocation loc{cur_->display, 0, 0};
        if (n.IsDefined()) {
            const YAML::Mark m = n.Mark();
            if (!m.is_null()) {
                loc.line = m.line + 1;
                loc.column = m.column + 1;
            }
        }
        return loc;
    }

    SourceLocation at(const YAML::Mark& m) const {
        if (m.is_null()) return {cur_->display, 0, 0};
        return {cur_->display, m.line + 1, m.column + 1};
    }

    /// An empty value's mark is wherever the next token starts, often the next line; point
    /// at its key instead. A missing value has no mark at all; point at the map lacking it.
    SourceLocation at(const YAML::Node& n, const YAML::Node& parent) const {
        if (n.IsDefined() && !n.IsNull()) {
            SourceLocation loc = at(n);
            if (loc.line > 0) return loc;
        }
        if (n.IsDefined() && parent.IsMap()) {
            for (const auto& kv : parent)
                if (kv.second.is(n)) return at(kv.first);
        }
        return at(parent);
    }

    void problem(SourceLocation where, std::string message) {
        ConfigProblem p;
        p.where = std::move(where);
        p.message = std::move(message);
        problems_.push_back(std::move(p));
    }

    void warn(SourceLocation where, std::string message) {
        ConfigProblem p;
        p.where = std::move(where);
        p.message = std::move(message);
        warnings_.push_back(std::move(p));
    }

    // A whole-file location, built field by field (GCC 12 at -O2 falsely warns "may be used
    // uninitialized" about {{file, 0, 0}, ...}).
    static SourceLocation fileOnly(const std::string& file) {
        SourceLocation loc;
        loc.file = file;
        return loc;
    }

    static std::string where(const SourceLocation& l) {
        return l.line > 0 ? l.file + ":" + std::to_string(l.line) + ":" + std::to_string(l.column)
                          : l.file;
    }

    // ---- file processing ---------------------------------------------------------------

    void process(const std::string& text, const FileCtx& f) {
        const FileCtx* saved = cur_;
        cur_ = &f;
        displays_.push_back(f.display);
        config_.files.push_back(f.abs.string());
        loaded_ += f.abs.string() + "\n" + std::to_string(text.size()) + "\n" + text;
        stack_.push_back(&f);
        if (auto root = parse(text)) walkDocument(*root);
        stack_.pop_back();
        cur_ = saved;
    }

    std::optional<YAML::Node> parse(const std::string& text) {
        StructureScan scan;
        try {
            std::istringstream in(text);
            YAML::Parser parser(in);
            while (parser.HandleNextDocument(scan)) {
            }
        } catch (const TooDeep& e) {
            problem(at(e.mark),
                    "nesting deeper than " + std::to_string(kMaxDepth) + " levels is not allowed");
            return std::nullopt;
        } catch (const SecondDocument& e) {
            problem(at(e.mark), "only one YAML document is allowed per file");
            return std::nullopt;
        } catch (const YAML::Exception& e) {
            problem(at(e.mark), e.msg);
            return std::nullopt;
        }
        if (scan.aliases > 0) {
            problem(at(scan.firstAlias),
                    "YAML aliases ('*name') are not supported; write the value out (" +
                        std::to_string(scan.aliases) + " alias" + (scan.aliases > 1 ? "es" : "") +
                        " in this file)");
            return std::nullopt;
        }
        try {
            return YAML::Load(text);
        } catch (const YAML::Exception& e) {
            problem(at(e.mark), e.msg);
        } catch (const std::exception& e) {
            problem({cur_->display, 0, 0}, std::string("cannot parse: ") + e.what());
        }
        return std::nullopt;
    }

    void walkDocument(const YAML::Node& root) {
        if (!root.IsDefined() || root.IsNull()) return;
        if (!root.IsMap()) {
            // Not quoted: a file that is not configuration at all (a password file included
            // by mistake) must not end up in the errors, the terminal or the log.
            problem(at(root), "the configuration must be a map of sections (" +
                                  std::string(cur_->isMain ? "hub, " : "") +
                                  "include, inputs, outputs, routes), got " +
                                  (root.IsSequence() ? "a list"
                                                     : "a single text value; is this a "
                                                       "configuration file?"));
            return;
        }
        static const std::vector<std::string> mainKeys = {"hub",     "include", "inputs",
                                                          "brokers", "plugins", "outputs",
                                                          "routes",  "queries", "personal_data"};
        static const std::vector<std::string> includedKeys = {"include", "inputs",       "brokers",
                                                              "plugins", "outputs",      "routes",
                                                              "queries", "personal_data"};
        // A map without one section, or anything close to one, is no configuration at all (a
        // password file whose lines read as YAML keys): said once, without quoting any of it.
        if (root.size() > 0 && std::none_of(root.begin(), root.end(), [](const auto& kv) {
                if (!kv.first.IsScalar()) return false;
                const std::string& key = kv.first.Scalar();
                return std::find(mainKeys.begin(), mainKeys.end(), key) != mainKeys.end() ||
                       !didYouMean(key, mainKeys).empty();
            })) {
            problem(at(root), "none of the sections of a configuration (" +
                                  std::string(cur_->isMain ? "hub, " : "") +
                                  "include, inputs, outputs, routes) is in this file; is this a "
                                  "configuration file?");
            return;
        }
        for (const auto& kv : root) {
            if (!cur_->isMain && kv.first.IsScalar() && kv.first.Scalar() == "hub")
                problem(at(kv.first),
                        "'hub' is allowed only in the main configuration file, not in an "
                        "included file");
        }
        checkKeys(root, cur_->isMain ? mainKeys : includedKeys, "", {"hub"});

        if (cur_->isMain) readHub(root["hub"], root);
        readList(root, "inputs", [this](const YAML::Node& n, int i) { readInput(n, i); });
        readList(root, "brokers", [this](const YAML::Node& n, int i) { readBroker(n, i); });
        readList(root, "plugins", [this](const YAML::Node& n, int i) { readPlugin(n, i); });
        readList(root, "outputs", [this](const YAML::Node& n, int i) { readOutput(n, i); });
        readList(root, "routes", [this](const YAML::Node& n, int i) { readRoute(n, i); });
        readList(root, "queries", [this](const YAML::Node& n, int i) { readQuery(n, i); });
        readList(root, "personal_data",
                 [this](const YAML::Node& n, int i) { readPersonalData(n, i); });
        readIncludes(root["include"], root);
    }

    template <typename F> void readList(const YAML::Node& root, const char* key, F&& readItem) {
        const YAML::Node list = root[key];
        if (!list.IsDefined() || list.IsNull()) return;
        if (!list.IsSequence()) {
            problem(at(list, root),
                    std::string("'") + key + "' must be a list, got " + kindOf(list));
            return;
        }
        int index = 0;
        for (const auto& item : list) {
            ++index;
            // An empty entry's own mark is the next token, so name it by index instead.
            if (item.IsNull())
                problem(at(list), "entry #" + std::to_string(index) + " of '" + key + "' is empty");
            else
                readItem(item, index);
        }
    }

    // ---- includes ----------------------------------------------------------------------

    void readIncludes(const YAML::Node& node, const YAML::Node& root) {
        if (!node.IsDefined() || node.IsNull()) return;
        std::vector<YAML::Node> entries;
        if (node.IsScalar()) {
            entries.push_back(node);
        } else if (node.IsSequence()) {
            for (const auto& e : node)
                entries.push_back(e);
        } else {
            problem(at(node, root), "'include' must be a list of file paths, got " + kindOf(node));
            return;
        }
        for (const auto& e : entries) {
            if (!e.IsScalar()) {
                problem(at(e, node),
                        "each entry of 'include' must be a file path, got " + kindOf(e));
                continue;
            }
            auto v = substituted(e);
            if (!v) continue;
            if (v->text.empty()) {
                problem(v->where, "an entry of 'include' is empty");
                continue;
            }
            includeEntry(*v);
        }
    }

    void includeEntry(const Value& v) {
        const fs::path written(v.text);
        const std::string dirPart = written.parent_path().string();
        const std::string namePart = written.filename().string();
        if (dirPart.find('*') != std::string::npos) {
            problem(v.where, "include " + quote(v.raw) +
                                 ": '*' is allowed only in the file name, not in folders");
            return;
        }
        const fs::path absDir = (cur_->dir / written.parent_path()).lexically_normal();
        const fs::path shownDir =
            written.is_absolute() ? written.parent_path()
                                  : (cur_->displayDir / written.parent_path()).lexically_normal();
        if (namePart.find('*') == std::string::npos) {
            includeFile(absDir / namePart, (shownDir / namePart).string(), v);
            return;
        }
        std::error_code ec;
        if (!fs::is_directory(absDir, ec)) {
            problem(v.where, "include " + quote(v.raw) + ": folder " + named(v, shownDir.string()) +
                                 " does not exist");
            return;
        }
        std::vector<std::string> names;
        for (fs::directory_iterator it(absDir, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            // Like a shell, '*' does not pick up hidden files (editor swap files, .git).
            if (name.empty() || (name[0] == '.' && namePart[0] != '.')) continue;
            std::error_code fec;
            if (!it->is_regular_file(fec) || !globMatch(namePart, name)) continue;
            names.push_back(name);
        }
        if (ec) {
            problem(v.where, "include " + quote(v.raw) + ": cannot list folder " +
                                 named(v, shownDir.string()) + ": " + ec.message());
            return;
        }
        std::sort(names.begin(), names.end());
        for (const auto& name : names)
            includeFile(absDir / name, (shownDir / name).string(), v);
    }

    void includeFile(const fs::path& absPath, const std::string& shown, const Value& entry) {
        const fs::path abs = absPath.lexically_normal();
        for (std::size_t i = 0; i < stack_.size(); ++i) {
            if (stack_[i]->abs != abs) continue;
            std::string chain;
            for (std::size_t j = i; j < stack_.size(); ++j)
                chain += stack_[j]->display + " -> ";
            problem(entry.where, "include cycle: " + chain + named(entry, shown, false));
            return;
        }
        if (auto seen = included_.find(abs.string()); seen != included_.end()) {
            problem(entry.where,
                    named(entry, shown) + " is already included (at " + where(seen->second) + ")");
            return;
        }
        if (config_.files.size() >= kMaxFiles) {
            problem(entry.where,
                    "too many configuration files (more than " + std::to_string(kMaxFiles) + ")");
            return;
        }
        std::string why;
        auto text = readLimited(abs, kMaxFileBytes, why);
        if (!text) {
            problem(entry.where, "cannot read included file " + named(entry, shown) + ": " + why);
            return;
        }
        included_.emplace(abs.string(), entry.where);
        FileCtx f;
        f.display = shown;
        f.abs = abs;
        f.dir = abs.parent_path();
        f.displayDir = fs::path(shown).parent_path();
        f.isMain = false;
        process(*text, f);
    }

    // ---- generic readers ---------------------------------------------------------------

    /// Reports unknown (with a suggestion), duplicate and non-string keys. `context` is
    /// appended to messages, e.g. "in output 'intranet'". Keys in `skip` are reported elsewhere.
    // Pairs are iterated by value (range-for): yaml-cpp's iterator operator-> returns a
    // temporary, so a reference to it->first would dangle.
    void checkKeys(const YAML::Node& map, const std::vector<std::string>& allowed,
                   const std::string& context, const std::vector<std::string>& skip = {}) {
        std::map<std::string, SourceLocation> seen;
        for (const auto& kv : map) {
            const YAML::Node& k = kv.first;
            if (!k.IsScalar()) {
                problem(at(k, map), "keys must be plain strings, got " + kindOf(k));
                continue;
            }
            const std::string& name = k.Scalar();
            if (auto [pos, fresh] = seen.emplace(name, at(k)); !fresh) {
                problem(at(k), "duplicate key '" + name + "'" + suffix(context) +
                                   " (first at line " + std::to_string(pos->second.line) + ")");
                continue;
            }
            if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
            if (std::find(skip.begin(), skip.end(), name) != skip.end()) continue;
            problem(at(k),
                    std::string(context.empty() ? "unknown top-level key '" : "unknown key '") +
                        name + "'" + suffix(context) + didYouMean(name, allowed));
        }
    }

    static std::string suffix(const std::string& context) {
        return context.empty() ? std::string() : " " + context;
    }

    std::optional<Value> substituted(const YAML::Node& n) {
        Value v;
        v.raw = n.Scalar();
        v.where = at(n);
        auto errors = substituteEnv(v.raw, env_, v.text, unsetStandIn_);
        for (auto& e : errors)
            problem(v.where, std::move(e));
        if (!errors.empty()) return std::nullopt;
        return v;
    }

    /// The scalar at map[key] after substitution; nullopt when absent or already reported.
    std::optional<Value> scalar(const YAML::Node& map, const char* key, const char* type) {
        const YAML::Node n = map[key];
        if (!n.IsDefined()) return std::nullopt;
        if (!n.IsScalar()) {
            problem(at(n, map),
                    std::string("'") + key + "' must be " + type + ", got " + kindOf(n));
            return std::nullopt;
        }
        return substituted(n);
    }

    /// A path derived from `v`, or `v` as written when ${ENV} contributed to it.
    static std::string named(const Value& v, const std::string& path, bool quoted = true) {
        if (v.raw != v.text) return quote(v.raw);
        return quoted ? "'" + path + "'" : path;
    }

    /// How a rejected value is shown: as written, so ${SECRET} stays a name, never a value.
    static std::string shown(const Value& v) {
        return v.raw == v.text && !v.text.empty() &&
                       v.text.find_first_not_of("+-.0123456789") == std::string::npos
                   ? v.text
                   : quote(v.raw);
    }

    bool readString(const YAML::Node& map, const char* key, std::string& out,
                    Value* valueOut = nullptr) {
        auto v = scalar(map, key, "a string");
        if (!v) return false;
        out = v->text;
        if (valueOut) *valueOut = *v;
        return true;
    }

    bool requireString(const YAML::Node& map, const char* key, std::string& out,
                       const std::string& owner, Value* valueOut = nullptr) {
        if (!map[key].IsDefined()) {
            problem(at(map), std::string("missing required key '") + key + "' in " + owner);
            return false;
        }
        return readString(map, key, out, valueOut);
    }

    template <typename Int>
    bool readInt(const YAML::Node& map, const char* key, Int& out, std::int64_t min,
                 std::int64_t max) {
        auto v = scalar(map, key, "an integer");
        if (!v) return false;
        std::int64_t n = 0;
        const NumberParse parsed = parseInteger(v->text, n);
        if (parsed == NumberParse::Invalid) {
            problem(v->where,
                    std::string("'") + key + "' must be an integer, got " + quote(v->raw));
            return false;
        }
        if (parsed == NumberParse::OutOfRange || n < min || n > max) {
            problem(v->where, std::string("'") + key + "' must be between " + std::to_string(min) +
                                  " and " + std::to_string(max) + ", got " + shown(*v));
            return false;
        }
        out = static_cast<Int>(n);
        return true;
    }

    // hub.outages: { reminder_s: N, source_retry: { initial_delay_ms, max_delay_ms, ... } }
    void readOutages(const YAML::Node& m, OutageSettings& out) {
        checkKeys(m, {"reminder_s", "source_retry"}, "in hub.outages");
        std::int64_t reminderS = out.reminderMs / 1000;
        if (readInt(m, "reminder_s", reminderS, 1, kDay / 1000)) out.reminderMs = reminderS * 1000;
        const auto found = subMap(m, "source_retry");
        if (!found) return;
        const YAML::Node& r = *found;
        checkKeys(r, {"initial_delay_ms", "max_delay_ms", "multiplier", "jitter"},
                  "in hub.outages.source_retry");
        readInt(r, "initial_delay_ms", out.sourceInitialDelayMs, 1, kDay);
        const bool maxOk = readInt(r, "max_delay_ms", out.sourceMaxDelayMs, 1, kDay);
        readDouble(r, "multiplier", out.sourceMultiplier, 1.0, 100.0, "between 1 and 100");
        readDouble(r, "jitter", out.sourceJitter, 0.0, 1.0, "between 0 and 1");
        if (maxOk && out.sourceMaxDelayMs < out.sourceInitialDelayMs)
            problem(at(r["max_delay_ms"], r), "'max_delay_ms' (" +
                                                  std::to_string(out.sourceMaxDelayMs) +
                                                  ") must not be less than 'initial_delay_ms' (" +
                                                  std::to_string(out.sourceInitialDelayMs) + ")");
    }

    // hub.business_clock: { start: RFC 3339, at: RFC 3339 (wall time of start), rate: N }
    void readBusinessClock(const YAML::Node& m, BusinessClockSettings& out) {
        checkKeys(m, {"start", "at", "rate"}, "in hub.business_clock");
        auto time = [&](const char* key, std::optional<std::int64_t>& into) {
            Value v;
            std::string text;
            if (!readString(m, key, text, &v)) return;
            if (auto ms = util::parseRfc3339Ms(text))
                into = *ms;
            else
                problem(v.where, std::string("'") + key +
                                     "' in hub.business_clock must be an RFC 3339 time such as "
                                     "2026-03-02T08:30:00+08:00, got " +
                                     quote(v.raw));
        };
        time("start", out.startMs);
        time("at", out.anchorMs);
        readDouble(m, "rate", out.rate, 0.001, 1e6, "between 0.001 and 1000000");
        if (!out.startMs && (out.anchorMs || m["rate"].IsDefined()))
            problem(at(m), "hub.business_clock needs 'start' (the business time to begin at)");
    }

    bool readDouble(const YAML::Node& map, const char* key, double& out, double min, double max,
                    const char* range) {
        auto v = scalar(map, key, "a number");
        if (!v) return false;
        double d = 0;
        if (!parseNumber(v->text, d)) {
            problem(v->where, std::string("'") + key + "' must be a number, got " + quote(v->raw));
            return false;
        }
        if (d < min || d > max) {
            problem(v->where, std::string("'") + key + "' must be " + range + ", got " + shown(*v));
            return false;
        }
        out = d;
        return true;
    }

    bool readBool(const YAML::Node& map, const char* key, bool& out) {
        auto v = scalar(map, key, "true or false");
        if (!v) return false;
        const std::string s = lower(v->text);
        if (s == "true" || s == "false") {
            out = s == "true";
            return true;
        }
        problem(v->where, std::string("'") + key + "' must be true or false, got " + quote(v->raw));
        return false;
    }

    bool readEnum(const YAML::Node& map, const char* key, std::string& out,
                  const std::vector<std::string>& allowed) {
        auto v = scalar(map, key, "a string");
        if (!v) return false;
        if (std::find(allowed.begin(), allowed.end(), v->text) != allowed.end()) {
            out = v->text;
            return true;
        }
        std::string list;
        for (const auto& a : allowed)
            list += (list.empty() ? "" : ", ") + a;
        problem(v->where, std::string("'") + key + "' must be one of " + list + ", got " +
                              quote(v->raw) + didYouMean(v->text, allowed));
        return false;
    }

    std::string resolve(const std::string& p) const {
        if (p.empty()) return p;
        const fs::path path(p);
        return (path.is_absolute() ? path : cur_->dir / path).lexically_normal().string();
    }

    bool readPath(const YAML::Node& map, const char* key, std::string& out, bool mustExist = false,
                  Value* valueOut = nullptr) {
        Value v;
        std::string text;
        if (!readString(map, key, text, &v)) return false;
        if (valueOut) *valueOut = v;
        if (text.empty()) {
            problem(v.where, std::string("'") + key + "' must not be empty");
            return false;
        }
        out = resolve(text);
        std::error_code ec;
        if (mustExist && checkFiles_ && !fs::is_regular_file(out, ec)) {
            problem(v.where,
                    std::string("'") + key + "': file " + named(v, out) + " does not exist");
            return false;
        }
        return true;
    }

    /// Map-valued key: absent or empty means defaults; anything else but a map is a problem.
    /// (Returned by value: assigning to an existing YAML::Node would rebind the node it
    /// refers to inside the tree.)
    std::optional<YAML::Node> subMap(const YAML::Node& parent, const char* key) {
        const YAML::Node out = parent[key];
        if (!out.IsDefined() || out.IsNull()) return std::nullopt;
        if (!out.IsMap()) {
            problem(at(out, parent),
                    std::string("'") + key + "' must be a map, got " + kindOf(out));
            return std::nullopt;
        }
        return out;
    }

    // ---- hub ---------------------------------------------------------------------------

    void readTrustedProxies(const YAML::Node& hub, std::vector<std::string>& out) {
        const YAML::Node list = hub["trusted_proxies"];
        if (!list.IsDefined() || list.IsNull()) return;
        if (!list.IsSequence()) {
            problem(at(list, hub), "'trusted_proxies' must be a list of addresses or CIDR "
                                   "ranges, got " +
                                       kindOf(list));
            return;
        }
        for (const auto& e : list) {
            auto v = e.IsScalar() ? substituted(e) : std::nullopt;
            if (!e.IsScalar()) {
                problem(at(e, list), "each entry of 'trusted_proxies' must be an address or a "
                                     "CIDR range, got " +
                                         kindOf(e));
            } else if (v && !util::IpRange::parse(v->text)) {
                problem(v->where, "'trusted_proxies' entry " + quote(v->raw) +
                                      " is not an IPv4/IPv6 address or CIDR range (e.g. "
                                      "10.0.0.5, 10.0.0.0/24, 2001:db8::/48)");
            } else if (v) {
                out.push_back(v->text);
            }
        }
    }

    void readHub(const YAML::Node& hub, const YAML::Node& root) {
        if (!hub.IsDefined() || hub.IsNull()) return;
        if (!hub.IsMap()) {
            problem(at(hub, root), "'hub' must be a map, got " + kindOf(hub));
            return;
        }
        HubSettings& h = config_.hub;
        checkKeys(hub,
                  {"listen", "data_dir", "log_level", "max_connections", "reserve_connections",
                   "trusted_proxies", "idempotency_retention_hours", "shutdown_timeout_ms",
                   "limits", "journal", "tls", "plugin_dirs", "business_clock", "outages", "audit"},
                  "in hub");
        if (auto found = subMap(hub, "business_clock")) readBusinessClock(*found, h.businessClock);
        if (auto found = subMap(hub, "outages")) readOutages(*found, h.outages);
        if (const YAML::Node dirs = hub["plugin_dirs"]; dirs.IsDefined() && !dirs.IsNull()) {
            if (!dirs.IsSequence()) {
                problem(at(dirs, hub),
                        "'plugin_dirs' must be a list of folders, got " + kindOf(dirs));
            } else {
                for (const auto& d : dirs) {
                    if (!d.IsScalar()) {
                        problem(at(d, dirs),
                                "each entry of 'plugin_dirs' must be a folder path, got " +
                                    kindOf(d));
                        continue;
                    }
                    if (auto v = substituted(d)) {
                        std::error_code ec;
                        std::string path = resolve(v->text);
                        if (v->text.empty() || (checkFiles_ && !fs::is_directory(path, ec)))
                            problem(v->where, "plugin directory " + named(*v, path) +
                                                  " does not exist or is not a folder");
                        else
                            h.pluginDirs.push_back(path);
                    }
                }
            }
        }
        Value listen;
        std::string text;
        if (readString(hub, "listen", text, &listen)) parseListen(listen);
        if (readPath(hub, "data_dir", h.dataDir)) dataDirSet_ = true;
        readEnum(hub, "log_level", h.logLevel, {"trace", "debug", "info", "warn", "error"});
        readInt(hub, "max_connections", h.maxConnections, 1, 100000);
        readInt(hub, "reserve_connections", h.reserveConnections, 0, 1000);
        readTrustedProxies(hub, h.trustedProxies);
        readInt(hub, "idempotency_retention_hours", h.idempotencyRetentionHours, 1, 24 * 3650);
        readInt(hub, "shutdown_timeout_ms", h.shutdownTimeoutMs, 0, 3600 * 1000);
        if (auto found = subMap(hub, "limits")) {
            const YAML::Node& m = *found;
            checkKeys(m,
                      {"max_body_bytes", "max_header_bytes", "max_header_count", "max_json_depth",
                       "max_json_keys", "max_batch_events", "header_timeout_ms", "body_timeout_ms",
                       "idle_timeout_ms"},
                      "in hub.limits");
            Limits& l = h.limits;
            readInt(m, "max_body_bytes", l.maxBodyBytes, 1, 1LL << 30);
            readInt(m, "max_header_bytes", l.maxHeaderBytes, 1024, 1 << 20);
            readInt(m, "max_header_count", l.maxHeaderCount, 1, 10000);
            // Deeply nested JSON is serialized recursively elsewhere; keep it far from the
            // stack limit.
            readInt(m, "max_json_depth", l.maxJsonDepth, 1, 256);
            readInt(m, "max_json_keys", l.maxJsonKeys, 1, 10000000);
            readInt(m, "max_batch_events", l.maxBatchEvents, 1, 100000);
            readInt(m, "header_timeout_ms", l.headerTimeoutMs, 1, 3600 * 1000);
            readInt(m, "body_timeout_ms", l.bodyTimeoutMs, 1, 3600 * 1000);
            readInt(m, "idle_timeout_ms", l.idleTimeoutMs, 1, 3600 * 1000);
        }
        if (auto found = subMap(hub, "journal")) {
            const YAML::Node& m = *found;
            checkKeys(m, {"synchronous", "max_batch", "retention_hours"}, "in hub.journal");
            readEnum(m, "synchronous", h.journal.synchronous, {"full", "extra", "normal"});
            readInt(m, "max_batch", h.journal.maxBatch, 1, 100000);
            readInt(m, "retention_hours", h.journal.retentionHours, 1, 24 * 3650);
        }
        if (auto found = subMap(hub, "audit")) readAudit(*found, h.audit);
        if (h.audit.enabled && h.audit.signingKeyFile.empty())
            warn(at(hub["audit"].IsDefined() ? hub["audit"] : hub, hub),
                 "hub.audit has no 'signing_key_file': checkpoints are not signed, so a complete "
                 "rewrite of the audit trail would not be noticed (make a key with: openssl "
                 "genpkey -algorithm ED25519 -out FILE)");
        if (auto found = subMap(hub, "tls")) {
            const YAML::Node& m = *found;
            checkKeys(m,
                      {"enabled", "cert_file", "key_file", "client_ca_file", "require_client_cert"},
                      "in hub.tls");
            TlsServerSettings& t = h.tls;
            readBool(m, "enabled", t.enabled);
            readBool(m, "require_client_cert", t.requireClientCert);
            // Files are checked only when TLS is on, so a disabled block can stay as a template.
            readPath(m, "cert_file", t.certFile, t.enabled);
            readPath(m, "key_file", t.keyFile, t.enabled);
            readPath(m, "client_ca_file", t.clientCaFile, t.enabled);
            if (t.enabled && !m["cert_file"].IsDefined())
                problem(at(m), "hub.tls.enabled requires 'cert_file'");
            if (t.enabled && !m["key_file"].IsDefined())
                problem(at(m), "hub.tls.enabled requires 'key_file'");
            if (t.requireClientCert && !m["client_ca_file"].IsDefined())
                problem(at(m), "hub.tls.require_client_cert requires 'client_ca_file'");
        }
    }

    void readAudit(const YAML::Node& m, AuditSettings& a) {
        checkKeys(m,
                  {"enabled", "hash", "signing_key_file", "checkpoint_every",
                   "checkpoint_interval_s", "retention_days"},
                  "in hub.audit");
        readBool(m, "enabled", a.enabled);
        readEnum(m, "hash", a.hash, {"sha256", "sm3"});
        readInt(m, "checkpoint_every", a.checkpointEvery, 1, 1000000);
        readInt(m, "checkpoint_interval_s", a.checkpointIntervalS, 1, 24 * 3600);
        readInt(m, "retention_days", a.retentionDays, 1, 3650);
        Value kv;
        // (Commands that only read the data dir do not sign: the key need not be on the machine.)
        if (readPath(m, "signing_key_file", a.signingKeyFile, false, &kv) && checkFiles_) {
            std::string why;
            if (!audit::SigningKey::load(a.signingKeyFile, false, why))
                problem(kv.where,
                        "hub.audit.signing_key_file " + named(kv, a.signingKeyFile) + ": " + why);
        }
    }

    void parseListen(const Value& v) {
        const std::string& s = v.text;
        const std::string bad =
            "'listen' must be HOST:PORT (IPv6 as [::1]:8080), got " + quote(v.raw);
        std::string host, port;
        if (!s.empty() && s[0] == '[') {
            const auto close = s.find(']');
            if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') {
                problem(v.where, bad);
                return;
            }
            host = s.substr(1, close - 1);
            port = s.substr(close + 2);
        } else {
            const auto colon = s.rfind(':');
            if (colon == std::string::npos) {
                problem(v.where, bad);
                return;
            }
            host = s.substr(0, colon);
            port = s.substr(colon + 1);
            if (host.find(':') != std::string::npos) {
                problem(v.where, "'listen': an IPv6 address must be in brackets, like "
                                 "[::1]:8080, got " +
                                     quote(v.raw));
                return;
            }
        }
        if (host.empty() || hasSpaceOrControl(host)) {
            problem(v.where, bad);
            return;
        }
        if (port.empty() || port.size() > 5 ||
            port.find_first_not_of("0123456789") != std::string::npos) {
            problem(v.where, bad);
            return;
        }
        const int p = std::stoi(port);
        if (p > 65535) {
            problem(v.where, "the port in 'listen' must be between 0 and 65535, got " + port);
            return;
        }
        config_.hub.listenHost = host;
        config_.hub.listenPort = p;
    }

    // ---- names -------------------------------------------------------------------------

    /// Reads and checks an entry's 'name'; returns how messages should call the entry.
    std::string readName(const YAML::Node& item, const std::string& kind, int index,
                         std::string& name, std::string_view extra, bool allowUpper,
                         std::map<std::string, SourceLocation>& seen) {
        const std::string anonymous = kind + " #" + std::to_string(index);
        if (!item["name"].IsDefined()) {
            problem(at(item), "missing required key 'name' in " + anonymous);
            return anonymous;
        }
        Value v;
        if (!readString(item, "name", name, &v)) return anonymous;
        if (!matchesChars(name, extra, allowUpper)) {
            std::string chars = allowUpper ? "letters, digits" : "lower-case letters, digits";
            for (char c : extra)
                chars += std::string(", '") + c + "'";
            problem(v.where, "the name of " + anonymous + " must be made of " + chars + ", got " +
                                 quote(v.raw));
            return anonymous;
        }
        if (auto [pos, fresh] = seen.emplace(name, v.where); !fresh)
            problem(v.where, "duplicate " + kind + " name '" + v.raw + "' (first defined at " +
                                 where(pos->second) + ")");
        // As written: a name taken from ${ENV} is shown as the reference, not the value.
        return kind + " '" + v.raw + "'";
    }

    // ---- inputs ------------------------------------------------------------------------

    void readInput(const YAML::Node& item, int index) {
        if (!item.IsMap()) {
            problem(at(item), "each entry of 'inputs' must be a map, got " + kindOf(item));
            return;
        }
        InputSpec in;
        in.where = at(item);
        const std::string self = readName(item, "input", index, in.name, "_-", false, inputNames_);
        checkKeys(item, {"name", "path", "auth", "mqtt", "source", "config", "tls", "allow"},
                  "in " + self);
        readAllow(item, self, in.allow);

        Value pv;
        if (item["config"].IsDefined() && !item["source"].IsDefined())
            problem(at(item["config"], item), "'config' in " + self +
                                                  " configures a plugin source; add 'source: "
                                                  "plugin/component'");
        if (item["source"].IsDefined()) {
            in.kind = InputSpec::Kind::Source;
            for (const char* other : {"path", "auth", "mqtt"})
                if (item[other].IsDefined())
                    problem(at(item[other], item),
                            self + " is a plugin source; '" + other + "' belongs to " +
                                (std::string(other) == "mqtt" ? "MQTT" : "HTTP") + " inputs");
            readComponentRef(item, "source", self, in.source, in.sourceConfig);
            if (auto found = subMap(item, "tls")) readTlsClient(*found, self, in.tls);
            noClientPlaceholder(item, self, in.allow);
            config_.inputs.push_back(std::move(in));
            return;
        }
        // An HTTP input's TLS is the listener's (hub.tls); an MQTT input's is its broker's.
        if (item["tls"].IsDefined())
            problem(at(item["tls"], item),
                    "'tls' in " + self +
                        " belongs to plugin sources (their calls out); HTTP inputs use "
                        "'hub.tls', MQTT inputs their broker's 'tls'");
        if (item["mqtt"].IsDefined()) {
            in.kind = InputSpec::Kind::Mqtt;
            if (item["path"].IsDefined() || item["auth"].IsDefined())
                problem(at(item["path"].IsDefined() ? item["path"] : item["auth"], item),
                        self + " subscribes to MQTT; 'path' and 'auth' belong to HTTP inputs");
            if (auto m = subMap(item, "mqtt")) readMqttSubscribe(*m, self, in.mqtt);
            noClientPlaceholder(item, self, in.allow);
            config_.inputs.push_back(std::move(in));
            return;
        }
        if (requireString(item, "path", in.path, self, &pv)) {
            if (!validInputPath(in.path)) {
                problem(pv.where, "'path' of " + self +
                                      " must start with '/' and contain only "
                                      "letters, digits, '-', '.', '_', '~' and '/' (no empty, '.' "
                                      "or '..' segments), got " +
                                      quote(pv.raw));
            } else if (auto [pos, fresh] = inputPaths_.emplace(in.path, pv.where); !fresh) {
                problem(pv.where, "duplicate input path '" + pv.raw + "' (first defined at " +
                                      where(pos->second) + ")");
            }
        }
        if (auto found = subMap(item, "auth")) {
            const YAML::Node& auth = *found;
            checkKeys(auth, {"bearer_tokens", "signed"}, "in the auth of " + self);
            readTokens(auth, self, in.tokens);
            if (auto sig = subMap(auth, "signed")) readSigned(*sig, self, in.signedAuth);
        }
        config_.inputs.push_back(std::move(in));
    }

    static bool validInputPath(const std::string& p) {
        if (p.empty() || p[0] != '/' || !matchesChars(p, "-._~/", true)) return false;
        std::string_view rest(p);
        rest.remove_prefix(1);
        if (rest.empty()) return true;
        if (rest.back() == '/') rest.remove_suffix(1);
        // Segments that normalize away ("", ".", "..") would make two paths mean one input.
        while (true) {
            const auto slash = rest.find('/');
            const std::string_view seg = rest.substr(0, slash);
            if (seg.empty() || seg == "." || seg == "..") return false;
            if (slash == std::string_view::npos) return true;
            rest.remove_prefix(slash + 1);
        }
    }

    // auth.signed: { scheme, tolerance_s, senders: [ { client, keys: [..] } ] }
    void readSigned(const YAML::Node& m, const std::string& self, std::optional<SignedAuth>& out) {
        checkKeys(m, {"scheme", "tolerance_s", "senders"}, "in auth.signed of " + self);
        SignedAuth a;
        readEnum(m, "scheme", a.scheme, {"hmac-sha256", "hmac-sm3"});
        readInt(m, "tolerance_s", a.toleranceS, 1, 3600);
        const YAML::Node list = m["senders"];
        if (!list.IsDefined() || !list.IsSequence() || list.size() == 0) {
            problem(at(list.IsDefined() ? list : m, m),
                    "auth.signed of " + self + " needs 'senders': a list of { client, keys }");
            return;
        }
        std::map<std::string, std::string> owners; // key -> client, to spot shared keys
        for (const auto& e : list) {
            if (!e.IsMap()) {
                problem(at(e, list), "each sender of auth.signed must be a map with 'client' "
                                     "and 'keys', got " +
                                         kindOf(e));
                continue;
            }
            checkKeys(e, {"client", "keys", "allow"}, "in a sender of auth.signed of " + self);
            SignedAuth::Sender sd;
            Value cv;
            if (!requireString(e, "client", sd.client, "a sender of auth.signed", &cv)) continue;
            readAllow(e, "sender '" + cv.raw + "' of " + self, sd.allow);
            const YAML::Node keys = e["keys"];
            if (!keys.IsDefined() || !keys.IsSequence() || keys.size() < 1 || keys.size() > 2) {
                problem(at(keys.IsDefined() ? keys : e, e),
                        "'keys' of sender '" + sd.client +
                            "' must list one key, or two while a new one is rolled out");
                continue;
            }
            for (const auto& k : keys) {
                auto v = substituted(k);
                if (!v) continue;
                // A Standard Webhooks secret (whsec_<base64>) is the decoded bytes.
                const auto key = security::webhookKeyBytes(v->text);
                if (!key) {
                    problem(v->where, "a key of sender '" + sd.client +
                                          "' starts with 'whsec_' but the rest is not base64 "
                                          "(the Standard Webhooks form is whsec_<base64>)");
                    continue;
                }
                if (key->size() < 16) {
                    problem(v->where, "a key of sender '" + sd.client + "' is shorter than 16 " +
                                          (key->size() == v->text.size() ? "characters"
                                                                         : "bytes once decoded"));
                    continue;
                }
                if (auto [pos, fresh] = owners.emplace(*key, sd.client); !fresh) {
                    problem(v->where, "a key of sender '" + sd.client + "' is also a key of '" +
                                          pos->second + "'; each sender needs keys of its own");
                    continue;
                }
                sd.keys.push_back(*key);
            }
            a.senders.push_back(std::move(sd));
        }
        out = std::move(a);
    }

    void readTokens(const YAML::Node& auth, const std::string& self,
                    std::vector<BearerToken>& tokens) {
        const YAML::Node list = auth["bearer_tokens"];
        if (!list.IsDefined()) return;
        if (!list.IsSequence()) {
            problem(at(list, auth), "'bearer_tokens' must be a list, got " + kindOf(list));
            return;
        }
        if (list.size() == 0) {
            // An emptied list would silently open the input to everyone.
            problem(at(list, auth), "'bearer_tokens' of " + self +
                                        " is empty; remove 'auth' to accept events without "
                                        "authentication");
            return;
        }
        std::map<std::string, std::string> owners; // token -> client, to spot shared secrets
        int index = 0;
        for (const auto& t : list) {
            ++index;
            const std::string label = "bearer token #" + std::to_string(index) + " of " + self;
            if (!t.IsMap()) {
                problem(at(t, list), "each entry of 'bearer_tokens' must be a map with 'client' "
                                     "and 'token' or 'token_file', got " +
                                         kindOf(t));
                continue;
            }
            checkKeys(t, {"client", "token", "token_file", "allow"}, "in " + label);
            BearerToken bt;
            Value cv;
            bool clientOk = requireString(t, "client", bt.client, label, &cv);
            readAllow(t, clientOk ? "client '" + cv.raw + "' of " + self : label, bt.allow);
            if (clientOk && (bt.client.empty() || hasSpaceOrControl(bt.client))) {
                problem(cv.where, "'client' of " + label +
                                      " must be non-empty without spaces, got " + quote(cv.raw));
                clientOk = false;
            }
            const std::string who = clientOk ? "client '" + cv.raw + "' of " + self : label;
            const bool hasToken = t["token"].IsDefined();
            const bool hasFile = t["token_file"].IsDefined();
            if (hasToken == hasFile) {
                problem(at(t), label + " must have exactly one of 'token' or 'token_file', got " +
                                   (hasToken ? "both" : "neither"));
                continue;
            }
            Value where;
            bool ok = false;
            if (hasToken) {
                ok = readString(t, "token", bt.token, &where);
            } else {
                std::string file;
                if (readPath(t, "token_file", file, false, &where)) {
                    std::string why;
                    if (auto content = readLimited(file, kMaxTokenFileBytes, why)) {
                        bt.token = *content;
                        while (!bt.token.empty() &&
                               (bt.token.back() == '\n' || bt.token.back() == '\r'))
                            bt.token.pop_back();
                        ok = true;
                    } else if (!checkFiles_) {
                        // A secret this command never uses; one of its own per file, so the
                        // check that clients do not share a token does not fire.
                        bt.token = "unread-for-this-command:" + security::sha256Hex(file);
                        ok = true;
                    } else {
                        problem(where.where, "cannot read 'token_file' " + named(where, file) +
                                                 " for " + who + ": " + why);
                    }
                }
            }
            if (!ok || !clientOk) continue;
            if (bt.token.empty()) {
                problem(where.where, "the token for " + who + " is empty");
                continue;
            }
            if (hasSpaceOrControl(bt.token)) {
                problem(where.where,
                        "the token for " + who + " contains spaces or control characters");
                continue;
            }
            if (bt.token.size() < kMinTokenLength) {
                problem(where.where,
                        "the token for " + who + " is " + std::to_string(bt.token.size()) +
                            " characters; at least " + std::to_string(kMinTokenLength) +
                            " are required (e.g. openssl rand -hex 24)");
                continue;
            }
            if (auto [pos, fresh] = owners.emplace(bt.token, cv.raw); !fresh) {
                problem(where.where, "the token for " + who + " is the same as the token for '" +
                                         pos->second + "'; each client needs its own token");
                continue;
            }
            tokens.push_back(std::move(bt));
        }
    }

    // ---- outputs -----------------------------------------------------------------------

    void readOutput(const YAML::Node& item, int index) {
        if (!item.IsMap()) {
            problem(at(item), "each entry of 'outputs' must be a map, got " + kindOf(item));
            return;
        }
        OutputSpec out;
        out.where = at(item);
        const std::string self =
            readName(item, "output", index, out.name, "_.-", false, outputNames_);
        checkKeys(item,
                  {"name", "url", "mqtt", "sink", "processor", "config", "mode",
                   "connect_timeout_ms", "read_timeout_ms", "concurrency", "ordering_key", "retry",
                   "circuit", "tls", "headers", "personal_data"},
                  "in " + self);
        out.personalDataGiven =
            readEnum(item, "personal_data", out.personalData, {"keep", "mask", "drop"});

        const int targets = (item["url"].IsDefined() ? 1 : 0) + (item["mqtt"].IsDefined() ? 1 : 0) +
                            (item["sink"].IsDefined() ? 1 : 0) +
                            (item["processor"].IsDefined() ? 1 : 0);
        if (item["config"].IsDefined() && !item["sink"].IsDefined() &&
            !item["processor"].IsDefined())
            problem(at(item["config"], item),
                    "'config' in " + self +
                        " configures a plugin; add 'sink: plugin/component' or "
                        "'processor: plugin/component'");
        if (item["sink"].IsDefined() || item["processor"].IsDefined()) {
            const bool isSink = item["sink"].IsDefined();
            const char* key = isSink ? "sink" : "processor";
            out.kind = isSink ? OutputSpec::Kind::Sink : OutputSpec::Kind::Processor;
            if (targets > 1) {
                std::string others;
                for (const char* k : {"url", "mqtt", "sink", "processor"})
                    if (std::string(k) != key && item[k].IsDefined())
                        others += std::string(others.empty() ? "" : " and ") + "'" + k + "'";
                problem(at(item[key], item), self + " has '" + key + "' and also " + others +
                                                 "; an output delivers to one of them");
            }
            readComponentRef(item, key, self, isSink ? out.sink : out.processor, out.pluginConfig);
            // A processor's window is commits in flight, not connections: wider by default.
            if (!isSink) out.concurrency = 64;
        } else if (item["mqtt"].IsDefined()) {
            out.kind = OutputSpec::Kind::Mqtt;
            if (item["url"].IsDefined())
                problem(at(item["url"], item),
                        self + " has both 'url' and 'mqtt'; an output delivers to one of them");
            if (auto m = subMap(item, "mqtt")) readMqttPublish(*m, self, out.mqtt);
        } else {
            Value uv;
            if (requireString(item, "url", out.url, self, &uv)) checkUrl(uv, self);
        }

        std::string mode;
        if (readEnum(item, "mode", mode, {"structured", "binary"}))
            out.mode = mode == "binary" ? OutputSpec::Mode::Binary : OutputSpec::Mode::Structured;
        readInt(item, "connect_timeout_ms", out.connectTimeoutMs, 1, 600 * 1000);
        readInt(item, "read_timeout_ms", out.readTimeoutMs, 1, 3600 * 1000);
        readInt(item, "concurrency", out.concurrency, 1, 256);

        Value ov;
        if (readString(item, "ordering_key", out.orderingKey, &ov)) {
            if (out.orderingKey == "none") {
                out.orderingKey.clear();
            } else if (!out.orderingKey.empty() && !isAttributeName(out.orderingKey)) {
                problem(ov.where, "'ordering_key' must be a CloudEvents attribute name "
                                  "(lower-case letters and digits) or \"none\", got " +
                                      quote(ov.raw));
            }
        }
        if (auto found = subMap(item, "retry")) {
            const YAML::Node& m = *found;
            checkKeys(m,
                      {"initial_delay_ms", "max_delay_ms", "multiplier", "jitter", "max_attempts"},
                      "in 'retry' of " + self);
            RetryPolicy& r = out.retry;
            readInt(m, "initial_delay_ms", r.initialDelayMs, 1, kDay);
            const bool maxOk = readInt(m, "max_delay_ms", r.maxDelayMs, 1, 7 * kDay);
            readDouble(m, "multiplier", r.multiplier, 1.0, 100.0, "between 1 and 100");
            readDouble(m, "jitter", r.jitter, 0.0, 1.0, "between 0 and 1");
            readInt(m, "max_attempts", r.maxAttempts, 1, 1000000);
            if (maxOk && r.maxDelayMs < r.initialDelayMs)
                problem(at(m["max_delay_ms"], m),
                        "'max_delay_ms' (" + std::to_string(r.maxDelayMs) +
                            ") must not be less than 'initial_delay_ms' (" +
                            std::to_string(r.initialDelayMs) + ")");
        }
        if (auto found = subMap(item, "circuit")) {
            const YAML::Node& m = *found;
            checkKeys(m, {"failure_threshold", "open_ms"}, "in 'circuit' of " + self);
            readInt(m, "failure_threshold", out.circuit.failureThreshold, 1, 1000000);
            readInt(m, "open_ms", out.circuit.openMs, 1, kDay);
        }
        if (auto found = subMap(item, "tls")) readTlsClient(*found, self, out.tls);
        if (auto h = subMap(item, "headers")) readHeaders(*h, self, out.headers);
        config_.outputs.push_back(std::move(out));
    }

    // ---- plugins -----------------------------------------------------------------------

    void readPlugin(const YAML::Node& item, int index) {
        if (!item.IsMap()) {
            problem(at(item), "each entry of 'plugins' must be a map, got " + kindOf(item));
            return;
        }
        PluginSpec p;
        p.where = at(item);
        const std::string self = readName(item, "plugin", index, p.name, "-", false, pluginNames_);
        checkKeys(item, {"name", "file", "sha256"}, "in " + self);
        requireString(item, "file", p.file, self);
        Value hv;
        if (readString(item, "sha256", p.sha256, &hv)) {
            const bool hex =
                p.sha256.size() == 64 &&
                p.sha256.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
            if (!hex)
                problem(hv.where, "'sha256' must be 64 hexadecimal digits, got " + quote(hv.raw));
        }
        config_.plugins.push_back(std::move(p));
    }

    /// `key: "<plugin>/<component>"` and the instance's `config` map.
    void readComponentRef(const YAML::Node& item, const char* key, const std::string& self,
                          std::string& ref, ConfigTree& conf) {
        Value v;
        if (readString(item, key, ref, &v)) {
            auto slash = ref.find('/');
            if (slash == std::string::npos || slash == 0 || slash + 1 == ref.size() ||
                ref.find('/', slash + 1) != std::string::npos)
                problem(v.where, std::string("'") + key +
                                     "' must be \"<plugin>/<component>\", got " + quote(v.raw));
            else
                pluginRefs_.push_back({ref.substr(0, slash), v.where, self, key});
        }
        if (const YAML::Node c = item["config"]; c.IsDefined() && !c.IsNull()) {
            if (!c.IsMap())
                problem(at(c, item), "'config' of " + self + " must be a map, got " + kindOf(c));
            else
                conf = tree(c);
        }
    }

    /// A plugin instance's config as written, for checking against its spec once loaded.
    ConfigTree tree(const YAML::Node& n) {
        ConfigTree t;
        t.where = at(n);
        if (n.IsScalar()) {
            t.kind = ConfigTree::Kind::Scalar;
            if (auto v = substituted(n)) {
                t.text = v->text;
                t.raw = v->raw;
            }
        } else if (n.IsSequence()) {
            t.kind = ConfigTree::Kind::List;
            for (const auto& i : n)
                t.items.push_back(tree(i));
        } else if (n.IsMap()) {
            t.kind = ConfigTree::Kind::Map;
            for (const auto& kv : n) {
                ConfigTree v = tree(kv.second);
                v.keyWhere = at(kv.first);
                if (v.where.line == 0 || v.kind == ConfigTree::Kind::Null) v.where = v.keyWhere;
                v.key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
                t.items.push_back(std::move(v));
            }
        }
        return t;
    }

    void checkPluginReferences() {
        std::vector<std::string> names;
        for (const auto& p : config_.plugins)
            names.push_back(p.name);
        for (const auto& r : pluginRefs_)
            if (!pluginNames_.count(r.name))
                problem(r.where, r.owner + " names " + r.kind + " of unknown plugin '" + r.name +
                                     "'" + didYouMean(r.name, names) +
                                     " (declare it under 'plugins')");
        if (!config_.plugins.empty() && config_.hub.pluginDirs.empty())
            problem(config_.plugins.front().where,
                    "plugins are declared but 'hub.plugin_dirs' names no folder to load them from");
    }

    // ---- MQTT --------------------------------------------------------------------------

    void readBroker(const YAML::Node& item, int index) {
        if (!item.IsMap()) {
            problem(at(item), "each entry of 'brokers' must be a map, got " + kindOf(item));
            return;
        }
        BrokerSpec b;
        b.where = at(item);
        const std::string self =
            readName(item, "broker", index, b.name, "_.-", false, brokerNames_);
        checkKeys(item,
                  {"name", "url", "client_id", "mqtt_version", "username", "password",
                   "keep_alive_s", "clean_start", "session_expiry_s", "tls"},
                  "in " + self);
        Value uv;
        if (requireString(item, "url", b.url, self, &uv)) {
            const std::string bad = "'url' of " + self +
                                    " must be tcp://HOST:PORT or ssl://HOST:PORT, got " +
                                    quote(uv.raw);
            try {
                Poco::URI uri(uv.text);
                const std::string scheme = lower(uri.getScheme());
                if ((scheme != "tcp" && scheme != "ssl" && scheme != "mqtt" && scheme != "mqtts") ||
                    uri.getHost().empty() || uri.getPort() == 0 || hasSpaceOrControl(uv.text))
                    problem(uv.where, bad);
            } catch (const Poco::Exception&) {
                problem(uv.where, bad);
            }
        }
        b.clientId = "onewindow-" + b.name;
        Value cv;
        if (readString(item, "client_id", b.clientId, &cv) &&
            (b.clientId.empty() || b.clientId.size() > 128 || hasSpaceOrControl(b.clientId)))
            problem(cv.where, "'client_id' of " + self +
                                  " must be 1 to 128 characters without spaces, got " +
                                  quote(cv.raw));
        std::string version;
        if (readEnum(item, "mqtt_version", version, {"3.1.1", "5"}))
            b.mqttVersion = version == "5" ? 5 : 4;
        readString(item, "username", b.username);
        readString(item, "password", b.password);
        readInt(item, "keep_alive_s", b.keepAliveS, 1, 65535);
        readBool(item, "clean_start", b.cleanStart);
        readInt(item, "session_expiry_s", b.sessionExpiryS, 0, 4294967295LL);
        if (auto found = subMap(item, "tls")) readTlsClient(*found, self, b.tls);
        config_.brokers.push_back(std::move(b));
    }

    void readMqttPublish(const YAML::Node& m, const std::string& self, MqttPublishSettings& p) {
        checkKeys(m, {"broker", "topic", "qos", "retain"}, "in 'mqtt' of " + self);
        Value bv;
        if (requireString(m, "broker", p.broker, "'mqtt' of " + self, &bv))
            brokerRefs_.push_back({p.broker, bv.raw, self, bv.where});
        Value tv;
        if (requireString(m, "topic", p.topic, "'mqtt' of " + self, &tv)) {
            // Wildcards are for subscribing; a template must close every brace it opens.
            bool bad = p.topic.empty() || p.topic.find_first_of("+#") != std::string::npos ||
                       std::count(p.topic.begin(), p.topic.end(), '{') !=
                           std::count(p.topic.begin(), p.topic.end(), '}');
            if (bad)
                problem(tv.where, "'topic' of " + self +
                                      " must be a topic without '+' or '#', with balanced "
                                      "{attribute} templates, got " +
                                      quote(tv.raw));
        }
        readInt(m, "qos", p.qos, 0, 2);
        readBool(m, "retain", p.retain);
    }

    void readMqttSubscribe(const YAML::Node& m, const std::string& self, MqttSubscribeSettings& p) {
        checkKeys(m, {"broker", "topics", "qos", "format", "type", "source", "subject_segment"},
                  "in 'mqtt' of " + self);
        Value bv;
        if (requireString(m, "broker", p.broker, "'mqtt' of " + self, &bv))
            brokerRefs_.push_back({p.broker, bv.raw, self, bv.where});
        if (!m["topics"].IsDefined()) {
            problem(at(m), "missing required key 'topics' in 'mqtt' of " + self);
        } else if (readGlobs(m, "topics", p.topics)) {
            for (const auto& t : p.topics)
                if (t.empty() || t.find('\0') != std::string::npos)
                    problem(at(m["topics"], m), "'topics' of " + self + " holds an empty filter");
        }
        readInt(m, "qos", p.qos, 0, 2);
        std::string format;
        if (readEnum(m, "format", format, {"cloudevents", "json"}))
            p.format = format == "json" ? MqttSubscribeSettings::Format::Json
                                        : MqttSubscribeSettings::Format::CloudEvents;
        readString(m, "type", p.type);
        readString(m, "source", p.source);
        readInt(m, "subject_segment", p.subjectSegment, -1, 64);
        if (p.format == MqttSubscribeSettings::Format::Json && p.type.empty())
            problem(at(m), "'mqtt' of " + self +
                               " reads plain JSON (format: json) and needs 'type' for its events");
    }

    void checkBrokerReferences() {
        // The CloudEvents MQTT binding has binary mode only in MQTT 5 (user properties).
        for (const auto& o : config_.outputs) {
            if (o.kind != OutputSpec::Kind::Mqtt || o.mode != OutputSpec::Mode::Binary) continue;
            for (const auto& b : config_.brokers)
                if (b.name == o.mqtt.broker && b.mqttVersion != 5)
                    problem(o.where, "output '" + o.name +
                                         "' uses mode binary, which MQTT 3.1.1 cannot carry "
                                         "(no user properties); use mode structured or "
                                         "mqtt_version 5 for broker '" +
                                         b.name + "'");
        }
        std::vector<std::string> names;
        for (const auto& b : config_.brokers)
            names.push_back(b.name);
        for (const auto& r : brokerRefs_) {
            if (brokerNames_.count(r.name)) continue;
            problem(r.where, r.owner + " publishes to unknown broker '" + r.raw + "'" +
                                 (r.raw == r.name ? didYouMean(r.name, names) : std::string()));
        }
    }

    // The client side of TLS, for HTTP outputs, plugin sources and MQTT brokers alike.
    void readTlsClient(const YAML::Node& m, const std::string& self, TlsClientSettings& t) {
        checkKeys(m, {"ca_file", "cert_file", "key_file", "verify"}, "in 'tls' of " + self);
        readPath(m, "ca_file", t.caFile, true);
        readPath(m, "cert_file", t.certFile, true);
        readPath(m, "key_file", t.keyFile, true);
        readBool(m, "verify", t.verify);
        if (m["cert_file"].IsDefined() != m["key_file"].IsDefined())
            problem(at(m),
                    "'tls' of " + self + ": 'cert_file' and 'key_file' must be given together");
    }

    void checkUrl(const Value& v, const std::string& self) {
        const std::string bad = "'url' of " + self +
                                " must be an http:// or https:// URL with a host, got " +
                                quote(v.raw);
        try {
            Poco::URI uri(v.text);
            const std::string scheme = lower(uri.getScheme());
            if ((scheme != "http" && scheme != "https") || uri.getHost().empty() ||
                hasSpaceOrControl(v.text)) {
                problem(v.where, bad);
            } else if (!uri.getUserInfo().empty()) {
                // Credentials in URLs end up in logs; headers are kept out of them.
                problem(v.where, "'url' of " + self +
                                     " must not contain credentials; use "
                                     "'headers' (e.g. Authorization) instead");
            }
        } catch (const Poco::Exception&) {
            problem(v.where, bad);
        }
    }

    void readHeaders(const YAML::Node& m, const std::string& self,
                     std::vector<std::pair<std::string, std::string>>& headers) {
        // The hub owns framing, content type and CloudEvents attributes; letting
        // configuration override them would corrupt or misdescribe deliveries.
        static const std::set<std::string> reserved = {
            "host",    "content-length", "transfer-encoding", "connection",  "te",
            "upgrade", "keep-alive",     "trailer",           "content-type"};
        std::map<std::string, SourceLocation> seen;
        for (const auto& kv : m) {
            const YAML::Node& k = kv.first;
            const YAML::Node& val = kv.second;
            if (!k.IsScalar()) {
                problem(at(k, m), "header names must be strings, got " + kindOf(k));
                continue;
            }
            const std::string name = k.Scalar();
            const SourceLocation kl = at(k);
            if (!matchesChars(name, "!#$%&'*+-.^_`|~", true)) {
                problem(kl, "header name " + quote(name) + " in " + self +
                                " is not a valid HTTP field name");
                continue;
            }
            const std::string lname = lower(name);
            if (reserved.count(lname) || lname.rfind("ce-", 0) == 0) {
                problem(kl, "header '" + name + "' in " + self +
                                " is set by the hub and cannot be configured");
                continue;
            }
            if (auto [pos, fresh] = seen.emplace(lname, kl); !fresh) {
                problem(kl, "duplicate header '" + name + "' in " + self + " (first at line " +
                                std::to_string(pos->second.line) + ")");
                continue;
            }
            if (!val.IsScalar()) {
                problem(at(val, m), "header '" + name + "' in " + self + " must be a string, got " +
                                        kindOf(val));
                continue;
            }
            auto v = substituted(val);
            if (!v) continue;
            const bool breaks = std::any_of(v->text.begin(), v->text.end(), [](char c) {
                return c == '\r' || c == '\n' || c == '\0';
            });
            if (breaks) {
                problem(v->where, "header '" + name + "' in " + self +
                                      " contains a line break or NUL character");
                continue;
            }
            headers.emplace_back(name, v->text);
        }
    }

    // ---- routes ------------------------------------------------------------------------

    struct Target {
        std::string name;
        std::string raw;
        std::string route;
        SourceLocation where;
    };

    void readRoute(const YAML::Node& item, int index) {
        if (!item.IsMap()) {
            problem(at(item), "each entry of 'routes' must be a map, got " + kindOf(item));
            return;
        }
        RouteSpec r;
        r.where = at(item);
        const std::string self = readName(item, "route", index, r.name, "_.-", true, routeNames_);
        checkKeys(item, {"name", "match", "to"}, "in " + self);
        if (auto mt = subMap(item, "match")) readMatch(*mt, self, r.match);

        const YAML::Node to = item["to"];
        if (!to.IsDefined() || to.IsNull()) {
            problem(at(to, item), "missing required key 'to' in " + self);
        } else if (!to.IsScalar() && !to.IsSequence()) {
            problem(at(to, item),
                    "'to' of " + self + " must be a list of output names, got " + kindOf(to));
        } else if (to.IsSequence() && to.size() == 0) {
            problem(at(to, item), "'to' of " + self + " must name at least one output");
        } else {
            std::vector<YAML::Node> entries;
            if (to.IsScalar())
                entries.push_back(to);
            else
                for (const auto& e : to)
                    entries.push_back(e);
            for (const auto& e : entries) {
                if (!e.IsScalar()) {
                    problem(at(e, to),
                            "each entry of 'to' must be an output name, got " + kindOf(e));
                    continue;
                }
                auto v = substituted(e);
                if (!v) continue;
                if (std::find(r.to.begin(), r.to.end(), v->text) != r.to.end()) {
                    problem(v->where, self + " names output '" + v->raw + "' twice");
                    continue;
                }
                if (v->text.find_first_of("{}") != std::string::npos) {
                    if (auto err = templateError(v->text)) {
                        problem(v->where,
                                "output template " + quote(v->raw) + " in " + self + ": " + *err);
                        continue;
                    }
                } else {
                    targets_.push_back({v->text, v->raw, self, v->where});
                }
                r.to.push_back(v->text);
            }
        }
        config_.routes.push_back(std::move(r));
    }

    static std::optional<std::string> templateError(const std::string& t) {
        std::size_t i = 0;
        while (i < t.size()) {
            if (t[i] == '}') return "'}' without a matching '{'";
            if (t[i] != '{') {
                ++i;
                continue;
            }
            const auto close = t.find_first_of("{}", i + 1);
            if (close == std::string::npos || t[close] == '{')
                return std::string("'{' without a matching '}'");
            if (!isAttributeName(t.substr(i + 1, close - i - 1)))
                return std::string("the name between '{' and '}' must be a CloudEvents "
                                   "attribute name (lower-case letters and digits)");
            i = close + 1;
        }
        return std::nullopt;
    }

    /// A route's `match` (with `principal` conditions: input, client, auth) or a rule of an
    /// input's `allow` (without: who sends is what the rule is about).
    void readMatch(const YAML::Node& m, const std::string& self, MatchSpec& match,
                   bool principal = true) {
        if (principal)
            checkKeys(
                m, {"type", "source", "subject", "extensions", "data", "input", "client", "auth"},
                "in 'match' of " + self);
        else
            checkKeys(m, {"type", "source", "subject", "extensions", "data"},
                      "in 'allow' of " + self);
        readGlobs(m, "type", match.type);
        readGlobs(m, "source", match.source);
        readGlobs(m, "subject", match.subject);
        // Who sent the event: the attributes the hub stamps on every event it journals.
        static constexpr std::pair<const char*, const char*> principalKeys[] = {
            {"input", "owinput"}, {"client", "authid"}, {"auth", "owauth"}};
        for (const auto& [key, attribute] : principalKeys) {
            std::vector<std::string> globs;
            if (!principal || !readGlobs(m, key, globs)) continue;
            principalRefs_.push_back({key, globs, at(m[key], m), self});
            match.extensions.emplace_back(attribute, std::move(globs));
        }
        if (auto found = subMap(m, "extensions")) {
            const YAML::Node& sub = *found;
            for (const auto& kv : sub) {
                const YAML::Node& k = kv.first;
                if (!k.IsScalar() || !isAttributeName(k.Scalar())) {
                    problem(at(k, sub), "extension attribute names in 'match' of " + self +
                                            " must be lower-case letters and digits, got " +
                                            kindOf(k));
                    continue;
                }
                std::vector<std::string> globs;
                if (readGlobs(sub, k.Scalar().c_str(), globs))
                    match.extensions.emplace_back(k.Scalar(), std::move(globs));
            }
        }
        if (auto found = subMap(m, "data")) {
            const YAML::Node& sub = *found;
            for (const auto& kv : sub) {
                const YAML::Node& k = kv.first;
                if (!k.IsScalar()) {
                    problem(at(k, sub), "'data' keys must be JSON pointers, got " + kindOf(k));
                    continue;
                }
                if (auto err = pointerError(k.Scalar())) {
                    problem(at(k), "'data' key " + quote(k.Scalar()) + " in 'match' of " + self +
                                       " is not a JSON pointer: " + *err);
                    continue;
                }
                std::vector<std::string> globs;
                if (readGlobs(sub, k.Scalar().c_str(), globs))
                    match.data.emplace_back(k.Scalar(), std::move(globs));
            }
        }
    }

    static std::optional<std::string> pointerError(const std::string& p) {
        if (p.empty()) return std::nullopt;
        if (p[0] != '/') return std::string("it must start with '/'");
        for (std::size_t i = 0; i < p.size(); ++i) {
            if (p[i] == '~' && (i + 1 == p.size() || (p[i + 1] != '0' && p[i + 1] != '1')))
                return std::string("'~' must be followed by 0 or 1");
        }
        return std::nullopt;
    }

    bool readGlobs(const YAML::Node& map, const char* key, std::vector<std::string>& out) {
        const YAML::Node n = map[key];
        if (!n.IsDefined()) return false;
        std::vector<YAML::Node> items;
        if (n.IsScalar()) {
            items.push_back(n);
        } else if (n.IsSequence() && n.size() > 0) {
            for (const auto& e : n)
                items.push_back(e);
        } else {
            problem(at(n, map), std::string("'") + key +
                                    "' must be a pattern or a non-empty list of patterns, got " +
                                    (n.IsSequence() ? "an empty list" : kindOf(n)));
            return false;
        }
        bool ok = true;
        for (const auto& e : items) {
            if (!e.IsScalar()) {
                problem(at(e, n), std::string("each pattern of '") + key +
                                      "' must be a string, got " + kindOf(e));
                ok = false;
                continue;
            }
            auto v = substituted(e);
            if (!v) {
                ok = false;
                continue;
            }
            if (v->text.empty()) {
                problem(v->where, std::string("a pattern of '") + key + "' is empty");
                ok = false;
                continue;
            }
            out.push_back(v->text);
        }
        return ok;
    }

    // personal_data: [ { type: <globs>, fields: [ <JSON pointers> ] } ]
    void readPersonalData(const YAML::Node& item, int index) {
        const std::string self = "personal_data entry #" + std::to_string(index);
        if (!item.IsMap()) {
            problem(at(item),
                    self + " must be a map with 'type' and 'fields', got " + kindOf(item));
            return;
        }
        checkKeys(item, {"type", "fields"}, "in " + self);
        PersonalDataSpec spec;
        spec.where = at(item);
        if (!readGlobs(item, "type", spec.types))
            if (!item["type"].IsDefined()) problem(at(item), self + " needs 'type' (globs)");
        if (!readGlobs(item, "fields", spec.pointers)) {
            if (!item["fields"].IsDefined())
                problem(at(item), self + " needs 'fields' (JSON pointers into the event)");
        }
        for (const auto& p : spec.pointers)
            if (auto err = pointerError(p); err || p.empty())
                problem(at(item["fields"], item),
                        "field " + quote(p) + " of " + self + " is not a JSON pointer: " +
                            (err ? *err : std::string("it must not be empty")));
        config_.personalData.push_back(std::move(spec));
    }

    void readQuery(const YAML::Node& item, int index) {
        const std::string self = "query #" + std::to_string(index);
        if (!item.IsMap()) {
            problem(at(item), self + " must be a map, got " + kindOf(item));
            return;
        }
        checkKeys(item, {"name", "path", "processor", "state_prefix", "per_client_per_minute"},
                  "in " + self);
        QuerySpec q;
        q.where = at(item);
        Value nv, pv, ov;
        if (!requireString(item, "name", q.name, self, &nv)) return;
        const std::string who = "query '" + q.name + "'";
        if (auto [pos, fresh] = queryNames_.emplace(q.name, nv.where); !fresh)
            problem(nv.where, who + " is defined twice (first at line " +
                                  std::to_string(pos->second.line) + ")");
        if (requireString(item, "path", q.path, who, &pv)) {
            if (!validInputPath(q.path) || q.path.back() != '/' || q.path == "/")
                problem(pv.where, "'path' of " + who +
                                      " must be a path prefix ending in '/' such as /v1/cases/, "
                                      "got " +
                                      quote(pv.raw));
            queryPaths_.emplace_back(q.path, pv.where);
        }
        if (requireString(item, "processor", q.processor, who, &ov))
            queryTargets_.push_back({q.processor, ov.where, who});
        readString(item, "state_prefix", q.statePrefix);
        readInt(item, "per_client_per_minute", q.perClientPerMinute, 1, 100000);
        config_.queries.push_back(std::move(q));
    }

    // A query reads a processor's state: the name must be a processor output, and its path
    // must not hide an input.
    void checkQueryTargets() {
        for (const auto& t : queryTargets_) {
            const auto out = std::find_if(config_.outputs.begin(), config_.outputs.end(),
                                          [&](const OutputSpec& o) { return o.name == t.name; });
            if (out == config_.outputs.end())
                problem(t.where, t.owner + " reads unknown output '" + t.name + "'");
            else if (out->kind != OutputSpec::Kind::Processor)
                problem(t.where, t.owner + " reads output '" + t.name +
                                     "', which is not a processor (only a processor keeps state)");
        }
        for (const auto& [prefix, where] : queryPaths_)
            for (const auto& [path, inputWhere] : inputPaths_)
                if (path.rfind(prefix, 0) == 0)
                    problem(where, "query path " + prefix + " would hide the input at " + path +
                                       " (line " + std::to_string(inputWhere.line) + ")");
    }

    // allow: one rule or a list of rules, each a match on type, source, subject, extensions
    // and data (as a route's); an event must match one of them. On an input, a bearer client
    // or a signed sender.
    void readAllow(const YAML::Node& parent, const std::string& self, AllowSpec& out) {
        const YAML::Node n = parent["allow"];
        if (!n.IsDefined()) return;
        std::vector<YAML::Node> rules;
        if (n.IsMap()) {
            rules.push_back(n);
        } else if (n.IsSequence() && n.size() > 0) {
            for (const auto& r : n)
                rules.push_back(r);
        } else {
            problem(at(n, parent), "'allow' of " + self +
                                       " must be a rule ({ type, source, ... }) or a non-empty "
                                       "list of rules, got " +
                                       (n.IsSequence() ? "an empty list" : kindOf(n)));
            return;
        }
        for (const auto& r : rules) {
            if (!r.IsMap() || r.size() == 0) {
                problem(at(r, n), "each rule of 'allow' of " + self +
                                      " must be a map of conditions (type, source, subject, "
                                      "extensions, data), got " +
                                      (r.IsMap() ? "an empty map" : kindOf(r)));
                continue;
            }
            MatchSpec rule;
            readMatch(r, self, rule, /*principal=*/false);
            out.rules.push_back(std::move(rule));
        }
    }

    // "{client}" stands for an HTTP client's name; MQTT and plugin inputs have one principal.
    void noClientPlaceholder(const YAML::Node& item, const std::string& self,
                             const AllowSpec& allow) {
        if (security::forClient(allow, "") != allow)
            problem(at(item["allow"], item),
                    "'{client}' in 'allow' of " + self +
                        " stands for an HTTP client's name; this input has no clients (write the "
                        "name itself)");
    }

    static bool isGlob(const std::string& s) { return s.find_first_of("*?") != std::string::npos; }

    // A route's input, client and auth conditions must be able to match something: a name
    // mistyped there would silently route nothing.
    void checkPrincipalReferences() {
        std::vector<std::string> inputs, clients;
        for (const auto& in : config_.inputs) {
            inputs.push_back(in.name);
            switch (in.kind) {
            case InputSpec::Kind::Http:
                for (const auto& t : in.tokens)
                    clients.push_back(t.client);
                if (in.signedAuth)
                    for (const auto& sd : in.signedAuth->senders)
                        clients.push_back(sd.client);
                if (in.tokens.empty() && !in.signedAuth) clients.emplace_back("anonymous");
                break;
            case InputSpec::Kind::Mqtt:
                clients.push_back("mqtt:" + in.mqtt.broker);
                break;
            case InputSpec::Kind::Source:
                clients.push_back("source:" + in.name);
                break;
            }
        }
        for (const auto& o : config_.outputs)
            if (o.kind == OutputSpec::Kind::Processor) {
                inputs.push_back("processor:" + o.name);
                clients.push_back("processor:" + o.name);
            }
        for (const char* c : {"command:fees-reconcile"}) {
            inputs.emplace_back(c);
            clients.emplace_back(c);
        }
        const std::vector<std::string> methods = {"none", "token",  "signature", "certificate",
                                                  "mqtt", "source", "processor", "command"};
        for (const auto& ref : principalRefs_) {
            const std::string key = ref.key;
            const auto& known = key == "input" ? inputs : key == "client" ? clients : methods;
            for (const auto& g : ref.globs) {
                const bool hit = std::any_of(known.begin(), known.end(), [&](const std::string& k) {
                    return routing::globMatch(g, k);
                });
                // A client certificate's subject is not known before it connects.
                if (hit || (key == "client" && g.find('=') != std::string::npos)) continue;
                problem(ref.where,
                        "'" + key + "' of " + ref.route + ": " + quote(g) +
                            (isGlob(g) ? " matches no " : " is no ") +
                            (key == "input"    ? "input of this configuration"
                             : key == "client" ? "client of any input (bearer clients, signed "
                                                 "senders, mqtt:<broker>, source:<input>, "
                                                 "processor:<output>)"
                                               : "way in (none, token, signature, certificate, "
                                                 "mqtt, source, processor, command)") +
                            (isGlob(g) ? std::string() : didYouMean(g, known)));
            }
        }
    }

    // `check` tells the operator about every broadcast (MQTT) output that does not say what
    // it does with personal data: a broker's subscribers are often screens in a public hall.
    void warnBroadcastOutputs() {
        for (const auto& o : config_.outputs)
            if (o.kind == OutputSpec::Kind::Mqtt && !o.personalDataGiven)
                warn(o.where, "output '" + o.name +
                                  "' publishes to a broker with personal data "
                                  "kept; say 'personal_data: mask' (or drop, "
                                  "or keep) to decide what subscribers see");
    }

    // `check` tells the operator about every way in that lets a client send anything.
    void warnOpenInputs() {
        for (const auto& in : config_.inputs) {
            const std::string self = "input '" + in.name + "'";
            const char* fix = "; add 'allow' with the types and sources it may send";
            if (in.allow.restricts()) continue;
            if (in.kind != InputSpec::Kind::Http) {
                warn(in.where, self + " lets " +
                                   (in.kind == InputSpec::Kind::Mqtt ? "its broker's publishers"
                                                                     : "its plugin source") +
                                   " send any type and source" + fix);
                continue;
            }
            if (in.tokens.empty() && !in.signedAuth) {
                warn(in.where, self +
                                   " has no authentication and lets anyone send any type "
                                   "and source" +
                                   fix);
                continue;
            }
            for (const auto& t : in.tokens)
                if (!t.allow.restricts())
                    warn(in.where,
                         self + " lets client '" + t.client + "' send any type and source" + fix);
            if (in.signedAuth)
                for (const auto& sd : in.signedAuth->senders)
                    if (!sd.allow.restricts())
                        warn(in.where, self + " lets sender '" + sd.client +
                                           "' send any type and source" + fix);
        }
    }

    void checkRouteTargets() {
        std::vector<std::string> names;
        for (const auto& o : config_.outputs)
            names.push_back(o.name);
        for (const auto& t : targets_) {
            if (outputNames_.count(t.name)) continue;
            problem(t.where, t.route + " sends to unknown output '" + t.raw + "'" +
                                 (t.raw == t.name ? didYouMean(t.name, names) : std::string()));
        }
    }

    const EnvLookup& env_;
    const EnvLookup& unsetStandIn_;
    const bool checkFiles_; // false: files and folders the hub would open need not exist
    HubConfig config_;
    std::vector<ConfigProblem> problems_;
    std::vector<ConfigProblem> warnings_;
    std::string loaded_; // every file's path and text, for HubConfig::digest
    const FileCtx* cur_ = nullptr;
    std::vector<const FileCtx*> stack_;
    std::vector<std::string> displays_;
    std::map<std::string, SourceLocation> included_;
    std::map<std::string, SourceLocation> inputNames_, inputPaths_, outputNames_, routeNames_,
        brokerNames_, pluginNames_, queryNames_;
    struct QueryTarget {
        std::string name;
        SourceLocation where;
        std::string owner;
    };
    std::vector<QueryTarget> queryTargets_;
    std::vector<std::pair<std::string, SourceLocation>> queryPaths_;
    struct PluginRef {
        std::string name; ///< the plugin part of "<plugin>/<component>"
        SourceLocation where;
        std::string owner;
        std::string kind; ///< "sink", "processor" or "source"
    };
    std::vector<PluginRef> pluginRefs_;
    struct BrokerRef {
        std::string name;
        std::string raw;
        std::string owner;
        SourceLocation where;
    };
    std::vector<BrokerRef> brokerRefs_;
    std::vector<Target> targets_;
    struct PrincipalRef {
        const char* key; ///< "input", "client" or "auth"
        std::vector<std::string> globs;
        SourceLocation where;
        std::string route;
    };
    std::vector<PrincipalRef> principalRefs_;
    bool dataDirSet_ = false;
};

} // namespace

std::string formatLocation(const SourceLocation& where) {
    std::string out = where.file;
    if (where.line > 0)
        out += ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
    return out;
}

std::string formatProblem(const ConfigProblem& p) {
    const std::string out = formatLocation(p.where);
    return out.empty() ? p.message : out + ": " + p.message;
}

EnvLookup processEnvironment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
    };
}

namespace {

// Built field by field: GCC 12 at -O2 warns (falsely) "may be used uninitialized" about the
// nested brace-initialised form.
LoadResult internalError(const std::string& file, const std::exception& e) {
    ConfigProblem p;
    p.where.file = file;
    p.message = std::string("internal error: ") + e.what();
    LoadResult r;
    r.problems.push_back(std::move(p));
    return r;
}

} // namespace

LoadResult loadConfigFile(const std::string& path, const EnvLookup& env,
                          const EnvLookup& unsetStandIn, bool checkFiles) {
    try {
        return Loader(env, unsetStandIn, checkFiles).loadFile(path);
    } catch (const std::exception& e) {
        // Every known failure is a problem already; this is the promise not to throw.
        return internalError(path, e);
    }
}

LoadResult loadConfigText(const std::string& text, const std::string& fileName,
                          const std::string& baseDir, const EnvLookup& env) {
    try {
        return Loader(env).loadText(text, fileName, baseDir);
    } catch (const std::exception& e) {
        return internalError(fileName, e);
    }
}

} // namespace ow::config
