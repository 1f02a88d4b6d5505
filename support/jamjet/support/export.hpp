#pragma once

// JAMJET_API marks the names of the public API. The library is built with
// hidden symbols (`-fvisibility=hidden`), so that a shared `libjamjet.so`
// exports the API and nothing else; in a static build the mark changes
// nothing.

#if defined(__GNUC__) || defined(__clang__)
#  define JAMJET_API __attribute__((visibility("default")))
#else
#  define JAMJET_API
#endif
