# One INTERFACE target carrying the project's warning flags.
add_library(jamjet_warnings INTERFACE)
target_compile_options(jamjet_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Wunused -Woverloaded-virtual -Wformat=2
  # CAF 0.17 headers trip these; they are not ours to fix. (-Wnull-dereference
  # is left out: at -O2 it reports false positives inside nlohmann_json.)
  -Wno-deprecated-copy -Wno-redundant-move
  # GCC's name; clang (the fuzz build) does not know it.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
if(JAMJET_WERROR)
  target_compile_options(jamjet_warnings INTERFACE -Werror)
endif()
