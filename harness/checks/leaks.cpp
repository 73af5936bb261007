// The exact leak check (see leaks.hpp): reads the simulator's per-run counts of
// what the engine holds (SimPlatform::note_hold / note_release).
#include "checks/leaks.hpp"

#include <algorithm>
#include <string>

#include "weft/platform/platform.hpp"
#include "weft/sim/detail/heap.hpp"
#include "weft/sim/detail/kernel.hpp"

namespace weft::sim {

void check_nothing_held(const Scenario& sc, const std::shared_ptr<weft::detail::RuntimeCore>& harness_core) {
  if (std::find(sc.checks.begin(), sc.checks.end(), "no_leak") == sc.checks.end()) return;
  detail::Kernel* k = detail::tls_kernel;
  if (k == nullptr) return;
  static constexpr const char* kWhat[] = {"engine allocations", "waiters linked in a wait list",
                                          "timer entries registered"};
  static_assert(std::size(kWhat) == detail::Kernel::kHeldKinds);
  std::string broken;
  if (harness_core && harness_core.use_count() != 1) {
    broken = "the runtime core has " + std::to_string(harness_core.use_count() - 1) +
             " references besides the harness's own";
  }
  for (std::size_t i = 0; i < detail::Kernel::kHeldKinds; ++i) {
    detail::Kernel::Held h = k->held(i);
    if (i == static_cast<std::size_t>(weft::Held::allocation) && harness_core) {
      h.count -= 1;  // the core the harness still holds (it was counted when built)
      h.bytes -= static_cast<std::int64_t>(sizeof(weft::detail::RuntimeCore));
    }
    if (h.count == 0 && h.bytes == 0) continue;
    if (!broken.empty()) broken += "; ";
    broken += std::to_string(h.count) + " " + kWhat[i];
    if (i == static_cast<std::size_t>(weft::Held::allocation)) broken += " (" + std::to_string(h.bytes) + " bytes)";
  }
  if (broken.empty()) return;
  static thread_local std::string msg;
  msg = "invariant no_leak: still held at the end of the run, after the runtime and the programs were destroyed: " +
        broken;
  weft::Platform::assertion_failed(msg.c_str(), "scenario", 0);
}

std::string heap_left_allocated(std::uint32_t run) {
  const detail::HeapLive live = detail::heap_live(run, 3);
  if (live.count == 0) return {};
  std::string blocks;
  for (const detail::LiveBlock& b : live.newest) {
    blocks += (blocks.empty() ? "" : "; ") + std::to_string(b.bytes) + " bytes allocated from " +
              detail::describe_caller(b.caller);
  }
  return "fiber 0 (main): assertion failed: invariant no_leak: still allocated after the run, once the runtime "
         "and the programs were destroyed: " +
         std::to_string(live.count) + " heap blocks (" + std::to_string(live.bytes) +
         " bytes) that simulated threads allocated; the newest: " + blocks + " at scenario:0";
}

}  // namespace weft::sim
