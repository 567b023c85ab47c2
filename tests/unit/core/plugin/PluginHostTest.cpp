// The plugin host's gate: which files it will load, and which libraries it refuses after
// reading their declaration, with the messages an operator sees.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <sys/stat.h>

#include "core/plugin/PluginFile.h"
#include "core/plugin/PluginLibrary.h"
#include "tests/support/TempDir.h"

using namespace ow;
namespace fs = std::filesystem;
namespace sdk = onewindow::sdk;

namespace {

std::string builtPlugin(const std::string& name) {
    return std::string(OW_TEST_PLUGIN_DIR) + "/" + name + ".so";
}

// A private plugin folder (0755) holding a copy of a built test plugin (0644).
struct PluginDir {
    testkit::TempDir tmp;
    std::string dir = tmp.file("plugins");
    PluginDir() {
        fs::create_directory(dir);
        ::chmod(dir.c_str(), 0755);
    }
    std::string add(const std::string& name) {
        std::string to = dir + "/" + name + ".so";
        fs::copy_file(builtPlugin(name), to, fs::copy_options::overwrite_existing);
        ::chmod(to.c_str(), 0644);
        return to;
    }
};

struct NullServices {
    struct L : sdk::Logger {
        void write(sdk::LogLevel, const std::string&,
                   const std::map<std::string, std::string>&) override {}
    } log;
    struct C : sdk::Counter {
        void add(double) override {}
    } counter;
    struct G : sdk::Gauge {
        void set(double) override {}
    } gauge;
    struct H : sdk::Histogram {
        void observe(double) override {}
    } histogram;
    struct M : sdk::Metrics {
        NullServices* o;
        sdk::Counter& counter(const std::string&, const std::string&) override {
            return o->counter;
        }
        sdk::Gauge& gauge(const std::string&, const std::string&) override { return o->gauge; }
        sdk::Histogram& histogram(const std::string&, const std::string&,
                                  const std::vector<double>&) override {
            return o->histogram;
        }
    } metrics;
    struct K : sdk::Clock {
        std::int64_t nowMs() const override { return 0; }
    } clock;
    struct Http : sdk::HttpClient {
        sdk::HttpResponse send(const sdk::HttpRequest&) override { return {}; }
    } http;
    struct S : sdk::Secrets {
        std::optional<std::string> get(const std::string&) const override { return std::nullopt; }
    } secrets;
    sdk::Config config;
    sdk::Services services{log, metrics, clock, http, secrets, config, "test"};
    NullServices() { metrics.o = this; }
};

struct MemoryContext : sdk::ProcessContext {
    std::map<std::string, std::string> state;
    std::optional<std::string> get(const std::string& k) override {
        auto it = state.find(k);
        return it == state.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    void put(const std::string& k, const std::string& v) override { state[k] = v; }
    void erase(const std::string& k) override { state.erase(k); }
    void emit(sdk::Event) override {}
    void setTimer(const std::string&, std::int64_t, std::string) override {}
    void cancelTimer(const std::string&) override {}
};

} // namespace

TEST_CASE("Plugin files: a file in the directory loads, by name or absolute path", "[plugin]") {
    PluginDir p;
    auto path = p.add("ow_test_plugin_good");
    auto byName = plugin::checkPluginFile({p.dir}, "ow_test_plugin_good.so");
    REQUIRE(byName.ok());
    CHECK(byName.path == fs::canonical(path).string());
    CHECK(plugin::checkPluginFile({p.dir}, path).ok());
}

TEST_CASE("Plugin files: every way out of the directory is refused", "[plugin]") {
    PluginDir p;
    auto path = p.add("ow_test_plugin_good");
    fs::create_directory(p.tmp.file("elsewhere"));
    auto outside = p.tmp.file("elsewhere/evil.so");
    fs::copy_file(builtPlugin("ow_test_plugin_good"), outside);
    ::chmod(outside.c_str(), 0644);

    SECTION("'..' in the path") {
        auto r = plugin::checkPluginFile({p.dir}, "../elsewhere/evil.so");
        CHECK(r.error == "plugin path '../elsewhere/evil.so' contains '..'");
    }
    SECTION("an absolute path outside the directory") {
        auto r = plugin::checkPluginFile({p.dir}, outside);
        CHECK_THAT(r.error, Catch::Contains("outside the plugin directories"));
    }
    SECTION("a symlink in the directory that leads out of it") {
        fs::create_symlink(outside, p.dir + "/link.so");
        auto r = plugin::checkPluginFile({p.dir}, "link.so");
        CHECK_THAT(r.error, Catch::Contains("resolves to " + fs::canonical(outside).string() +
                                            ", outside the plugin directories"));
    }
    SECTION("a world-writable file") {
        ::chmod(path.c_str(), 0666);
        auto r = plugin::checkPluginFile({p.dir}, "ow_test_plugin_good.so");
        CHECK_THAT(r.error, Catch::Contains("is writable by other users"));
    }
    SECTION("a world-writable directory") {
        ::chmod(p.dir.c_str(), 0777);
        auto r = plugin::checkPluginFile({p.dir}, "ow_test_plugin_good.so");
        CHECK_THAT(r.error, Catch::Contains("plugin directory"));
        CHECK_THAT(r.error, Catch::Contains("is writable by other users"));
    }
    SECTION("a missing file") {
        auto r = plugin::checkPluginFile({p.dir}, "nothing.so");
        CHECK(r.error == "plugin file 'nothing.so' is not in any plugin directory");
    }
    SECTION("a directory instead of a file") {
        fs::create_directory(p.dir + "/sub.so");
        ::chmod((p.dir + "/sub.so").c_str(), 0755);
        auto r = plugin::checkPluginFile({p.dir}, "sub.so");
        CHECK(r.error == "plugin file 'sub.so' is not a regular file");
    }
}

TEST_CASE("Plugin files: SHA-256 pinning accepts the pinned file only", "[plugin]") {
    PluginDir p;
    auto path = p.add("ow_test_plugin_good");
    auto digest = plugin::sha256File(path);
    CHECK(digest.size() == 64);
    std::string upper = digest;
    for (auto& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(plugin::checkPluginFile({p.dir}, "ow_test_plugin_good.so", upper).ok());
    // The same name, other contents: refused with both digests named.
    p.add("ow_test_plugin_bad_abi");
    fs::copy_file(p.dir + "/ow_test_plugin_bad_abi.so", path, fs::copy_options::overwrite_existing);
    auto r = plugin::checkPluginFile({p.dir}, "ow_test_plugin_good.so", digest);
    CHECK_THAT(r.error, Catch::Contains("the configuration pins " + digest));
}

TEST_CASE("Plugin library: the current SDK's plugin loads and registers its components",
          "[plugin]") {
    PluginDir p;
    auto lib = plugin::PluginLibrary::load(p.add("ow_test_plugin_good"));
    CHECK(lib->name() == "test-good");
    CHECK(lib->version() == "1.0.0");
    REQUIRE(lib->components().size() == 4);
    REQUIRE(lib->find("counter"));
    CHECK(lib->find("counter")->info.kind == sdk::ComponentKind::Processor);
    CHECK(lib->find("counter")->info.spec.fields.size() == 5);
    CHECK(lib->find("picky")->info.kind == sdk::ComponentKind::Sink);

    NullServices s;
    auto counter = lib->createProcessor("counter", s.services);
    MemoryContext ctx;
    sdk::Event e;
    e.type = "test.event";
    for (int i = 0; i < 3; ++i) {
        e.id = "e-" + std::to_string(i);
        CHECK(counter->process(e, ctx).kind == sdk::Result::Kind::Ok);
    }
    CHECK(counter->process(e, ctx).kind == sdk::Result::Kind::Ok); // a repeat is not counted
    CHECK(ctx.state["count"] == "3");
    CHECK(ctx.state["dups"] == "1");
    auto sink = lib->createSink("picky", s.services);
    e.type = "test.reject";
    auto r = sink->deliver(e);
    CHECK(r.kind == sdk::Result::Kind::Reject);
    CHECK(r.reason == "type test.reject is refused");
    CHECK_THROWS_WITH(lib->createSink("counter", s.services),
                      Catch::Contains("has no component 'counter' of that kind"));

    auto doc = plugin::describePlugin(*lib);
    CHECK_THAT(doc, Catch::Contains("## processor `test-good/counter`"));
    CHECK_THAT(doc, Catch::Contains(
                        "| `limit` | integer [1 .. 1000000] | no |  | Largest count expected |"));
    CHECK_THAT(doc, Catch::Contains("one of `strict`, `lenient`"));
}

TEST_CASE("Plugin library: another ABI, another toolchain or no declaration is refused",
          "[plugin]") {
    PluginDir p;
    auto abi = p.add("ow_test_plugin_bad_abi");
    CHECK_THROWS_WITH(plugin::PluginLibrary::load(abi),
                      "plugin " + abi +
                          " was built for plugin ABI 999 (SDK 9.9.9); this hub speaks ABI " +
                          std::to_string(sdk::AbiVersion) +
                          ": rebuild the plugin against OneWindow SDK " + sdk::SdkVersion);
    auto fp = p.add("ow_test_plugin_bad_fingerprint");
    CHECK_THROWS_WITH(plugin::PluginLibrary::load(fp),
                      "plugin " + fp +
                          " was built with toolchain 'libc++/riscv64/ptr4', the hub with '" +
                          plugin::PluginLibrary::hostFingerprint() +
                          "': rebuild the plugin with the hub's compiler and standard library");
    auto none = p.add("ow_test_plugin_no_declaration");
    CHECK_THROWS_WITH(plugin::PluginLibrary::load(none),
                      Catch::Contains("does not export 'onewindow_plugin'"));
    std::string text = p.dir + "/text.so";
    std::ofstream(text) << "not an ELF file";
    CHECK_THROWS_WITH(plugin::PluginLibrary::load(text),
                      "plugin " + text + " is not a shared library (ELF) for this system");
}

TEST_CASE("Plugin library: objects keep their library loaded after the loader is gone",
          "[plugin]") {
    PluginDir p;
    NullServices s;
    std::shared_ptr<sdk::Processor> counter;
    {
        auto lib = plugin::PluginLibrary::load(p.add("ow_test_plugin_good"));
        counter = lib->createProcessor("counter", s.services);
    } // the last handle to the library is the processor's
    MemoryContext ctx;
    sdk::Event e;
    e.type = "test.event";
    CHECK(counter->process(e, ctx).kind == sdk::Result::Kind::Ok); // its code is still mapped
    CHECK(ctx.state["count"] == "1");
}
