// lanes/version.hpp — the version of lanes these headers belong to.
//
// The numbers are project(lanes VERSION ...) in the top CMakeLists.txt: configuring lanes
// fails if they differ, so the two cannot drift apart. Use them to check at compile time,
// e.g. `static_assert(LANES_VERSION_MAJOR == 0 && LANES_VERSION_MINOR >= 1);`.
#pragma once

#define LANES_VERSION_MAJOR 0
#define LANES_VERSION_MINOR 1
#define LANES_VERSION_PATCH 0
/// "MAJOR.MINOR.PATCH".
#define LANES_VERSION_STRING "0.1.0"
/// One number that orders versions: MAJOR * 10000 + MINOR * 100 + PATCH.
#define LANES_VERSION (LANES_VERSION_MAJOR * 10000 + LANES_VERSION_MINOR * 100 + LANES_VERSION_PATCH)
