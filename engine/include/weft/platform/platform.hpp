// The platform seam as the engine sees it: the backend's types under short names.
//
// The engine's sources are compiled once per backend. The backend is whichever
// "weft/platform/backend.hpp" the build's include path reaches (the OS backend for
// weft_engine, the simulator for weft_engine_sim*; see engine/CMakeLists.txt); it
// names the build's inline namespace (weft::os_engine or weft::sim_engine), so
// both builds can be linked into one binary without clashing, and its Platform.
#pragma once

#include "weft/platform/backend.hpp"
#include "weft/platform/concept.hpp"

#if !defined(WEFT_BACKEND_NAMESPACE)
#error "weft/platform/backend.hpp must define WEFT_BACKEND_NAMESPACE"
#endif

#define WEFT_NS_BEGIN \
  namespace weft {    \
  inline namespace WEFT_BACKEND_NAMESPACE {
#define WEFT_NS_END \
  }                 \
  }

WEFT_NS_BEGIN
using Order = ::weft::platform_contract::Order;
using Held = ::weft::platform_contract::Held;
template <class T>
using Atomic = Platform::Atomic<T>;
template <class T>
using Cell = Platform::Cell<T>;
using Mutex = Platform::Mutex;
using Parker = Platform::Parker;
using Thread = Platform::Thread;
using Counter = Platform::Counter;
using RelaxedFlag = Platform::RelaxedFlag;
template <class T>
using CacheAtomic = Platform::template CacheAtomic<T>;
static_assert(::weft::platform_contract::Platform<Platform>);
WEFT_NS_END
