// The std-like facade for plain concurrent code: weft::sync::atomic<T>, cell<T>,
// mutex, condition_variable, shared_mutex, counting_semaphore, binary_semaphore,
// once_flag and call_once; weft::thread, weft::this_thread::yield; thread-locals
// declared with WEFT_THREAD_LOCAL; and WEFT_CHECK.
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

// WEFT_THREAD_LOCAL(Type, name, init...) declares a static thread-local `name` of
// Type, initialised in each thread as Type{init...}: WEFT_THREAD_LOCAL(int, depth,
// 0); then depth.get()++ or *depth. At namespace or block scope. In production it
// is a C++ thread_local; in a test build, one instance per simulated thread
// (weft::thread_local_key in each backend).
#define WEFT_THREAD_LOCAL(Type, name, ...)                \
  struct weft_thread_local_init_##name {                  \
    Type operator()() const { return Type{__VA_ARGS__}; } \
  };                                                      \
  static const ::weft::thread_local_key<Type, weft_thread_local_init_##name> name
