# cmake -P script behind the `package_consumer` test (tests/CMakeLists.txt). Three ways a
# user consumes an installed lanes, each built and run:
#   1. find_package(lanes CONFIG) against this (static) build, installed to a prefix;
#   2. pkg-config (lanes.pc) against the same prefix, with the compiler alone;
#   3. find_package against a shared build (BUILD_SHARED_LIBS=ON) of the same sources,
#      installed to a second prefix; the program must load liblanes.so.MAJOR.MINOR.
#   -DLANES_BINARY_DIR=    the lanes build tree to install
#   -DLANES_SOURCE_DIR=    the lanes source tree (for the shared build)
#   -DCONSUMER_SOURCE_DIR= tests/package_consumer
#   -DWORK_DIR=            scratch directory (wiped first)
#   -DCONFIG=              build configuration (Release, ...)
#   -DGENERATOR=           CMake generator to use
#   -DCXX_COMPILER=        C++ compiler to use
#   -DLAUNCHER=            optional compiler launcher (ccache) for the shared build
#   -DVERSION=             lanes' version (MAJOR.MINOR.PATCH)
cmake_minimum_required(VERSION 3.25)

foreach(v LANES_BINARY_DIR LANES_SOURCE_DIR CONSUMER_SOURCE_DIR WORK_DIR GENERATOR
          CXX_COMPILER VERSION)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "package_consumer: -D${v}= is required")
  endif()
endforeach()
if(NOT CONFIG)
  set(CONFIG Release)
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(step what)
  message(STATUS "package_consumer: ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "package_consumer: ${what} failed (${rc})")
  endif()
endfunction()

# Configures, builds and runs tests/package_consumer against the lanes in <prefix>.
function(consume label prefix)
  set(build "${WORK_DIR}/consumer-${label}")
  step("${label}: configure the consumer"
    "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${build}" -G "${GENERATOR}"
      "-DCMAKE_BUILD_TYPE=${CONFIG}"
      "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
      "-DCMAKE_PREFIX_PATH=${prefix}"
      # Only the installed package may be found, never a build tree or the user registry.
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
  step("${label}: build the consumer" "${CMAKE_COMMAND}" --build "${build}" --config "${CONFIG}")
  find_program(consumer_${label} NAMES lanes_consumer
    PATHS "${build}" "${build}/${CONFIG}" NO_DEFAULT_PATH NO_CACHE REQUIRED)
  step("${label}: run ${consumer_${label}}" "${consumer_${label}}")
  set(consumer "${consumer_${label}}" PARENT_SCOPE)
endfunction()

# 1. find_package, static ----------------------------------------------------------------
set(static_prefix "${WORK_DIR}/prefix-static")
step("install lanes into ${static_prefix}"
  "${CMAKE_COMMAND}" --install "${LANES_BINARY_DIR}" --config "${CONFIG}" --prefix "${static_prefix}")
file(GLOB_RECURSE licence "${static_prefix}/share/doc/*/LICENSE")
if(NOT licence)
  message(FATAL_ERROR "package_consumer: the installation has no share/doc/lanes/LICENSE")
endif()
consume(static "${static_prefix}")

# 2. pkg-config ----------------------------------------------------------------------------
find_program(PKG_CONFIG NAMES pkg-config pkgconf REQUIRED)
file(GLOB_RECURSE pc_file "${static_prefix}/*/pkgconfig/lanes.pc")
if(NOT pc_file)
  message(FATAL_ERROR "package_consumer: no lanes.pc under ${static_prefix}")
endif()
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
set(ENV{PKG_CONFIG_LIBDIR} "${pc_dir}")  # nothing else may answer for lanes
foreach(query modversion cflags libs)
  execute_process(COMMAND "${PKG_CONFIG}" --${query} lanes
    RESULT_VARIABLE rc OUTPUT_VARIABLE pc_${query} ERROR_VARIABLE err
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "package_consumer: pkg-config --${query} lanes failed: ${err}")
  endif()
endforeach()
if(NOT pc_modversion STREQUAL VERSION)
  message(FATAL_ERROR "package_consumer: lanes.pc says ${pc_modversion}, lanes is ${VERSION}")
endif()
separate_arguments(pc_cflags UNIX_COMMAND "${pc_cflags}")
separate_arguments(pc_libs UNIX_COMMAND "${pc_libs}")
set(pc_exe "${WORK_DIR}/consumer-pkgconfig")
step("pkg-config: ${CXX_COMPILER} $(pkg-config --cflags --libs lanes)"
  "${CXX_COMPILER}" -std=c++20 ${pc_cflags} "${CONSUMER_SOURCE_DIR}/main.cpp"
    "-DLANES_EXPECTED_VERSION=\"${pc_modversion}\"" -o "${pc_exe}" ${pc_libs})
step("pkg-config: run ${pc_exe}" "${pc_exe}")

# 3. find_package, shared ------------------------------------------------------------------
set(shared_build "${WORK_DIR}/lanes-shared")
set(shared_prefix "${WORK_DIR}/prefix-shared")
set(launcher "")
if(LAUNCHER)
  set(launcher "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()
step("shared: configure lanes with BUILD_SHARED_LIBS=ON"
  "${CMAKE_COMMAND}" -S "${LANES_SOURCE_DIR}" -B "${shared_build}" -G "${GENERATOR}"
    "-DCMAKE_BUILD_TYPE=${CONFIG}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" ${launcher}
    -DBUILD_SHARED_LIBS=ON -DLANES_BUILD_TESTS=OFF -DLANES_BUILD_EXAMPLES=OFF
    -DLANES_BUILD_FUZZ=OFF -DLANES_BUILD_TOOLS=OFF -DLANES_BUILD_BENCH=OFF)
step("shared: build liblanes.so" "${CMAKE_COMMAND}" --build "${shared_build}" --config "${CONFIG}")
step("shared: install into ${shared_prefix}"
  "${CMAKE_COMMAND}" --install "${shared_build}" --config "${CONFIG}" --prefix "${shared_prefix}")

string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" soversion "${VERSION}")
file(GLOB_RECURSE so_files LIST_DIRECTORIES false "${shared_prefix}/*/liblanes.so*")
set(want "liblanes.so" "liblanes.so.${soversion}" "liblanes.so.${VERSION}")
foreach(name IN LISTS want)
  set(found FALSE)
  foreach(f IN LISTS so_files)
    get_filename_component(n "${f}" NAME)
    if(n STREQUAL name)
      set(found TRUE)
    endif()
  endforeach()
  if(NOT found)
    message(FATAL_ERROR "package_consumer: shared: ${name} not installed (found: ${so_files})")
  endif()
endforeach()
file(GLOB_RECURSE static_archives "${shared_prefix}/*/liblanes.a")
if(static_archives)
  message(FATAL_ERROR "package_consumer: shared: a static liblanes.a was installed too")
endif()

consume(shared "${shared_prefix}")
# The program must depend on the shared library by its SONAME, not contain lanes.
find_program(READELF NAMES readelf REQUIRED)
execute_process(COMMAND "${READELF}" -d "${consumer}" OUTPUT_VARIABLE dyn RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT dyn MATCHES "NEEDED[^\n]*\\[liblanes\\.so\\.${soversion}\\]")
  message(FATAL_ERROR "package_consumer: shared: ${consumer} does not need "
                      "liblanes.so.${soversion}:\n${dyn}")
endif()
message(STATUS "package_consumer: OK (find_package static, pkg-config, find_package shared)")
