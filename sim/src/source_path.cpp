// The repository roots compiled in (sim/CMakeLists.txt sets WEFT_SOURCE_ROOT and
// WEFT_SOURCE_ROOT_FROM_BUILD for this file only) and repository_relative.
#include "weft/sim/detail/source_path.hpp"

#ifndef WEFT_SOURCE_ROOT
#error "sim/CMakeLists.txt defines WEFT_SOURCE_ROOT for source_path.cpp"
#endif
#ifndef WEFT_SOURCE_ROOT_FROM_BUILD
#error "sim/CMakeLists.txt defines WEFT_SOURCE_ROOT_FROM_BUILD for source_path.cpp"
#endif

namespace weft::sim::detail {

SourceRoots source_roots() noexcept { return SourceRoots{WEFT_SOURCE_ROOT, WEFT_SOURCE_ROOT_FROM_BUILD}; }

std::string_view repository_relative(std::string_view path) noexcept {
  const SourceRoots roots = source_roots();
  for (const std::string_view root : {roots.absolute, roots.from_build}) {
    if (!root.empty() && path.starts_with(root)) return path.substr(root.size());
  }
  return path;
}

}  // namespace weft::sim::detail
