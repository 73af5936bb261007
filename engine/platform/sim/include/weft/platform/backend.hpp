// The seam's backend for weft_engine_sim and weft_engine_sim_zoo: the simulator
// (sim/include/weft/platform/sim.hpp, implemented by weft_sim_core).
//
// Each engine build has its own backend folder holding a header of this name;
// only that build's include path reaches it (engine/CMakeLists.txt), so the build,
// not the engine, chooses the backend. platform.hpp includes it.
#pragma once

#include "weft/platform/sim.hpp"

// The engine built on this backend lives in weft::sim_engine.
#define WEFT_BACKEND_NAMESPACE sim_engine
// WEFT_BACKEND_SIM keeps assertions on in every simulator build (weft/assert.hpp).
#define WEFT_BACKEND_SIM 1

namespace weft {
inline namespace WEFT_BACKEND_NAMESPACE {
using Platform = ::weft::sim_backend::SimPlatform;
}
}  // namespace weft
