// Sharded seed sweeps: the split of a seed range into N disjoint parts (simrun
// --shard I/N), the summary of a sweep or of one shard (simrun --json, --summary),
// and the merge of shard summaries into the summary of the whole sweep (simrun merge).
//
// A summary holds only what adds up exactly (counts, sums, maxima, the union of
// the shards it covers), so merging shards in any order or grouping gives the
// summary the unsharded sweep would have given, wall-clock seconds aside.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "weft/sim/json_input.hpp"

namespace weft::sweep {

// SeedRange is `count` consecutive seeds from `first` (count 0: no seed).
struct SeedRange {
  std::uint64_t first = 0;
  std::uint64_t count = 0;
  friend bool operator==(const SeedRange&, const SeedRange&) = default;
};

// Shard names part `index` of `of` parts of a sweep (0 <= index < of).
struct Shard {
  std::uint64_t index = 0;
  std::uint64_t of = 1;
};

// kShardsMax bounds N in --shard I/N: far above any job array, far below overflow.
inline constexpr std::uint64_t kShardsMax = 1'000'000;

// shard_range returns the seeds of shard `s` of `whole`: contiguous blocks whose
// sizes differ by at most one, block I from first + floor(I*count/N). The N blocks
// are disjoint and their union is `whole`, in order.
SeedRange shard_range(SeedRange whole, Shard s);

// kShardIndexVariables are the variables --shard auto/N reads, in this order: the
// first one set names the index (Kubernetes Indexed Job, Slurm array, weft's own
// for CI matrices). SLURM_ARRAY_TASK_ID counts from SLURM_ARRAY_TASK_MIN when set.
// WEFT_SHARD_INDEX comes first: a value the user set beats one a scheduler happens
// to leave in the environment.
inline constexpr const char* kShardIndexVariables[] = {"WEFT_SHARD_INDEX", "JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"};

// parse_shard reads "I/N" or "auto/N" (the index from `getenv`, see
// kShardIndexVariables); on a bad value returns nullopt and sets `error` to what
// was expected.
std::optional<Shard> parse_shard(std::string_view text, const std::function<const char*(const char*)>& getenv,
                                 std::string& error);

// RunRecord is what a summary keeps of one run.
struct RunRecord {
  std::uint64_t seed = 0;
  std::string strategy;  // StrategySpec::label(): "random", "pct:3", "hold"
  std::string outcome;   // outcome_name
  bool expected = true;  // the outcome is the scenario's expected one
  bool unexpected = false;  // counts against the sweep (a negative scenario's pass does not)
  std::uint64_t steps = 0;
  std::uint64_t quiet = 0;  // the longest stretch of decisions without progress
  std::uint64_t fibers = 0;
  std::uint64_t pct_depth = 0, pct_steps = 0;  // pct only: d and the k it drew change points from (0: its measuring walk ran)
  std::map<std::string, std::uint64_t> marks;  // coverage marks reached (hits)
  std::string message;
  std::string replay;  // the line that replays it (failures)
};

// StrategyCounts is one strategy's share of a sweep. For PCT the coverage
// statement counts only the runs that stayed within the range [1, k] their change
// points were drawn from ("covered runs"; k is the length of the run's measuring
// walk): a run longer than its k has steps no change point can fall on, so a bug
// that needs one there is found with chance 0 and the run carries no guarantee.
// Over the covered runs, with n their most fibers and k their largest drawn range,
// p = 1/(n k^(d-1)) bounds from below each one's chance to show a given depth-d
// bug whose change points lie within its range. Depth 1 draws no change point:
// every run that PCT ran (not its measuring walk) is covered. Everything here
// merges exactly across shards, as sums and maxima.
struct StrategyCounts {
  std::uint64_t seeds = 0;
  std::map<std::string, std::uint64_t> outcomes;
  std::map<std::string, std::uint64_t> marks;  // runs that reached each mark
  std::uint64_t decisions = 0;
  std::uint64_t fibers_max = 0, steps_max = 0;  // over all the strategy's runs
  std::uint64_t pct_depth = 0;
  std::uint64_t pct_covered = 0;  // runs within their drawn range (see above)
  std::uint64_t pct_fibers_max = 0, pct_range_max = 0;  // n and k over the covered runs
};

// Failure is one failing run a summary lists (unexpected ones first; see kFailuresKept).
struct Failure {
  std::uint64_t seed = 0;
  std::string strategy, outcome, message, replay;
  bool unexpected = false;
};

// kFailuresKept caps the failures a summary lists in each class (unexpected, and
// expected ones of a negative scenario); the counts stay exact.
inline constexpr std::size_t kFailuresKept = 100;
// kRunPagesWritten caps the failures a sweep's --report also writes a run report for
// (next to the sweep's page, where its failure links point), so a page costs a bounded rerun.
inline constexpr std::size_t kRunPagesWritten = 20;
// kHistogramBuckets: bucket b counts runs of 2^(b-1) to 2^b - 1 decisions (b = 0: none).
inline constexpr std::size_t kHistogramBuckets = 65;

// Summary is a sweep's (or a shard's, or a merge's) result.
struct Summary {
  // What must agree for two summaries to merge.
  std::string scenario, scenario_hash, version, expect;
  std::string strategy_flag;  // simrun's --strategy ("" = the default exploration)
  std::string options;        // the other flags that change a run (as in the replay line)
  SeedRange range;            // the whole sweep's seeds
  std::uint64_t shards = 1;   // N
  std::set<std::uint64_t> parts;  // the shards this summary covers
  // What adds up.
  std::uint64_t seeds_run = 0;
  std::uint64_t seeds_assigned = 0;  // seeds of the covered shards (seeds_run is less if a shard stopped early)
  std::map<std::string, std::uint64_t> outcomes;
  std::uint64_t unexpected = 0, matched_failures = 0;
  std::map<std::string, std::uint64_t> marks;  // runs that reached each mark
  std::uint64_t decisions = 0, decisions_max = 0;
  std::array<std::uint64_t, kHistogramBuckets> histogram{};
  std::map<std::string, StrategyCounts> strategies;
  std::vector<Failure> failures;
  std::uint64_t failures_unlisted = 0;
  std::uint64_t longest_quiet = 0, longest_quiet_seed = 0;
  double seconds = 0;  // wall clock, summed over shards (informational; never compared)

  // add counts one run.
  void add(const RunRecord& r);
  // complete says whether every shard is covered and every assigned seed ran.
  bool complete() const { return parts.size() == shards && seeds_run == range.count; }
  // exit_code is simrun's rule over many seeds applied to the whole: the first
  // listed unexpected failure's code, 7 if a negative scenario's failure was never
  // seen (only when complete), else 0. `code_of` maps an outcome name to its code.
  int exit_code(const std::function<int(const std::string&)>& code_of) const;

  // to_json renders the summary (format "weft-sweep", version kFormatVersion).
  nlohmann::ordered_json to_json() const;
  // from_json reads a summary written by to_json, checking every field; on error
  // returns nullopt and sets `error` (file, JSON path, what was expected).
  static std::optional<Summary> from_json(const nlohmann::json& j, const std::string& file, sim::InputError& error);
};

inline constexpr const char* kFormatName = "weft-sweep";
inline constexpr int kFormatVersion = 2;  // 2: PCT counts its covered runs (from_json names "2")
// kSummaryBytesMax caps a file simrun merge reads (a summary is a few KiB; a
// --json stream ends with one, after a line per run).
inline constexpr std::size_t kSummaryBytesMax = 256 * 1024 * 1024;

// load_summary reads a summary file: one JSON document, or a --json stream
// whose last line is the summary.
std::optional<Summary> load_summary(const std::string& file, sim::InputError& error);

// merge combines summaries of shards of one sweep. It refuses summaries of
// different sweeps (scenario, its text, version, strategy, options, seed range,
// N) and shards covered twice; `files` names each summary's file for the error.
std::optional<Summary> merge(const std::vector<Summary>& parts, const std::vector<std::string>& files,
                             sim::InputError& error);

// pct_covers says whether a PCT run of depth `depth` that drew its change points
// over [1, range] (range 0: the measuring walk ran, not PCT) and made `steps`
// decisions stayed within that range, so that PCT's guarantee applies to it.
bool pct_covers(std::uint64_t depth, std::uint64_t range, std::uint64_t steps);

// pct_statement is the PCT coverage statement describe() prints for one strategy.
std::string pct_statement(const StrategyCounts& c);

// pct_chance_per_run is PCT's guarantee for one run of depth d with at most n
// fibers and k steps: it shows a given depth-d bug with probability at least
// 1/(n k^(d-1)) (n and k taken as at least 1).
double pct_chance_per_run(std::uint64_t fibers_max, std::uint64_t steps_max, std::uint64_t depth);
// pct_miss_bound is the PCT coverage statement's number: the chance that `runs`
// runs of depth d, each with at most n fibers and k steps, all miss a depth-d bug,
// (1 - 1/(n k^(d-1)))^runs; 1 when there is no run.
double pct_miss_bound(std::uint64_t runs, std::uint64_t fibers_max, std::uint64_t steps_max, std::uint64_t depth);

// outcome_code returns the exit code of an outcome name, or nullopt for a name no
// outcome has.
std::optional<int> outcome_code(const std::string& name);

// RerunHooks is what simrun merge needs from simrun to write the run pages of a
// sweep's failures: this build's identity and a scenario file's text hash.
struct RerunHooks {
  std::string version;  // weft::build_id::identity() of this simrun: version, build type, commit
  // scenario_hash returns the text hash of the scenario file at `path` (what a
  // summary's scenario_hash holds), or nullopt with `error` set.
  std::function<std::optional<std::string>(const std::string& path, std::string& error)> scenario_hash;
};

// merge_main is `simrun merge FILES...` (merge_cli.cpp).
int merge_main(int argc, char** argv, const RerunHooks& hooks);

// run_page_failures picks the failures a sweep's report writes run pages for (and
// links): the first kRunPagesWritten by seed of the unexpected ones, then of the
// expected ones (a negative scenario's) while fewer than kRunPagesWritten are picked.
std::vector<Failure> run_page_failures(const Summary& s);

// split_words splits a line simrun printed (a replay line) into the words the
// shell would pass: words separated by one space, each as sim::shell_quote writes
// it (plain, '...' with '\'' for a quote, or $'...' with \xNN escapes). A line
// whose words are not exactly what shell_quote writes (other quoting, $VAR, `,
// ;, |, redirections, doubled spaces) returns nullopt: simrun did not write it.
std::optional<std::vector<std::string>> split_words(std::string_view line);

// run_page_name is `run_link` with SEED replaced by the seed.
std::string run_page_name(const std::string& run_link, std::uint64_t seed);

// sweep_report_html renders a sweep's summary as a self-contained HTML page:
// outcome counts, marks reached, decisions per run as a histogram, per-strategy
// counts, and the failures with their replay lines. A failure whose seed is in
// `linked` links to its run page, `run_link` with SEED replaced by the seed; the
// others show the replay line that writes that page.
std::string sweep_report_html(const Summary& s, const std::string& run_link, const std::set<std::uint64_t>& linked);

// describe renders a summary as the lines simrun prints after a sweep.
std::string describe(const Summary& s);

}  // namespace weft::sweep
