// The same ring on real threads: linked with weft::runtime, the facade is std's
// atomics and threads, so this is the production build of ring.hpp.
#include <cstdio>

#include "ring.hpp"

static_assert(WEFT_FACADE_SIMULATED == 0, "ring_demo must be the production build");

int main() {
  const bool ok = ring::transfer<ring::Ring<int, 64>>(100000);
  std::printf("ring_demo: 100000 values %s\n", ok ? "arrived in order" : "ARRIVED OUT OF ORDER");
  return ok ? 0 : 1;
}
