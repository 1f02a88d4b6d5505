#pragma once

// The library is built with hidden symbols (`-fvisibility=hidden`), so that
// a shared `libjamjet.so` exports the public API and nothing else; in a
// static build this changes nothing. Everything declared between
// JAMJET_API_BEGIN and JAMJET_API_END is exported; the public headers wrap
// their declarations in them.

#if defined(__GNUC__) || defined(__clang__)
#define JAMJET_API_BEGIN _Pragma("GCC visibility push(default)")
#define JAMJET_API_END _Pragma("GCC visibility pop")
#else
#define JAMJET_API_BEGIN
#define JAMJET_API_END
#endif
