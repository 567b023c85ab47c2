#include <catch2/catch.hpp>

#include "core/transport/http/ClientAddress.h"
#include "core/util/IpAddress.h"

using namespace ow;

TEST_CASE("IpAddress reads peers and groups IPv6 clients by /64", "[util]") {
    auto v4 = util::IpAddress::fromPeer("192.0.2.7:5123");
    REQUIRE(v4);
    CHECK(v4->v4);
    CHECK(v4->clientKey() == "192.0.2.7");
    auto v6 = util::IpAddress::fromPeer("[2001:db8:1:2:aaaa::5]:4711");
    REQUIRE(v6);
    CHECK_FALSE(v6->v4);
    CHECK(v6->clientKey() == "2001:db8:1:2::/64");
    CHECK(util::IpAddress::parse("::ffff:192.0.2.7")->clientKey() == "192.0.2.7");
    CHECK_FALSE(util::IpAddress::parse("proxy.example"));
    CHECK_FALSE(util::IpAddress::parse("192.0.2.256"));
}

TEST_CASE("IpRange matches addresses and CIDR ranges of both families", "[util]") {
    auto r = util::IpRange::parse("10.9.0.0/16");
    REQUIRE(r);
    CHECK(r->contains(*util::IpAddress::parse("10.9.200.1")));
    CHECK_FALSE(r->contains(*util::IpAddress::parse("10.10.0.1")));
    CHECK_FALSE(r->contains(*util::IpAddress::parse("2001:db8::1")));
    auto v6 = util::IpRange::parse("2001:db8::/33");
    REQUIRE(v6);
    CHECK(v6->contains(*util::IpAddress::parse("2001:db8:7fff::1")));
    CHECK_FALSE(v6->contains(*util::IpAddress::parse("2001:db8:8000::1")));
    CHECK(util::IpRange::parse("127.0.0.1")->contains(*util::IpAddress::parse("127.0.0.1")));
    CHECK_FALSE(util::IpRange::parse("10.0.0.0/33"));
    CHECK_FALSE(util::IpRange::parse("10.0.0.0/x"));
}

TEST_CASE("TrustedProxies believes forwarded addresses from listed proxies only", "[http]") {
    transport::http::TrustedProxies proxies({"127.0.0.1", "10.9.0.0/16"});
    transport::http::Request req;
    req.peerAddress = "127.0.0.1:4000";
    CHECK(proxies.clientOf(req) == "127.0.0.1");
    req.headers = {{"x-forwarded-for", "198.51.100.1, 203.0.113.7, 10.9.0.3"}};
    CHECK(proxies.clientOf(req) == "203.0.113.7");
    req.headers = {{"forwarded", "for=192.0.2.60;proto=https, for=\"[2001:db8::17]:4711\""},
                   {"x-forwarded-for", "198.51.100.1"}};
    CHECK(proxies.clientOf(req) == "2001:db8::17");
    req.headers = {{"forwarded", "for=unknown"}};
    CHECK(proxies.clientOf(req) == "unknown");
    req.peerAddress = "192.0.2.99:4000"; // not a proxy: its headers are its own words
    req.headers = {{"x-forwarded-for", "203.0.113.7"}};
    CHECK(proxies.clientOf(req) == "192.0.2.99");
}
