// Uses an installed lanes (find_package(lanes CONFIG), or pkg-config): proves the package
// works, and that its headers are the version the package says.
#include <lanes/lanes.hpp>
#include <lanes/version.hpp>

#include <cstdio>
#include <cstring>

lanes::Task<int> answer() { co_return 42; }

int main() {
#ifdef LANES_EXPECTED_VERSION
  if (std::strcmp(LANES_EXPECTED_VERSION, LANES_VERSION_STRING) != 0) {
    std::fprintf(stderr, "package version %s, headers %s\n", LANES_EXPECTED_VERSION,
                 LANES_VERSION_STRING);
    return 1;
  }
#endif
  const int got = lanes::run(answer());
  std::printf("lanes %s: %d\n", LANES_VERSION_STRING, got);
  return got == 42 ? 0 : 1;
}
