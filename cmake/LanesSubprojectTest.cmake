# cmake -P script behind the `subproject` test (tests/CMakeLists.txt): lanes embedded in
# another project with add_subdirectory, as FetchContent does, on a machine without CLI11,
# fmt or GoogleTest. The outer project checks that lanes defined nothing but the library
# (no CLI, tests, install rules or -Werror), builds a program against lanes::lanes with
# the consumer's own strict warnings, and runs it.
#   -DLANES_SOURCE_DIR=   the lanes source tree
#   -DWORK_DIR=           scratch directory (wiped first)
#   -DCONFIG=             build configuration (Release, ...)
#   -DGENERATOR=          CMake generator
#   -DCXX_COMPILER=       C++ compiler
#   -DLAUNCHER=           optional compiler launcher (ccache)
cmake_minimum_required(VERSION 3.25)

foreach(v LANES_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "subproject: -D${v}= is required")
  endif()
endforeach()
if(NOT CONFIG)
  set(CONFIG Release)
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/src")

file(WRITE "${WORK_DIR}/src/CMakeLists.txt" "
cmake_minimum_required(VERSION 3.25)
project(outer LANGUAGES CXX)
add_subdirectory(\"${LANES_SOURCE_DIR}\" lanes)
foreach(opt LANES_BUILD_TOOLS LANES_BUILD_TESTS LANES_BUILD_EXAMPLES LANES_BUILD_FUZZ
            LANES_INSTALL LANES_WERROR)
  if(\${opt})
    message(FATAL_ERROR \"subproject: \${opt} is ON by default in a subproject\")
  endif()
endforeach()
foreach(t lanes_cli fuzz_wire_replay test_loop example_gather)
  if(TARGET \${t})
    message(FATAL_ERROR \"subproject: lanes defined the target \${t} in a subproject\")
  endif()
endforeach()
add_executable(outer_program main.cpp)
target_compile_options(outer_program PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
  -Wsign-conversion -Wold-style-cast -Werror)
target_link_libraries(outer_program PRIVATE lanes::lanes)
")

file(WRITE "${WORK_DIR}/src/main.cpp" [=[
// Built by the `subproject` test: lanes through add_subdirectory.
#include <lanes/lanes.hpp>
#include <lanes/version.hpp>

#include <cstdio>

lanes::Task<int> twice(int x) {
  co_await lanes::sleep(std::chrono::milliseconds(1));
  co_return 2 * x;
}

lanes::Task<int> main_task() {
  auto [a, b] = co_await lanes::gather(twice(20), twice(1));
  co_return a + b;
}

int main() {
  const int got = lanes::run(main_task());
  std::printf("lanes %s as a subproject: %d\n", LANES_VERSION_STRING, got);
  return got == 42 ? 0 : 1;
}
]=])

function(step what)
  message(STATUS "subproject: ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "subproject: ${what} failed (${rc})")
  endif()
endfunction()

set(launcher "")
if(LAUNCHER)
  set(launcher "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()
step("configure the outer project (CLI11, fmt and GTest made unfindable)"
  "${CMAKE_COMMAND}" -S "${WORK_DIR}/src" -B "${WORK_DIR}/build" -G "${GENERATOR}"
    "-DCMAKE_BUILD_TYPE=${CONFIG}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" ${launcher}
    -DCMAKE_DISABLE_FIND_PACKAGE_CLI11=TRUE -DCMAKE_DISABLE_FIND_PACKAGE_fmt=TRUE
    -DCMAKE_DISABLE_FIND_PACKAGE_GTest=TRUE)
step("build outer_program" "${CMAKE_COMMAND}" --build "${WORK_DIR}/build" --config "${CONFIG}")
find_program(program NAMES outer_program
  PATHS "${WORK_DIR}/build" "${WORK_DIR}/build/${CONFIG}" NO_DEFAULT_PATH REQUIRED)
step("run ${program}" "${program}")
message(STATUS "subproject: OK")
