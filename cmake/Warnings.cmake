# Warnings for our own targets only; third-party headers come in as SYSTEM.
# -Wshadow=local is GCC's spelling; clang (the sanitizer and fuzz presets) has no such level.
function(impasto_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>
                                           -Wnon-virtual-dtor -Wno-unused-parameter)
endfunction()
