# cmake -P script behind the `public_headers_strict` test (tests/CMakeLists.txt): every
# public header (include/lanes/*.hpp and include/lanes/*/*.hpp, not detail/) compiles
# alone, i.e. includes what it uses, and without a warning under a consumer's strict
# set, with each compiler given. The headers are found with -I, not as system headers,
# so warnings in the detail/ headers they include count too.
#   -DLANES_SOURCE_DIR=   the lanes source tree
#   -DWORK_DIR=           scratch directory (wiped first)
#   -DCOMPILERS=          |-separated C++ compilers (e.g. g++|clang++-16)
#   -DEXTRA_INCLUDES=     optional, |-separated: include directories of the optional
#                         parts' dependencies (<mpi.h>...), given with -isystem
#   -DSKIP=               optional, |-separated headers not checked (lanes/mpi.hpp when
#                         lanes::mpi is not built)
cmake_minimum_required(VERSION 3.25)

foreach(v LANES_SOURCE_DIR WORK_DIR COMPILERS)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "public_headers_strict: -D${v}= is required")
  endif()
endforeach()

string(REPLACE "|" ";" COMPILERS "${COMPILERS}")
string(REPLACE "|" ";" EXTRA_INCLUDES "${EXTRA_INCLUDES}")
string(REPLACE "|" ";" SKIP "${SKIP}")
set(extra "")
foreach(dir IN LISTS EXTRA_INCLUDES)
  list(APPEND extra -isystem "${dir}")
endforeach()
set(flags -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Wshadow -Wconversion
          -Wsign-conversion -Wold-style-cast -Werror)

file(GLOB headers RELATIVE "${LANES_SOURCE_DIR}/include"
     "${LANES_SOURCE_DIR}/include/lanes/*.hpp" "${LANES_SOURCE_DIR}/include/lanes/*/*.hpp")
list(FILTER headers EXCLUDE REGEX "^lanes/detail/")
if(SKIP)
  list(REMOVE_ITEM headers ${SKIP})
endif()
list(LENGTH headers n)
if(n EQUAL 0)
  message(FATAL_ERROR "public_headers_strict: no header under ${LANES_SOURCE_DIR}/include/lanes")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

set(failures "")
foreach(cxx IN LISTS COMPILERS)
  foreach(h IN LISTS headers)
    string(MAKE_C_IDENTIFIER "${h}" id)
    set(tu "${WORK_DIR}/${id}.cpp")
    # Twice: the second include must be harmless (include guard / #pragma once).
    file(WRITE "${tu}" "#include <${h}>\n#include <${h}>\nint main() { return 0; }\n")
    execute_process(
      COMMAND "${cxx}" ${flags} "-I${LANES_SOURCE_DIR}/include" ${extra} "${tu}"
      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT rc EQUAL 0)
      message("---- ${cxx}: ${h}\n${out}")
      list(APPEND failures "${cxx}: ${h}")
    endif()
  endforeach()
  message(STATUS "public_headers_strict: ${cxx}: ${n} headers checked")
endforeach()

if(failures)
  list(JOIN failures "\n  " text)
  message(FATAL_ERROR "public_headers_strict: headers that do not compile alone without "
                      "warnings:\n  ${text}")
endif()
message(STATUS "public_headers_strict: OK")
