// The three kinds of component a plugin can register, and the services the hub hands them.
//
// Threads and ownership, for every component:
// - The hub creates a component with its factory (no I/O there: the hub may create one only
//   to validate), then calls start() once, then the run calls, then stop() once, then
//   destroys it. start() may fail; the hub retries it with backoff and shows the error in the
//   plugin's health.
// - Calls on one instance never overlap unless the component says `concurrent` in its
//   ComponentInfo; different instances run in parallel.
// - No exception should leave a component: return a Result. The hub catches any that does
//   and treats it as Result::retry(what()), but the result of an escaping exception is a
//   retry storm, not a clear error for the operator.
// - References handed to a call (events, contexts) are valid only during that call.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "onewindow/sdk/ConfigSpec.h"
#include "onewindow/sdk/Event.h"
#include "onewindow/sdk/Version.h"

namespace onewindow::sdk {

/// How a call ended.
struct Result {
    enum class Kind {
        Ok,     ///< done (processor: commit the effects; sink: delivered)
        Retry,  ///< transient: call again later, after `retryAfterMs` if set
        Reject, ///< permanent: the event goes to the dead-letter queue with `reason`
    };
    Kind kind = Kind::Ok;
    std::string reason;
    std::optional<std::int64_t> retryAfterMs;

    static Result ok() { return {}; }
    static Result retry(std::string why, std::optional<std::int64_t> afterMs = std::nullopt) {
        return {Kind::Retry, std::move(why), afterMs};
    }
    static Result reject(std::string why) { return {Kind::Reject, std::move(why), std::nullopt}; }
};

enum class LogLevel { Debug, Info, Warn, Error };

/// Writes to the hub's log; every line carries the plugin and instance name.
class ONEWINDOW_SDK_API Logger {
public:
    virtual ~Logger() = default;
    /// What an implementation provides (the hub's, or the test kit's recording logger).
    virtual void write(LogLevel level, const std::string& message,
                       const std::map<std::string, std::string>& fields) = 0;
    void log(LogLevel level, const std::string& message,
             const std::map<std::string, std::string>& fields = {}) {
        write(level, message, fields);
    }
    void debug(const std::string& m) { write(LogLevel::Debug, m, {}); }
    void info(const std::string& m) { write(LogLevel::Info, m, {}); }
    void warn(const std::string& m) { write(LogLevel::Warn, m, {}); }
    void error(const std::string& m) { write(LogLevel::Error, m, {}); }
};

/// Metrics on the hub's /metrics, labelled with plugin and instance. Handles stay valid for
/// the component's life.
class ONEWINDOW_SDK_API Counter {
public:
    virtual ~Counter() = default;
    virtual void add(double n = 1) = 0;
};
class ONEWINDOW_SDK_API Gauge {
public:
    virtual ~Gauge() = default;
    virtual void set(double v) = 0;
};
class ONEWINDOW_SDK_API Histogram {
public:
    virtual ~Histogram() = default;
    virtual void observe(double v) = 0;
};
class ONEWINDOW_SDK_API Metrics {
public:
    virtual ~Metrics() = default;
    virtual Counter& counter(const std::string& name, const std::string& help) = 0;
    virtual Gauge& gauge(const std::string& name, const std::string& help) = 0;
    /// Bucket upper bounds in the metric's unit (seconds for latencies).
    virtual Histogram& histogram(const std::string& name, const std::string& help,
                                 const std::vector<double>& buckets) = 0;
};

/// Time as the hub sees it; tests replace it (sdk/testkit).
class ONEWINDOW_SDK_API Clock {
public:
    virtual ~Clock() = default;
    [[nodiscard]] virtual std::int64_t nowMs() const = 0; ///< Unix epoch milliseconds
};

/// An HTTP client configured by the hub (TLS trust, client certificate, timeouts, pooling).
struct HttpRequest {
    std::string method = "POST";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::int64_t timeoutMs = 10000;
};
struct HttpResponse {
    int status = 0; ///< 0 when no answer arrived; `error` says why
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string error;
};
class ONEWINDOW_SDK_API HttpClient {
public:
    virtual ~HttpClient() = default;
    virtual HttpResponse send(const HttpRequest& request) = 0;
};

/// Secrets looked up at run time by name (environment variables of the hub process), for a
/// plugin that learns which secret it needs only while running. A secret the instance config
/// names is simpler: declare the key with Field::secret, the operator writes ${NAME}, and the
/// Config holds the resolved value. Never log either.
class ONEWINDOW_SDK_API Secrets {
public:
    virtual ~Secrets() = default;
    [[nodiscard]] virtual std::optional<std::string> get(const std::string& name) const = 0;
};

/// What the hub hands every component at creation. Lives as long as the component.
struct Services {
    Logger& log;
    Metrics& metrics;
    Clock& clock;
    HttpClient& http;
    Secrets& secrets;
    const Config& config; ///< validated against the component's ConfigSpec
    std::string instance; ///< the instance name from the YAML
};

/// The effects of handling one event. Nothing here is visible outside until the hub commits
/// it together with "event handled", so after a crash the event is handled again and its
/// effects exist once.
class ONEWINDOW_SDK_API ProcessContext {
public:
    virtual ~ProcessContext() = default;
    /// Durable key-value state of this instance (reads see this call's own writes).
    [[nodiscard]] virtual std::optional<std::string> get(const std::string& key) = 0;
    virtual void put(const std::string& key, const std::string& value) = 0;
    virtual void erase(const std::string& key) = 0;
    /// A new event, journaled and routed like any accepted event.
    virtual void emit(Event e) = 0;
    /// Calls onTimer(name, payload) at `atMs` (epoch ms); setting a name again replaces it.
    virtual void setTimer(const std::string& name, std::int64_t atMs, std::string payload) = 0;
    virtual void cancelTimer(const std::string& name) = 0;
};

/// Event in → state changes, new events, timers.
class ONEWINDOW_SDK_API Processor {
public:
    virtual ~Processor() = default;
    virtual Result start() { return Result::ok(); }
    /// Ok commits the context's effects; Retry and Reject discard them.
    virtual Result process(const Event& event, ProcessContext& ctx) = 0;
    /// A timer set earlier fell due (possibly late, after a restart). Ok commits the context's
    /// effects; Retry calls again later; Reject drops the timer with the reason logged.
    virtual Result onTimer(const std::string& name, const std::string& payload,
                           ProcessContext& ctx) {
        (void)name;
        (void)payload;
        (void)ctx;
        return Result::ok();
    }
    /// Called once; must return within the hub's stop deadline. Idempotent.
    virtual void stop() {}
};

/// Delivers one event to an outside system. Outputs in the YAML name a sink instead of a URL.
class ONEWINDOW_SDK_API Sink {
public:
    virtual ~Sink() = default;
    virtual Result start() { return Result::ok(); }
    /// Ok: delivered. Retry: try again later. Reject: dead-letter with the reason.
    virtual Result deliver(const Event& event) = 0;
    virtual void stop() {}
};

/// What a source may do with the events it produced.
class ONEWINDOW_SDK_API SourceContext {
public:
    virtual ~SourceContext() = default;
    /// Journals the events in one commit and returns only after it: true means durable (the
    /// source may now acknowledge them upstream), false means not stored (try again later).
    virtual bool emit(const std::vector<Event>& events) = 0;
    /// True once the hub wants the source to return from run().
    [[nodiscard]] virtual bool stopping() const = 0;
    /// Sleeps up to `ms`, returning early when the hub stops the source.
    virtual void waitFor(std::int64_t ms) = 0;
    /// The system the source reads could not be read: no answer, an error status, an empty
    /// body, a body that is not what the system sends. Say so here rather than in the log:
    /// the hub shows the source as down (metrics, /readyz), logs it once, then a reminder
    /// every few minutes, and waits before returning, with exponential backoff and jitter up to
    /// a cap, at least `retryAfterMs` (the system's Retry-After, say). It returns early when
    /// the hub stops the source. `reason` names the system and what happened, in words
    /// ("EMS did not answer: connection refused"), not a library's exception text.
    /// (The default, for contexts outside a hub, just waits.)
    virtual void unavailable(const std::string& reason,
                             std::optional<std::int64_t> retryAfterMs = std::nullopt) {
        (void)reason;
        waitFor(retryAfterMs.value_or(1000));
    }
    /// The system answered, with records or with nothing new: the source is up (again), and
    /// the next failure backs off from the start.
    virtual void available() {}
};

/// Produces events from outside (polls a front-end database table, watches a folder, ...).
class ONEWINDOW_SDK_API Source {
public:
    virtual ~Source() = default;
    virtual Result start() { return Result::ok(); }
    /// Runs on a thread of its own until ctx.stopping(). While the system cannot be read, call
    /// ctx.unavailable() (the hub backs off) and go on; once it answers, ctx.available().
    /// Returning early with Retry counts as the system being unavailable too: the hub calls
    /// run() again after the same backoff (at least `retryAfterMs`).
    virtual Result run(SourceContext& ctx) = 0;
    virtual void stop() {}
};

using ProcessorFactory = std::function<std::unique_ptr<Processor>(Services&)>;
using SinkFactory = std::function<std::unique_ptr<Sink>(Services&)>;
using SourceFactory = std::function<std::unique_ptr<Source>(Services&)>;

enum class ComponentKind { Processor, Sink, Source };

struct ComponentInfo {
    ComponentKind kind = ComponentKind::Processor;
    std::string name; ///< referenced from the YAML as "<plugin>/<name>"
    ConfigSpec spec;
    bool concurrent = false; ///< may the hub call one instance from several threads at once
};

} // namespace onewindow::sdk
