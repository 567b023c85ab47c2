// A small Prometheus registry: counters, gauges and histograms with fixed label sets,
// rendered in the text exposition format for GET /metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace ow::observability {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
public:
    void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

class Gauge {
public:
    void set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
    void add(std::int64_t d) { value_.fetch_add(d, std::memory_order_relaxed); }
    [[nodiscard]] std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> value_{0};
};

class Histogram {
public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double v);
    [[nodiscard]] std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }
    /// Cumulative counts per bound (Prometheus `le` semantics) plus sum.
    void snapshot(std::vector<std::uint64_t>& cumulative, double& sum) const;

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_; // non-cumulative, last = +Inf
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sumMicros_{0}; // sum kept in millionths: no atomic double needed
};

/// Registry of metric families. Getting a metric takes a lock; hot paths keep the returned
/// reference (metrics are never removed, so references stay valid).
class Metrics {
public:
    Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
    Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
    Histogram& histogram(const std::string& name, const std::string& help,
                         const std::vector<double>& bounds, const Labels& labels = {});
    /// Removes a gauge function (its owner is going away); other samples stay. With `owner`,
    /// only if that owner's function is still the one registered: a successor registered under
    /// the same labels (an output replaced by a reload) keeps its own.
    void removeGaugeFunction(const std::string& name, const Labels& labels = {},
                             const void* owner = nullptr);
    /// A gauge computed when /metrics is read (e.g. outbox depth).
    void gaugeFunction(const std::string& name, const std::string& help, std::function<double()> fn,
                       const Labels& labels = {}, const void* owner = nullptr);

    /// Prometheus text format 0.0.4.
    [[nodiscard]] std::string render() const;

    /// Latency buckets in seconds, 100 µs .. 10 s.
    static std::vector<double> latencyBuckets();

private:
    enum class Kind { Counter, Gauge, Histogram };
    struct Family {
        Kind kind;
        std::string help;
        std::map<std::string, std::unique_ptr<Counter>> counters;
        std::map<std::string, std::unique_ptr<Gauge>> gauges;
        std::map<std::string, std::unique_ptr<Histogram>> histograms;
        struct Function {
            std::function<double()> fn;
            const void* owner = nullptr;
        };
        std::map<std::string, Function> functions;
    };
    Family& family(const std::string& name, const std::string& help, Kind kind);

    mutable std::mutex mu_;
    std::map<std::string, Family> families_;
};

} // namespace ow::observability
