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

// Entry is one explicit entry of a schedule's decisions, by index: the fallback
// representation when a recorded run cannot be restated as switches.
struct Entry {
  std::size_t index;
  Decision decision;
};

bool is_default(const Decision& d) { return d.kind == DecisionKind::fiber && d.value == kLenientDefault; }

// explicit_entries lists every entry of s that is not a default.
std::vector<Entry> explicit_entries(const Schedule& s) {
  std::vector<Entry> out;
  for (std::size_t i = 0; i < s.decisions.size(); ++i) {
    if (!is_default(s.decisions[i])) out.push_back(Entry{i, s.decisions[i]});
  }
  return out;
}

// with_entries is `like` with only `entries` (increasing indices) explicit.
Schedule with_entries(const Schedule& like, const std::vector<Entry>& entries) {
  Schedule s;
  s.seed = like.seed;
  s.strategy = like.strategy;
  s.memory_model = like.memory_model;
  s.history_depth = like.history_depth;
  if (entries.empty()) return s;
  s.decisions.assign(entries.back().index + 1, Decision{DecisionKind::fiber, Op::load, kLenientDefault});
  for (const Entry& e : entries) {
    WEFT_SHRINK_ASSERT(e.index < s.decisions.size());
    s.decisions[e.index] = e.decision;
  }
  return s;
}

// switches_of restates a schedule's decisions as switches: the fiber reaching
// each decision is the one chosen at the fiber decision before it (fiber 0 at
// first), and every choice of another fiber is a switch at the reaching fiber's
// count of fiber decisions (what lenient replay counts). Random draws are left
// out: lenient replay draws the seed's data stream, as the random and PCT runs did.
std::vector<Switch> switches_of(const Schedule& s) {
  std::vector<Switch> out;
  std::vector<std::uint64_t> steps;
  FiberId current = 0;
  for (const Decision& d : s.decisions) {
    if (d.kind != DecisionKind::fiber) continue;
    if (steps.size() <= current) steps.resize(current + 1, 0);
    const std::uint64_t step = steps[current]++;
    if (d.value == kLenientDefault) continue;  // the current fiber, unless it blocked
    const auto to = static_cast<FiberId>(d.value);
    if (to != current) out.push_back(Switch{current, step, to});
    current = to;
  }
  out.insert(out.end(), s.switches.begin(), s.switches.end());
  return out;
}

// with_switches is `like` with no decisions and only `switches`.
Schedule with_switches(const Schedule& like, const std::vector<Switch>& switches) {
  Schedule s;
  s.seed = like.seed;
  s.strategy = like.strategy;
  s.memory_model = like.memory_model;
  s.history_depth = like.history_depth;
  s.switches = switches;
  return s;
}

// is_stale says whether a memory draw's value takes the rarer branch of either
// bias (a stale store, a spurious failure): any other value acts as 0.
bool is_stale(std::uint64_t value) {
  return stale_draw(value, kStaleReadPerMille) || stale_draw(value, kSpuriousCasPerMille);
}

// stale_reads_of lists the stale memory draws of a recorded schedule by place:
// the fiber making each draw is the one the fiber decision before it chose (as
// switches_of), counted per fiber.
std::vector<ReadDraw> stale_reads_of(const Schedule& s) {
  std::vector<ReadDraw> out;
  std::vector<std::uint64_t> steps;
  FiberId current = 0;
  for (const Decision& d : s.decisions) {
    if (d.kind == DecisionKind::fiber) {
      if (d.value != kLenientDefault) current = static_cast<FiberId>(d.value);
      continue;
    }
    if (!is_memory_draw(d.op)) continue;
    if (steps.size() <= current) steps.resize(current + 1, 0);
    const std::uint64_t step = steps[current]++;
    if (is_stale(d.value)) out.push_back(ReadDraw{current, step, d.value});
  }
  return out;
}

// with_reads is `like` with its memory draws listed: `reads`, the newest elsewhere.
Schedule with_reads(const Schedule& like, const std::vector<ReadDraw>& reads) {
  Schedule s = like;
  s.reads_listed = true;
  s.reads = reads;
  return s;
}

// Shrinker holds the budget and the failure class.
class Shrinker {
 public:
  Shrinker(const std::function<Probe(const Schedule&)>& run, const ShrinkOptions& options, std::string target)
      : run_(run), options_(options), target_(std::move(target)), start_(std::chrono::steady_clock::now()) {}

  bool out_of_budget() {
    if (runs_ >= options_.max_runs) return true;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    return secs > options_.max_seconds;
  }

  // fails runs a candidate and says whether it fails like the original.
  bool fails(const Schedule& candidate) {
    WEFT_SHRINK_ASSERT(runs_ < options_.max_runs + 1);
    ++runs_;
    return run_(candidate).signature == target_;
  }

  // ddmin: pass 2 (Zeller and Hildebrandt's delta debugging over `best`, whose
  // schedule make(best) fails). Splits it into n chunks; keeps a chunk alone if
  // that fails, else drops a chunk if the rest fails, else doubles n. Returns
  // true if `best` shrank.
  template <class T, class Make>
  bool ddmin(std::vector<T>& best, const Make& make) {
    const std::size_t size_before = best.size();
    std::size_t n = 2;
    std::size_t cursor = 0;  // where the complement tests resume, so none is retried first
    for (std::uint32_t guard = 0; guard < (1u << 24) && best.size() > 1 && !out_of_budget(); ++guard) {
      n = std::min(n, best.size());
      auto bound = [&](std::size_t i) { return static_cast<std::ptrdiff_t>(best.size() * i / n); };
      bool reduced = false;
      for (std::size_t i = 0; i < n && !reduced && !out_of_budget(); ++i) {
        std::vector<T> cand(best.begin() + bound(i), best.begin() + bound(i + 1));
        if (fails(make(cand))) {
          best = std::move(cand);
          n = 2;
          cursor = 0;
          reduced = true;
        }
      }
      for (std::size_t k = 0; k < n && n > 2 && !reduced && !out_of_budget(); ++k) {
        const std::size_t i = (cursor + k) % n;
        std::vector<T> cand(best.begin(), best.begin() + bound(i));
        cand.insert(cand.end(), best.begin() + bound(i + 1), best.end());
        if (fails(make(cand))) {
          best = std::move(cand);
          n = std::max<std::size_t>(n - 1, 2);
          cursor = i;
          reduced = true;
        }
      }
      if (reduced) continue;
      if (n >= best.size()) break;
      n = std::min(best.size(), n * 2);
      cursor = 0;
    }
    return best.size() < size_before;
  }

  // delay: pass 3, move each switch k = 1, 2, 4, ... of its fiber's decisions
  // later, keeping the furthest move that fails; last switch first.
  bool delay(std::vector<Switch>& best, const Schedule& like) {
    bool moved = false;
    for (std::size_t p = best.size(); p > 0 && !out_of_budget(); --p) {
      for (std::uint64_t k = 1; k <= (1u << 20) && !out_of_budget(); k *= 2) {
        std::vector<Switch> cand = best;
        cand[p - 1].step += k;
        if (!fails(with_switches(like, cand))) break;
        best = std::move(cand);
        moved = true;
      }
    }
    return moved;
  }

  std::uint64_t runs() const { return runs_; }

 private:
  const std::function<Probe(const Schedule&)>& run_;
  ShrinkOptions options_;
  std::string target_;
  std::chrono::steady_clock::time_point start_;
  std::uint64_t runs_ = 0;
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

std::uint64_t count_stale_reads(const Schedule& s) {
  if (s.reads_listed) return s.reads.size();
  std::uint64_t n = 0;
  for (const Decision& d : s.decisions) n += d.kind == DecisionKind::random && is_memory_draw(d.op) && is_stale(d.value);
  return n;
}

std::uint64_t count_switches(const Schedule& s) {
  std::uint64_t n = s.switches.size();
  std::uint64_t last = kLenientDefault;
  for (const Decision& d : s.decisions) {
    if (d.kind != DecisionKind::fiber) continue;
    if (d.value != kLenientDefault && d.value != last) ++n;
    last = d.value;
  }
  return n;
}

ShrinkResult shrink_schedule(const Schedule& failing, const ScheduleSize& original,
                             const std::function<Probe(const Schedule&)>& run, const ShrinkOptions& options) {
  ShrinkResult res;
  res.before = original;
  res.before.decisions = failing.decisions.size();
  res.before.switches = count_switches(failing);
  res.before.stale_reads = count_stale_reads(failing);
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
  const Schedule like = res.schedule;
  // Pass 1: the default alone, else the run restated as switches, else (a run
  // the restatement does not reproduce) its explicit entries by index.
  std::vector<Switch> switches;
  if (s.fails(with_switches(like, switches))) {
    res.schedule = with_switches(like, switches);
  } else if (switches = switches_of(failing); s.fails(with_switches(like, switches))) {
    const auto make = [&like](const std::vector<Switch>& c) { return with_switches(like, c); };
    for (std::uint32_t round = 0; round < options.max_rounds && !s.out_of_budget(); ++round) {
      const bool shrank = s.ddmin(switches, make);
      if (!s.delay(switches, like) && !shrank) break;
    }
    res.schedule = with_switches(like, switches);
  } else {
    std::vector<Entry> entries = explicit_entries(failing);
    s.ddmin(entries, [&like](const std::vector<Entry>& c) { return with_entries(like, c); });
    res.schedule = with_entries(like, entries);
  }
  // Pass 4: the newest store everywhere, else only the stale reads the failure needs.
  if (res.before.stale_reads > 0 && !failing.reads_listed && !s.out_of_budget()) {
    std::vector<ReadDraw> reads;
    if (s.fails(with_reads(res.schedule, reads))) {
      res.schedule = with_reads(res.schedule, reads);
    } else if (reads = stale_reads_of(failing); !s.out_of_budget() && s.fails(with_reads(res.schedule, reads))) {
      const Schedule base = res.schedule;
      s.ddmin(reads, [&base](const std::vector<ReadDraw>& c) { return with_reads(base, c); });
      res.schedule = with_reads(base, reads);
    }
  }
  // Measure the result with one more run.
  const Probe last = run(res.schedule);
  WEFT_SHRINK_ASSERT(last.signature == first.signature);
  res.runs += s.runs() + 1;
  res.budget_exhausted = s.out_of_budget();
  res.after.decisions = res.schedule.decisions.size();
  res.after.switches = count_switches(res.schedule);
  res.after.stale_reads = res.schedule.reads_listed ? res.schedule.reads.size() : res.before.stale_reads;
  res.after.preemptions = last.preemptions;
  res.after.steps = last.steps;
  return res;
}

}  // namespace weft::sim
