// The seam's backend for weft_engine: the OS backend (os.hpp beside this file).
//
// Each engine build has its own backend folder holding a header of this name;
// only that build's include path reaches it (engine/CMakeLists.txt), so the build,
// not the engine, chooses the backend. platform.hpp includes it.
#pragma once

#include "weft/platform/os.hpp"

// The engine built on this backend lives in weft::os_engine.
#define WEFT_BACKEND_NAMESPACE os_engine

namespace weft {
inline namespace WEFT_BACKEND_NAMESPACE {
using Platform = ::weft::os_backend::OsPlatform;
}
}  // namespace weft
