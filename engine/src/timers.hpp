// The timer heap: the pending timers of a runtime, earliest first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "weft/assert.hpp"
#include "weft/time.hpp"

WEFT_NS_BEGIN
namespace detail {

// TimerHeap is a binary min-heap of timer entries ordered by (deadline, seq).
class TimerHeap {
 public:
  // push adds e; returns true if e is now the earliest deadline.
  bool push(TimerEntry* e) {
    e->seq = next_seq_++;
    e->heap_index = heap_.size();
    heap_.push_back(e);
    sift_up(e->heap_index);
    e->registered.set(true);
    Platform::note_hold(Held::timer, 0);  // given back by remove: the leak check counts both
    return heap_.front() == e;
  }
  void remove(TimerEntry* e) {
    WEFT_ASSERT(e->registered.get() && heap_[e->heap_index] == e);
    std::size_t i = e->heap_index;
    std::size_t last = heap_.size() - 1;
    if (i != last) {
      swap_at(i, last);
      heap_.pop_back();
      sift_down(i);
      sift_up(i);
    } else {
      heap_.pop_back();
    }
    e->registered.set(false);
    Platform::note_release(Held::timer, 0);
  }
  // replace puts `with` in e's place, keeping e's order and its hold (the zoo's
  // timer_cancel_keeps_entry only).
  void replace(TimerEntry* e, TimerEntry* with) {
    WEFT_ASSERT(e->registered.get() && heap_[e->heap_index] == e);
    with->seq = e->seq;
    with->heap_index = e->heap_index;
    heap_[e->heap_index] = with;
    with->registered.set(true);
    e->registered.set(false);
  }
  TimerEntry* top() const { return heap_.empty() ? nullptr : heap_.front(); }
  std::uint64_t next_deadline() const { return heap_.empty() ? UINT64_MAX : heap_.front()->deadline_ns.get(); }
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }

 private:
  static bool less(const TimerEntry* a, const TimerEntry* b) {
    const std::uint64_t da = a->deadline_ns.get();
    const std::uint64_t db = b->deadline_ns.get();
    return da != db ? da < db : a->seq < b->seq;
  }
  void swap_at(std::size_t i, std::size_t j) {
    std::swap(heap_[i], heap_[j]);
    heap_[i]->heap_index = i;
    heap_[j]->heap_index = j;
  }
  void sift_up(std::size_t i) {
    while (i > 0) {
      std::size_t p = (i - 1) / 2;
      if (!less(heap_[i], heap_[p])) break;
      swap_at(i, p);
      i = p;
    }
  }
  void sift_down(std::size_t i) {
    for (;;) {
      std::size_t l = 2 * i + 1, r = l + 1, m = i;
      if (l < heap_.size() && less(heap_[l], heap_[m])) m = l;
      if (r < heap_.size() && less(heap_[r], heap_[m])) m = r;
      if (m == i) break;
      swap_at(i, m);
      i = m;
    }
  }
  std::vector<TimerEntry*> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace detail
WEFT_NS_END
