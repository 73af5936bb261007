// Schedule shrinking (the passes are described in weft/sim/shrink.hpp).
#include "weft/sim/shrink.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "weft/sim/simulator.hpp"

namespace weft::sim {

namespace {

[[noreturn]] void shrink_bug(const char* what) {
  std::fprintf(stderr, "weft shrink: internal error: %s\n", what);
  std::abort();
}

#define WEFT_SHRINK_ASSERT(cond)              \
  do {                                        \
    if (!(cond)) [[unlikely]] shrink_bug(#cond); \
  } while (0)

// switch_points lists the indices of the explicit switches of s (count_switches).
std::vector<std::size_t> switch_points(const Schedule& s) {
  std::vector<std::size_t> out;
  std::uint64_t last = kLenientDefault;
  for (std::size_t i = 0; i < s.decisions.size(); ++i) {
    const Decision& d = s.decisions[i];
    if (d.kind != DecisionKind::fiber || d.value == kLenientDefault) continue;
    if (d.value != last) out.push_back(i);
    last = d.value;
  }
  return out;
}

// Shrinker holds the budget and the best schedule found so far.
class Shrinker {
 public:
  Shrinker(const std::function<Probe(const Schedule&)>& run, const ShrinkOptions& options, std::string target)
      : run_(run), options_(options), target_(std::move(target)), start_(std::chrono::steady_clock::now()) {}

  bool out_of_budget() {
    if (runs_ >= options_.max_runs) return true;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    return secs > options_.max_seconds;
  }

  // fails runs a candidate and says whether it fails like the original; the
  // probe of the last success is kept.
  bool fails(const Schedule& candidate) {
    WEFT_SHRINK_ASSERT(runs_ < options_.max_runs + 1);
    ++runs_;
    Probe p = run_(candidate);
    if (p.signature != target_) return false;
    last_ = p;
    return true;
  }

  // shorten: pass 1. `best` fails; returns true if it got shorter.
  bool shorten(Schedule& best) {
    const std::size_t n = best.decisions.size();
    std::size_t lo = 0, hi = n;  // hi fails; lo is not known to fail
    Schedule cand = best;
    cand.decisions.clear();
    if (!out_of_budget() && fails(cand)) {
      best = cand;
      return n > 0;
    }
    while (hi - lo > 1 && !out_of_budget()) {
      const std::size_t mid = lo + (hi - lo) / 2;
      cand.decisions.assign(best.decisions.begin(), best.decisions.begin() + static_cast<std::ptrdiff_t>(mid));
      if (fails(cand)) hi = mid; else lo = mid;
    }
    if (hi == n) return false;
    best.decisions.resize(hi);
    return true;
  }

  // remove_switches: pass 2, ddmin over the switch points.
  bool remove_switches(Schedule& best) {
    bool improved = false;
    std::vector<std::size_t> points = switch_points(best);
    std::size_t chunk = std::max<std::size_t>(1, points.size() / 2);
    for (std::uint32_t level = 0; level < 64 && !points.empty(); ++level) {
      bool removed_any = false;
      for (std::size_t start = 0; start < points.size() && !out_of_budget();) {
        const std::size_t end = std::min(points.size(), start + chunk);
        Schedule cand = best;
        for (std::size_t k = start; k < end; ++k) cand.decisions[points[k]].value = kLenientDefault;
        if (fails(cand)) {
          best = std::move(cand);
          points.erase(points.begin() + static_cast<std::ptrdiff_t>(start), points.begin() + static_cast<std::ptrdiff_t>(end));
          removed_any = improved = true;
        } else {
          start = end;
        }
      }
      if (out_of_budget()) break;
      if (chunk == 1 && !removed_any) break;
      if (!removed_any || chunk > 1) chunk = std::max<std::size_t>(1, chunk / 2);
      points = switch_points(best);
    }
    strip_trailing_defaults(best);
    return improved;
  }

  // delay_switches: pass 3, move each switch as late as it still fails.
  bool delay_switches(Schedule& best) {
    bool improved = false;
    std::vector<std::size_t> points = switch_points(best);
    for (std::size_t p = points.size(); p > 0 && !out_of_budget(); --p) {
      std::size_t at = points[p - 1];
      const std::size_t limit = p < points.size() ? points[p] : best.decisions.size();
      for (std::size_t k = 1; at + k < limit && !out_of_budget(); k *= 2) {
        const std::size_t to = at + k;
        if (best.decisions[to].kind != DecisionKind::fiber) break;
        Schedule cand = best;
        cand.decisions[to].value = cand.decisions[at].value;
        cand.decisions[at].value = kLenientDefault;
        if (!fails(cand)) break;
        best = std::move(cand);
        at = to;
        improved = true;
      }
    }
    return improved;
  }

  static void strip_trailing_defaults(Schedule& s) {
    while (!s.decisions.empty() && s.decisions.back().kind == DecisionKind::fiber &&
           s.decisions.back().value == kLenientDefault) {
      s.decisions.pop_back();
    }
  }

  std::uint64_t runs() const { return runs_; }
  const Probe& last() const { return last_; }

 private:
  const std::function<Probe(const Schedule&)>& run_;
  ShrinkOptions options_;
  std::string target_;
  std::chrono::steady_clock::time_point start_;
  std::uint64_t runs_ = 0;
  Probe last_;
};

}  // namespace

std::string failure_signature(Outcome outcome, const std::string& message) {
  std::string sig = outcome_name(outcome);
  if (outcome != Outcome::assertion && outcome != Outcome::exception) return sig;
  sig += ": ";
  bool in_digits = false;
  for (char c : message) {
    const bool digit = std::isdigit(static_cast<unsigned char>(c)) != 0;
    if (digit && !in_digits) sig += '#';
    if (!digit) sig += c;
    in_digits = digit;
  }
  return sig;
}

std::uint64_t count_switches(const Schedule& s) { return switch_points(s).size(); }

ShrinkResult shrink_schedule(const Schedule& failing, const ScheduleSize& original,
                             const std::function<Probe(const Schedule&)>& run, const ShrinkOptions& options) {
  ShrinkResult res;
  res.before = original;
  res.before.decisions = failing.decisions.size();
  res.before.switches = count_switches(failing);
  res.schedule = failing;
  res.schedule.strategy = "lenient";

  // The original must fail under lenient replay exactly as recorded.
  const Probe first = run(failing);
  res.runs = 1;
  res.signature = first.signature;
  res.reproduced = first.signature != outcome_name(Outcome::pass) && first.steps == original.steps;
  if (!res.reproduced) {
    res.after = res.before;
    return res;
  }
  Shrinker s(run, options, first.signature);
  Probe best_probe = first;
  for (std::uint32_t round = 0; round < options.max_rounds && !s.out_of_budget(); ++round) {
    bool improved = false;
    if (s.shorten(res.schedule)) improved = true;
    if (s.remove_switches(res.schedule)) improved = true;
    if (s.delay_switches(res.schedule)) improved = true;
    if (!improved) break;
  }
  // Measure the result with one more run (the last accepted probe may be stale
  // after strip_trailing_defaults, which does not change the run, but be exact).
  Shrinker final_check(run, ShrinkOptions{2, 1e9, 1}, first.signature);
  WEFT_SHRINK_ASSERT(final_check.fails(res.schedule));
  best_probe = final_check.last();
  res.runs += s.runs() + 1;
  res.budget_exhausted = s.out_of_budget();
  res.after.decisions = res.schedule.decisions.size();
  res.after.switches = count_switches(res.schedule);
  res.after.preemptions = best_probe.preemptions;
  res.after.steps = best_probe.steps;
  return res;
}

}  // namespace weft::sim
