// Memory-order mutation: the order lattice's helpers, the weakening's text form
// and the census (weft/sim/order_sites.hpp, weft/sim/detail/order_probe.hpp).
#include "weft/sim/order_sites.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <tuple>

#include "weft/sim/detail/order_probe.hpp"
#include "weft/sim/detail/source_path.hpp"

namespace weft::sim {

std::vector<Order> one_step_weaker(Order o, OrderKind kind) {
  switch (o) {
    case Order::seq_cst:
      if (kind == OrderKind::load) return {Order::acquire};
      if (kind == OrderKind::store) return {Order::release};
      return {Order::acq_rel};
    case Order::acq_rel:
      return {Order::acquire, Order::release};
    case Order::acquire:
    case Order::release:
      return {Order::relaxed};
    case Order::relaxed:
      return {};
  }
  return {};
}

const char* order_name(Order o) noexcept {
  switch (o) {
    case Order::relaxed: return "relaxed";
    case Order::acquire: return "acquire";
    case Order::release: return "release";
    case Order::acq_rel: return "acq_rel";
    case Order::seq_cst: return "seq_cst";
  }
  return "?";
}

std::optional<Order> order_from_name(std::string_view s) noexcept {
  for (Order o : {Order::relaxed, Order::acquire, Order::release, Order::acq_rel, Order::seq_cst}) {
    if (s == order_name(o)) return o;
  }
  return std::nullopt;
}

std::optional<OrderWeakening> parse_order_weakening(std::string_view text, std::string& why) {
  const auto fail = [&](const char* what) {
    why = what;
    return std::optional<OrderWeakening>{};
  };
  const std::size_t eq = text.rfind('=');
  if (eq == std::string_view::npos) return fail("expected FILE:LINE=ORDER or FILE:LINE/failure=ORDER");
  OrderWeakening w;
  const std::optional<Order> o = order_from_name(text.substr(eq + 1));
  if (!o || *o == Order::seq_cst) return fail("ORDER must be relaxed, acquire, release or acq_rel");
  w.at_most = *o;
  std::string_view site = text.substr(0, eq);
  constexpr std::string_view kFailure = "/failure";
  if (site.size() > kFailure.size() && site.substr(site.size() - kFailure.size()) == kFailure) {
    w.failure = true;
    site.remove_suffix(kFailure.size());
  }
  const std::size_t colon = site.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return fail("expected FILE:LINE before '='");
  const std::string_view line = site.substr(colon + 1);
  const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), w.line);
  if (line.empty() || ec != std::errc{} || end != line.data() + line.size() || w.line == 0) {
    return fail("LINE must be a line number from 1 to 4294967295");
  }
  w.file = std::string(site.substr(0, colon));
  return w;
}

std::string order_weakening_text(const OrderWeakening& w) {
  return w.file + ":" + std::to_string(w.line) + (w.failure ? "/failure" : "") + "=" + order_name(w.at_most);
}

namespace {
auto site_key(const OrderSite& s) { return std::tie(s.file, s.line, s.failure, s.op, s.order); }
}  // namespace

void merge_order_sites(std::vector<OrderSite>& into, const std::vector<OrderSite>& more) {
  for (const OrderSite& m : more) {
    const auto at = std::lower_bound(into.begin(), into.end(), m,
                                     [](const OrderSite& a, const OrderSite& b) { return site_key(a) < site_key(b); });
    if (at != into.end() && site_key(*at) == site_key(m)) {
      at->count += m.count;
    } else {
      into.insert(at, m);
    }
  }
}

namespace detail {
namespace {
// site_file names a compiled file from the repository root, with no "dir/../"
// left in it (an include by relative path keeps one in the source_location).
std::string site_file(const char* compiled) {
  return std::filesystem::path(repository_relative(compiled)).lexically_normal().generic_string();
}
}  // namespace

OrderProbe::OrderProbe(std::optional<OrderWeakening> weaken, bool census)
    : weaken_(std::move(weaken)), census_(census) {}

bool OrderProbe::matches(const char* file) {
  const auto [it, fresh] = file_matches_.try_emplace(file, false);
  if (fresh) it->second = site_file(file) == weaken_->file;
  return it->second;
}

Order OrderProbe::at(Order o, const std::source_location& site, Op op, bool failure) {
  if (census_) ++counts_[{site.file_name(), site.line(), failure, op, o}];
  if (!weaken_ || site.line() != weaken_->line || failure != weaken_->failure || !matches(site.file_name())) return o;
  const Order w = sim::weakened(o, weaken_->at_most, order_kind(op, failure));
  if (w != o) ++weakened_;
  return w;
}

std::vector<OrderSite> OrderProbe::census() const {
  std::vector<OrderSite> out;
  for (const auto& [key, count] : counts_) {
    const auto& [file, line, failure, op, order] = key;
    merge_order_sites(out, {OrderSite{site_file(file), line, op, failure, order, count}});
  }
  return out;
}

}  // namespace detail
}  // namespace weft::sim
