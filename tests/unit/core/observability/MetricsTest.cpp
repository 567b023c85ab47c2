#include <catch2/catch.hpp>

#include "core/observability/Metrics.h"

using namespace ow::observability;

TEST_CASE("Metrics renders counters, gauges and histograms in Prometheus text format",
          "[observability]") {
    Metrics m;
    m.counter("ow_requests_total", "Requests", {{"input", "events"}}).inc(3);
    m.counter("ow_requests_total", "Requests", {{"input", "events"}}).inc();
    m.gauge("ow_depth", "Depth").set(7);
    m.gaugeFunction("ow_fn", "Computed", [] { return 2.5; }, {{"output", "a\"b"}});
    auto& h = m.histogram("ow_latency_seconds", "Latency", {0.1, 1});
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    std::string text = m.render();
    CHECK_THAT(text, Catch::Contains("# TYPE ow_requests_total counter"));
    CHECK_THAT(text, Catch::Contains("ow_requests_total{input=\"events\"} 4\n"));
    CHECK_THAT(text, Catch::Contains("ow_depth 7\n"));
    CHECK_THAT(text, Catch::Contains("ow_fn{output=\"a\\\"b\"} 2.5\n"));
    CHECK_THAT(text, Catch::Contains("ow_latency_seconds_bucket{le=\"0.1\"} 1\n"));
    CHECK_THAT(text, Catch::Contains("ow_latency_seconds_bucket{le=\"1\"} 2\n"));
    CHECK_THAT(text, Catch::Contains("ow_latency_seconds_bucket{le=\"+Inf\"} 3\n"));
    CHECK_THAT(text, Catch::Contains("ow_latency_seconds_count 3\n"));
    CHECK_THAT(text, Catch::Contains("ow_latency_seconds_sum 5.55\n"));
    CHECK_THROWS(m.gauge("ow_requests_total", "wrong kind"));
}
