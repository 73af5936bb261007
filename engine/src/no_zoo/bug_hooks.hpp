// The bug hooks of a normal build: no planted bug. WEFT_BUG(name) is the constant
// false, so every bug site compiles away. The planted bugs themselves are in
// engine/src/zoo/bug_hooks.hpp, on the include path of the zoo targets only.
#pragma once

#include "weft/platform/platform.hpp"

#define WEFT_BUG(name) false

WEFT_NS_BEGIN
namespace detail::zoo {

// claim_with_8bit_indices is never called here (WEFT_BUG is false); it exists so
// that its dead bug site compiles.
template <class Queue, class... Args>
constexpr bool claim_with_8bit_indices(Args&&...) noexcept {
  return false;
}
// publish_then_write: as claim_with_8bit_indices.
template <class... Args>
constexpr void publish_then_write(Args&&...) noexcept {}
// should_wakeup_by_load: as claim_with_8bit_indices.
template <class... Args>
constexpr bool should_wakeup_by_load(Args&&...) noexcept {
  return false;
}
// count_then_cap: as claim_with_8bit_indices.
template <class... Args>
constexpr bool count_then_cap(Args&&...) noexcept {
  return false;
}
// driver_sleeps_again: as claim_with_8bit_indices.
template <class... Args>
constexpr bool driver_sleeps_again(Args&&...) noexcept {
  return false;
}

// left_in_heap: as claim_with_8bit_indices.
template <class Entry>
constexpr Entry* left_in_heap(const Entry&) noexcept {
  return nullptr;
}

}  // namespace detail::zoo
WEFT_NS_END
