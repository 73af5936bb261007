// README "Testing your own code", step 4, verbatim: async code on the simulated runtime.
#include "weft/gtest.hpp"
#include "weft/runtime.hpp"
#include "weft/sync.hpp"

WEFT_SIM_TEST(Service, AnswersEveryRequest) {
  weft::Runtime rt = weft::Builder::multi_thread().worker_threads(2).build();
  int sum = rt.block_on([]() -> weft::Task<int> {
    auto [tx, rx] = weft::mpsc::channel<int>(1);
    auto producer = weft::spawn([](weft::mpsc::Sender<int> tx) -> weft::Task<void> {
      for (int i = 1; i <= 3; ++i) co_await tx.send(i);
    }(std::move(tx)));
    int s = 0;
    while (auto v = co_await rx.recv()) s += *v;
    co_await std::move(producer);
    co_return s;
  }());
  WEFT_CHECK(sum == 6);
}
