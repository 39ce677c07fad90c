// lanes/version.hpp: the macros agree with each other and with project(lanes VERSION).
#include <lanes/version.hpp>

#include <gtest/gtest.h>

#include <string>

TEST(Version, StringIsTheThreeNumbers) {
  EXPECT_EQ(std::string(LANES_VERSION_STRING), std::to_string(LANES_VERSION_MAJOR) + "." +
                                                   std::to_string(LANES_VERSION_MINOR) + "." +
                                                   std::to_string(LANES_VERSION_PATCH));
}

TEST(Version, OneNumberOrdersVersions) {
  static_assert(LANES_VERSION_MINOR < 100 && LANES_VERSION_PATCH < 100,
                "LANES_VERSION packs MINOR and PATCH in two digits each");
  EXPECT_EQ(LANES_VERSION,
            LANES_VERSION_MAJOR * 10000 + LANES_VERSION_MINOR * 100 + LANES_VERSION_PATCH);
}

#ifdef LANES_PROJECT_VERSION
TEST(Version, MatchesTheCMakeProject) { EXPECT_STREQ(LANES_VERSION_STRING, LANES_PROJECT_VERSION); }
#endif
