// README "Testing your own code", step 3, verbatim: plain concurrent code through
// the facade, with its bug (a load then a store loses an increment).
#include "weft/gtest.hpp"

struct Counter {
  weft::sync::atomic<int> n{0};
  void add() { n.store(n.load(std::memory_order_acquire) + 1, std::memory_order_release); }
};

WEFT_SIM_TEST(Counter, TwoThreadsAddTwo) {
  Counter c;                          // state is built inside the body: every run starts afresh
  weft::thread t([&] { c.add(); });
  c.add();
  t.join();
  WEFT_CHECK(c.n.load() == 2);
}
