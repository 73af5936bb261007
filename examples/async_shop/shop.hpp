// A small async service on the weft runtime: orders arrive on a channel and each is
// handled by its own task, which reserves one item of stock, pays (an await), and
// confirms. Shop is correct; BuggyShop, its twin, checks the stock before the await
// and takes it after, so two buyers can both see the last item: it oversells.
#pragma once

#include <utility>
#include <vector>

#include "weft/facade.hpp"
#include "weft/runtime.hpp"
#include "weft/sync.hpp"

namespace shop {

// Shop keeps its stock under an AsyncMutex held across the check and the taking.
class Shop {
 public:
  explicit Shop(int stock) : stock_(stock) {}

  // buy sells one item if there is one; true if it did.
  weft::Task<bool> buy() {
    auto guard = co_await mu_.lock();
    if (stock_ == 0) co_return false;
    co_await weft::yield_now();  // the payment: other tasks run meanwhile
    --stock_;
    co_return true;
  }
  // stock reads what is left, once every buyer has finished.
  int stock() const { return stock_; }

 private:
  weft::AsyncMutex mu_;
  int stock_;  // guarded by mu_
};

// BuggyShop checks the stock, awaits the payment, then takes an item: the check
// is stale by then (the planted bug).
class BuggyShop {
 public:
  explicit BuggyShop(int stock) : stock_(stock) {}

  weft::Task<bool> buy() {
    if (stock_.load(std::memory_order_acquire) == 0) co_return false;
    co_await weft::yield_now();  // the payment: other tasks run meanwhile
    stock_.fetch_sub(1, std::memory_order_acq_rel);
    co_return true;
  }
  int stock() const { return stock_.load(std::memory_order_acquire); }

 private:
  weft::sync::atomic<int> stock_;
};

// serve runs the service: a producer task sends `orders` orders over a channel;
// this task receives them and spawns one handler per order; returns the items sold.
template <class S>
weft::Task<int> serve(S& shop, int orders) {
  auto [tx, rx] = weft::mpsc::channel<int>(1);
  auto producer = weft::spawn([](weft::mpsc::Sender<int> tx, int n) -> weft::Task<void> {
    for (int i = 0; i < n; ++i) {
      if (!co_await tx.send(i)) co_return;
    }
  }(std::move(tx), orders));
  std::vector<weft::JoinHandle<bool>> handlers;
  while (auto order = co_await rx.recv()) {
    handlers.push_back(weft::spawn([](S& s) -> weft::Task<bool> { co_return co_await s.buy(); }(shop)));
  }
  int sold = 0;
  for (auto& h : handlers) sold += (co_await std::move(h)) ? 1 : 0;
  co_await std::move(producer);
  co_return sold;
}

}  // namespace shop
