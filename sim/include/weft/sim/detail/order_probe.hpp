// OrderProbe: the census of order sites and the weakening of one
// (weft/sim/order_sites.hpp), as every seam atomic operation reports to it.
// A run has one only when it asked for either (Options::weaken_order,
// Options::census_orders); otherwise the operations pass their orders through
// after one null check. The probe never makes a decision: a run without a
// weakening has the same schedule with the census on or off.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <source_location>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "weft/sim/order_sites.hpp"

namespace weft::sim::detail {

class OrderProbe {
 public:
  OrderProbe(std::optional<OrderWeakening> weaken, bool census);

  // at is the order the operation `op` at `site` runs with (failure: its
  // compare-exchange failure order): `o`, or weaker at the weakened site.
  Order at(Order o, const std::source_location& site, Op op, bool failure);

  // weakened counts the operations that ran with a weaker order than written.
  std::uint64_t weakened() const noexcept { return weakened_; }
  // census is what the run reached, sorted (merge_order_sites's order); empty
  // unless asked for.
  std::vector<OrderSite> census() const;

 private:
  // matches says whether a compiled file name is the weakened file (cached per
  // file name pointer: a source_location's file name is a string literal).
  bool matches(const char* file);

  std::optional<OrderWeakening> weaken_;
  bool census_ = false;
  std::uint64_t weakened_ = 0;
  std::unordered_map<const char*, bool> file_matches_;
  // Census keyed by the compiled file name pointer and the rest of OrderSite;
  // census() names the files and sorts.
  std::map<std::tuple<const char*, std::uint32_t, bool, Op, Order>, std::uint64_t> counts_;
};

}  // namespace weft::sim::detail
