// Memory-order mutation (weft/sim/order_sites.hpp): the lattice a weakening
// follows, the text form simrun reads, the census of sites and the weakened run
// that tools/order_mutants builds on.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim_test_util.hpp"

namespace weft::sim::testing {
namespace {

const Order kOrders[] = {Order::relaxed, Order::acquire, Order::release, Order::acq_rel, Order::seq_cst};
const OrderKind kKinds[] = {OrderKind::load, OrderKind::store, OrderKind::rmw, OrderKind::fence};

// at_least says whether `a` orders everything `b` does (the C++ lattice, by hand).
bool at_least(Order a, Order b) {
  if (a == b || b == Order::relaxed || a == Order::seq_cst) return true;
  if (a == Order::acq_rel) return b != Order::seq_cst;
  return false;
}

TEST(OrderMutation, AWeakenedOrderIsNeverStrongerThanEitherAndIsOneTheOperationMayTake) {
  for (Order o : kOrders) {
    for (Order w : kOrders) {
      for (OrderKind k : kKinds) {
        if (!order_valid(o, k)) continue;
        const Order got = weakened(o, w, k);
        EXPECT_TRUE(at_least(o, got) && at_least(w, got)) << order_name(o) << " at most " << order_name(w);
        EXPECT_TRUE(order_valid(got, k)) << order_name(got);
        // The strongest such order: nothing valid below both is stronger.
        for (Order other : kOrders) {
          if (order_valid(other, k) && at_least(o, other) && at_least(w, other)) {
            EXPECT_TRUE(at_least(got, other)) << order_name(o) << " at most " << order_name(w) << " gave "
                                              << order_name(got) << ", not " << order_name(other);
          }
        }
      }
    }
  }
}

TEST(OrderMutation, OneStepWeakerListsTheValidOrdersJustBelowAndNothingBetween) {
  for (Order o : kOrders) {
    for (OrderKind k : kKinds) {
      if (!order_valid(o, k)) continue;
      const std::vector<Order> below = one_step_weaker(o, k);
      EXPECT_EQ(below.empty(), o == Order::relaxed) << order_name(o);
      for (Order b : below) {
        EXPECT_TRUE(order_valid(b, k) && at_least(o, b) && b != o) << order_name(o) << " -> " << order_name(b);
        for (Order mid : kOrders) {
          const bool between = mid != o && mid != b && at_least(o, mid) && at_least(mid, b) && order_valid(mid, k);
          EXPECT_FALSE(between) << order_name(o) << " -> " << order_name(b) << " skips " << order_name(mid);
        }
      }
    }
  }
}

TEST(OrderMutation, TheWeakeningTextRoundTripsAndABadOneSaysWhatWasExpected) {
  std::string why;
  const auto w = parse_order_weakening("engine/src/queues.hpp:178/failure=acquire", why);
  ASSERT_TRUE(w) << why;
  EXPECT_EQ(w->file, "engine/src/queues.hpp");
  EXPECT_EQ(w->line, 178u);
  EXPECT_TRUE(w->failure);
  EXPECT_EQ(w->at_most, Order::acquire);
  EXPECT_EQ(order_weakening_text(*w), "engine/src/queues.hpp:178/failure=acquire");
  for (const char* bad : {"", "x.cpp:12", "x.cpp:12=seq_cst", "x.cpp:12=weak", "x.cpp=relaxed", ":12=relaxed",
                          "x.cpp:0=relaxed", "x.cpp:-1=relaxed", "x.cpp:99999999999=relaxed", "x.cpp:1 2=relaxed"}) {
    why.clear();
    EXPECT_FALSE(parse_order_weakening(bad, why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

// message_pass: a writer fills a plain cell and publishes it with a release
// store at kPublishLine; a reader that sees the flag reads the cell. Returns the
// run with `options`.
constexpr std::uint32_t kPublishLine = __LINE__ + 10;
RunResult message_pass(Options options) {
  return run_with(options, [] {
    P::Cell<std::uint64_t> data;
    P::Atomic<std::uint32_t> ready{0};
    P::Thread reader("reader", [&] {
      if (ready.load(Order::acquire) == 1) (void)data.get();
    });
    P::Thread writer("writer", [&] {
      data.set(42);
      ready.store(1, Order::release);
    });
    writer.join();
    reader.join();
  });
}

OrderWeakening publish_to(Order o) {
  OrderWeakening w;
  w.file = "tests/sim/order_mutation_test.cpp";
  w.line = kPublishLine;
  w.at_most = o;
  return w;
}

TEST(OrderMutation, TheCensusNamesEachSiteWithItsOrderAndChangesNoDecision) {
  Options with = options_for(3);
  with.census_orders = true;
  const RunResult a = message_pass(options_for(3));
  const RunResult b = message_pass(with);
  ASSERT_EQ(a.outcome, Outcome::pass) << a.summary();
  EXPECT_EQ(a.schedule.decisions, b.schedule.decisions);
  EXPECT_TRUE(a.order_sites.empty());
  bool publish = false;
  for (const OrderSite& s : b.order_sites) {
    EXPECT_EQ(s.file, "tests/sim/order_mutation_test.cpp");
    if (s.line == kPublishLine) {
      publish = true;
      EXPECT_EQ(s.op, Op::store);
      EXPECT_EQ(s.order, Order::release);
      EXPECT_EQ(s.count, 1u);
    }
  }
  EXPECT_TRUE(publish) << b.order_sites.size() << " sites";
  EXPECT_EQ(b.order_sites.size(), 2u);  // the store and the reader's load
  EXPECT_EQ(b.orders_weakened, 0u);
}

TEST(OrderMutation, AReleaseWeakenedToRelaxedIsARaceTheWrittenOrderDoesNotHave) {
  std::uint64_t races = 0, weakened = 0, seeds = 400, first = 0;
  for (std::uint64_t seed = 0; seed < seeds; ++seed) {
    const RunResult written = message_pass(options_for(seed));
    ASSERT_EQ(written.outcome, Outcome::pass) << written.summary();
    Options o = options_for(seed);
    o.weaken_order = publish_to(Order::relaxed);
    const RunResult mutant = message_pass(o);
    weakened += mutant.orders_weakened;
    if (mutant.outcome == Outcome::data_race && races++ == 0) first = seed;
  }
  EXPECT_EQ(weakened, seeds);  // one store per run
  EXPECT_GT(races, 0u) << "the weakened publish never raced in " << seeds << " seeds";
  std::printf("the weakened publish raced in %llu of %llu seeds, first at seed %llu\n",
              static_cast<unsigned long long>(races), static_cast<unsigned long long>(seeds),
              static_cast<unsigned long long>(first));
}

TEST(OrderMutation, AWeakeningElsewhereOrNoWeakerChangesNothing) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    const RunResult written = message_pass(options_for(seed));
    for (OrderWeakening w : {publish_to(Order::release), publish_to(Order::acq_rel)}) {
      Options o = options_for(seed);
      o.weaken_order = w;
      const RunResult same = message_pass(o);
      EXPECT_EQ(same.orders_weakened, 0u);
      EXPECT_EQ(same.schedule.decisions, written.schedule.decisions) << order_weakening_text(w);
    }
    OrderWeakening other = publish_to(Order::relaxed);
    other.line += 1;
    Options o = options_for(seed);
    o.weaken_order = other;
    const RunResult same = message_pass(o);
    EXPECT_EQ(same.orders_weakened, 0u);
    EXPECT_EQ(same.outcome, Outcome::pass);
    other = publish_to(Order::relaxed);
    other.failure = true;  // a store has no failure order
    o.weaken_order = other;
    EXPECT_EQ(message_pass(o).orders_weakened, 0u);
  }
}

}  // namespace
}  // namespace weft::sim::testing
