// Source paths in messages: the simulator names a file from the repository root
// (engine/include/weft/task.hpp), whichever way the compiler was given it.
#pragma once

#include <string_view>

namespace weft::sim::detail {

// repository_relative drops the repository root from a compiled path (a
// source_location or __FILE__), so a message names engine/... in every checkout.
// A path can carry the root in two forms in one build: absolute (a unity build
// includes its sources by absolute path) or relative to the build directory (ccache
// with CCACHE_BASEDIR rewrites include paths so); both are set by CMake
// (sim/CMakeLists.txt). A path under neither root comes back unchanged.
std::string_view repository_relative(std::string_view path) noexcept;

// SourceRoots are the two roots repository_relative drops, each ending in '/'.
struct SourceRoots {
  std::string_view absolute;
  std::string_view from_build;  // relative to the build directory
};
// source_roots returns the roots compiled in.
SourceRoots source_roots() noexcept;

}  // namespace weft::sim::detail
