#include <catch2/catch.hpp>

#include <vector>

#include "core/observability/Availability.h"

using namespace ow::observability;

namespace {

class ManualClock final : public ow::util::Clock {
public:
    [[nodiscard]] std::int64_t nowMs() const override { return now; }
    std::int64_t now = 1'772'413'200'000;
};

struct Line {
    Level level;
    std::string msg;
    nlohmann::json fields;
};

struct Recorder {
    std::vector<Line> lines;
    Availability::Writer writer() {
        return [this](Level l, std::string_view m, const nlohmann::json& f) {
            lines.push_back({l, std::string(m), f});
        };
    }
};

} // namespace

TEST_CASE("Availability: down once, reminders at most every interval, back once with the "
          "downtime",
          "[observability]") {
    ManualClock clock;
    Recorder log;
    Availability a("source", {{"input", "ems-traces"}}, clock, 300'000, 1, log.writer());
    CHECK(a.state().up);
    a.succeeded(); // up and answering: nothing to say
    CHECK(log.lines.empty());

    const auto wentDown = clock.now;
    a.failed("EMS did not answer: Connection refused");
    REQUIRE(log.lines.size() == 1);
    CHECK(log.lines[0].level == Level::Warn);
    CHECK(log.lines[0].msg == "unavailable; trying again with backoff");
    CHECK(log.lines[0].fields["input"] == "ems-traces");
    CHECK(log.lines[0].fields["reason"] == "EMS did not answer: Connection refused");
    CHECK_FALSE(a.state().up);
    CHECK(a.state().sinceMs == wentDown);

    // A night of failed polls, one every 30 s: a reminder every 5 minutes, not one per poll.
    for (int i = 0; i < 2 * 60 * 2; ++i) {
        clock.now += 30'000;
        a.failed("EMS answered HTTP 503");
    }
    const auto reminders = log.lines.size() - 1;
    CHECK(reminders == 2 * 60 / 5);
    CHECK(log.lines.back().msg == "still unavailable");
    CHECK(log.lines.back().fields["failed_attempts"] == 241);
    CHECK(log.lines.back().fields["down_for_s"] == 2 * 3600);
    CHECK(log.lines.back().fields["reason"] == "EMS answered HTTP 503");
    CHECK(a.state().consecutiveFailures == 241);

    clock.now += 10'000;
    a.succeeded();
    REQUIRE(log.lines.size() == reminders + 2);
    CHECK(log.lines.back().level == Level::Info);
    CHECK(log.lines.back().msg == "available again");
    CHECK(log.lines.back().fields["down_for_s"] == 2 * 3600 + 10);
    CHECK(log.lines.back().fields["failed_attempts"] == 241);
    CHECK(a.state().up);
    CHECK(a.state().sinceMs == clock.now);
    CHECK(a.state().consecutiveFailures == 0);
    a.succeeded();
    CHECK(log.lines.size() == reminders + 2);
}

TEST_CASE("Availability: with a threshold, down from that many failures in a row, counted from "
          "the first",
          "[observability]") {
    ManualClock clock;
    Recorder log;
    Availability a("dispatcher", {{"output", "gongshang"}}, clock, 300'000, 3, log.writer());
    a.failed("HTTP 503");
    a.failed("HTTP 503");
    a.succeeded(); // a success in between: the count starts again
    CHECK(log.lines.empty());
    const auto first = clock.now;
    a.failed("HTTP 503");
    clock.now += 1000;
    a.failed("HTTP 503");
    CHECK(a.state().up);
    clock.now += 1000;
    a.failed("timed out");
    REQUIRE(log.lines.size() == 1);
    CHECK(log.lines[0].fields["failed_attempts"] == 3);
    CHECK(log.lines[0].fields["down_for_s"] == 2);
    CHECK_FALSE(a.state().up);
    CHECK(a.state().sinceMs == first);
    CHECK(a.state().reason == "timed out");
}
