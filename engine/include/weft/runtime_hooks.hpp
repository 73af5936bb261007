// What the simulator's probes, the harness and the benchmarks reach inside a
// runtime: its core (queues, idle state, has_pending_work, has_stalled_work).
// Not for applications: nothing here is a stable interface, and most of it is
// unsynchronised, read only while every simulated thread is stopped.
#pragma once

#include "weft/runtime.hpp"

namespace weft {
namespace detail {
// HandleAccess is the one friend of Handle that reaches its core.
struct HandleAccess {
  static RuntimeCore* core(const Handle& h) noexcept { return h.core(); }
};
}  // namespace detail

namespace hooks {
// runtime_core is the core behind a handle (null for an empty handle).
inline detail::RuntimeCore* runtime_core(const Handle& h) noexcept { return detail::HandleAccess::core(h); }
}  // namespace hooks
}  // namespace weft
