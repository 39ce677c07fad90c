# cmake -P script behind the `package_consumer` test (tests/CMakeLists.txt).
#   -DLANES_BINARY_DIR=   the lanes build tree to install
#   -DCONSUMER_SOURCE_DIR= tests/package_consumer
#   -DWORK_DIR=           scratch directory (wiped first)
#   -DCONFIG=             build configuration (Release, ...)
#   -DGENERATOR=          CMake generator to use for the consumer
#   -DCXX_COMPILER=       C++ compiler to use for the consumer
cmake_minimum_required(VERSION 3.25)

foreach(v LANES_BINARY_DIR CONSUMER_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "package_consumer: -D${v}= is required")
  endif()
endforeach()
if(NOT CONFIG)
  set(CONFIG Release)
endif()

set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(step what)
  message(STATUS "package_consumer: ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "package_consumer: ${what} failed (${rc})")
  endif()
endfunction()

step("install lanes into ${prefix}"
  "${CMAKE_COMMAND}" --install "${LANES_BINARY_DIR}" --config "${CONFIG}" --prefix "${prefix}")
step("configure the consumer"
  "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${build}" -G "${GENERATOR}"
    "-DCMAKE_BUILD_TYPE=${CONFIG}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DCMAKE_PREFIX_PATH=${prefix}"
    # Only the installed package may be found, never the build tree or the user registry.
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
step("build the consumer"
  "${CMAKE_COMMAND}" --build "${build}" --config "${CONFIG}")

find_program(consumer NAMES lanes_consumer
  PATHS "${build}" "${build}/${CONFIG}" NO_DEFAULT_PATH REQUIRED)
step("run ${consumer}" "${consumer}")
message(STATUS "package_consumer: OK")
