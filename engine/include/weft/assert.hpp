// WEFT_ASSERT: invariants as executable design.
//
// Always on in simulator builds and debug builds; WEFT_ASSERTIONS=1 forces them on
// in release. A failed assertion goes to the platform, which aborts on the OS
// backend and reports an "assertion" failure with its seed in the simulator.
#pragma once

#include "weft/platform/platform.hpp"

#if !defined(WEFT_ASSERTIONS)
#if defined(WEFT_BACKEND_SIM) || !defined(NDEBUG)
#define WEFT_ASSERTIONS 1
#else
#define WEFT_ASSERTIONS 0
#endif
#endif

#if WEFT_ASSERTIONS
#define WEFT_ASSERT(cond)                                                   \
  do {                                                                      \
    if (!(cond)) [[unlikely]]                                               \
      ::weft::Platform::assertion_failed(#cond, __FILE__, __LINE__);        \
  } while (0)
#else
#define WEFT_ASSERT(cond) \
  do {                    \
    (void)sizeof(cond);   \
  } while (0)
#endif

// WEFT_CHECK is never compiled out: for conditions whose failure would corrupt memory.
#define WEFT_CHECK(cond)                                                  \
  do {                                                                    \
    if (!(cond)) [[unlikely]]                                             \
      ::weft::Platform::assertion_failed(#cond, __FILE__, __LINE__);      \
  } while (0)
