// Memory-order mutation: which seam atomic operations a run reached, with the
// order each was written with (the census), and a run in which the operations at
// one source line use a weaker order (the weakening). tools/order_mutants weakens
// every order the census finds one step at a time and runs the scenarios against
// each weakening: an order that no run can tell from a weaker one is either more
// than the engine needs or a protocol the scenarios do not reach
// (reports/order-mutants.md).
//
// The lattice of orders is that of the C++ model: relaxed < acquire, release <
// acq_rel < seq_cst, with acquire and release incomparable. An order is kept as
// bits here (acquire 1, release 2, seq_cst 4 on top of both), so the meet of two
// orders is the AND of their bits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weft/platform/concept.hpp"
#include "weft/sim/schedule.hpp"

namespace weft::sim {

using platform_contract::Order;

// OrderKind is what an operation may be ordered as: a load (also a failed
// compare-exchange) acquires, a store releases, a read-modify-write does both,
// a fence either.
enum class OrderKind : std::uint8_t { load, store, rmw, fence };

// order_kind is the kind of the order argument of `op` (failure: a
// compare-exchange's failure order).
constexpr OrderKind order_kind(Op op, bool failure) noexcept {
  if (op == Op::load || (op == Op::cas && failure)) return OrderKind::load;
  if (op == Op::store) return OrderKind::store;
  if (op == Op::fence) return OrderKind::fence;
  return OrderKind::rmw;
}

namespace order_bits {
constexpr std::uint8_t of(Order o) noexcept {
  switch (o) {
    case Order::relaxed: return 0;
    case Order::acquire: return 1;
    case Order::release: return 2;
    case Order::acq_rel: return 3;
    case Order::seq_cst: return 7;
  }
  return 7;
}
constexpr Order to(std::uint8_t b) noexcept {
  switch (b) {
    case 0: return Order::relaxed;
    case 1: return Order::acquire;
    case 2: return Order::release;
    case 3: return Order::acq_rel;
    default: return Order::seq_cst;
  }
}
}  // namespace order_bits

// order_valid says whether `o` is an order an operation of `kind` may take in C++
// (a load neither release nor acq_rel, a store neither acquire nor acq_rel).
constexpr bool order_valid(Order o, OrderKind kind) noexcept {
  if (kind == OrderKind::load) return o != Order::release && o != Order::acq_rel;
  if (kind == OrderKind::store) return o != Order::acquire && o != Order::acq_rel;
  return true;
}

// weakened is what an operation of `kind` written with `o` runs with under a
// weakening to `at_most`: the meet of the two, then the strongest order below it
// that the operation may take (a load keeps only the acquire half, a store only
// the release half). Never stronger than `o`.
constexpr Order weakened(Order o, Order at_most, OrderKind kind) noexcept {
  std::uint8_t b = order_bits::of(o) & order_bits::of(at_most);
  if (b != 7 && kind == OrderKind::load) b &= 1;
  if (b != 7 && kind == OrderKind::store) b &= 2;
  return order_bits::to(b);
}
static_assert(weakened(Order::seq_cst, Order::acq_rel, OrderKind::load) == Order::acquire);
static_assert(weakened(Order::seq_cst, Order::acq_rel, OrderKind::store) == Order::release);
static_assert(weakened(Order::acq_rel, Order::acquire, OrderKind::rmw) == Order::acquire);
static_assert(weakened(Order::acquire, Order::release, OrderKind::load) == Order::relaxed);
static_assert(weakened(Order::release, Order::seq_cst, OrderKind::store) == Order::release);

// one_step_weaker lists the orders just below `o` for an operation of `kind`:
// the mutants of one site (seq_cst: acquire for a load, release for a store,
// acq_rel for a read-modify-write or fence; acq_rel: acquire and release; acquire
// or release: relaxed; relaxed: none).
std::vector<Order> one_step_weaker(Order o, OrderKind kind);

// order_name is "relaxed", ..., "seq_cst"; order_from_name parses one.
const char* order_name(Order o) noexcept;
std::optional<Order> order_from_name(std::string_view s) noexcept;

// OrderWeakening makes every seam atomic operation at one source line run with
// weakened(its order, at_most): Options::weaken_order.
struct OrderWeakening {
  std::string file;  // repository-relative, as the census names it (engine/src/queue.hpp)
  std::uint32_t line = 0;
  bool failure = false;  // a compare-exchange's failure order rather than its order
  Order at_most = Order::relaxed;
};

// parse_order_weakening reads "FILE:LINE=ORDER" or "FILE:LINE/failure=ORDER"
// (simrun --weaken-order); on error, nullopt and `why` says what was expected.
std::optional<OrderWeakening> parse_order_weakening(std::string_view text, std::string& why);
// order_weakening_text writes a weakening back in that form.
std::string order_weakening_text(const OrderWeakening& w);

// OrderSite is one order argument of the seam atomic operations at one source
// line, as a run reached them: the operation, which argument, the order written,
// and how many operations ran with it.
struct OrderSite {
  std::string file;
  std::uint32_t line = 0;
  Op op = Op::load;
  bool failure = false;
  Order order = Order::seq_cst;
  std::uint64_t count = 0;
};

// merge_order_sites adds `more` into `into` (same file, line, op, argument and
// order: the counts add), keeping `into` sorted by file, line, argument, op, order.
void merge_order_sites(std::vector<OrderSite>& into, const std::vector<OrderSite>& more);

}  // namespace weft::sim
