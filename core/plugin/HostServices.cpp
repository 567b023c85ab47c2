#include "core/plugin/HostServices.h"

#include <Poco/URI.h>

#include "core/delivery/HttpOutputClient.h"
#include "core/observability/Log.h"
#include "core/transport/http/HttpClientConnection.h"

namespace ow::plugin {
namespace sdk = onewindow::sdk;
using observability::Log;

class HostServices::Logger final : public sdk::Logger {
public:
    Logger(std::string plugin, std::string instance)
        : plugin_(std::move(plugin)), instance_(std::move(instance)) {}
    void write(sdk::LogLevel level, const std::string& message,
               const std::map<std::string, std::string>& fields) override {
        nlohmann::json f = {{"plugin", plugin_}, {"instance", instance_}};
        for (const auto& [k, v] : fields)
            f[k] = v;
        switch (level) {
        case sdk::LogLevel::Debug:
            Log::debug("plugin", message, f);
            break;
        case sdk::LogLevel::Info:
            Log::info("plugin", message, f);
            break;
        case sdk::LogLevel::Warn:
            Log::warn("plugin", message, f);
            break;
        case sdk::LogLevel::Error:
            Log::error("plugin", message, f);
            break;
        }
    }

private:
    std::string plugin_, instance_;
};

class HostServices::MetricsAdapter final : public sdk::Metrics {
public:
    MetricsAdapter(observability::Metrics& m, std::string plugin, std::string instance)
        : m_(m), labels_{{"plugin", std::move(plugin)}, {"instance", std::move(instance)}} {}
    sdk::Counter& counter(const std::string& name, const std::string& help) override {
        std::lock_guard lock(mu_);
        auto& slot = counters_[name];
        if (!slot) slot = std::make_unique<C>(m_.counter(prefixed(name), help, labels_));
        return *slot;
    }
    sdk::Gauge& gauge(const std::string& name, const std::string& help) override {
        std::lock_guard lock(mu_);
        auto& slot = gauges_[name];
        if (!slot) slot = std::make_unique<G>(m_.gauge(prefixed(name), help, labels_));
        return *slot;
    }
    sdk::Histogram& histogram(const std::string& name, const std::string& help,
                              const std::vector<double>& buckets) override {
        std::lock_guard lock(mu_);
        auto& slot = histograms_[name];
        if (!slot) slot = std::make_unique<H>(m_.histogram(prefixed(name), help, buckets, labels_));
        return *slot;
    }

private:
    // Plugin metrics live under their own prefix, so a plugin cannot shadow the hub's.
    static std::string prefixed(const std::string& n) { return "onewindow_plugin_" + n; }
    struct C final : sdk::Counter {
        explicit C(observability::Counter& c) : c_(c) {}
        void add(double n) override { c_.inc(n > 0 ? static_cast<std::uint64_t>(n) : 0); }
        observability::Counter& c_;
    };
    struct G final : sdk::Gauge {
        explicit G(observability::Gauge& g) : g_(g) {}
        void set(double v) override { g_.set(static_cast<std::int64_t>(v)); }
        observability::Gauge& g_;
    };
    struct H final : sdk::Histogram {
        explicit H(observability::Histogram& h) : h_(h) {}
        void observe(double v) override { h_.observe(v); }
        observability::Histogram& h_;
    };
    observability::Metrics& m_;
    observability::Labels labels_;
    std::mutex mu_;
    std::map<std::string, std::unique_ptr<C>> counters_;
    std::map<std::string, std::unique_ptr<G>> gauges_;
    std::map<std::string, std::unique_ptr<H>> histograms_;
};

class HostServices::ClockAdapter final : public sdk::Clock {
public:
    explicit ClockAdapter(const util::Clock& c) : c_(c) {}
    std::int64_t nowMs() const override { return c_.nowMs(); }

private:
    const util::Clock& c_;
};

// One request per call on a fresh connection: plugin calls are few next to the hub's own
// deliveries, and a fresh connection never carries state between two departments' calls.
class HostServices::Http final : public sdk::HttpClient {
public:
    explicit Http(config::TlsClientSettings tls) : settings_(std::move(tls)) {}
    sdk::HttpResponse send(const sdk::HttpRequest& req) override {
        sdk::HttpResponse out;
        try {
            Poco::URI uri(req.url);
            const bool tls = uri.getScheme() == "https";
            if (!tls && uri.getScheme() != "http") {
                out.error = "only http:// and https:// URLs are supported, got " + req.url;
                return out;
            }
            transport::http::HttpClientConnection conn(uri.getHost(), uri.getPort(),
                                                       tls ? tlsContext() : nullptr, req.timeoutMs,
                                                       req.timeoutMs, 1 << 20);
            transport::http::HeaderList headers(req.headers.begin(), req.headers.end());
            auto r = conn.request(req.method,
                                  uri.getPathAndQuery().empty() ? "/" : uri.getPathAndQuery(),
                                  headers, req.body);
            out.status = r.status;
            out.headers.assign(r.headers.begin(), r.headers.end());
            out.body = std::move(r.body);
        } catch (const Poco::Exception& e) {
            out.error = e.displayText();
        } catch (const std::exception& e) {
            out.error = e.what();
        }
        return out;
    }

private:
    // One TLS context (the output's CA and client certificate, or the system CA store) for all
    // of this instance's calls: building one loads the CA store, too costly per request.
    Poco::Net::Context::Ptr tlsContext() {
        std::call_once(tlsOnce_,
                       [this] { tls_ = delivery::HttpOutputClient::makeClientContext(settings_); });
        return tls_;
    }
    const config::TlsClientSettings settings_;
    std::once_flag tlsOnce_;
    Poco::Net::Context::Ptr tls_;
};

class HostServices::Secrets final : public sdk::Secrets {
public:
    std::optional<std::string> get(const std::string& name) const override {
        const char* v = std::getenv(name.c_str());
        if (!v) return std::nullopt;
        return std::string(v);
    }
};

HostServices::HostServices(std::string plugin, std::string instance, sdk::Config config,
                           observability::Metrics& metrics, const util::Clock& clock,
                           config::TlsClientSettings tls)
    : log_(std::make_unique<Logger>(plugin, instance)),
      metrics_(std::make_unique<MetricsAdapter>(metrics, plugin, instance)),
      clock_(std::make_unique<ClockAdapter>(clock)), http_(std::make_unique<Http>(std::move(tls))),
      secrets_(std::make_unique<Secrets>()),
      config_(std::move(config)), services_{*log_,     *metrics_, *clock_, *http_,
                                            *secrets_, config_,   instance} {}

HostServices::~HostServices() = default;

} // namespace ow::plugin
