# lanes_target_sanitizers(<target>)
#   Adds the sanitizer chosen by LANES_SANITIZE to <target>, compile and link flags both.
#     ""        nothing
#     "address" AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer)
#     "thread"  ThreadSanitizer
#   Per target, never through the global CMAKE_CXX_FLAGS. The flags and the compile
#   definitions LANES_SANITIZED=1 and LANES_SANITIZED_ADDRESS=1 / LANES_SANITIZED_THREAD=1
#   are PUBLIC on a library (so whatever links it is built and linked the same way) and
#   PRIVATE on an executable.
include_guard(GLOBAL)

function(lanes_target_sanitizers tgt)
  if(NOT LANES_SANITIZE)
    return()
  endif()
  if(NOT LANES_SANITIZE MATCHES "^(address|thread)$")
    message(FATAL_ERROR "LANES_SANITIZE='${LANES_SANITIZE}': use \"\", \"address\" or \"thread\"")
  endif()

  if(LANES_SANITIZE STREQUAL "address")
    set(_flags -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
    set(_defs LANES_SANITIZED=1 LANES_SANITIZED_ADDRESS=1)
  else()
    set(_flags -fsanitize=thread -fno-omit-frame-pointer)
    set(_defs LANES_SANITIZED=1 LANES_SANITIZED_THREAD=1)
  endif()

  get_target_property(_type ${tgt} TYPE)
  if(_type STREQUAL "INTERFACE_LIBRARY")
    set(_scope INTERFACE)
  elseif(_type MATCHES "LIBRARY$")
    set(_scope PUBLIC)
  else()
    set(_scope PRIVATE)
  endif()
  target_compile_options(${tgt} ${_scope} ${_flags})
  target_link_options(${tgt} ${_scope} ${_flags})
  target_compile_definitions(${tgt} ${_scope} ${_defs})
endfunction()
