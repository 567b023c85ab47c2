#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "core/config/ConfigLoader.h"
#include "core/config/EnvSubstitution.h"
#include "core/config/Suggest.h"
#include "tests/support/TempDir.h"

using namespace ow::config;
using ow::testkit::TempDir;

namespace {

EnvLookup envOf(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

const EnvLookup kNoEnv = envOf({});

std::string dump(const LoadResult& r) {
    std::string out;
    for (const auto& p : r.problems)
        out += formatProblem(p) + "\n";
    return out;
}

/// True when some problem sits exactly at line:column and its message contains `text`.
bool hasProblem(const LoadResult& r, int line, int column, const std::string& text) {
    for (const auto& p : r.problems)
        if (p.where.line == line && p.where.column == column &&
            p.message.find(text) != std::string::npos)
            return true;
    return false;
}

LoadResult loadText(const TempDir& dir, const std::string& text, const EnvLookup& env = kNoEnv) {
    return loadConfigText(text, "test.yaml", dir.path(), env);
}

std::string norm(const std::string& p) {
    return std::filesystem::path(p).lexically_normal().string();
}

} // namespace

TEST_CASE("ConfigLoader: an empty file yields the documented defaults", "[config]") {
    TempDir dir("ow-config");
    const LoadResult r = loadText(dir, "");
    INFO(dump(r));
    REQUIRE(r.ok());
    const HubSettings defaults;
    CHECK(r.config.hub.listenHost == "127.0.0.1");
    CHECK(r.config.hub.listenPort == 8080);
    CHECK(r.config.hub.logLevel == "info");
    CHECK(r.config.hub.maxConnections == defaults.maxConnections);
    CHECK(r.config.hub.limits.maxBodyBytes == defaults.limits.maxBodyBytes);
    CHECK(r.config.hub.journal.synchronous == "full");
    CHECK_FALSE(r.config.hub.tls.enabled);
    // The default data_dir is relative too, so it follows the configuration's folder.
    CHECK(r.config.hub.dataDir == norm(dir.path() + "/var/onewindow"));
    CHECK(r.config.inputs.empty());
    CHECK(r.config.outputs.empty());
    CHECK(r.config.routes.empty());
    REQUIRE(r.config.files.size() == 1);
    CHECK(r.config.files[0] == norm(dir.path() + "/test.yaml"));

    const OutputSpec out = [&] {
        const LoadResult one = loadText(dir, "outputs:\n  - name: a\n    url: http://h/\n");
        REQUIRE(one.ok());
        return one.config.outputs.at(0);
    }();
    CHECK(out.mode == OutputSpec::Mode::Structured);
    CHECK(out.concurrency == 4);
    CHECK(out.orderingKey == "subject");
    CHECK(out.retry.maxAttempts == 25);
    CHECK(out.circuit.failureThreshold == 5);
    CHECK(out.tls.verify);
}

TEST_CASE("ConfigLoader: a full configuration sets every field", "[config]") {
    TempDir dir("ow-config");
    for (const char* f :
         {"tls/hub.crt", "tls/hub.key", "tls/ca.crt", "tls/client.crt", "tls/client.key"})
        dir.writeFile(f, "pem");
    dir.writeFile("secrets/website.token", "web-token-123-2026\n");
    const std::string text = R"(hub:
  listen: "[::1]:9090"
  data_dir: state
  log_level: debug
  max_connections: 64
  idempotency_retention_hours: 48
  shutdown_timeout_ms: 5000
  limits:
    max_body_bytes: 2048
    max_header_bytes: 4096
    max_header_count: 50
    max_json_depth: 16
    max_json_keys: 500
    max_batch_events: 10
    header_timeout_ms: 1000
    body_timeout_ms: 2000
    idle_timeout_ms: 3000
  journal:
    synchronous: extra
    max_batch: 100
    retention_hours: 72
  tls:
    enabled: true
    cert_file: tls/hub.crt
    key_file: tls/hub.key
    client_ca_file: tls/ca.crt
    require_client_cert: true
inputs:
  - name: events
    path: /v1/events
    auth:
      bearer_tokens:
        - { client: platform, token: "${PLATFORM_TOKEN}" }
        - { client: website, token_file: secrets/website.token }
  - name: open
    path: /v1/open
outputs:
  - name: intranet
    url: https://intranet.example:8443/events
    mode: binary
    connect_timeout_ms: 1500
    read_timeout_ms: 7000
    concurrency: 8
    ordering_key: none
    retry: { initial_delay_ms: 100, max_delay_ms: 60000, multiplier: 1.5, jitter: 0,
             max_attempts: 10 }
    circuit: { failure_threshold: 3, open_ms: 20000 }
    tls: { ca_file: tls/ca.crt, cert_file: tls/client.crt, key_file: tls/client.key,
           verify: false }
    headers: { Authorization: "Bearer ${SUPERVISION_TOKEN}", X-Source: onewindow }
  - name: dept-land
    url: http://127.0.0.1:9001/
routes:
  - name: cases-to-department
    match:
      type: "gov.case.*"
      source: ["/portal/*", "/counter/*"]
      subject: "case-?"
      extensions: { department: "land-*" }
      data: { "/applicant/kind": company, "": "*" }
    to: [intranet, "dept-{department}"]
)";
    const LoadResult r = loadText(
        dir, text,
        envOf({{"PLATFORM_TOKEN", "plat-token-456-2026"}, {"SUPERVISION_TOKEN", "sv-789"}}));
    INFO(dump(r));
    REQUIRE(r.ok());
    const HubConfig& c = r.config;
    CHECK(c.hub.listenHost == "::1");
    CHECK(c.hub.listenPort == 9090);
    CHECK(c.hub.dataDir == norm(dir.path() + "/state"));
    CHECK(c.hub.logLevel == "debug");
    CHECK(c.hub.maxConnections == 64);
    CHECK(c.hub.idempotencyRetentionHours == 48);
    CHECK(c.hub.shutdownTimeoutMs == 5000);
    CHECK(c.hub.limits.maxBodyBytes == 2048);
    CHECK(c.hub.limits.maxHeaderBytes == 4096);
    CHECK(c.hub.limits.maxHeaderCount == 50);
    CHECK(c.hub.limits.maxJsonDepth == 16);
    CHECK(c.hub.limits.maxJsonKeys == 500);
    CHECK(c.hub.limits.maxBatchEvents == 10);
    CHECK(c.hub.limits.headerTimeoutMs == 1000);
    CHECK(c.hub.limits.bodyTimeoutMs == 2000);
    CHECK(c.hub.limits.idleTimeoutMs == 3000);
    CHECK(c.hub.journal.synchronous == "extra");
    CHECK(c.hub.journal.maxBatch == 100);
    CHECK(c.hub.journal.retentionHours == 72);
    CHECK(c.hub.tls.enabled);
    CHECK(c.hub.tls.certFile == norm(dir.path() + "/tls/hub.crt"));
    CHECK(c.hub.tls.keyFile == norm(dir.path() + "/tls/hub.key"));
    CHECK(c.hub.tls.clientCaFile == norm(dir.path() + "/tls/ca.crt"));
    CHECK(c.hub.tls.requireClientCert);

    REQUIRE(c.inputs.size() == 2);
    CHECK(c.inputs[0].name == "events");
    CHECK(c.inputs[0].path == "/v1/events");
    CHECK(c.inputs[0].where.line == 29);
    CHECK(c.inputs[0].where.column == 5);
    REQUIRE(c.inputs[0].tokens.size() == 2);
    CHECK(c.inputs[0].tokens[0].client == "platform");
    CHECK(c.inputs[0].tokens[0].token == "plat-token-456-2026");
    CHECK(c.inputs[0].tokens[1].client == "website");
    CHECK(c.inputs[0].tokens[1].token == "web-token-123-2026");
    CHECK(c.inputs[1].tokens.empty());

    REQUIRE(c.outputs.size() == 2);
    const OutputSpec& o = c.outputs[0];
    CHECK(o.name == "intranet");
    CHECK(o.url == "https://intranet.example:8443/events");
    CHECK(o.mode == OutputSpec::Mode::Binary);
    CHECK(o.connectTimeoutMs == 1500);
    CHECK(o.readTimeoutMs == 7000);
    CHECK(o.concurrency == 8);
    CHECK(o.orderingKey.empty());
    CHECK(o.retry.initialDelayMs == 100);
    CHECK(o.retry.maxDelayMs == 60000);
    CHECK(o.retry.multiplier == Approx(1.5));
    CHECK(o.retry.jitter == Approx(0.0));
    CHECK(o.retry.maxAttempts == 10);
    CHECK(o.circuit.failureThreshold == 3);
    CHECK(o.circuit.openMs == 20000);
    CHECK(o.tls.caFile == norm(dir.path() + "/tls/ca.crt"));
    CHECK(o.tls.certFile == norm(dir.path() + "/tls/client.crt"));
    CHECK(o.tls.keyFile == norm(dir.path() + "/tls/client.key"));
    CHECK_FALSE(o.tls.verify);
    REQUIRE(o.headers.size() == 2);
    CHECK(o.headers[0] == std::pair<std::string, std::string>("Authorization", "Bearer sv-789"));
    CHECK(o.headers[1] == std::pair<std::string, std::string>("X-Source", "onewindow"));

    REQUIRE(c.routes.size() == 1);
    const RouteSpec& rt = c.routes[0];
    CHECK(rt.name == "cases-to-department");
    CHECK(rt.match.type == std::vector<std::string>{"gov.case.*"});
    CHECK(rt.match.source == std::vector<std::string>{"/portal/*", "/counter/*"});
    CHECK(rt.match.subject == std::vector<std::string>{"case-?"});
    REQUIRE(rt.match.extensions.size() == 1);
    CHECK(rt.match.extensions[0].first == "department");
    CHECK(rt.match.extensions[0].second == std::vector<std::string>{"land-*"});
    REQUIRE(rt.match.data.size() == 2);
    CHECK(rt.match.data[0].first == "/applicant/kind");
    CHECK(rt.match.data[0].second == std::vector<std::string>{"company"});
    CHECK(rt.match.data[1].first.empty());
    CHECK(rt.to == std::vector<std::string>{"intranet", "dept-{department}"});
}

TEST_CASE("ConfigLoader: each class of error is reported at its line and column", "[config]") {
    TempDir dir("ow-config");

    SECTION("unknown key, with a suggestion") {
        const LoadResult r = loadText(dir, "outputs:\n"
                                           "  - name: intranet\n"
                                           "    url: http://h/\n"
                                           "    conect_timeout_ms: 5\n");
        INFO(dump(r));
        REQUIRE(r.problems.size() == 1);
        CHECK(r.problems[0].where.file == "test.yaml");
        CHECK(r.problems[0].where.line == 4);
        CHECK(r.problems[0].where.column == 5);
        CHECK(r.problems[0].message == "unknown key 'conect_timeout_ms' in output 'intranet' "
                                       "(did you mean 'connect_timeout_ms'?)");
    }
    SECTION("unknown key far from every known key: no suggestion") {
        const LoadResult r = loadText(dir, "hub:\n  colour: blue\n");
        REQUIRE(r.problems.size() == 1);
        CHECK(r.problems[0].message == "unknown key 'colour' in hub");
        CHECK(hasProblem(r, 2, 3, "colour"));
    }
    SECTION("unknown top-level key") {
        const LoadResult r = loadText(dir, "output:\n  - name: x\n");
        REQUIRE(r.problems.size() == 1);
        CHECK(r.problems[0].message == "unknown top-level key 'output' (did you mean 'outputs'?)");
        CHECK(hasProblem(r, 1, 1, "output"));
    }
    SECTION("wrong type") {
        const LoadResult r = loadText(dir, "outputs:\n"
                                           "  - name: a\n"
                                           "    url: http://h/\n"
                                           "    concurrency: four\n"
                                           "    retry: 5\n");
        INFO(dump(r));
        REQUIRE(r.problems.size() == 2);
        CHECK(hasProblem(r, 4, 18, "'concurrency' must be an integer, got \"four\""));
        CHECK(hasProblem(r, 5, 12, "'retry' must be a map, got \"5\""));
    }
    SECTION("out of range") {
        const LoadResult r = loadText(dir, "outputs:\n"
                                           "  - name: a\n"
                                           "    url: http://h/\n"
                                           "    concurrency: 300\n"
                                           "    retry: { jitter: 1.5, multiplier: 0.5 }\n");
        INFO(dump(r));
        REQUIRE(r.problems.size() == 3);
        CHECK(hasProblem(r, 4, 18, "'concurrency' must be between 1 and 256, got 300"));
        CHECK(hasProblem(r, 5, 22, "'jitter' must be between 0 and 1, got 1.5"));
        CHECK(hasProblem(r, 5, 39, "'multiplier' must be between 1 and 100, got 0.5"));
    }
    SECTION("port out of range and malformed listen") {
        LoadResult r = loadText(dir, "hub:\n  listen: 0.0.0.0:70000\n");
        REQUIRE(r.problems.size() == 1);
        CHECK(hasProblem(r, 2, 11, "between 0 and 65535, got 70000"));
        r = loadText(dir, "hub:\n  listen: ::1:80\n");
        REQUIRE(r.problems.size() == 1);
        CHECK(hasProblem(r, 2, 11, "in brackets"));
        r = loadText(dir, "hub:\n  listen: 8080\n");
        REQUIRE(r.problems.size() == 1);
        CHECK(hasProblem(r, 2, 11, "'listen' must be HOST:PORT"));
    }
    SECTION("value not among the allowed ones") {
        const LoadResult r = loadText(dir, "hub:\n  log_level: wran\n"
                                           "  journal: { synchronous: off }\n");
        INFO(dump(r));
        REQUIRE(r.problems.size() == 2);
        CHECK(hasProblem(r, 2, 14,
                         "'log_level' must be one of trace, debug, info, warn, error, got "
                         "\"wran\" (did you mean 'warn'?)"));
        CHECK(hasProblem(r, 3, 27, "'synchronous' must be one of full, extra, normal"));
    }
    SECTION("duplicate names and paths") {
        const LoadResult r = loadText(dir, "inputs:\n"
                                           "  - { name: in, path: /a }\n"
                                           "  - { name: in, path: /a }\n"
                                           "outputs:\n"
                                           "  - { name: o, url: http://h/ }\n"
                                           "  - { name: o, url: http://h/ }\n");
        INFO(dump(r));
        REQUIRE(r.problems.size() == 3);
        CHECK(hasProblem(r, 3, 13, "duplicate input name 'in' (first defined at test.yaml:2:13)"));
        CHECK(hasProblem(r, 3, 23, "duplicate input path '/a'"));
        CHECK(hasProblem(r, 6, 13, "duplicate output name 'o' (first defined at test.yaml:5:13)"));
    }
    SECTION("route naming an undefined output, with a suggestion") {
        const LoadResult r = loadText(dir, "outputs:\n"
                                           "  - { name: intranet, url: http://h/ }\n"
                                           "routes:\n"
                                           "  - name: r\n"
                                           "    to: [intranet, intarnet]\n");
        INFO(dump(r));
        REQUIRE(r.problems.size() == 1);
        CHECK(r.problems[0].where.line == 5);
        CHECK(r.problems[0].where.column == 20);
        CHECK(r.problems[0].message ==
              "route 'r' sends to unknown output 'intarnet' (did you mean 'intranet'?)");
    }
    SECTION("missing required keys are reported at the parent") {
        const LoadResult r = loadText(dir, "inputs:\n"
                                           "  - name: a\n"
                                           "outputs:\n"
                                           "  - url: http://h/\n"
                                           "routes:\n"
                                           "  - name: r\n");
        INFO(dump(r));
        REQUIRE(r.problems.size() == 3);
        CHECK(hasProblem(r, 2, 5, "missing required key 'path' in input 'a'"));
        CHECK(hasProblem(r, 4, 5, "missing required key 'name' in output #1"));
        CHECK(hasProblem(r, 6, 5, "missing required key 'to' in route 'r'"));
    }
    SECTION("bad names, paths, URLs, templates and pointers") {
        const LoadResult r = loadText(dir, "inputs:\n"
                                           "  - { name: Events, path: v1/events }\n"
                                           "outputs:\n"
                                           "  - { name: o, url: ftp://h/ }\n"
                                           "  - { name: p, url: \"http://u:pw@h/\" }\n"
                                           "routes:\n"
                                           "  - name: r\n"
                                           "    match: { data: { applicant: x } }\n"
                                           "    to: [\"dept-{department\", \"x-{Dep}\"]\n");
        INFO(dump(r));
        REQUIRE(r.problems.size() == 7);
        CHECK(hasProblem(r, 2, 13, "the name of input #1 must be made of"));
        CHECK(hasProblem(r, 2, 27, "'path' of input #1 must start with '/'"));
        CHECK(hasProblem(r, 4, 21, "must be an http:// or https:// URL with a host"));
        CHECK(hasProblem(r, 5, 21, "must not contain credentials"));
        CHECK(hasProblem(r, 8, 22, "is not a JSON pointer: it must start with '/'"));
        CHECK(hasProblem(r, 9, 10, "'{' without a matching '}'"));
        CHECK(hasProblem(r, 9, 30, "must be a CloudEvents attribute name"));
    }
    SECTION("TLS enabled without its files") {
        const LoadResult r = loadText(dir, "hub:\n  tls:\n    enabled: true\n");
        INFO(dump(r));
        REQUIRE(r.problems.size() == 2);
        CHECK(hasProblem(r, 3, 5, "hub.tls.enabled requires 'cert_file'"));
        CHECK(hasProblem(r, 3, 5, "hub.tls.enabled requires 'key_file'"));
    }
    SECTION("an empty value is reported at its key") {
        const LoadResult r = loadText(dir, "hub:\n  log_level:\n  max_connections: 5\n");
        REQUIRE(r.problems.size() == 1);
        CHECK(hasProblem(r, 2, 3, "'log_level' must be a string, got nothing"));
    }
    SECTION("duplicate keys") {
        const LoadResult r = loadText(dir, "hub:\n  log_level: info\n  log_level: debug\n");
        REQUIRE(r.problems.size() == 1);
        CHECK(hasProblem(r, 3, 3, "duplicate key 'log_level' in hub (first at line 2)"));
    }
    SECTION("hub is refused in an included file") {
        dir.writeFile("inc.yaml", "hub:\n  listen: 1.2.3.4:5\n");
        const LoadResult r = loadText(dir, "include: [inc.yaml]\n");
        INFO(dump(r));
        REQUIRE(r.problems.size() == 1);
        CHECK(r.problems[0].where.file == norm(dir.path() + "/inc.yaml"));
        CHECK(r.problems[0].where.line == 1);
        CHECK(r.problems[0].message.find("'hub' is allowed only in the main") != std::string::npos);
    }
}

TEST_CASE("ConfigLoader: several problems are all reported, in file order", "[config]") {
    TempDir dir("ow-config");
    const LoadResult r = loadText(dir, "hub:\n"
                                       "  listen: localhost\n"
                                       "  max_conections: 5\n"
                                       "outputs:\n"
                                       "  - name: a\n"
                                       "    url: http://h/\n"
                                       "    concurrency: 0\n"
                                       "routes:\n"
                                       "  - name: r\n"
                                       "    to: [b]\n"
                                       "  - name: r\n"
                                       "    to: [a]\n");
    INFO(dump(r));
    REQUIRE(r.problems.size() == 5);
    const std::vector<int> lines = {2, 3, 7, 10, 11};
    for (std::size_t i = 0; i < lines.size(); ++i)
        CHECK(r.problems[i].where.line == lines[i]);
    CHECK(r.problems[1].message.find("did you mean 'max_connections'") != std::string::npos);
    CHECK_FALSE(r.ok());
}

TEST_CASE("ConfigLoader: ${ENV} substitution and its problems", "[config]") {
    TempDir dir("ow-config");
    const auto env = envOf({{"HOST", "10.0.0.7"}, {"CONC", "16"}, {"DEPT", "land"}});
    const LoadResult r = loadText(dir,
                                  "hub:\n"
                                  "  listen: ${HOST}:9000\n"
                                  "outputs:\n"
                                  "  - name: o\n"
                                  "    url: http://${HOST}/x?a=$${literal}\n"
                                  "    concurrency: ${CONC}\n"
                                  "    headers:\n"
                                  "      ${KEY}: v\n"
                                  "routes:\n"
                                  "  - name: r\n"
                                  "    match: { extensions: { department: \"${DEPT}-*\" } }\n"
                                  "    to: [o]\n",
                                  env);
    INFO(dump(r));
    // Keys are not substituted: "${KEY}" is not a valid header name.
    REQUIRE(r.problems.size() == 1);
    CHECK(hasProblem(r, 8, 7, "header name \"${KEY}\" in output 'o' is not a valid"));
    CHECK(r.config.hub.listenHost == "10.0.0.7");
    CHECK(r.config.hub.listenPort == 9000);
    REQUIRE(r.config.outputs.size() == 1);
    CHECK(r.config.outputs[0].url == "http://10.0.0.7/x?a=${literal}");
    CHECK(r.config.outputs[0].concurrency == 16);
    CHECK(r.config.routes.at(0).match.extensions.at(0).second.at(0) == "land-*");

    const LoadResult missing = loadText(dir,
                                        "inputs:\n"
                                        "  - name: in\n"
                                        "    path: /in\n"
                                        "    auth:\n"
                                        "      bearer_tokens:\n"
                                        "        - client: c\n"
                                        "          token: \"${PLATFORM_TOKEN}\"\n"
                                        "        - client: d\n"
                                        "          token: \"${unterminated\"\n",
                                        kNoEnv);
    INFO(dump(missing));
    REQUIRE(missing.problems.size() == 2);
    CHECK(hasProblem(missing, 7, 18, "environment variable 'PLATFORM_TOKEN' is not set"));
    CHECK(hasProblem(missing, 9, 18, "unterminated '${'"));

    std::string out;
    CHECK(substituteEnv("a$${b}${X}$$c$", envOf({{"X", "${Y}"}}), out).empty());
    CHECK(out == "a${b}${Y}$$c$"); // substituted values are not expanded again
    const auto errors = substituteEnv("${1X}${}", kNoEnv, out);
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].find("invalid environment variable name '1X'") != std::string::npos);
}

TEST_CASE("ConfigLoader: ${NAME:-default} takes the default when NAME is unset or empty",
          "[config]") {
    std::string out;
    CHECK(substituteEnv("${P:-http://127.0.0.1:9101}/x", kNoEnv, out).empty());
    CHECK(out == "http://127.0.0.1:9101/x");
    CHECK(substituteEnv("${P:-http://127.0.0.1:9101}/x", envOf({{"P", "https://10.1.2.3"}}), out)
              .empty());
    CHECK(out == "https://10.1.2.3/x");
    CHECK(substituteEnv("${P:-d}", envOf({{"P", ""}}), out).empty());
    CHECK(out == "d");
    CHECK(substituteEnv("[${P}]", envOf({{"P", ""}}), out).empty()); // no default: empty stays
    CHECK(out == "[]");
    CHECK(substituteEnv("${P:-}", kNoEnv, out).empty()); // an empty default is a value
    CHECK(out.empty());
    // Commands that never use the secrets stand in for an unset one, never for a default.
    const EnvLookup standIn = [](const std::string& n) { return std::optional("<" + n + ">"); };
    CHECK(substituteEnv("${S}|${P:-d}", kNoEnv, out, standIn).empty());
    CHECK(out == "<S>|d");
    const auto errors = substituteEnv("${1X:-d}", kNoEnv, out);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("invalid environment variable name '1X'") != std::string::npos);
}

TEST_CASE("ConfigLoader: a secret from the environment never appears in a message", "[config]") {
    TempDir dir("ow-config");
    // Bad in every way at once, so each validator gets to complain about it.
    const std::string secret = "Sup3r S3cret{Value}\r\nX";
    const LoadResult r = loadText(dir, R"(hub:
  listen: ${S}
  data_dir: ${S}
  log_level: ${S}
  max_connections: ${S}
inputs:
  - name: ${S}
    path: ${S}
    auth:
      bearer_tokens:
        - client: ${S}
          token: ${S}
        - { client: a, token: "x${S}" }
  - name: in2
    path: /in2
    auth:
      bearer_tokens:
        - { client: a, token: "${T}" }
        - { client: b, token: "${T}" }
outputs:
  - name: ${S}
    url: http://h/${S}
    ordering_key: ${S}
    mode: ${S}
    retry: { jitter: "${S}" }
    headers: { Authorization: "Bearer ${S}" }
    tls: { verify: "${S}", ca_file: "${S}" }
routes:
  - name: ${S}
    match: { type: "${S}" }
    to: ["${S}", "${S}", "d-{${S}}"]
)",
                                  envOf({{"S", secret}, {"T", "Shared-Secret-Token"}}));
    INFO(dump(r));
    CHECK(r.problems.size() >= 15);
    for (const auto& p : r.problems) {
        INFO(formatProblem(p));
        CHECK(p.message.find("S3cret") == std::string::npos);
        CHECK(p.message.find("Sup3r") == std::string::npos);
        CHECK(p.message.find("Shared-Secret") == std::string::npos);
    }
}

TEST_CASE("ConfigLoader: token_file is read, trimmed and checked", "[config]") {
    TempDir dir("ow-config");
    dir.writeFile("secrets/a.token", "tok-a-0123456789ab\r\n");
    dir.writeFile("secrets/empty.token", "\n");
    const LoadResult r = loadText(dir, "inputs:\n"
                                       "  - name: in\n"
                                       "    path: /in\n"
                                       "    auth:\n"
                                       "      bearer_tokens:\n"
                                       "        - { client: a, token_file: secrets/a.token }\n"
                                       "        - { client: b, token_file: secrets/none.token }\n"
                                       "        - { client: c, token_file: secrets/empty.token }\n"
                                       "        - { client: d, token: t, token_file: x }\n"
                                       "        - { client: e }\n"
                                       "        - { token: t2 }\n");
    INFO(dump(r));
    REQUIRE(r.config.inputs.size() == 1);
    REQUIRE(r.config.inputs[0].tokens.size() == 1);
    CHECK(r.config.inputs[0].tokens[0].token == "tok-a-0123456789ab");
    REQUIRE(r.problems.size() == 5);
    CHECK(hasProblem(r, 7, 36, "cannot read 'token_file'"));
    CHECK(hasProblem(r, 7, 36, "No such file or directory"));
    CHECK(hasProblem(r, 8, 36, "the token for client 'c' of input 'in' is empty"));
    CHECK(hasProblem(r, 9, 11, "exactly one of 'token' or 'token_file', got both"));
    CHECK(hasProblem(r, 10, 11, "exactly one of 'token' or 'token_file', got neither"));
    CHECK(hasProblem(r, 11, 11, "missing required key 'client'"));
}

TEST_CASE("ConfigLoader: includes, relative and by glob", "[config]") {
    TempDir dir("ow-config");
    dir.writeFile("conf/main.yaml", "include:\n"
                                    "  - parts/outputs.yaml\n"
                                    "  - parts/routes/*.yaml\n"
                                    "routes:\n"
                                    "  - { name: main-route, to: [b-out] }\n");
    dir.writeFile("conf/parts/outputs.yaml", "outputs:\n"
                                             "  - { name: a-out, url: http://h/a }\n"
                                             "  - { name: b-out, url: http://h/b }\n");
    dir.writeFile("conf/parts/routes/20-b.yaml", "routes:\n  - { name: b, to: [b-out] }\n");
    dir.writeFile("conf/parts/routes/10-a.yaml",
                  "include: [../tokens.yaml]\nroutes:\n  - { name: a, to: [a-out] }\n");
    dir.writeFile("conf/parts/routes/.hidden.yaml", "nonsense: 1\n");
    dir.writeFile("conf/parts/routes/notes.txt", "nonsense: 1\n");
    dir.writeFile("conf/parts/tokens.yaml",
                  "inputs:\n  - name: in\n    path: /in\n    auth:\n      bearer_tokens:\n"
                  "        - { client: c, token_file: ../secrets/c.token }\n");
    dir.writeFile("conf/secrets/c.token", "from-include-0123456789\n");

    const LoadResult r = loadConfigFile(dir.file("conf/main.yaml"), kNoEnv);
    INFO(dump(r));
    REQUIRE(r.ok());
    const std::string base = norm(dir.path() + "/conf/");
    CHECK(r.config.files ==
          std::vector<std::string>{base + "main.yaml", base + "parts/outputs.yaml",
                                   base + "parts/routes/10-a.yaml", base + "parts/tokens.yaml",
                                   base + "parts/routes/20-b.yaml"});
    REQUIRE(r.config.routes.size() == 3);
    CHECK(r.config.routes[0].name == "main-route");
    CHECK(r.config.routes[1].name == "a");
    CHECK(r.config.routes[2].name == "b");
    CHECK(r.config.routes[2].where.file == dir.file("conf/parts/routes/20-b.yaml"));
    REQUIRE(r.config.inputs.size() == 1);
    // token_file is relative to the included file that names it.
    CHECK(r.config.inputs[0].tokens.at(0).token == "from-include-0123456789");
}

TEST_CASE("ConfigLoader: include cycles, missing files and bad globs", "[config]") {
    TempDir dir("ow-config");
    dir.writeFile("a.yaml", "include: [b.yaml]\n");
    dir.writeFile("b.yaml", "outputs: []\ninclude:\n  - c.yaml\n");
    dir.writeFile("c.yaml", "include: [a.yaml]\n");
    LoadResult r = loadConfigFile(dir.file("a.yaml"), kNoEnv);
    INFO(dump(r));
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].where.file == dir.file("c.yaml"));
    CHECK(r.problems[0].where.line == 1);
    CHECK(r.problems[0].where.column == 11);
    const std::string d = dir.path() + "/";
    CHECK(r.problems[0].message == "include cycle: " + d + "a.yaml -> " + d + "b.yaml -> " + d +
                                       "c.yaml -> " + d + "a.yaml");

    r = loadText(dir, "include:\n  - missing.yaml\n  - nodir/*.yaml\n  - x*/a.yaml\n"
                      "  - b.yaml\n  - ./b.yaml\n");
    INFO(dump(r));
    CHECK(hasProblem(r, 2, 5, "cannot read included file '" + d + "missing.yaml': No such file"));
    CHECK(hasProblem(r, 3, 5, "folder '" + d + "nodir' does not exist"));
    CHECK(hasProblem(r, 4, 5, "'*' is allowed only in the file name"));
    // b.yaml includes c.yaml which includes a.yaml which includes b.yaml: a cycle in the chain.
    CHECK(hasProblem(r, 6, 5, "is already included (at test.yaml:5:5)"));
    CHECK(r.problems.size() == 5);
}

TEST_CASE("ConfigLoader: relative paths resolve against the containing file", "[config]") {
    TempDir dir("ow-config");
    dir.writeFile("etc/hub.yaml", "hub:\n  data_dir: ../var/data\n  tls:\n"
                                  "    cert_file: /abs/cert.pem\n    key_file: k.pem\n");
    LoadResult r = loadConfigFile(dir.file("etc/hub.yaml"), kNoEnv);
    INFO(dump(r));
    REQUIRE(r.ok());
    CHECK(r.config.hub.dataDir == norm(dir.path() + "/var/data"));
    CHECK(r.config.hub.tls.certFile == "/abs/cert.pem");
    CHECK(r.config.hub.tls.keyFile == norm(dir.path() + "/etc/k.pem"));

    // Output TLS files are checked when given, with the resolved path in the message.
    r = loadText(dir, "outputs:\n  - name: o\n    url: https://h/\n    tls: { ca_file: ca.pem }\n");
    REQUIRE(r.problems.size() == 1);
    CHECK(hasProblem(r, 4, 21,
                     "'ca_file': file '" + norm(dir.path() + "/ca.pem") + "' does not exist"));

    r = loadConfigFile(dir.file("etc/none.yaml"), kNoEnv);
    REQUIRE(r.problems.size() == 1);
    CHECK(formatProblem(r.problems[0]) == dir.file("etc/none.yaml") +
                                              ": cannot read configuration file: No such file or "
                                              "directory");
}

TEST_CASE("ConfigLoader: YAML bombs are refused quickly", "[config][security]") {
    TempDir dir("ow-config");
    const auto start = std::chrono::steady_clock::now();

    SECTION("16384 nested flow sequences") {
        const LoadResult r = loadText(dir, "a: " + std::string(16384, '[') + "\n");
        REQUIRE(r.problems.size() == 1);
        CHECK(r.problems[0].message.find("nesting deeper than 64 levels") != std::string::npos);
        // yaml-cpp reinterprets unterminated flow collections as it goes, so the event
        // that crosses the limit is not exactly the 65th '['; it is inside the brackets.
        CHECK(r.problems[0].where.line == 1);
        CHECK(r.problems[0].where.column > 3);
        CHECK(r.problems[0].where.column <= 3 + 16384);
    }
    SECTION("65 nested block maps") {
        std::string text;
        for (int i = 0; i < 65; ++i)
            text += std::string(2 * i, ' ') + "k:\n";
        text += std::string(130, ' ') + "v\n";
        const LoadResult r = loadText(dir, text);
        REQUIRE(r.problems.size() == 1);
        CHECK(r.problems[0].message.find("nesting deeper than 64") != std::string::npos);
    }
    SECTION("alias bomb, 9 levels of 9 aliases") {
        std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
        for (int i = 1; i <= 9; ++i) {
            const std::string prev = "*a" + std::to_string(i - 1);
            text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
            for (int j = 0; j < 9; ++j)
                text += (j ? ", " : "") + prev;
            text += "]\n";
        }
        text += "routes:\n  - name: r\n    match: { type: *a9 }\n    to: [o]\n";
        const LoadResult r = loadText(dir, text);
        INFO(dump(r));
        REQUIRE(r.problems.size() == 1);
        CHECK(r.problems[0].where.line == 2);
        CHECK(r.problems[0].where.column == 10);
        CHECK(r.problems[0].message.find("aliases ('*name') are not supported") !=
              std::string::npos);
        CHECK(r.problems[0].message.find("82 aliases") != std::string::npos);
    }
    SECTION("a node that contains itself") {
        const LoadResult r = loadText(dir, "routes: &x [*x]\n");
        REQUIRE(r.problems.size() == 1);
        CHECK(hasProblem(r, 1, 13, "aliases"));
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(elapsed < std::chrono::seconds(1));
}

TEST_CASE("ConfigLoader: files over 1 MiB are refused", "[config][security]") {
    TempDir dir("ow-config");
    std::string big = "# " + std::string(2 * 1024 * 1024, 'x') + "\n";
    const std::string path = dir.writeFile("big.yaml", big);
    LoadResult r = loadConfigFile(path, kNoEnv);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].where.line == 0);
    CHECK(r.problems[0].message.find("larger than the limit of 1048576 bytes") !=
          std::string::npos);

    r = loadText(dir, "include: [big.yaml]\n");
    REQUIRE(r.problems.size() == 1);
    CHECK(hasProblem(r, 1, 11, "larger than the limit of 1048576 bytes"));

    r = loadText(dir, big);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].message.find("larger than the limit") != std::string::npos);
}

TEST_CASE("ConfigLoader: YAML syntax errors carry their position", "[config]") {
    TempDir dir("ow-config");
    LoadResult r = loadText(dir, "hub:\n  listen: [1, 2\n");
    REQUIRE(r.problems.size() == 1);
    CHECK(formatProblem(r.problems[0]) == "test.yaml:3:1: end of sequence flow not found");

    r = loadText(dir, "hub:\n\tlisten: x\n");
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].where.line == 2);
    CHECK(r.problems[0].message.find("yaml-cpp") == std::string::npos);

    r = loadText(dir, "outputs: []\n---\nroutes: []\n");
    REQUIRE(r.problems.size() == 1);
    CHECK(hasProblem(r, 2, 1, "only one YAML document"));

    r = loadText(dir, "- a\n- b\n");
    REQUIRE(r.problems.size() == 1);
    CHECK(hasProblem(r, 1, 1, "must be a map of sections"));
}

TEST_CASE("ConfigLoader: formatProblem and suggestions", "[config]") {
    CHECK(formatProblem({{"a.yaml", 3, 7}, "bad"}) == "a.yaml:3:7: bad");
    CHECK(formatProblem({{"a.yaml", 0, 0}, "bad"}) == "a.yaml: bad");
    CHECK(editDistance("conect", "connect") == 1);
    CHECK(editDistance("cnoenct", "connect") == 2); // two transpositions
    CHECK(nearest("retyr", {"retry", "circuit"}) == std::optional<std::string>("retry"));
    CHECK_FALSE(nearest("colour", {"log_level", "listen"}).has_value());
    // max(2, len/3): 12 letters allow 4 edits.
    CHECK(nearest("max_conxxxxx", {"max_connections"}).has_value() == false);
    CHECK(nearest("max_connectixxs", {"max_connections"}).has_value());
    CHECK(didYouMean("Hub", {"hub"}) == " (did you mean 'hub'?)");
}

#ifdef OW_SOURCE_DIR
TEST_CASE("ConfigLoader: the shipped default configuration is the whole center", "[config]") {
    const std::string src = OW_SOURCE_DIR;
    const std::vector<std::string> secrets = {
        "OW_PLATFORM_TOKEN", "OW_UNITS_TOKEN", "OW_TERMINAL_01_KEY", "OW_FEE_CHECK_KEY",
        "OW_GS_TOKEN",       "OW_EMS_KEY",     "OW_MQTT_PASSWORD"};
    // Without its secrets it refuses to load, naming each one.
    const LoadResult bare = loadConfigFile(src + "/config/onewindow.yaml", kNoEnv);
    REQUIRE_FALSE(bare.ok());
    std::set<std::string> named;
    for (const auto& p : bare.problems) {
        INFO(p.message);
        // (and, before scripts/run.sh made them, the default mutual TLS files, the units'
        // channel tokens and plugin builds)
        CHECK((p.message.find("is not set") != std::string::npos ||
               p.message.find("var/tls/") != std::string::npos ||
               p.message.find("var/secrets") != std::string::npos ||
               p.message.find("plugin") != std::string::npos));
        for (const auto& s : secrets)
            if (p.message.find("'" + s + "'") != std::string::npos) named.insert(s);
    }
    CHECK(named.size() == secrets.size());

    std::map<std::string, std::string> env;
    for (const auto& s : secrets)
        env[s] = "a-secret-of-24-characters";
    // 公安局's mutual TLS files (their defaults are made by scripts/run.sh).
    TempDir tls("ow-center-tls");
    for (const char* f : {"OW_GONGAN_CA", "OW_GONGAN_CERT", "OW_GONGAN_KEY"})
        env[f] = tls.writeFile(f, "-");
    env["OW_PLUGIN_DIR"] = tls.path(); // the plugins are not loaded here, only the folder named
    // Every unit's channel token (scripts/run.sh makes them in var/secrets).
    TempDir tokenDir("ow-center-tokens");
    std::ifstream unitList(src + "/config/units.yaml");
    for (std::string line; std::getline(unitList, line);)
        if (const auto id = line.find("{ id: "); id != std::string::npos) {
            std::string unit = line.substr(id + 6, line.find(',', id) - id - 6);
            unit.erase(unit.find_last_not_of(' ') + 1);
            tokenDir.writeFile("dept-" + unit + ".token", "channel-token-of-" + unit + "\n");
        }
    env["OW_SECRETS_DIR"] = tokenDir.path();
    env["OW_AUDIT_KEY"] = tokenDir.file("audit.key");
    REQUIRE(std::system(
                ("openssl genpkey -algorithm ED25519 -out " + env["OW_AUDIT_KEY"] + " 2>/dev/null")
                    .c_str()) == 0);
    const LoadResult r = loadConfigFile(src + "/config/onewindow.yaml", envOf(env));
    INFO(dump(r));
    REQUIRE(r.ok());
    CHECK(r.config.hub.listenHost == "127.0.0.1");
    CHECK(r.config.hub.listenPort == 8080);
    CHECK(r.config.hub.journal.synchronous == "full");
    CHECK(r.config.hub.dataDir == norm(src + "/var/onewindow"));
    CHECK(r.config.files.size() > 1); // config/center/*.yaml

    std::map<std::string, const OutputSpec*> outputs;
    for (const auto& o : r.config.outputs) {
        outputs[o.name] = &o;
        // Every address defaults to a loopback stand-in (scripts/run.sh's simulators).
        if (!o.url.empty()) CHECK(o.url.rfind("http://127.0.0.1:", 0) == 0);
        if (o.name == "gongan") CHECK(o.tls.certFile == env["OW_GONGAN_CERT"]);
    }
    // Every unit of the hall gets its applications: through an adapter or over HTTP.
    std::ifstream units(src + "/config/units.yaml");
    int checked = 0;
    for (std::string line; std::getline(units, line);) {
        const auto id = line.find("{ id: ");
        if (id == std::string::npos) continue;
        const std::string unit = line.substr(id + 6, line.find(',', id) - id - 6);
        INFO(unit);
        const bool adapter =
            unit == "industry-commerce" || unit == "land-resources" || unit == "public-security";
        CHECK((adapter || outputs.count("dept-" + unit) == 1));
        ++checked;
    }
    CHECK(checked == 34);
    for (const char* needed : {"ledger", "book", "esup", "supervision", "led-wall", "ems", "chain",
                               "gongshang", "land", "gongan", "window-printer"})
        CHECK(outputs.count(needed) == 1);
    bool tokens = false, signedTerminals = false;
    for (const auto& in : r.config.inputs) {
        tokens = tokens || (in.name == "platform" && !in.tokens.empty());
        signedTerminals = signedTerminals || (in.name == "terminals" && in.signedAuth.has_value());
    }
    CHECK(tokens);
    CHECK(signedTerminals);
    // Every way in says who may send what; the hall broker's outputs say what they do with
    // personal data; the audit trail is signed: nothing to warn about.
    std::string warned;
    for (const auto& w : r.warnings)
        warned += formatProblem(w) + "\n";
    INFO(warned);
    CHECK(r.warnings.empty());
}

TEST_CASE("ConfigLoader: the example with includes loads cleanly", "[config]") {
    const LoadResult r =
        loadConfigFile(std::string(OW_SOURCE_DIR) + "/config/examples/with-includes.yaml", kNoEnv);
    INFO(dump(r));
    REQUIRE(r.ok());
    REQUIRE(r.config.files.size() == 2);
    CHECK(r.config.files[1] ==
          norm(std::string(OW_SOURCE_DIR) + "/config/examples/routes-example.yaml"));
    bool templated = false;
    for (const auto& route : r.config.routes)
        for (const auto& to : route.to)
            templated = templated || to == "dept-{department}";
    CHECK(templated);
    bool dataMatch = false;
    for (const auto& route : r.config.routes)
        dataMatch = dataMatch || !route.match.data.empty();
    CHECK(dataMatch);
}
#endif

TEST_CASE("ConfigLoader: MQTT brokers and outputs that publish to them", "[config]") {
    TempDir dir("ow-config");
    const LoadResult r = loadText(dir, R"(brokers:
  - name: hall
    url: tcp://127.0.0.1:1884
    mqtt_version: "3.1.1"
    username: hub
    password: "${MQTT_PASSWORD}"
    keep_alive_s: 20
    session_expiry_s: 3600
outputs:
  - name: led-wall
    mqtt: { broker: hall, topic: "hall/status/{subject}", qos: 2, retain: true }
  - name: web
    url: http://127.0.0.1:9/x
)",
                                  envOf({{"MQTT_PASSWORD", "pw-1"}}));
    INFO(dump(r));
    REQUIRE(r.ok());
    REQUIRE(r.config.brokers.size() == 1);
    const auto& b = r.config.brokers[0];
    CHECK(b.url == "tcp://127.0.0.1:1884");
    CHECK(b.clientId == "onewindow-hall");
    CHECK(b.mqttVersion == 4);
    CHECK(b.password == "pw-1");
    CHECK(b.keepAliveS == 20);
    CHECK_FALSE(b.cleanStart);
    CHECK(b.sessionExpiryS == 3600);
    REQUIRE(r.config.outputs.size() == 2);
    CHECK(r.config.outputs[0].kind == OutputSpec::Kind::Mqtt);
    CHECK(r.config.outputs[0].mqtt.broker == "hall");
    CHECK(r.config.outputs[0].mqtt.topic == "hall/status/{subject}");
    CHECK(r.config.outputs[0].mqtt.qos == 2);
    CHECK(r.config.outputs[0].mqtt.retain);
    CHECK(r.config.outputs[1].kind == OutputSpec::Kind::Http);
}

TEST_CASE("ConfigLoader: MQTT mistakes are reported where they are", "[config]") {
    TempDir dir("ow-config");
    const LoadResult r = loadText(dir, R"(brokers:
  - name: hall
    url: http://127.0.0.1:1884
    mqtt_version: 4
outputs:
  - name: a
    mqtt: { broker: hal, topic: "hall/+/x", qos: 3 }
  - name: b
    url: http://127.0.0.1:9/x
    mqtt: { broker: hall, topic: t }
)");
    INFO(dump(r));
    CHECK(hasProblem(r, 3, 10, "tcp://HOST:PORT"));
    CHECK(hasProblem(r, 4, 19, "mqtt_version"));
    CHECK(hasProblem(r, 7, 21, "unknown broker 'hal'"));
    CHECK(hasProblem(r, 7, 21, "did you mean 'hall'"));
    CHECK(hasProblem(r, 7, 33, "without '+' or '#'"));
    CHECK(hasProblem(r, 7, 50, "qos"));
    CHECK(hasProblem(r, 9, 10, "both 'url' and 'mqtt'"));
}

TEST_CASE("ConfigLoader: hub.business_clock sets the plugins' business time", "[config]") {
    TempDir dir;
    const LoadResult r = loadText(dir, "hub:\n"
                                       "  business_clock:\n"
                                       "    start: \"2026-03-02T08:30:00+08:00\"\n"
                                       "    at: \"2026-11-28T00:00:00Z\"\n"
                                       "    rate: 3600\n");
    INFO(dump(r));
    REQUIRE(r.problems.empty());
    const auto& bc = r.config.hub.businessClock;
    REQUIRE(bc.startMs);
    CHECK(*bc.startMs == 1772411400000); // 2026-03-02T00:30:00Z
    REQUIRE(bc.anchorMs);
    CHECK(*bc.anchorMs == 1795824000000);
    CHECK(bc.rate == 3600);
    CHECK_FALSE(loadText(dir, "").config.hub.businessClock.startMs);

    const LoadResult bad = loadText(dir, "hub:\n"
                                         "  business_clock:\n"
                                         "    start: \"2026-03-02 08:30\"\n"
                                         "    rate: 0\n"
                                         "    speed: 2\n");
    CHECK(hasProblem(bad, 3, 12, "'start' in hub.business_clock must be an RFC 3339 time"));
    CHECK(hasProblem(bad, 4, 11, "'rate' must be between 0.001 and 1000000"));
    CHECK(hasProblem(bad, 5, 5, "unknown key 'speed'"));
    const LoadResult noStart = loadText(dir, "hub:\n  business_clock: { rate: 60 }\n");
    CHECK(hasProblem(noStart, 2, 19, "needs 'start'"));
}

TEST_CASE("ConfigLoader: queries read a processor's state at a path of their own", "[config]") {
    TempDir dir;
    const std::string outputs = "plugins: [ { name: cases, file: cases.so } ]\n"
                                "outputs:\n"
                                "  - { name: ledger, processor: cases/ledger }\n"
                                "  - { name: rx, url: \"http://127.0.0.1:9/\" }\n"
                                "inputs:\n"
                                "  - { name: hall, path: /v1/cases/events }\n";
    const LoadResult ok = loadText(
        dir,
        outputs + "queries:\n  - { name: progress, path: /v1/progress/, processor: ledger }\n");
    // (its only problem: no plugin_dirs to load cases.so from, which is not the query's)
    REQUIRE(ok.config.queries.size() == 1);
    CHECK(ok.config.queries[0].statePrefix == "public/");
    CHECK(ok.config.queries[0].perClientPerMinute == 30);

    const LoadResult bad =
        loadText(dir, outputs + "queries:\n"
                                "  - { name: a, path: /v1/cases/, processor: ledger }\n"
                                "  - { name: b, path: v1/b, processor: rx }\n"
                                "  - { name: c, path: /v1/c/, processor: nobody, rate: 1 }\n");
    INFO(dump(bad));
    CHECK(hasProblem(bad, 8, 22, "query path /v1/cases/ would hide the input at /v1/cases/events"));
    CHECK(hasProblem(bad, 9, 22, "'path' of query 'b' must be a path prefix ending in '/'"));
    CHECK(hasProblem(bad, 9, 39, "reads output 'rx', which is not a processor"));
    CHECK(hasProblem(bad, 10, 41, "query 'c' reads unknown output 'nobody'"));
    CHECK(hasProblem(bad, 10, 49, "unknown key 'rate'"));
}

TEST_CASE("ConfigLoader: auth.signed lists each terminal with its own keys", "[config]") {
    TempDir dir;
    const LoadResult ok =
        loadText(dir, "inputs:\n"
                      "  - name: terminals\n"
                      "    path: /v1/payments\n"
                      "    auth:\n"
                      "      signed:\n"
                      "        scheme: hmac-sm3\n"
                      "        senders:\n"
                      "          - { client: t07, keys: [ \"k-0123456789abcdef\" ] }\n");
    INFO(dump(ok));
    REQUIRE(ok.problems.empty());
    REQUIRE(ok.config.inputs[0].signedAuth);
    CHECK(ok.config.inputs[0].signedAuth->scheme == "hmac-sm3");
    CHECK(ok.config.inputs[0].signedAuth->toleranceS == 300);
    CHECK(ok.config.inputs[0].signedAuth->senders[0].keys.size() == 1);

    const LoadResult bad = loadText(
        dir, "inputs:\n"
             "  - name: terminals\n"
             "    path: /v1/payments\n"
             "    auth:\n"
             "      signed:\n"
             "        scheme: md5\n"
             "        senders:\n"
             "          - { client: t07, keys: [ \"short\" ] }\n"
             "          - { client: t08, keys: [ \"k-0123456789abcdef\", \"k-1\", \"k-2\" ] }\n"
             "          - { client: t09, keys: [ \"k-0123456789abcdef\" ] }\n"
             "          - { client: t10, keys: [ \"k-aaaaaaaaaaaaaaaa\" ] }\n"
             "          - { client: t11, keys: [ \"k-aaaaaaaaaaaaaaaa\" ] }\n");
    INFO(dump(bad));
    CHECK(hasProblem(bad, 6, 17, "'scheme'"));
    CHECK(hasProblem(bad, 8, 36, "shorter than 16 characters"));
    CHECK(hasProblem(bad, 9, 34, "must list one key, or two while a new one is rolled out"));
    CHECK(hasProblem(bad, 12, 36, "is also a key of 't10'"));
    // The secret itself never appears in a message.
    CHECK(dump(bad).find("aaaaaaaa") == std::string::npos);
}

TEST_CASE("ConfigLoader: hub.outages sets the reminder and the sources' backoff", "[config]") {
    TempDir dir;
    const auto defaults = loadText(dir, "").config.hub.outages;
    CHECK(defaults.reminderMs == 300000);
    CHECK(defaults.sourceInitialDelayMs == 1000);
    CHECK(defaults.sourceMaxDelayMs == 30000);
    const LoadResult r = loadText(dir, "hub:\n"
                                       "  outages:\n"
                                       "    reminder_s: 60\n"
                                       "    source_retry: { initial_delay_ms: 500, "
                                       "max_delay_ms: 120000, multiplier: 3, jitter: 0.1 }\n");
    INFO(dump(r));
    REQUIRE(r.problems.empty());
    const auto& o = r.config.hub.outages;
    CHECK(o.reminderMs == 60000);
    CHECK(o.sourceInitialDelayMs == 500);
    CHECK(o.sourceMaxDelayMs == 120000);
    CHECK(o.sourceMultiplier == 3);
    CHECK(o.sourceJitter == 0.1);
    const LoadResult bad = loadText(dir, "hub:\n"
                                         "  outages:\n"
                                         "    reminder_s: 0\n"
                                         "    source_retry: { initial_delay_ms: 5000, "
                                         "max_delay_ms: 10, max_attempts: 3 }\n");
    CHECK(hasProblem(bad, 3, 17, "'reminder_s' must be between 1 and 86400"));
    CHECK(hasProblem(bad, 4, 63, "unknown key 'max_attempts'"));
    CHECK(hasProblem(bad, 4, 59, "'max_delay_ms' (10) must not be less than 'initial_delay_ms'"));
}

TEST_CASE("ConfigLoader: without file checks, missing plugin folders, TLS and token files do "
          "not stop a load",
          "[config]") {
    TempDir dir;
    const std::string text =
        "hub:\n"
        "  plugin_dirs: [ no-such-folder ]\n"
        "inputs:\n"
        "  - name: web\n"
        "    path: /v1/web\n"
        "    auth: { bearer_tokens: [ { client: site, token_file: no.token } "
        "] }\n"
        "outputs:\n"
        "  - name: dept\n"
        "    url: https://127.0.0.1:9/x\n"
        "    tls: { ca_file: no-ca.crt, cert_file: no.crt, key_file: no.key }\n";
    const std::string file = dir.writeFile("hub.yaml", text);
    const LoadResult checked = loadConfigFile(file, kNoEnv);
    CHECK(checked.problems.size() == 5); // the folder, the token file, three TLS files
    const LoadResult offline = loadConfigFile(file, kNoEnv, {}, /*checkFiles=*/false);
    INFO(dump(offline));
    CHECK(offline.ok());
    // The syntax still counts.
    const std::string broken = dir.writeFile("broken.yaml", text + "routes: [ { to: } ]\n");
    CHECK_FALSE(loadConfigFile(broken, kNoEnv, {}, false).ok());
}
