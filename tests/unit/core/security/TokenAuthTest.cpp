#include <catch2/catch.hpp>

#include "core/security/TokenAuth.h"

using namespace ow;

TEST_CASE("TokenAuth identifies clients by bearer token", "[security]") {
    security::TokenAuth auth({{"platform", "s3cret-one", {}}, {"website", "another-token", {}}});
    REQUIRE(auth.required());
    std::string h1 = "Bearer s3cret-one", h2 = "bearer another-token", bad = "Bearer s3cret-onf",
                basic = "Basic s3cret-one", empty = "Bearer ", prefix = "Bearer s3cret";
    CHECK(auth.authenticate(&h1) == std::optional<std::string>("platform"));
    CHECK(auth.authenticate(&h2) == std::optional<std::string>("website"));
    CHECK_FALSE(auth.authenticate(&bad));
    CHECK_FALSE(auth.authenticate(&basic));
    CHECK_FALSE(auth.authenticate(&empty));
    CHECK_FALSE(auth.authenticate(&prefix));
    CHECK_FALSE(auth.authenticate(nullptr));
    CHECK_FALSE(security::TokenAuth({}).required());
    CHECK(security::sha256Hex("abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
