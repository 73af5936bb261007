// Selects the backend of the platform seam for this build of the engine.
//
// The engine's sources are compiled once per backend. Each build puts the whole
// engine in its own inline namespace (weft::os_engine or weft::sim_engine), so
// both builds can be linked into one binary without clashing.
#pragma once

#if defined(WEFT_BACKEND_SIM)
#include "weft/platform/sim.hpp"
#define WEFT_NS_BEGIN \
  namespace weft {    \
  inline namespace sim_engine {
#define WEFT_NS_END \
  }                 \
  }
namespace weft {
inline namespace sim_engine {
using Platform = ::weft::sim_backend::SimPlatform;
}
}  // namespace weft
#else
#include "weft/platform/os.hpp"
#define WEFT_NS_BEGIN \
  namespace weft {    \
  inline namespace os_engine {
#define WEFT_NS_END \
  }                 \
  }
namespace weft {
inline namespace os_engine {
using Platform = ::weft::os_backend::OsPlatform;
}
}  // namespace weft
#endif

WEFT_NS_BEGIN
using Order = ::weft::platform_contract::Order;
template <class T>
using Atomic = Platform::Atomic<T>;
using Mutex = Platform::Mutex;
using Parker = Platform::Parker;
using Thread = Platform::Thread;
using Counter = Platform::Counter;
static_assert(::weft::platform_contract::Platform<Platform>);
WEFT_NS_END
