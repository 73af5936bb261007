// A bounded blocking queue (one mutex, two condition variables) written against
// weft's facade: std's types in production, simulated in a test build.
//
// BuggyQueue has the planted bug: push notifies a consumer only when the queue was
// empty before it. With two consumers waiting and two pushes in a row, the second
// push wakes nobody and one consumer sleeps forever: a lost wake-up that needs at
// least two consumers, two items and room for two, which the property's input
// shrinking finds.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

#include "weft/facade.hpp"

namespace bq {

template <class T, bool kPlantedBug>
class BasicQueue {
 public:
  explicit BasicQueue(std::size_t capacity) : capacity_(capacity) {}

  void push(T v) {
    std::unique_lock<weft::sync::mutex> lk(m_);
    not_full_.wait(lk, [&] { return items_.size() < capacity_; });
    const bool was_empty = items_.empty();
    items_.push_back(std::move(v));
    if (!kPlantedBug || was_empty) not_empty_.notify_one();
  }

  T pop() {
    std::unique_lock<weft::sync::mutex> lk(m_);
    not_empty_.wait(lk, [&] { return !items_.empty(); });
    T v = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return v;
  }

 private:
  const std::size_t capacity_;
  weft::sync::mutex m_;
  weft::sync::condition_variable not_empty_;
  weft::sync::condition_variable not_full_;
  std::deque<T> items_;  // guarded by m_
};

template <class T>
using Queue = BasicQueue<T, false>;
template <class T>
using BuggyQueue = BasicQueue<T, true>;

// deliver runs one producer pushing consumers * per_consumer items through a queue
// of `capacity` and `consumers` consumer threads popping per_consumer each; true if
// every item arrived exactly once.
template <class Q>
bool deliver(std::size_t capacity, int consumers, int per_consumer) {
  Q q(capacity);
  const int total = consumers * per_consumer;
  std::vector<long> sums(static_cast<std::size_t>(consumers), 0);
  std::vector<weft::thread> threads;
  for (int c = 0; c < consumers; ++c) {
    threads.emplace_back([&q, &sums, c, per_consumer] {
      for (int i = 0; i < per_consumer; ++i) sums[static_cast<std::size_t>(c)] += q.pop();
    });
  }
  for (int i = 1; i <= total; ++i) q.push(i);
  for (auto& t : threads) t.join();
  long sum = 0;
  for (long s : sums) sum += s;
  return sum == static_cast<long>(total) * (total + 1) / 2;
}

}  // namespace bq
