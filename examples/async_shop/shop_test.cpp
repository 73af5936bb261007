// The shop's tests: the service runs on a weft runtime exactly as in production,
// here on the simulated runtime, and every seed explores another interleaving of
// its tasks and workers.
#include "shop.hpp"

#include "weft/gtest.hpp"

namespace {

// sells_at_most_its_stock: 3 orders for 2 items on a runtime of `workers` threads
// sell exactly 2 and leave none.
template <class S>
void sells_at_most_its_stock(weft::Builder builder) {
  weft::Runtime rt = builder.build();  // built inside the body: each run starts afresh
  S s(2);
  const int sold = rt.block_on(shop::serve(s, 3));
  WEFT_CHECK(sold == 2);
  WEFT_CHECK(s.stock() == 0);
}

WEFT_SIM_TEST(Shop, NeverSellsMoreThanItHasOnTwoWorkers) {
  sells_at_most_its_stock<shop::Shop>(weft::Builder::multi_thread().worker_threads(2));
}

WEFT_SIM_TEST(Shop, NeverSellsMoreThanItHasOnTheCurrentThread) {
  sells_at_most_its_stock<shop::Shop>(weft::Builder::current_thread());
}

WEFT_SIM_TEST(BuggyShop, NeverSellsMoreThanItHasOnTwoWorkers) {
  sells_at_most_its_stock<shop::BuggyShop>(weft::Builder::multi_thread().worker_threads(2));
}

}  // namespace
