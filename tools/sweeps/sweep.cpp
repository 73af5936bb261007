// Sharded seed sweeps: the split, the summary and the merge (see sweep.hpp).
#include "sweep.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "weft/sim/outcome.hpp"

namespace weft::sweep {
namespace {

using ojson = nlohmann::ordered_json;
using sim::InputFailure;
using sim::JsonReader;

// parse_decimal reads a decimal integer strictly (no sign, no space, no overflow).
std::optional<std::uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

ojson counts_json(const std::map<std::string, std::uint64_t>& m) {
  ojson j = ojson::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

// read_counts reads {"name": count, ...}; `outcomes` requires outcome names.
std::map<std::string, std::uint64_t> read_counts(const JsonReader& r, const nlohmann::json& j, const std::string& path,
                                                 bool outcomes) {
  r.object(j, path);
  std::map<std::string, std::uint64_t> m;
  for (const auto& [k, v] : j.items()) {
    if (outcomes && !outcome_code(k)) r.fail(path, "outcome names (pass, assertion, ...), got \"" + k + "\"");
    if (!outcomes && (k.empty() || k.size() > 64 || k.find_first_not_of("abcdefghijklmnopqrstuvwxyz_0123456789") != std::string::npos))
      r.fail(path, "mark names (overflow, steal_half, ...), got \"" + k + "\"");
    m[k] = r.uint_value(v, path + "." + k, 0, UINT64_MAX);
  }
  return m;
}

std::uint64_t sum_of(const std::map<std::string, std::uint64_t>& m) {
  std::uint64_t s = 0;
  for (const auto& [k, v] : m) s += v;
  return s;
}

// add_counts adds b into a, refusing an overflow of 64 bits (a hostile input's sums).
bool add_counts(std::map<std::string, std::uint64_t>& a, const std::map<std::string, std::uint64_t>& b) {
  for (const auto& [k, v] : b) {
    if (a[k] > UINT64_MAX - v) return false;
    a[k] += v;
  }
  return true;
}

// keep_failures sorts failures by seed and keeps the first kFailuresKept of each
// class (unexpected, expected), counting the rest in `unlisted`.
void keep_failures(std::vector<Failure>& fs, std::uint64_t& unlisted) {
  std::stable_sort(fs.begin(), fs.end(), [](const Failure& a, const Failure& b) { return a.seed < b.seed; });
  std::vector<Failure> kept;
  std::size_t n_unexpected = 0, n_expected = 0;
  for (Failure& f : fs) {
    std::size_t& n = f.unexpected ? n_unexpected : n_expected;
    if (n < kFailuresKept) {
      ++n;
      kept.push_back(std::move(f));
    } else {
      ++unlisted;
    }
  }
  fs = std::move(kept);
}

}  // namespace

std::optional<int> outcome_code(const std::string& name) {
  for (int code = 0; code < 64; ++code) {
    if (name == sim::outcome_name(static_cast<sim::Outcome>(code))) return code;
  }
  return std::nullopt;
}

SeedRange shard_range(SeedRange whole, Shard s) {
  // 128-bit products: count may be up to 2^64-1 and N up to kShardsMax.
  const auto c = static_cast<unsigned __int128>(whole.count);
  const auto lo = static_cast<std::uint64_t>(c * s.index / s.of);
  const auto hi = static_cast<std::uint64_t>(c * (s.index + 1) / s.of);
  return SeedRange{whole.first + lo, hi - lo};
}

std::optional<Shard> parse_shard(std::string_view text, const std::function<const char*(const char*)>& getenv,
                                 std::string& error) {
  const std::string shown(text);
  const auto slash = text.find('/');
  const std::string range = "from 1 to " + std::to_string(kShardsMax);
  if (slash == std::string_view::npos) {
    error = "expected I/N or auto/N (shard I of N, counted from 0), got '" + shown + "'";
    return std::nullopt;
  }
  const auto of = parse_decimal(text.substr(slash + 1));
  if (!of || *of < 1 || *of > kShardsMax) {
    error = "expected I/N with N " + range + ", got '" + shown + "'";
    return std::nullopt;
  }
  const std::string_view index_text = text.substr(0, slash);
  std::optional<std::uint64_t> index;
  std::string source;
  if (index_text == "auto") {
    for (const char* var : kShardIndexVariables) {
      const char* v = getenv(var);
      if (v == nullptr || *v == '\0') continue;
      source = std::string(var) + "=" + v;
      index = parse_decimal(v);
      if (!index) {
        error = "auto/N: " + std::string(var) + " must be a non-negative integer, got '" + v + "'";
        return std::nullopt;
      }
      // A Slurm array may start elsewhere than 0 (--array=1-16): count from its minimum.
      const char* min = std::string_view(var) == "SLURM_ARRAY_TASK_ID" ? getenv("SLURM_ARRAY_TASK_MIN") : nullptr;
      if (min != nullptr && *min != '\0') {
        const auto m = parse_decimal(min);
        if (!m || *m > *index) {
          error = "auto/N: SLURM_ARRAY_TASK_MIN must be an integer at most SLURM_ARRAY_TASK_ID (" + std::string(v) +
                  "), got '" + min + "'";
          return std::nullopt;
        }
        *index -= *m;
        source += " - SLURM_ARRAY_TASK_MIN=" + std::string(min);
      }
      // A stepped array (--array=0-30:2) numbers its tasks MIN, MIN+STEP, ...
      const char* step = std::string_view(var) == "SLURM_ARRAY_TASK_ID" ? getenv("SLURM_ARRAY_TASK_STEP") : nullptr;
      if (step != nullptr && *step != '\0') {
        const auto st = parse_decimal(step);
        if (!st || *st < 1 || *index % *st != 0) {
          error = "auto/N: SLURM_ARRAY_TASK_STEP must be a positive integer dividing SLURM_ARRAY_TASK_ID - "
                  "SLURM_ARRAY_TASK_MIN (" + std::to_string(*index) + "), got '" + std::string(step) + "'";
          return std::nullopt;
        }
        *index /= *st;
        source += " / SLURM_ARRAY_TASK_STEP=" + std::string(step);
      }
      break;
    }
    if (!index) {
      error = "auto/N: expected one of WEFT_SHARD_INDEX, JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID to be set, got none";
      return std::nullopt;
    }
  } else {
    index = parse_decimal(index_text);
    source = "I=" + std::string(index_text);
    if (!index) {
      error = "expected I/N with I an integer from 0 to N-1 (or auto), got '" + shown + "'";
      return std::nullopt;
    }
  }
  if (*index >= *of) {
    error = "expected I/N with I from 0 to N-1, got " + source + " for N=" + std::to_string(*of);
    return std::nullopt;
  }
  return Shard{*index, *of};
}

void Summary::add(const RunRecord& r) {
  ++seeds_run;
  ++outcomes[r.outcome];
  if (r.outcome != "pass" && r.expected) ++matched_failures;
  if (r.unexpected) ++unexpected;
  StrategyCounts& sc = strategies[r.strategy];
  ++sc.seeds;
  ++sc.outcomes[r.outcome];
  for (const auto& [mark, hits] : r.marks) {
    if (hits == 0) continue;
    ++marks[mark];
    ++sc.marks[mark];
  }
  if (r.quiet > longest_quiet) {  // seeds come in order: a tie keeps the lower seed
    longest_quiet = r.quiet;
    longest_quiet_seed = r.seed;
  }
  decisions += r.steps;
  decisions_max = std::max(decisions_max, r.steps);
  ++histogram[std::bit_width(r.steps)];
  sc.decisions += r.steps;
  sc.fibers_max = std::max(sc.fibers_max, r.fibers);
  sc.steps_max = std::max(sc.steps_max, r.steps);
  sc.pct_depth = r.pct_depth;
  // PCT's bound counts only the runs that stayed within the range their change
  // points were drawn from (see StrategyCounts).
  if (r.pct_depth && pct_covers(r.pct_depth, r.pct_steps, r.steps)) {
    ++sc.pct_covered;
    sc.pct_fibers_max = std::max(sc.pct_fibers_max, r.fibers);
    sc.pct_range_max = std::max(sc.pct_range_max, r.pct_steps);
  }
  if (r.outcome != "pass") {
    failures.push_back(Failure{r.seed, r.strategy, r.outcome, r.message, r.replay, r.unexpected});
    // Runs come in seed order: a class already full keeps its first ones.
    const auto in_class = std::count_if(failures.begin(), failures.end(),
                                        [&](const Failure& f) { return f.unexpected == r.unexpected; });
    if (static_cast<std::size_t>(in_class) > kFailuresKept) {
      failures.pop_back();
      ++failures_unlisted;
    }
  }
}

int Summary::exit_code(const std::function<int(const std::string&)>& code_of) const {
  if (unexpected) {
    for (const Failure& f : failures) {
      if (f.unexpected) return code_of(f.outcome);
    }
    return 7;
  }
  if (complete() && expect != "pass" && matched_failures == 0) return 7;
  return 0;
}

bool pct_covers(std::uint64_t depth, std::uint64_t range, std::uint64_t steps) {
  // A run whose decisions all lie within [1, range] (range >= steps, counted as
  // the walk that measured k counts them) can have a change point at any of its
  // decisions. Depth 1 draws none: only the walk must not have run instead.
  if (range == 0) return false;
  return depth <= 1 || steps <= range;
}

double pct_chance_per_run(std::uint64_t fibers_max, std::uint64_t steps_max, std::uint64_t depth) {
  const double n = static_cast<double>(std::max<std::uint64_t>(fibers_max, 1));
  const double k = static_cast<double>(std::max<std::uint64_t>(steps_max, 1));
  return 1.0 / (n * std::pow(k, static_cast<double>(depth > 0 ? depth - 1 : 0)));
}

double pct_miss_bound(std::uint64_t runs, std::uint64_t fibers_max, std::uint64_t steps_max, std::uint64_t depth) {
  if (runs == 0 || depth == 0) return 1;
  const double p = pct_chance_per_run(fibers_max, steps_max, depth);
  return std::exp(static_cast<double>(runs) * std::log1p(-std::min(p, 1.0 - 1e-300)));
}

ojson Summary::to_json() const {
  ojson j;
  j["format"] = kFormatName;
  j["version"] = kFormatVersion;
  j["scenario"] = scenario;
  j["scenario_hash"] = scenario_hash;
  j["weft_version"] = version;
  j["expect"] = expect;
  j["strategy_flag"] = strategy_flag;
  j["options"] = options;
  j["seeds"] = {{"first", range.first}, {"count", range.count}};
  j["shards"] = {{"of", shards}, {"parts", parts}};
  j["complete"] = complete();
  j["seeds_run"] = seeds_run;
  j["seeds_assigned"] = seeds_assigned;
  j["outcomes"] = counts_json(outcomes);
  j["unexpected"] = unexpected;
  j["matched_failures"] = matched_failures;
  j["marks"] = counts_json(marks);
  ojson hist = ojson::array();
  for (std::size_t b = 0; b < kHistogramBuckets; ++b) {
    if (histogram[b]) hist.push_back({b, histogram[b]});
  }
  j["decisions"] = {{"total", decisions}, {"max", decisions_max}, {"histogram", hist}};
  ojson st = ojson::object();
  for (const auto& [label, c] : strategies) {
    ojson s;
    s["seeds"] = c.seeds;
    s["outcomes"] = counts_json(c.outcomes);
    s["marks"] = counts_json(c.marks);
    s["decisions"] = c.decisions;
    s["fibers_max"] = c.fibers_max;
    s["steps_max"] = c.steps_max;
    if (c.pct_depth) {
      s["pct"] = {{"depth", c.pct_depth},
                  {"covered_runs", c.pct_covered},
                  {"fibers_max", c.pct_fibers_max},
                  {"range_max", c.pct_range_max},
                  {"miss_bound", pct_miss_bound(c.pct_covered, c.pct_fibers_max, c.pct_range_max, c.pct_depth)}};
    }
    st[label] = s;
  }
  j["strategies"] = st;
  ojson fs = ojson::array();
  for (const Failure& f : failures) {
    fs.push_back({{"seed", f.seed}, {"strategy", f.strategy}, {"outcome", f.outcome}, {"unexpected", f.unexpected},
                  {"message", f.message}, {"replay", f.replay}});
  }
  j["failures"] = fs;
  j["failures_unlisted"] = failures_unlisted;
  j["longest_quiet"] = {{"decisions", longest_quiet}, {"seed", longest_quiet_seed}};
  j["seconds"] = seconds;
  return j;
}

std::optional<Summary> Summary::from_json(const nlohmann::json& j, const std::string& file, sim::InputError& error) {
  const JsonReader r(file);
  try {
    r.object(j, "$");
    // The kind first: another kind of file (a scenario, a trace) is named as such.
    if (!j.contains("format") || j.at("format") != kFormatName)
      r.fail("$.format", std::string("\"") + kFormatName + "\" (a sweep summary: simrun --json or --summary), got " +
                             (j.contains("format") ? JsonReader::describe(j.at("format")) : std::string("no format")));
    r.only_keys(j, "$",
                {"format", "version", "scenario", "scenario_hash", "weft_version", "expect", "strategy_flag", "options",
                 "seeds", "shards", "complete", "seeds_run", "seeds_assigned", "outcomes", "unexpected",
                 "matched_failures", "marks", "decisions", "strategies", "failures", "failures_unlisted",
                 "longest_quiet", "seconds"});
    r.uint_value(r.required(j, "version", "$", "2"), "$.version", kFormatVersion, kFormatVersion);
    Summary s;
    s.scenario = r.string(j, "scenario", "$", std::nullopt);
    s.scenario_hash = r.string(j, "scenario_hash", "$", std::nullopt);
    s.version = r.string(j, "weft_version", "$", std::nullopt);
    s.expect = r.string(j, "expect", "$", std::nullopt);
    s.strategy_flag = r.string(j, "strategy_flag", "$", std::string());
    s.options = r.string(j, "options", "$", std::string());
    const auto& seeds = r.required(j, "seeds", "$", "{\"first\", \"count\"}");
    r.only_keys(seeds, "$.seeds", {"first", "count"});
    s.range.first = r.uint_value(r.required(seeds, "first", "$.seeds", "an integer"), "$.seeds.first", 0, UINT64_MAX);
    s.range.count = r.uint_value(r.required(seeds, "count", "$.seeds", "an integer"), "$.seeds.count", 0,
                                 UINT64_MAX - s.range.first + (s.range.first ? 1 : 0));
    const auto& shards = r.required(j, "shards", "$", "{\"of\", \"parts\"}");
    r.only_keys(shards, "$.shards", {"of", "parts"});
    s.shards = r.uint_value(r.required(shards, "of", "$.shards", "an integer"), "$.shards.of", 1, kShardsMax);
    const auto& parts = r.required(shards, "parts", "$.shards", "an array of shard indices");
    if (!parts.is_array() || parts.empty())
      r.fail("$.shards.parts", "a non-empty array of shard indices, got " + JsonReader::describe(parts));
    std::uint64_t assigned = 0;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto p = r.uint_value(parts[i], "$.shards.parts[" + std::to_string(i) + "]", 0, s.shards - 1);
      if (!s.parts.insert(p).second) r.fail("$.shards.parts[" + std::to_string(i) + "]", "each shard once, got " + std::to_string(p) + " twice");
      assigned += shard_range(s.range, Shard{p, s.shards}).count;
    }
    s.seeds_assigned = r.uint(j, "seeds_assigned", "$", assigned, assigned, assigned);
    s.seeds_run = r.uint_value(r.required(j, "seeds_run", "$", "an integer"), "$.seeds_run", 0, assigned);
    s.outcomes = read_counts(r, r.required(j, "outcomes", "$", "outcome counts"), "$.outcomes", true);
    if (sum_of(s.outcomes) != s.seeds_run)
      r.fail("$.outcomes", "counts that add up to $.seeds_run (" + std::to_string(s.seeds_run) + "), got " +
                               std::to_string(sum_of(s.outcomes)));
    s.unexpected = r.uint_value(r.required(j, "unexpected", "$", "an integer"), "$.unexpected", 0, s.seeds_run);
    s.matched_failures =
        r.uint_value(r.required(j, "matched_failures", "$", "an integer"), "$.matched_failures", 0, s.seeds_run);
    s.marks = read_counts(r, r.required(j, "marks", "$", "mark counts"), "$.marks", false);
    for (const auto& [k, v] : s.marks) {
      if (v > s.seeds_run) r.fail("$.marks." + k, "at most $.seeds_run runs, got " + std::to_string(v));
    }
    const auto& d = r.required(j, "decisions", "$", "{\"total\", \"max\", \"histogram\"}");
    r.only_keys(d, "$.decisions", {"total", "max", "histogram"});
    s.decisions = r.uint_value(r.required(d, "total", "$.decisions", "an integer"), "$.decisions.total", 0, UINT64_MAX);
    s.decisions_max = r.uint_value(r.required(d, "max", "$.decisions", "an integer"), "$.decisions.max", 0, UINT64_MAX);
    const auto& h = r.required(d, "histogram", "$.decisions", "an array of [bucket, runs]");
    if (!h.is_array()) r.fail("$.decisions.histogram", "an array of [bucket, runs], got " + JsonReader::describe(h));
    std::uint64_t in_hist = 0;
    for (std::size_t i = 0; i < h.size(); ++i) {
      const std::string p = "$.decisions.histogram[" + std::to_string(i) + "]";
      if (!h[i].is_array() || h[i].size() != 2) r.fail(p, "[bucket, runs], got " + JsonReader::describe(h[i]));
      const auto b = r.uint_value(h[i][0], p + "[0]", 0, kHistogramBuckets - 1);
      const auto n = r.uint_value(h[i][1], p + "[1]", 1, s.seeds_run);
      if (s.histogram[b]) r.fail(p + "[0]", "each bucket once, got " + std::to_string(b) + " twice");
      s.histogram[b] = n;
      in_hist += n;
    }
    if (in_hist != s.seeds_run)
      r.fail("$.decisions.histogram", "runs that add up to $.seeds_run (" + std::to_string(s.seeds_run) + "), got " +
                                          std::to_string(in_hist));
    // The histogram bounds the total (bucket b holds runs of 2^(b-1) to 2^b - 1
    // decisions) and names the max's bucket: its highest bucket is bit_width(max).
    std::size_t top = 0;
    unsigned __int128 lo_sum = 0, hi_sum = 0;  // at most seeds_run * 2^64: no overflow
    for (std::size_t b = 0; b < kHistogramBuckets; ++b) {
      if (!s.histogram[b]) continue;
      top = b;
      const unsigned __int128 lo = b ? (unsigned __int128)1 << (b - 1) : 0, hi = b ? ((unsigned __int128)1 << b) - 1 : 0;
      lo_sum += lo * s.histogram[b];
      hi_sum += hi * s.histogram[b];
    }
    if (s.seeds_run && static_cast<std::size_t>(std::bit_width(s.decisions_max)) != top)
      r.fail("$.decisions.max", "a max in the histogram's highest bucket (" + std::to_string(top) + "), got " +
                                    std::to_string(s.decisions_max));
    if (s.decisions < lo_sum || s.decisions > hi_sum || s.decisions < s.decisions_max)
      r.fail("$.decisions.total", "a total the histogram's buckets and $.decisions.max allow, got " + std::to_string(s.decisions));
    const auto& st = r.required(j, "strategies", "$", "an object of strategies");
    r.object(st, "$.strategies");
    std::uint64_t in_strategies = 0;
    for (const auto& [label, v] : st.items()) {
      const std::string p = "$.strategies." + label;
      r.only_keys(v, p, {"seeds", "outcomes", "marks", "decisions", "fibers_max", "steps_max", "pct"});
      StrategyCounts c;
      c.seeds = r.uint_value(r.required(v, "seeds", p, "an integer"), p + ".seeds", 1, s.seeds_run);
      c.outcomes = read_counts(r, r.required(v, "outcomes", p, "outcome counts"), p + ".outcomes", true);
      if (sum_of(c.outcomes) != c.seeds) r.fail(p + ".outcomes", "counts that add up to " + p + ".seeds");
      c.marks = read_counts(r, r.required(v, "marks", p, "mark counts"), p + ".marks", false);
      for (const auto& [k, n] : c.marks) {
        if (n > c.seeds) r.fail(p + ".marks." + k, "at most " + p + ".seeds (" + std::to_string(c.seeds) + ") runs, got " + std::to_string(n));
      }
      c.decisions = r.uint(v, "decisions", p, 0, UINT64_MAX, 0);
      c.fibers_max = r.uint(v, "fibers_max", p, 0, UINT64_MAX, 0);
      c.steps_max = r.uint(v, "steps_max", p, 0, UINT64_MAX, 0);
      if (v.contains("pct")) {
        const auto& pj = v.at("pct");
        const std::string pp = p + ".pct";
        r.only_keys(pj, pp, {"depth", "covered_runs", "fibers_max", "range_max", "miss_bound"});
        c.pct_depth = r.uint_value(r.required(pj, "depth", pp, "1 to 16"), pp + ".depth", 1, 16);
        c.pct_covered = r.uint_value(r.required(pj, "covered_runs", pp, "an integer"), pp + ".covered_runs", 0, c.seeds);
        c.pct_fibers_max = r.uint_value(r.required(pj, "fibers_max", pp, "an integer"), pp + ".fibers_max", 0, c.fibers_max);
        c.pct_range_max = r.uint_value(r.required(pj, "range_max", pp, "an integer"), pp + ".range_max", 0, UINT64_MAX);
        if (c.pct_covered > 0 && (c.pct_fibers_max < 1 || c.pct_range_max < 1))
          r.fail(pp, "fibers_max and range_max of at least 1 (" + std::to_string(c.pct_covered) + " covered runs), got " +
                         std::to_string(c.pct_fibers_max) + " and " + std::to_string(c.pct_range_max));
        if (c.pct_covered == 0 && (c.pct_fibers_max || c.pct_range_max))
          r.fail(pp, "fibers_max and range_max of 0 (no covered run), got " + std::to_string(c.pct_fibers_max) + " and " +
                         std::to_string(c.pct_range_max));
      }
      // What the counts contradict is refused: a run that ran had a fiber (main),
      // and no run is longer than steps_max (so decisions / seeds bounds it from
      // below) nor than $.decisions.max. What they cannot contradict is trusted: a
      // maximum (fibers_max, steps_max, and PCT's n and k over covered runs) that
      // is lower than the true one, but still within those checks, shrinks the PCT
      // bound's n and k and so overstates the chance. A shard file is the user's
      // own output; merge checks that it is consistent, not that it is genuine.
      if (c.fibers_max < 1) r.fail(p + ".fibers_max", "at least 1 (" + std::to_string(c.seeds) + " seeds ran), got 0");
      if (c.steps_max > 0 && c.decisions / c.steps_max + (c.decisions % c.steps_max ? 1 : 0) > c.seeds)
        r.fail(p + ".steps_max", "a longest run that bounds " + p + ".decisions (" + std::to_string(c.decisions) +
                                     " in " + std::to_string(c.seeds) + " runs: at least " +
                                     std::to_string(c.decisions / c.seeds + (c.decisions % c.seeds ? 1 : 0)) + "), got " +
                                     std::to_string(c.steps_max));
      if (c.steps_max == 0 && c.decisions > 0)
        r.fail(p + ".steps_max", "a longest run that bounds " + p + ".decisions (" + std::to_string(c.decisions) + "), got 0");
      if (c.steps_max > s.decisions_max)
        r.fail(p + ".steps_max", "at most $.decisions.max (" + std::to_string(s.decisions_max) + "), got " +
                                     std::to_string(c.steps_max));
      in_strategies += c.seeds;
      s.strategies[label] = c;
    }
    if (in_strategies != s.seeds_run)
      r.fail("$.strategies", "seeds that add up to $.seeds_run (" + std::to_string(s.seeds_run) + "), got " +
                                 std::to_string(in_strategies));
    // Each run counts in exactly one strategy: their outcomes, marks and decisions add up to the whole's.
    std::map<std::string, std::uint64_t> st_outcomes, st_marks;
    std::uint64_t st_decisions = 0;
    for (const auto& [label, c] : s.strategies) {
      if (!add_counts(st_outcomes, c.outcomes) || !add_counts(st_marks, c.marks) || st_decisions > UINT64_MAX - c.decisions)
        r.fail("$.strategies." + label, "counts that do not overflow");
      st_decisions += c.decisions;
    }
    auto nonzero = [](std::map<std::string, std::uint64_t> m) {
      std::erase_if(m, [](const auto& kv) { return kv.second == 0; });
      return m;
    };
    if (nonzero(st_outcomes) != nonzero(s.outcomes))
      r.fail("$.strategies", "outcomes that add up to $.outcomes, got other counts");
    if (nonzero(st_marks) != nonzero(s.marks)) r.fail("$.strategies", "marks that add up to $.marks, got other counts");
    if (st_decisions != s.decisions)
      r.fail("$.strategies", "decisions that add up to $.decisions.total (" + std::to_string(s.decisions) + "), got " +
                                 std::to_string(st_decisions));
    const auto& fs = r.required(j, "failures", "$", "an array of failures");
    if (!fs.is_array() || fs.size() > 2 * kFailuresKept)
      r.fail("$.failures", "an array of at most " + std::to_string(2 * kFailuresKept) + " failures, got " +
                               JsonReader::describe(fs));
    for (std::size_t i = 0; i < fs.size(); ++i) {
      const std::string p = "$.failures[" + std::to_string(i) + "]";
      r.only_keys(fs[i], p, {"seed", "strategy", "outcome", "unexpected", "message", "replay"});
      Failure f;
      f.seed = r.uint_value(r.required(fs[i], "seed", p, "an integer"), p + ".seed", 0, UINT64_MAX);
      f.strategy = r.string(fs[i], "strategy", p, std::nullopt);
      f.outcome = r.string(fs[i], "outcome", p, std::nullopt);
      const auto code = outcome_code(f.outcome);
      if (!code || *code == 0) r.fail(p + ".outcome", "a failing outcome's name, got \"" + f.outcome + "\"");
      f.unexpected = r.boolean(fs[i], "unexpected", p, false);
      f.message = r.string(fs[i], "message", p, std::string());
      f.replay = r.string(fs[i], "replay", p, std::string());
      s.failures.push_back(std::move(f));
    }
    s.failures_unlisted = r.uint(j, "failures_unlisted", "$", 0, s.seeds_run, 0);
    // Every failing run is an unexpected one or a matched one; each class lists its
    // first kFailuresKept and counts the rest as unlisted.
    const std::uint64_t failing = s.seeds_run - (s.outcomes.count("pass") ? s.outcomes.at("pass") : 0);
    if (s.unexpected + s.matched_failures != failing)
      r.fail("$.unexpected", "$.unexpected + $.matched_failures equal to the failing runs of $.outcomes (" +
                                 std::to_string(failing) + "), got " + std::to_string(s.unexpected) + " + " +
                                 std::to_string(s.matched_failures));
    const auto listed_unexpected =
        static_cast<std::uint64_t>(std::count_if(s.failures.begin(), s.failures.end(), [](const Failure& f) { return f.unexpected; }));
    const auto listed_matched = s.failures.size() - listed_unexpected;
    if (listed_unexpected != std::min<std::uint64_t>(kFailuresKept, s.unexpected))
      r.fail("$.failures", std::to_string(std::min<std::uint64_t>(kFailuresKept, s.unexpected)) +
                               " unexpected failures listed ($.unexpected is " + std::to_string(s.unexpected) + "), got " +
                               std::to_string(listed_unexpected));
    if (listed_matched != std::min<std::uint64_t>(kFailuresKept, s.matched_failures))
      r.fail("$.failures", std::to_string(std::min<std::uint64_t>(kFailuresKept, s.matched_failures)) +
                               " expected failures listed ($.matched_failures is " + std::to_string(s.matched_failures) +
                               "), got " + std::to_string(listed_matched));
    if (s.failures_unlisted != failing - s.failures.size())
      r.fail("$.failures_unlisted", "the failing runs not listed (" + std::to_string(failing - s.failures.size()) + "), got " +
                                        std::to_string(s.failures_unlisted));
    if (j.contains("longest_quiet")) {
      const auto& q = j.at("longest_quiet");
      r.only_keys(q, "$.longest_quiet", {"decisions", "seed"});
      s.longest_quiet = r.uint(q, "decisions", "$.longest_quiet", 0, UINT64_MAX, 0);
      s.longest_quiet_seed = r.uint(q, "seed", "$.longest_quiet", 0, UINT64_MAX, 0);
    }
    if (j.contains("seconds")) {
      const auto& sec = j.at("seconds");
      if (!sec.is_number() || sec.get<double>() < 0 || !std::isfinite(sec.get<double>()))
        r.fail("$.seconds", "a non-negative number, got " + JsonReader::describe(sec));
      s.seconds = sec.get<double>();
    }
    return s;
  } catch (const InputFailure& f) {
    error = f.error;
    return std::nullopt;
  }
}

std::optional<Summary> load_summary(const std::string& file, sim::InputError& error) {
  std::string text;
  if (!sim::read_input_file(file, kSummaryBytesMax, text, error)) return std::nullopt;
  // A --json stream: one object per line, the summary last.
  std::string_view doc(text);
  while (!doc.empty() && (doc.back() == '\n' || doc.back() == '\r' || doc.back() == ' ')) doc.remove_suffix(1);
  // A --json stream has a whole object on its first line (a summary written by
  // --summary is indented: its first line is "{"); only its last line is read, the
  // summary (the lines before are simrun's own per-run output).
  std::string where = "$";
  const auto first_nl = doc.find('\n');
  if (first_nl != std::string_view::npos && doc.substr(0, first_nl) != "{") {
    const auto nl = doc.rfind('\n');
    where = "line " + std::to_string(std::count(doc.begin(), doc.end(), '\n') + 1);
    doc = doc.substr(nl + 1);
  }
  auto j = sim::parse_json_input(doc, file, error);
  if (!j) {
    if (where != "$") error.path = where + " " + error.path;
    return std::nullopt;
  }
  auto s = Summary::from_json(*j, file, error);
  if (!s && where != "$") error.path = where + " " + error.path;
  return s;
}

std::optional<Summary> merge(const std::vector<Summary>& in, const std::vector<std::string>& files,
                             sim::InputError& error) {
  if (in.empty()) return std::nullopt;
  Summary m = in.front();
  m.failures.clear();
  std::vector<Failure> failures = in.front().failures;
  m.failures_unlisted = in.front().failures_unlisted;
  auto refuse = [&](std::size_t i, const std::string& path, const std::string& expected) {
    error = sim::InputError{files.at(i), path, expected};
    return std::nullopt;
  };
  for (std::size_t i = 1; i < in.size(); ++i) {
    const Summary& s = in[i];
    // The sweep's identity: every field must agree with the first file's.
    const std::pair<const char*, const std::string Summary::*> identity[] = {
        {"scenario", &Summary::scenario},       {"scenario_hash", &Summary::scenario_hash},
        {"weft_version", &Summary::version},    {"strategy_flag", &Summary::strategy_flag},
        {"options", &Summary::options}};
    for (const auto& [name, field] : identity) {
      if (s.*field != m.*field)
        return refuse(i, std::string("$.") + name, "the same " + std::string(name) + " as " + files.front() + " (\"" +
                                                       m.*field + "\"), got \"" + s.*field + "\"");
    }
    if (!(s.range == m.range))
      return refuse(i, "$.seeds", "the same seed range as " + files.front() + " (" + std::to_string(m.range.first) +
                                      " and " + std::to_string(m.range.count) + " seeds), got " +
                                      std::to_string(s.range.first) + " and " + std::to_string(s.range.count));
    if (s.shards != m.shards)
      return refuse(i, "$.shards.of", "the same number of shards as " + files.front() + " (" +
                                          std::to_string(m.shards) + "), got " + std::to_string(s.shards));
    for (std::uint64_t p : s.parts) {
      if (m.parts.count(p))
        return refuse(i, "$.shards.parts", "shards not already merged, got shard " + std::to_string(p) +
                                               " again (overlapping shards)");
    }
    m.parts.insert(s.parts.begin(), s.parts.end());
    m.seeds_run += s.seeds_run;
    m.seeds_assigned += s.seeds_assigned;
    add_counts(m.outcomes, s.outcomes);
    m.unexpected += s.unexpected;
    m.matched_failures += s.matched_failures;
    add_counts(m.marks, s.marks);
    m.decisions += s.decisions;
    m.decisions_max = std::max(m.decisions_max, s.decisions_max);
    for (std::size_t b = 0; b < kHistogramBuckets; ++b) m.histogram[b] += s.histogram[b];
    for (const auto& [label, c] : s.strategies) {
      StrategyCounts& t = m.strategies[label];
      t.seeds += c.seeds;
      add_counts(t.outcomes, c.outcomes);
      add_counts(t.marks, c.marks);
      t.decisions += c.decisions;
      t.fibers_max = std::max(t.fibers_max, c.fibers_max);
      t.steps_max = std::max(t.steps_max, c.steps_max);
      t.pct_depth = std::max(t.pct_depth, c.pct_depth);
      t.pct_covered += c.pct_covered;
      t.pct_fibers_max = std::max(t.pct_fibers_max, c.pct_fibers_max);
      t.pct_range_max = std::max(t.pct_range_max, c.pct_range_max);
    }
    failures.insert(failures.end(), s.failures.begin(), s.failures.end());
    m.failures_unlisted += s.failures_unlisted;
    // Ties go to the lowest seed, as the unsharded sweep (seeds in order, strictly greater) keeps.
    if (s.longest_quiet > m.longest_quiet || (s.longest_quiet == m.longest_quiet && s.longest_quiet_seed < m.longest_quiet_seed)) {
      m.longest_quiet = s.longest_quiet;
      m.longest_quiet_seed = s.longest_quiet_seed;
    }
    m.seconds += s.seconds;
  }
  keep_failures(failures, m.failures_unlisted);
  m.failures = std::move(failures);
  return m;
}

std::vector<Failure> run_page_failures(const Summary& s) {
  // Failures are kept sorted by seed (keep_failures); unexpected ones go first.
  std::vector<Failure> picked;
  for (const bool unexpected : {true, false}) {
    for (const Failure& f : s.failures) {
      if (picked.size() == kRunPagesWritten) return picked;
      if (f.unexpected == unexpected) picked.push_back(f);
    }
  }
  return picked;
}

std::optional<std::vector<std::string>> split_words(std::string_view line) {
  // Decode each word as the shell would, up to the next space outside quotes;
  // then refuse any word that shell_quote would not have written that way, so
  // only its three forms (plain, '...' with '\'', $'...' with \xNN) get through.
  std::vector<std::string> words;
  std::size_t k = 0;
  while (k < line.size()) {
    const std::size_t start = k;
    std::string word;
    while (k < line.size() && line[k] != ' ') {
      if (line.substr(k, 2) == "$'") {
        k += 2;
        while (k < line.size() && line[k] != '\'') {
          const auto hex = [&](std::size_t i) { return i < line.size() && std::isxdigit(static_cast<unsigned char>(line[i])); };
          if (line[k] == '\\' && k + 1 < line.size() && line[k + 1] == 'x' && hex(k + 2) && hex(k + 3)) {
            word += static_cast<char>(std::stoi(std::string(line.substr(k + 2, 2)), nullptr, 16));
            k += 4;
          } else {
            word += line[k++];
          }
        }
        if (k == line.size()) return std::nullopt;
        ++k;
      } else if (line[k] == '\'') {
        const std::size_t close = line.find('\'', k + 1);
        if (close == std::string_view::npos) return std::nullopt;
        word += line.substr(k + 1, close - k - 1);
        k = close + 1;
      } else if (line.substr(k, 2) == "\\'") {
        word += '\'';
        k += 2;
      } else {
        word += line[k++];
      }
    }
    if (k == start || sim::shell_quote(word) != line.substr(start, k - start)) return std::nullopt;
    words.push_back(std::move(word));
    if (k < line.size() && ++k == line.size()) return std::nullopt;  // a trailing space
  }
  return words;
}

std::string run_page_name(const std::string& run_link, std::uint64_t seed) {
  std::string name = run_link;
  const std::string s = std::to_string(seed);
  for (auto p = name.find("SEED"); p != std::string::npos; p = name.find("SEED", p + s.size())) name.replace(p, 4, s);
  return name;
}

namespace {

// at_least renders a lower bound on a chance so that the printed number is not
// above it: three significant digits rounded down, and "> 0.999" close to 1
// (where rounding to three digits, or a double, would print 1); "1" only when
// `certain` says the chance is exactly 1.
std::string at_least(double x, bool certain) {
  if (certain) return "1";
  if (x > 0.999) return "> 0.999";
  if (x <= 0) return "at least 0";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g", x);
  if (std::strtod(buf, nullptr) > x) {
    const double unit = std::pow(10.0, std::floor(std::log10(x)) - 2);
    std::snprintf(buf, sizeof buf, "%.3g", std::floor(x / unit) * unit);
  }
  return std::string("at least ") + buf;
}

}  // namespace

std::string pct_statement(const StrategyCounts& c) {
  const std::string d = std::to_string(c.pct_depth);
  std::string o = "PCT depth " + d + ": ";
  const std::uint64_t outlasted = c.seeds - c.pct_covered;
  if (c.pct_depth <= 1) {
    // No change point: only a run of the measuring walk (which failed first) is not PCT's.
    if (outlasted) o += std::to_string(outlasted) + " of " + std::to_string(c.seeds) + " runs were its measuring walk; ";
  } else if (outlasted) {
    o += std::to_string(outlasted) + " of " + std::to_string(c.seeds) +
         " runs outlasted the range their change points were drawn from; the bound counts only the other " +
         std::to_string(c.pct_covered) + ": ";
  } else {
    o += "every run stayed within the range its change points were drawn from: ";
  }
  if (c.pct_covered == 0) return o + "no PCT guarantee";
  // The chance to find it, 1 - miss, computed without the cancellation of 1 - (1-p)^N.
  const double p = pct_chance_per_run(c.pct_fibers_max, c.pct_range_max, c.pct_depth);
  const double found = -std::expm1(static_cast<double>(c.pct_covered) * std::log1p(-std::min(p, 1.0 - 1e-300)));
  o += "a depth-" + d + " bug" + (c.pct_depth > 1 ? " whose change points fall within a run's range" : "") +
       " is found in one run with chance " + at_least(p, p >= 1) + " (n=" + std::to_string(c.pct_fibers_max) + " fibers";
  if (c.pct_depth > 1) o += ", k=" + std::to_string(c.pct_range_max) + " steps";
  o += "), in one of these " + std::to_string(c.pct_covered) + " runs with chance " + at_least(found, p >= 1);
  return o;
}

std::string describe(const Summary& s) {
  std::ostringstream o;
  o << "  outcomes:";
  for (const auto& [k, v] : s.outcomes) o << ' ' << k << '=' << v;
  o << " (scenario expects " << sim::printable(s.expect) << ")\n";
  o << "  marks reached (runs):";
  if (s.marks.empty()) o << " none";
  for (const auto& [k, v] : s.marks) o << ' ' << k << '=' << v;
  o << "\n  decisions: " << s.decisions << " in all, at most " << s.decisions_max << " in one run\n";
  for (const auto& [label, c] : s.strategies) {
    o << "  strategy " << sim::printable(label) << ": " << c.seeds << " seeds,";
    for (const auto& [k, v] : c.outcomes) o << ' ' << k << '=' << v;
    o << ", " << c.marks.size() << " marks reached";
    if (c.pct_depth) o << "; " << pct_statement(c);
    o << '\n';
  }
  return o.str();
}

}  // namespace weft::sweep
