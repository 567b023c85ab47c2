// The validated configuration model. Produced by ConfigLoader from YAML; everything else in
// core reads these plain structs and never sees YAML. Structs whose changes need a restart
// compare field by field (a reload checks that they did not change).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ow::config {

/// Where a value came from, 1-based, for messages that point an operator at a line.
struct SourceLocation {
    std::string file;
    int line = 0;
    int column = 0;
    friend bool operator==(const SourceLocation&, const SourceLocation&) = default;
};

struct Limits {
    std::int64_t maxBodyBytes = 1 << 20;     ///< larger bodies: 413
    std::int64_t maxHeaderBytes = 16 * 1024; ///< request line + all headers: 431
    int maxHeaderCount = 100;                ///< more header fields: 431
    int maxJsonDepth = 32;
    int maxJsonKeys = 10000;
    int maxBatchEvents = 1000;
    std::int64_t headerTimeoutMs = 10000; ///< whole request head must arrive within this
    std::int64_t bodyTimeoutMs = 30000;   ///< whole body must arrive within this
    std::int64_t idleTimeoutMs = 60000;   ///< keep-alive connection idle before close
    friend bool operator==(const Limits&, const Limits&) = default;
};

struct JournalSettings {
    std::string synchronous =
        "full";               ///< full | extra | normal (normal is NOT durable on power loss)
    int maxBatch = 1000;      ///< events per group commit at most
    int retentionHours = 168; ///< how long delivered events stay for de-duplication
    friend bool operator==(const JournalSettings&, const JournalSettings&) = default;
};

struct TlsServerSettings {
    bool enabled = false;
    std::string certFile;
    std::string keyFile;
    std::string clientCaFile; ///< set: client certificates are verified against it
    bool requireClientCert = false;
    friend bool operator==(const TlsServerSettings&, const TlsServerSettings&) = default;
};

/// The audit trail (hub.audit): who sent what, who refused what, what operators did.
struct AuditSettings {
    bool enabled = true;
    std::string hash = "sha256";  ///< sha256 | sm3: links each record to the one before
    std::string signingKeyFile;   ///< Ed25519 or SM2 private key (PEM); "" = unsigned checkpoints
    int checkpointEvery = 1000;   ///< records between signed checkpoints at most
    int checkpointIntervalS = 60; ///< seconds between signed checkpoints at most
    int retentionDays = 180;      ///< records are kept this long (MLPS level 3: six months)
    friend bool operator==(const AuditSettings&, const AuditSettings&) = default;
};

/// The business time plugins see (hub.business_clock): the wall clock unless configured.
struct BusinessClockSettings {
    std::optional<std::int64_t> startMs;  ///< business time at the anchor
    std::optional<std::int64_t> anchorMs; ///< wall time of the anchor; unset: hub start
    double rate = 1.0;                    ///< business milliseconds per wall millisecond
    friend bool operator==(const BusinessClockSettings&, const BusinessClockSettings&) = default;
};

/// Outside systems that stop answering (hub.outages): how sources back off, and how often the
/// log reminds of a system that stays down.
struct OutageSettings {
    std::int64_t reminderMs = 5 * 60 * 1000;
    // A source's backoff: initial * multiplier^(failures-1), capped, +-jitter.
    std::int64_t sourceInitialDelayMs = 1000;
    std::int64_t sourceMaxDelayMs = 30000;
    double sourceMultiplier = 2.0;
    double sourceJitter = 0.2;
    friend bool operator==(const OutageSettings&, const OutageSettings&) = default;
};

struct HubSettings {
    std::string listenHost = "127.0.0.1";
    int listenPort = 8080;
    std::string dataDir = "var/onewindow"; ///< resolved against the config file's folder
    std::string logLevel = "info";         ///< trace | debug | info | warn | error
    int maxConnections = 256;              ///< connections open at once
    int reserveConnections = 16;           ///< more, for /healthz, /readyz and /metrics only
    /// Addresses or CIDR ranges of reverse proxies whose Forwarded / X-Forwarded-For name the
    /// client (per-client limits); from anyone else those headers are ignored.
    std::vector<std::string> trustedProxies;
    int idempotencyRetentionHours = 24;
    std::int64_t shutdownTimeoutMs = 10000;
    Limits limits;
    JournalSettings journal;
    AuditSettings audit;
    TlsServerSettings tls;
    /// Folders plugin files may be loaded from (resolved against the config file's folder).
    std::vector<std::string> pluginDirs;
    BusinessClockSettings businessClock;
    OutageSettings outages;
    friend bool operator==(const HubSettings&, const HubSettings&) = default;
};

/// A plugin instance's own configuration, kept as written, with positions, until the plugin
/// is loaded and its config spec can check it.
struct ConfigTree {
    enum class Kind { Null, Scalar, List, Map };
    Kind kind = Kind::Null;
    std::string text; ///< Scalar, after ${ENV} substitution
    std::string raw;  ///< Scalar as written (shown in messages instead of secrets)
    /// List items; for a Map its entries in file order, each with its `key` (one vector of
    /// the type itself, because a container of pairs of an incomplete type is not portable).
    std::vector<ConfigTree> items;
    std::string key; ///< for an entry of a Map
    SourceLocation where;
    SourceLocation keyWhere; ///< where `key` is written
    friend bool operator==(const ConfigTree&, const ConfigTree&) = default;
};

/// A plugin library the hub loads at start.
struct PluginSpec {
    std::string name;   ///< must equal the name the library declares
    std::string file;   ///< as written: a name inside a plugin directory, or an absolute path
    std::string sha256; ///< pinned digest (hex), or empty
    SourceLocation where;
};

/// One condition: the value must match at least one of the globs (`*`, `?`).
struct MatchSpec {
    std::vector<std::string> type;
    std::vector<std::string> source;
    std::vector<std::string> subject;
    std::vector<std::pair<std::string, std::vector<std::string>>>
        extensions;                                                     ///< attribute -> globs
    std::vector<std::pair<std::string, std::vector<std::string>>> data; ///< JSON pointer -> globs
    friend bool operator==(const MatchSpec&, const MatchSpec&) = default;
};

/// What a client may send (`allow`): the event must match one of the rules (each a route-style
/// match on `type`, `source`, `subject` and extension attributes). No rules: anything.
struct AllowSpec {
    std::vector<MatchSpec> rules;
    [[nodiscard]] bool restricts() const { return !rules.empty(); }
    friend bool operator==(const AllowSpec&, const AllowSpec&) = default;
};

struct BearerToken {
    std::string client; ///< identity recorded with each accepted event
    std::string token;  ///< the secret itself, resolved from ${ENV} or a file
    AllowSpec allow;    ///< on top of the input's own
    friend bool operator==(const BearerToken&, const BearerToken&) = default;
};

/// Where an MQTT input subscribes and how it reads the messages.
struct MqttSubscribeSettings {
    enum class Format {
        CloudEvents, ///< the CloudEvents MQTT binding: MQTT 5 binary (user properties) or
                     ///< structured JSON
        Json,        ///< a plain JSON payload, wrapped into an event with the settings below
    };
    std::string broker;              ///< a BrokerSpec name
    std::vector<std::string> topics; ///< filters, with + and #, or $share/GROUP/filter
    int qos = 1;
    Format format = Format::CloudEvents;
    std::string type;        ///< Json: the event type
    std::string source;      ///< Json: the event source ("" = mqtt://<broker>/<topic>)
    int subjectSegment = -1; ///< Json: topic segment (0-based) used as subject; -1 none
    friend bool operator==(const MqttSubscribeSettings&, const MqttSubscribeSettings&) = default;
};

/// Signed requests (auth.signed of an HTTP input): payment terminals and bank counters sign
/// each request, Standard Webhooks style, with keys of their own.
struct SignedAuth {
    std::string scheme = "hmac-sha256"; ///< or "hmac-sm3"
    std::int64_t toleranceS = 300;
    struct Sender {
        std::string client;
        std::vector<std::string> keys; ///< one, or two while a new key is rolled out
        AllowSpec allow;               ///< on top of the input's own
        friend bool operator==(const Sender&, const Sender&) = default;
    };
    std::vector<Sender> senders;
    friend bool operator==(const SignedAuth&, const SignedAuth&) = default;
};

struct TlsClientSettings {
    std::string caFile;   ///< empty: the system's CA store
    std::string certFile; ///< client certificate for mutual TLS
    std::string keyFile;
    bool verify = true;
    friend bool operator==(const TlsClientSettings&, const TlsClientSettings&) = default;
};

struct InputSpec {
    enum class Kind { Http, Mqtt, Source };
    std::string name;
    Kind kind = Kind::Http;
    std::string path;                     ///< e.g. /v1/events (kind Http)
    MqttSubscribeSettings mqtt;           ///< kind Mqtt
    std::string source;                   ///< kind Source: "<plugin>/<component>"
    ConfigTree sourceConfig;              ///< kind Source: the instance's `config`
    TlsClientSettings tls;                ///< kind Source: its HTTP client's https:// calls
    std::vector<BearerToken> tokens;      ///< non-empty: a valid bearer token is required
    std::optional<SignedAuth> signedAuth; ///< set: every request must be signed
    AllowSpec allow;                      ///< what any client of this input may send
    SourceLocation where;
    friend bool operator==(const InputSpec&, const InputSpec&) = default;
};

struct RetryPolicy {
    std::int64_t initialDelayMs = 500;
    std::int64_t maxDelayMs = 300000;
    double multiplier = 2.0;
    double jitter = 0.2;  ///< +-fraction of the delay, drawn at random
    int maxAttempts = 25; ///< then the delivery is dead-lettered
    friend bool operator==(const RetryPolicy&, const RetryPolicy&) = default;
};

struct CircuitPolicy {
    int failureThreshold = 5;    ///< consecutive failures that open the circuit
    std::int64_t openMs = 10000; ///< how long it stays open before one probe
    friend bool operator==(const CircuitPolicy&, const CircuitPolicy&) = default;
};

/// An MQTT broker the hub connects to (one client connection per broker).
struct BrokerSpec {
    std::string name;
    std::string url;      ///< tcp://host:port or ssl://host:port
    std::string clientId; ///< default "onewindow-<name>"
    int mqttVersion = 5;  ///< 4 (= MQTT 3.1.1) or 5
    std::string username;
    std::string password; ///< resolved from ${ENV}; never logged
    int keepAliveS = 30;
    bool cleanStart = false;             ///< false: a persistent session
    std::int64_t sessionExpiryS = 86400; ///< MQTT 5: how long the broker keeps the session
    TlsClientSettings tls;               ///< for ssl:// URLs
    SourceLocation where;
    friend bool operator==(const BrokerSpec&, const BrokerSpec&) = default;
};

/// Where an MQTT output publishes.
struct MqttPublishSettings {
    std::string broker; ///< a BrokerSpec name
    std::string topic;  ///< may hold {attribute} templates
    int qos = 1;
    bool retain = false;
    friend bool operator==(const MqttPublishSettings&, const MqttPublishSettings&) = default;
};

struct OutputSpec {
    enum class Mode { Structured, Binary };
    enum class Kind {
        Http,
        Mqtt,
        Sink,      ///< a plugin sink delivers each event
        Processor, ///< a plugin processor handles each event (state, timers, new events)
    };
    std::string name;
    Kind kind = Kind::Http;
    std::string url;          ///< http:// or https:// (kind Http)
    MqttPublishSettings mqtt; ///< kind Mqtt
    std::string sink;         ///< kind Sink: "<plugin>/<component>"
    std::string processor;    ///< kind Processor: "<plugin>/<component>"
    ConfigTree pluginConfig;  ///< kind Sink or Processor: the instance's `config`
    Mode mode = Mode::Structured;
    std::int64_t connectTimeoutMs = 2000;
    std::int64_t readTimeoutMs = 10000;
    /// Deliveries in flight to this output. Processors: events handled and waiting for their
    /// commit (calls into one processor never overlap unless it is `concurrent`), default 64.
    int concurrency = 4;
    std::string orderingKey = "subject"; ///< attribute name; "" = no ordering
    RetryPolicy retry;
    CircuitPolicy circuit;
    TlsClientSettings tls;
    std::vector<std::pair<std::string, std::string>> headers; ///< extra request headers
    /// What the receiver gets of personal data: keep | mask | drop (declared fields; ID numbers
    /// and mobiles recognised in any text are masked by mask and drop).
    std::string personalData = "keep";
    bool personalDataGiven = false; ///< written in the file (check warns about MQTT outputs)
    SourceLocation where;
    friend bool operator==(const OutputSpec&, const OutputSpec&) = default;
};

/// Personal fields of some event types (`personal_data`): JSON pointers into the event.
struct PersonalDataSpec {
    std::vector<std::string> types;    ///< globs on `type`
    std::vector<std::string> pointers; ///< e.g. /data/applicant/id_number; '*' segments
    SourceLocation where;
    friend bool operator==(const PersonalDataSpec&, const PersonalDataSpec&) = default;
};

struct RouteSpec {
    std::string name;
    MatchSpec match;
    std::vector<std::string> to; ///< output names, may hold {attribute} templates
    SourceLocation where;
};

/// A read-only lookup of a processor's state over HTTP: GET <path><key>?password=... answers
/// the JSON the processor keeps under <state_prefix><key> when the password's SHA-256 (of
/// "<key>:<password>") equals its `secret_sha256`; anything else answers the same 404.
struct QuerySpec {
    std::string name;
    std::string path;                    ///< prefix ending in '/', e.g. /v1/cases/
    std::string processor;               ///< the processor output whose state is read
    std::string statePrefix = "public/"; ///< state key = prefix + key
    int perClientPerMinute = 30;         ///< requests per client address, then 429
    SourceLocation where;
    friend bool operator==(const QuerySpec&, const QuerySpec&) = default;
};

struct HubConfig {
    HubSettings hub;
    std::vector<InputSpec> inputs;
    std::vector<BrokerSpec> brokers;
    std::vector<PluginSpec> plugins;
    std::vector<OutputSpec> outputs;
    std::vector<RouteSpec> routes;
    std::vector<QuerySpec> queries;
    std::vector<PersonalDataSpec> personalData;
    std::vector<std::string> files; ///< the main file and every include, in load order
    /// SHA-256 (hex) of what was loaded: each file's path and text, in load order. Names the
    /// configuration in force in the audit trail (start, reload).
    std::string digest;
};

} // namespace ow::config
