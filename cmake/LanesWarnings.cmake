# lanes_target_warnings(<target>)
#   The project's warning set, PRIVATE to <target> (consumers never inherit it):
#   -Wall -Wextra -Wpedantic, and -Werror when LANES_WERROR is ON.
include_guard(GLOBAL)

function(lanes_target_warnings tgt)
  get_target_property(_type ${tgt} TYPE)
  if(_type STREQUAL "INTERFACE_LIBRARY")
    return()  # nothing is compiled for it; never push warnings onto consumers
  endif()
  if(MSVC)
    target_compile_options(${tgt} PRIVATE /W4 $<$<BOOL:${LANES_WERROR}>:/WX>)
  else()
    target_compile_options(${tgt} PRIVATE -Wall -Wextra -Wpedantic
                                          $<$<BOOL:${LANES_WERROR}>:-Werror>)
  endif()
endfunction()
