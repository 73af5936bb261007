// The ring's tests on the simulator: every seed another interleaving of producer
// and consumer. A ring of 2 slots wraps several times in 5 values.
#include "ring.hpp"

#include "weft/gtest.hpp"

namespace {

WEFT_SIM_TEST(Ring, DeliversEveryValueInOrder) { WEFT_CHECK((ring::transfer<ring::Ring<int, 2>>(5))); }

WEFT_SIM_TEST(BuggyRing, DeliversEveryValueInOrder) { WEFT_CHECK((ring::transfer<ring::BuggyRing<int, 2>>(5))); }

}  // namespace
