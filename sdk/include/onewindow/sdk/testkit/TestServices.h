// The services the hub hands a component (sdk::Services), in memory: a logger that keeps its
// lines, metrics that can be read back, secrets from a map, a fake clock, and an HTTP client
// that refuses until the test plugs one in (a component under test never reaches a real
// system by accident).
//
//   testkit::TestServices env(testkit::configFor(MySink::spec(), cfg));
//   env.useHttp(client);                         // e.g. a PlainHttpClient to a FakeHttpPeer
//   auto sink = registry.createSink("my-sink", env.services());
//   ... env.metrics().counterValue("delivered_total"), env.log().contains("retry") ...
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "onewindow/sdk/Components.h"
#include "onewindow/sdk/testkit/FakeClock.h"

namespace onewindow::sdk::testkit {

struct LogLine {
    LogLevel level = LogLevel::Info;
    std::string message;
    std::map<std::string, std::string> fields;
};

/// Keeps every line; thread-safe, because components may log from their own threads.
class RecordingLogger final : public Logger {
public:
    void write(LogLevel level, const std::string& message,
               const std::map<std::string, std::string>& fields) override {
        std::lock_guard<std::mutex> lock(mutex_);
        lines_.push_back({level, message, fields});
    }

    [[nodiscard]] std::vector<LogLine> lines() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return lines_;
    }
    /// True if a line (at `level`, when given) contains `fragment`. Assert on behaviour
    /// first; use this when logging is the behaviour (a warning an operator must see).
    [[nodiscard]] bool contains(const std::string& fragment,
                                std::optional<LogLevel> level = std::nullopt) const {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& l : lines_)
            if ((!level || l.level == *level) && l.message.find(fragment) != std::string::npos)
                return true;
        return false;
    }

private:
    mutable std::mutex mutex_;
    std::vector<LogLine> lines_;
};

/// Metrics kept in memory. As in the hub, asking twice for one name returns the same handle.
class MemoryMetrics final : public Metrics {
public:
    Counter& counter(const std::string& name, const std::string& help) override {
        (void)help;
        return get(counters_, name);
    }
    Gauge& gauge(const std::string& name, const std::string& help) override {
        (void)help;
        return get(gauges_, name);
    }
    Histogram& histogram(const std::string& name, const std::string& help,
                         const std::vector<double>& buckets) override {
        (void)help;
        (void)buckets;
        return get(histograms_, name);
    }

    /// 0 for a counter nobody asked for, so "never counted" and "counted 0" read alike.
    [[nodiscard]] double counterValue(const std::string& name) const {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = counters_.find(name);
        return it == counters_.end() ? 0 : it->second->value();
    }
    [[nodiscard]] std::optional<double> gaugeValue(const std::string& name) const {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = gauges_.find(name);
        if (it == gauges_.end()) return std::nullopt;
        return it->second->value();
    }
    [[nodiscard]] std::vector<double> observations(const std::string& name) const {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = histograms_.find(name);
        return it == histograms_.end() ? std::vector<double>{} : it->second->values();
    }

private:
    class MemCounter final : public Counter {
    public:
        void add(double n) override {
            std::lock_guard<std::mutex> lock(m_);
            v_ += n;
        }
        double value() const {
            std::lock_guard<std::mutex> lock(m_);
            return v_;
        }

    private:
        mutable std::mutex m_;
        double v_ = 0;
    };
    class MemGauge final : public Gauge {
    public:
        void set(double v) override {
            std::lock_guard<std::mutex> lock(m_);
            v_ = v;
        }
        double value() const {
            std::lock_guard<std::mutex> lock(m_);
            return v_;
        }

    private:
        mutable std::mutex m_;
        double v_ = 0;
    };
    class MemHistogram final : public Histogram {
    public:
        void observe(double v) override {
            std::lock_guard<std::mutex> lock(m_);
            v_.push_back(v);
        }
        std::vector<double> values() const {
            std::lock_guard<std::mutex> lock(m_);
            return v_;
        }

    private:
        mutable std::mutex m_;
        std::vector<double> v_;
    };

    template <typename T>
    T& get(std::map<std::string, std::unique_ptr<T>>& m, const std::string& n) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto& slot = m[n];
        if (!slot) slot = std::make_unique<T>();
        return *slot; // handles stay valid: the map owns them for the fixture's life
    }

    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<MemCounter>> counters_;
    std::map<std::string, std::unique_ptr<MemGauge>> gauges_;
    std::map<std::string, std::unique_ptr<MemHistogram>> histograms_;
};

/// Secrets from a map the test fills (the hub resolves them from the environment or files).
class MapSecrets final : public Secrets {
public:
    void set(const std::string& name, std::string value) {
        std::lock_guard<std::mutex> lock(mutex_);
        values_[name] = std::move(value);
    }
    [[nodiscard]] std::optional<std::string> get(const std::string& name) const override {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = values_.find(name);
        if (it == values_.end()) return std::nullopt;
        return it->second;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::string> values_;
};

/// Bundles the fakes into one sdk::Services. Not copyable or movable: Services holds
/// references into this object, and components keep their Services& for their whole life.
class TestServices {
public:
    explicit TestServices(Config config = {}, std::string instance = "test")
        : config_(std::move(config)), services_{
                                          log_,    metrics_,           clock_, http_, secrets_,
                                          config_, std::move(instance)} {}
    TestServices(const TestServices&) = delete;
    TestServices& operator=(const TestServices&) = delete;

    /// What a component's factory receives.
    Services& services() { return services_; }

    FakeClock& clock() { return clock_; }
    RecordingLogger& log() { return log_; }
    MemoryMetrics& metrics() { return metrics_; }
    MapSecrets& secrets() { return secrets_; }
    /// The config components see (change it before creating one: they read it at creation).
    Config& config() { return config_; }

    /// Routes services().http to `client` (which must outlive its use). Until then every
    /// request answers status 0 with an error saying so.
    void useHttp(HttpClient& client) { http_.target = &client; }

private:
    // Services::http is a reference, fixed at construction; this indirection lets a test plug
    // in its client afterwards.
    struct SwitchableHttp final : HttpClient {
        HttpClient* target = nullptr;
        HttpResponse send(const HttpRequest& request) override {
            if (target) return target->send(request);
            HttpResponse r;
            r.error = "no HTTP client in this test (call TestServices::useHttp): " + request.url;
            return r;
        }
    };

    RecordingLogger log_;
    MemoryMetrics metrics_;
    FakeClock clock_;
    SwitchableHttp http_;
    MapSecrets secrets_;
    Config config_;
    Services services_; // last: it refers to every member above
};

} // namespace onewindow::sdk::testkit
