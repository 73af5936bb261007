// The queue's property: RapidCheck generates the shape (capacity, consumers, items
// per consumer) and weft explores the schedules of each shape. A failure is shrunk
// twice: RapidCheck shrinks the shape, weft the schedule of the failure it reports.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "queue.hpp"
#include "weft/rapidcheck.hpp"

namespace {

template <class Q>
void check_delivery() {
  const auto capacity = *rc::gen::inRange<std::size_t>(1, 5);
  const int consumers = *rc::gen::inRange(1, 4);
  const int per_consumer = *rc::gen::inRange(1, 4);
  weft::testing::Options o = weft::testing::property_options();
  o.name = "bounded-queue";
  weft::testing::rc_explore(o, [=] { WEFT_CHECK((bq::deliver<Q>(capacity, consumers, per_consumer))); });
}

RC_GTEST_PROP(Queue, DeliversEveryItemForEveryShape, ()) { check_delivery<bq::Queue<int>>(); }

RC_GTEST_PROP(BuggyQueue, DeliversEveryItemForEveryShape, ()) { check_delivery<bq::BuggyQueue<int>>(); }

}  // namespace
