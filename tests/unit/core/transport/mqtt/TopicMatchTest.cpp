#include <catch2/catch.hpp>

#include "core/transport/mqtt/MqttConnection.h"

using ow::transport::mqtt::topicMatches;

TEST_CASE("MQTT topic filters match levels, + and #, and shared subscriptions", "[mqtt]") {
    CHECK(topicMatches("hall/led", "hall/led"));
    CHECK_FALSE(topicMatches("hall/led", "hall/led/1"));
    CHECK(topicMatches("hall/+/events", "hall/7/events"));
    CHECK_FALSE(topicMatches("hall/+/events", "hall/7/8/events"));
    CHECK(topicMatches("hall/#", "hall/7/8/events"));
    CHECK(topicMatches("hall/#", "hall"));
    CHECK(topicMatches("#", "anything/at/all"));
    CHECK(topicMatches("+/x", "a/x"));
    CHECK_FALSE(topicMatches("+/x", "a/y"));
    CHECK(topicMatches("a/+", "a/"));
    CHECK_FALSE(topicMatches("#", "$SYS/broker/uptime"));
    CHECK(topicMatches("$SYS/#", "$SYS/broker/uptime"));
    CHECK(topicMatches("$share/hubs/hall/+/events", "hall/7/events"));
    CHECK_FALSE(topicMatches("$share/hubs", "hall"));
}
