// The std-like facade for plain concurrent code: weft::sync::atomic<T>,
// weft::sync::mutex, weft::sync::condition_variable, weft::thread and
// weft::this_thread::yield, plus WEFT_CHECK.
//
// Write the code under test against these names. Which types they are is chosen
// by the build, never by the code (loom's cfg(loom), done with include paths):
//  - linked with weft::runtime (or with no weft target): the standard library's
//    types themselves (aliases: zero cost);
//  - linked with weft::sim: the simulator's types, where every operation is a
//    scheduling decision of weft::testing::explore (weft/testing.hpp). Used
//    outside an exploration they throw weft::testing::UsageError.
#pragma once

#include "weft/facade_backend.hpp"

#if !defined(WEFT_FACADE_SIMULATED)
#error "weft/facade_backend.hpp must define WEFT_FACADE_SIMULATED"
#endif

// WEFT_CHECK(cond) is an always-on check. In an exploration a false condition ends
// the run with outcome "assertion" naming the condition, file, line and fiber (the
// exploration then shrinks and reports it); elsewhere it prints and aborts. With
// the engine on the include path (weft::sim, weft::runtime) it is the engine's own
// WEFT_CHECK (weft/assert.hpp), which means the same; one definition, no clash.
#if __has_include("weft/assert.hpp")
#include "weft/assert.hpp"
#else
#define WEFT_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) [[unlikely]]                                                  \
      ::weft::facade_detail::check_failed(#cond, __FILE__, __LINE__);          \
  } while (0)
#endif
