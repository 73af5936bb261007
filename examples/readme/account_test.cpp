// README "Testing your own code", the fixture example, verbatim: the state under
// test declared once as a class, built afresh inside every run.
#include <mutex>

#include "weft/gtest.hpp"

struct Account { weft::sync::mutex m; int balance = 100; };
WEFT_SIM_TEST_F(Account, TwoWithdrawalsNeverOverdraw) {
  auto withdraw = [this] { std::lock_guard g(m); if (balance >= 60) balance -= 60; };
  weft::thread t(withdraw);
  withdraw();
  t.join();
  WEFT_CHECK(balance == 40);
}
