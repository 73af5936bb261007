// The exact half of no_leak: after the runtime, the programs and every handle are
// destroyed, the engine holds nothing it took during the run (scenarios/README.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "weft/harness/scenario.hpp"
#include "weft/runtime.hpp"

namespace weft::sim {

// check_nothing_held fails the run (as an assertion, "invariant no_leak: ...")
// if the engine still holds, at the end of the run, any of what the seam counts
// (weft::Held): an allocation (a task cell or coroutine frame whose reference
// count never reached zero, a channel or oneshot with a live reference, a runtime
// core), a waiter linked into a wait list, a timer entry registered in a heap.
// Called on the run's main fiber once the runtime and the program state are gone;
// `harness_core` is the harness's own reference to the runtime core (the idle
// probe's, released after the run so that the core's destructor makes no
// decisions): it must be the only one left, and its one allocation is expected.
void check_nothing_held(const Scenario& sc, const std::shared_ptr<weft::detail::RuntimeCore>& harness_core);

// heap_left_allocated is the heap half (weft/sim/detail/heap.hpp, Step H6), read
// after the run once the harness let go of the runtime core: "" when no block
// that run `run`'s simulated threads allocated is still allocated, else the
// failure's message, worded as the main fiber's assertion (its outcome).
std::string heap_left_allocated(std::uint32_t run);

}  // namespace weft::sim
