// A lock-free single-producer single-consumer ring buffer written against weft's
// facade: std::atomic in a production build, the simulator's atomics in a test build.
//
// Protocol:
//  1. push: the producer reads head (acquire, pairs with pop's release store of
//     head: the slot it reuses has been read); full if tail - head == N.
//  2. push: write the slot, then publish it by storing tail + 1 (release, pairs
//     with pop's acquire load of tail).
//  3. pop: the consumer reads tail (acquire); empty if head == tail.
//  4. pop: read the slot, then free it by storing head + 1 (release).
// Ring follows the protocol; BuggyRing, its twin, tests fullness with > instead of
// == (step 1 off by one), so a producer that runs ahead overwrites the oldest
// unread slot. (A twin that publishes tail before writing the slot is a data race
// on the plain slot with no scheduling point inside it: the simulator's
// interleaving model does not see it; see weft/sim/simulator.hpp, "Model".)
#pragma once

#include <array>
#include <cstddef>
#include <optional>

#include "weft/facade.hpp"

namespace ring {

template <class T, std::size_t N, bool kOffByOne>
class BasicRing {
 public:
  // try_push stores v (producer only); false if the ring is full.
  bool try_push(T v) {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);  // only the producer writes tail
    const std::size_t used = tail - head_.load(std::memory_order_acquire);  // Step 1
    const bool full = kOffByOne ? used > N : used == N;                     // kOffByOne: the planted bug
    if (full) return false;
    slots_[tail % N] = v;                              // Step 2
    tail_.store(tail + 1, std::memory_order_release);  // pairs with pop's acquire load of tail
    return true;
  }
  // try_pop takes the oldest value (consumer only); nullopt if the ring is empty.
  std::optional<T> try_pop() {
    const std::size_t head = head_.load(std::memory_order_relaxed);  // only the consumer writes head
    if (head == tail_.load(std::memory_order_acquire)) return std::nullopt;  // Step 3
    T v = slots_[head % N];                            // Step 4
    head_.store(head + 1, std::memory_order_release);  // pairs with push's acquire load of head
    return v;
  }

 private:
  weft::sync::atomic<std::size_t> head_{0};
  weft::sync::atomic<std::size_t> tail_{0};
  std::array<T, N> slots_{};
};

template <class T, std::size_t N>
using Ring = BasicRing<T, N, false>;
template <class T, std::size_t N>
using BuggyRing = BasicRing<T, N, true>;

// transfer sends 1..count from a producer thread to the calling thread through a
// ring, spinning politely (yield) when it is full or empty; returns whether every
// value arrived in order. Each spin is bounded.
template <class R>
bool transfer(int count) {
  R r;
  weft::thread producer([&r, count] {
    for (int i = 1; i <= count; ++i) {
      for (int spins = 0; !r.try_push(i) && spins < 100000; ++spins) weft::this_thread::yield();
    }
  });
  bool in_order = true;
  for (int expect = 1; expect <= count; ++expect) {
    std::optional<int> v = r.try_pop();
    for (int spins = 0; !v && spins < 100000; ++spins) {
      weft::this_thread::yield();
      v = r.try_pop();
    }
    if (!v || *v != expect) in_order = false;
  }
  producer.join();
  return in_order;
}

}  // namespace ring
