// Plugin configuration: the `plugins` section and sink outputs in the hub's YAML, and each
// sink instance's `config` checked against its component's spec with file:line:column errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "core/config/ConfigLoader.h"
#include "core/plugin/ConfigCheck.h"
#include "tests/support/TempDir.h"

using namespace ow;
namespace sdk = onewindow::sdk;

namespace {

config::LoadResult load(const testkit::TempDir& dir, const std::string& text,
                        std::map<std::string, std::string> env = {}) {
    return config::loadConfigText(text, "test.yaml", dir.path(),
                                  [env](const std::string& n) -> std::optional<std::string> {
                                      auto it = env.find(n);
                                      if (it == env.end()) return std::nullopt;
                                      return it->second;
                                  });
}

std::string dump(const std::vector<config::ConfigProblem>& ps) {
    std::string out;
    for (const auto& p : ps)
        out += config::formatProblem(p) + "\n";
    return out;
}

sdk::ConfigSpec registrySpec() {
    return sdk::ConfigSpec("Business registration")
        .field(sdk::Field::string("base_url").required().describe("REST endpoint"))
        .field(sdk::Field::integer("timeout_ms").defaultsTo(5000).range(100, 60000))
        .field(sdk::Field::number("ratio").range(0, 1))
        .field(sdk::Field::boolean("verify").defaultsTo(true))
        .field(sdk::Field::oneOf("mode", {"rest", "batch"}).defaultsTo("rest"))
        .field(sdk::Field::stringList("items"))
        .field(sdk::Field::secret("api_key"));
}

} // namespace

TEST_CASE("Plugin config: plugins and sink outputs are read with their positions", "[plugin]") {
    testkit::TempDir dir;
    std::filesystem::create_directory(dir.file("plugins"));
    auto r = load(dir, R"(hub:
  plugin_dirs: [ plugins ]
plugins:
  - { name: commerce, file: commerce.so, sha256: "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789" }
outputs:
  - name: gongshang
    sink: commerce/registry
    config:
      base_url: "http://127.0.0.1:9/x"
      api_key: ${KEY}
routes:
  - { name: all, to: [ gongshang ] }
)",
                  {{"KEY", "s3cret"}});
    INFO(dump(r.problems));
    REQUIRE(r.ok());
    REQUIRE(r.config.hub.pluginDirs.size() == 1);
    CHECK(r.config.hub.pluginDirs[0] == dir.file("plugins"));
    REQUIRE(r.config.plugins.size() == 1);
    CHECK(r.config.plugins[0].file == "commerce.so");
    const auto& o = r.config.outputs.at(0);
    CHECK(o.kind == config::OutputSpec::Kind::Sink);
    CHECK(o.sink == "commerce/registry");
    REQUIRE(o.pluginConfig.items.size() == 2);
    CHECK(o.pluginConfig.items[1].text == "s3cret");
    CHECK(o.pluginConfig.items[1].raw == "${KEY}");
    CHECK(o.pluginConfig.items[0].where.line == 9);
}

TEST_CASE("Plugin config: a bad plugins section is reported where it is written", "[plugin]") {
    testkit::TempDir dir;
    auto r = load(dir, R"(hub:
  plugin_dirs: [ nowhere ]
plugins:
  - { name: commerce, file: commerce.so, sha256: "xyz" }
outputs:
  - { name: a, sink: "commerce" }
  - { name: b, sink: comerce/registry }
  - { name: c, url: "http://127.0.0.1:9/", config: { x: 1 } }
  - { name: d, sink: commerce/registry, url: "http://127.0.0.1:9/" }
routes:
  - { name: all, to: [ a, b, c, d ] }
)");
    auto text = dump(r.problems);
    INFO(text);
    CHECK_THAT(text, Catch::Contains("test.yaml:2:18: plugin directory '" + dir.file("nowhere") +
                                     "' does not exist or is not a folder"));
    CHECK_THAT(text, Catch::Contains("test.yaml:4:50: 'sha256' must be 64 hexadecimal digits"));
    CHECK_THAT(text,
               Catch::Contains(
                   "test.yaml:6:22: 'sink' must be \"<plugin>/<component>\", got \"commerce\""));
    CHECK_THAT(text, Catch::Contains("test.yaml:7:22: output 'b' names sink of unknown plugin "
                                     "'comerce' (did you mean 'commerce'?)"));
    CHECK_THAT(text, Catch::Contains(
                         "test.yaml:8:52: 'config' in output 'c' configures a plugin; add 'sink: "
                         "plugin/component' or 'processor: plugin/component'"));
    CHECK_THAT(
        text,
        Catch::Contains("output 'd' has 'sink' and also 'url'; an output delivers to one of them"));
    CHECK_THAT(text, Catch::Contains("test.yaml:4:5: plugins are declared but 'hub.plugin_dirs'"));
}

TEST_CASE("Plugin config: an instance's config is checked against the component's spec",
          "[plugin]") {
    testkit::TempDir dir;
    std::filesystem::create_directory(dir.file("p"));
    auto r = load(dir, R"(hub: { plugin_dirs: [ p ] }
plugins:
  - { name: commerce, file: commerce.so }
outputs:
  - name: gongshang
    sink: commerce/registry
    config:
      base_urll: "http://x"
      timeout_ms: 50
      ratio: abc
      verify: maybe
      mode: rst
      items: plain
      api_key: "written-in-the-file"
routes:
  - { name: all, to: [ gongshang ] }
)");
    INFO(dump(r.problems));
    REQUIRE(r.ok());
    std::vector<config::ConfigProblem> problems;
    const auto& o = r.config.outputs.at(0);
    auto conf =
        plugin::checkConfig(registrySpec(), o.pluginConfig,
                            "output 'gongshang' (sink commerce/registry)", o.where, problems);
    auto text = dump(problems);
    INFO(text);
    const std::string in = " in 'config' of output 'gongshang' (sink commerce/registry)";
    CHECK_THAT(text, Catch::Contains("test.yaml:8:7: unknown key 'base_urll'" + in +
                                     " (did you mean 'base_url'?)"));
    CHECK_THAT(text, Catch::Contains("missing required key 'base_url'" + in + " (REST endpoint)"));
    CHECK_THAT(
        text,
        Catch::Contains("test.yaml:9:19: 'timeout_ms' must be between 100 and 60000, got 50" + in));
    CHECK_THAT(text,
               Catch::Contains("test.yaml:10:14: 'ratio' must be a number, got \"abc\"" + in));
    CHECK_THAT(text, Catch::Contains(
                         "test.yaml:11:15: 'verify' must be true or false, got \"maybe\"" + in));
    CHECK_THAT(text,
               Catch::Contains("test.yaml:12:13: 'mode' must be one of rest, batch, got \"rst\" "
                               "(did you mean 'rest'?)" +
                               in));
    CHECK_THAT(text, Catch::Contains("test.yaml:13:14: 'items' must be a list of strings" + in));
    CHECK_THAT(text, Catch::Contains("test.yaml:14:16: 'api_key' is a secret: give it as ${NAME}"));
    CHECK(problems.size() == 8);
}

TEST_CASE("Plugin config: valid values are typed and defaults filled in", "[plugin]") {
    testkit::TempDir dir;
    std::filesystem::create_directory(dir.file("p"));
    auto r = load(dir, R"(hub: { plugin_dirs: [ p ] }
plugins:
  - { name: commerce, file: commerce.so }
outputs:
  - name: gongshang
    sink: commerce/registry
    config:
      base_url: "http://127.0.0.1:9/x"
      ratio: 0.25
      items: [ "SS-01", "SS-02" ]
      api_key: ${KEY}
routes:
  - { name: all, to: [ gongshang ] }
)",
                  {{"KEY", "k-123"}});
    REQUIRE(r.ok());
    std::vector<config::ConfigProblem> problems;
    const auto& o = r.config.outputs.at(0);
    auto conf = plugin::checkConfig(registrySpec(), o.pluginConfig, "output 'gongshang'", o.where,
                                    problems);
    INFO(dump(problems));
    REQUIRE(problems.empty());
    CHECK(conf.get<std::string>("base_url") == "http://127.0.0.1:9/x");
    CHECK(conf.get<std::int64_t>("timeout_ms") == 5000);
    CHECK(conf.get<double>("ratio") == 0.25);
    CHECK(conf.get<bool>("verify") == true);
    CHECK(conf.get<std::string>("mode") == "rest");
    CHECK(conf.get<std::vector<std::string>>("items") ==
          std::vector<std::string>{"SS-01", "SS-02"});
    CHECK(conf.get<std::string>("api_key") == "k-123");
}

TEST_CASE("Plugin config: source inputs are read and checked like sinks", "[plugin]") {
    testkit::TempDir dir;
    std::filesystem::create_directory(dir.file("p"));
    auto r = load(dir, R"(hub: { plugin_dirs: [ p ] }
plugins:
  - { name: land, file: land.so }
inputs:
  - { name: frontdb, source: land/poller, config: { table: GT_OUT } }
  - { name: bad1, source: landpoller }
  - { name: bad2, source: lnd/poller }
  - { name: bad3, source: land/poller, path: /v1/x }
  - { name: bad4, path: /v1/y, config: { a: 1 } }
)");
    auto text = dump(r.problems);
    INFO(text);
    CHECK_THAT(text, Catch::Contains("test.yaml:6:27: 'source' must be \"<plugin>/<component>\""));
    CHECK_THAT(text, Catch::Contains("test.yaml:7:27: input 'bad2' names source of unknown plugin "
                                     "'lnd' (did you mean 'land'?)"));
    CHECK_THAT(text, Catch::Contains("test.yaml:8:46: input 'bad3' is a plugin source; 'path' "
                                     "belongs to HTTP inputs"));
    CHECK_THAT(text, Catch::Contains("'config' in input 'bad4' configures a plugin source"));
    const auto& in = r.config.inputs.at(0);
    CHECK(in.kind == config::InputSpec::Kind::Source);
    CHECK(in.source == "land/poller");
    REQUIRE(in.sourceConfig.items.size() == 1);
    CHECK(in.sourceConfig.items[0].key == "table");
    CHECK(in.sourceConfig.items[0].text == "GT_OUT");
}

TEST_CASE("Plugin config: a source input's tls is read like an output's, and only there",
          "[plugin]") {
    testkit::TempDir dir;
    std::filesystem::create_directory(dir.file("p"));
    for (const char* f : {"tls/ca.crt", "tls/client.crt", "tls/client.key"})
        dir.writeFile(f, "x");
    auto r = load(dir, R"(hub: { plugin_dirs: [ p ] }
plugins:
  - { name: police, file: police.so }
inputs:
  - name: updates
    source: police/updates
    tls: { ca_file: tls/ca.crt, cert_file: tls/client.crt, key_file: tls/client.key, verify: false }
  - name: half
    source: police/updates
    tls: { ca_file: tls/ca.crt, cert_file: tls/client.crt }
  - name: typo
    source: police/updates
    tls: { ca_fiel: tls/ca.crt }
  - name: gone
    source: police/updates
    tls: { ca_file: tls/missing.crt }
  - { name: hall, path: /v1/events, tls: { ca_file: tls/ca.crt } }
)");
    auto text = dump(r.problems);
    INFO(text);
    CHECK_THAT(text, Catch::Contains("test.yaml:10:10: 'tls' of input 'half': 'cert_file' and "
                                     "'key_file' must be given together"));
    CHECK_THAT(text, Catch::Contains("test.yaml:13:12: unknown key 'ca_fiel' in 'tls' of input "
                                     "'typo' (did you mean 'ca_file'?)"));
    CHECK_THAT(text, Catch::Contains("test.yaml:16:21: 'ca_file': file '" +
                                     dir.file("tls/missing.crt") + "' does not exist"));
    CHECK_THAT(text, Catch::Contains("test.yaml:17:42: 'tls' in input 'hall' belongs to plugin "
                                     "sources"));
    CHECK(std::count(text.begin(), text.end(), '\n') == 4);
    const auto& in = r.config.inputs.at(0);
    const auto norm = [](const std::string& p) {
        return std::filesystem::path(p).lexically_normal().string();
    };
    CHECK(in.tls.caFile == norm(dir.file("tls/ca.crt")));
    CHECK(in.tls.certFile == norm(dir.file("tls/client.crt")));
    CHECK(in.tls.keyFile == norm(dir.file("tls/client.key")));
    CHECK_FALSE(in.tls.verify);
}
