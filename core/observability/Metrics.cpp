#include "core/observability/Metrics.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace ow::observability {
namespace {

std::string escapeLabel(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out;
}

std::string labelText(const Labels& labels) {
    if (labels.empty()) return "";
    std::string s = "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i) s += ",";
        s += labels[i].first + "=\"" + escapeLabel(labels[i].second) + "\"";
    }
    return s + "}";
}

// Adds one label to an already rendered label set ("{a="b"}" + le -> "{a="b",le="0.1"}").
std::string withLabel(const std::string& rendered, const std::string& extra) {
    if (rendered.empty()) return "{" + extra + "}";
    return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

std::string number(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    std::ostringstream os;
    os.precision(10);
    os << v;
    return os.str();
}

} // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
    for (std::size_t i = 0; i <= bounds_.size(); ++i)
        buckets_[i].store(0);
}

void Histogram::observe(double v) {
    std::size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i])
        ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    if (v > 0) sumMicros_.fetch_add(static_cast<std::uint64_t>(v * 1e6), std::memory_order_relaxed);
}

void Histogram::snapshot(std::vector<std::uint64_t>& cumulative, double& sum) const {
    cumulative.assign(bounds_.size() + 1, 0);
    std::uint64_t run = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        run += buckets_[i].load(std::memory_order_relaxed);
        cumulative[i] = run;
    }
    sum = static_cast<double>(sumMicros_.load(std::memory_order_relaxed)) / 1e6;
}

Metrics::Family& Metrics::family(const std::string& name, const std::string& help, Kind kind) {
    auto [it, inserted] = families_.try_emplace(name);
    if (inserted) {
        it->second.kind = kind;
        it->second.help = help;
    } else if (it->second.kind != kind) {
        throw std::logic_error("metric " + name + " registered with two kinds");
    }
    return it->second;
}

Counter& Metrics::counter(const std::string& name, const std::string& help, const Labels& labels) {
    std::lock_guard lock(mu_);
    auto& slot = family(name, help, Kind::Counter).counters[labelText(labels)];
    if (!slot) slot = std::make_unique<Counter>();
    return *slot;
}

Gauge& Metrics::gauge(const std::string& name, const std::string& help, const Labels& labels) {
    std::lock_guard lock(mu_);
    auto& slot = family(name, help, Kind::Gauge).gauges[labelText(labels)];
    if (!slot) slot = std::make_unique<Gauge>();
    return *slot;
}

Histogram& Metrics::histogram(const std::string& name, const std::string& help,
                              const std::vector<double>& bounds, const Labels& labels) {
    std::lock_guard lock(mu_);
    auto& slot = family(name, help, Kind::Histogram).histograms[labelText(labels)];
    if (!slot) slot = std::make_unique<Histogram>(bounds);
    return *slot;
}

void Metrics::gaugeFunction(const std::string& name, const std::string& help,
                            std::function<double()> fn, const Labels& labels, const void* owner) {
    std::lock_guard lock(mu_);
    family(name, help, Kind::Gauge).functions[labelText(labels)] = {std::move(fn), owner};
}

void Metrics::removeGaugeFunction(const std::string& name, const Labels& labels,
                                  const void* owner) {
    std::lock_guard lock(mu_);
    auto it = families_.find(name);
    if (it == families_.end()) return;
    auto fn = it->second.functions.find(labelText(labels));
    if (fn != it->second.functions.end() && (owner == nullptr || fn->second.owner == owner))
        it->second.functions.erase(fn);
}

std::vector<double> Metrics::latencyBuckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
            0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

std::string Metrics::render() const {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& [name, f] : families_) {
        const char* type = f.kind == Kind::Counter ? "counter"
                           : f.kind == Kind::Gauge ? "gauge"
                                                   : "histogram";
        out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + type + "\n";
        for (const auto& [labels, c] : f.counters)
            out += name + labels + " " + std::to_string(c->value()) + "\n";
        for (const auto& [labels, g] : f.gauges)
            out += name + labels + " " + std::to_string(g->value()) + "\n";
        for (const auto& [labels, fn] : f.functions)
            out += name + labels + " " + number(fn.fn()) + "\n";
        for (const auto& [labels, h] : f.histograms) {
            std::vector<std::uint64_t> cum;
            double sum = 0;
            h->snapshot(cum, sum);
            for (std::size_t i = 0; i < h->bounds().size(); ++i)
                out += name + "_bucket" +
                       withLabel(labels, "le=\"" + number(h->bounds()[i]) + "\"") + " " +
                       std::to_string(cum[i]) + "\n";
            out += name + "_bucket" + withLabel(labels, "le=\"+Inf\"") + " " +
                   std::to_string(cum.back()) + "\n";
            out += name + "_sum" + labels + " " + number(sum) + "\n";
            out += name + "_count" + labels + " " + std::to_string(cum.back()) + "\n";
        }
    }
    return out;
}

} // namespace ow::observability
