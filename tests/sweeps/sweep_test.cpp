// The sweep library (tools/sweeps): shard ranges partition a seed range, --shard
// values parse strictly, and merging shard summaries gives the whole sweep's.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <vector>
#include <string>

#include "sweeps/sweep.hpp"
#include "weft/sim/prng.hpp"

namespace weft::sweep {
namespace {

TEST(ShardRange, ShardsPartitionTheRangeInOrderWithSizesWithinOne) {
  const std::uint64_t counts[] = {0, 1, 2, 7, 64, 1000, 999'983, UINT64_MAX / 3, UINT64_MAX};
  const std::uint64_t ns[] = {1, 2, 3, 7, 16, 1000, kShardsMax};
  for (std::uint64_t count : counts) {
    const SeedRange whole{count == UINT64_MAX ? 0u : 5u, count};
    for (std::uint64_t n : ns) {
      std::uint64_t next = whole.first, lo = UINT64_MAX, hi = 0;
      for (std::uint64_t i = 0; i < n; ++i) {
        const SeedRange part = shard_range(whole, Shard{i, n});
        ASSERT_EQ(part.first, next) << "count " << count << " shard " << i << "/" << n;
        next += part.count;
        lo = std::min(lo, part.count);
        hi = std::max(hi, part.count);
      }
      EXPECT_EQ(next - whole.first, count) << "the union covers the range, count " << count << " N " << n;
      EXPECT_LE(hi - lo, 1u) << "count " << count << " N " << n;
    }
  }
}

const char* no_env(const char*) { return nullptr; }

TEST(ParseShard, ReadsIndexOfCountAndRefusesEverythingElse) {
  std::string err;
  auto s = parse_shard("3/8", no_env, err);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 3u);
  EXPECT_EQ(s->of, 8u);
  for (const char* bad : {"8/8", "", "/", "3", "3/", "/8", "a/8", "3/b", "-1/8", "3/-8", "3/0", " 3/8", "3/8 ",
                          "3/1000001", "99999999999999999999999/8", "auto/8", "auto/0"}) {
    err.clear();
    EXPECT_FALSE(parse_shard(bad, no_env, err)) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
}

TEST(ParseShard, AnIndexOutOfRangeIsNamedByTheValueGiven) {
  std::string err;
  EXPECT_FALSE(parse_shard("5/3", no_env, err));
  EXPECT_NE(err.find("I=5 for N=3"), std::string::npos) << err;
  EXPECT_EQ(err.find("got I for"), std::string::npos) << err;
}

TEST(ParseShard, AutoReadsTheFirstVariableSetAndCountsSlurmFromItsMinimum) {
  std::map<std::string, std::string> env;
  auto get = [&env](const char* v) -> const char* {
    auto it = env.find(v);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  std::string err;
  env = {{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_MIN", "1"}};
  EXPECT_EQ(parse_shard("auto/8", get, err)->index, 4u) << err;
  env["JOB_COMPLETION_INDEX"] = "7";
  EXPECT_EQ(parse_shard("auto/8", get, err)->index, 7u) << err;
  env["WEFT_SHARD_INDEX"] = "2";
  EXPECT_EQ(parse_shard("auto/8", get, err)->index, 2u) << "the user's own variable beats a scheduler's";
  // A stepped Slurm array: --array=1-15:2 numbers its tasks 1, 3, ..., 15.
  env = {{"SLURM_ARRAY_TASK_ID", "7"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_STEP", "2"}};
  EXPECT_EQ(parse_shard("auto/8", get, err)->index, 3u) << err;
  env["SLURM_ARRAY_TASK_ID"] = "15";
  EXPECT_EQ(parse_shard("auto/8", get, err)->index, 7u) << err;
  env["SLURM_ARRAY_TASK_ID"] = "4";
  EXPECT_FALSE(parse_shard("auto/8", get, err));
  EXPECT_NE(err.find("SLURM_ARRAY_TASK_STEP"), std::string::npos) << err;
  env = {{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_STEP", "0"}};
  EXPECT_FALSE(parse_shard("auto/8", get, err));
  env = {{"WEFT_SHARD_INDEX", "8"}};
  EXPECT_FALSE(parse_shard("auto/8", get, err));
  EXPECT_NE(err.find("WEFT_SHARD_INDEX=8"), std::string::npos) << err;
  env = {{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_MIN", "1"}};
  EXPECT_FALSE(parse_shard("auto/8", get, err));
  env = {{"JOB_COMPLETION_INDEX", ""}, {"WEFT_SHARD_INDEX", "1"}};
  EXPECT_EQ(parse_shard("auto/8", get, err)->index, 1u) << "an empty variable counts as unset";
}

// record makes a synthetic run of `seed`: outcomes, strategies and marks drawn from
// the seed, every tenth run an unexpected failure, most of the others an expected one.
RunRecord record(std::uint64_t seed) {
  sim::Prng rng(seed * 7919 + 1);
  RunRecord r;
  r.seed = seed;
  const char* strategies[] = {"random", "pct:1", "pct:3", "hold"};
  r.strategy = strategies[rng.next_u64() % 4];
  r.pct_depth = r.strategy[0] == 'p' ? r.strategy[4] - '0' : 0;
  r.steps = rng.next_u64() % 100'000;
  // Most runs stay within the range their change points were drawn from; some
  // outlast it, and a few failed in the measuring walk (range 0).
  const std::uint64_t shape = rng.next_u64() % 8;
  r.pct_steps = shape == 0 ? 0 : shape < 3 ? r.steps / 2 : r.steps + rng.next_u64() % 1000;
  r.fibers = 2 + rng.next_u64() % 9;
  r.quiet = rng.next_u64() % 50;
  if (rng.next_u64() % 3) r.marks["steal_half"] = 1 + rng.next_u64() % 5;
  if (rng.next_u64() % 5 == 0) r.marks["overflow"] = 1;
  if (seed % 10 == 3) {
    r.outcome = "deadlock";
    r.expected = false;
    r.unexpected = true;
  } else if (rng.next_u64() % 4) {
    r.outcome = "assertion";
  } else {
    r.outcome = "pass";
    r.expected = false;  // a negative scenario's pass: not unexpected
  }
  r.message = "run " + std::to_string(seed);
  if (r.outcome != "pass") r.replay = "tools/simrun x.json --seed " + std::to_string(seed);
  return r;
}

Summary empty(SeedRange range, std::uint64_t n, std::uint64_t part) {
  Summary s;
  s.scenario = "synthetic";
  s.expect = "assertion";
  s.range = range;
  s.shards = n;
  s.parts = {part};
  s.seeds_assigned = shard_range(range, Shard{part, n}).count;
  return s;
}

TEST(Merge, ShardSummariesMergeToTheWholeSweepsThroughJsonInAnyOrder) {
  const SeedRange range{100, 2'500};  // over 200 unexpected failures: the failure lists are capped
  Summary whole = empty(range, 1, 0);
  for (std::uint64_t seed = range.first; seed < range.first + range.count; ++seed) whole.add(record(seed));
  ASSERT_GT(whole.failures_unlisted, 0u);
  for (std::uint64_t n : {2u, 3u, 16u}) {
    std::vector<Summary> parts;
    std::vector<std::string> files;
    for (std::uint64_t i = n; i-- > 0;) {  // reversed: the merge may not rely on the order
      Summary s = empty(range, n, i);
      const SeedRange p = shard_range(range, Shard{i, n});
      for (std::uint64_t seed = p.first; seed < p.first + p.count; ++seed) s.add(record(seed));
      sim::InputError err;
      auto back = Summary::from_json(nlohmann::json::parse(s.to_json().dump()), "shard.json", err);
      ASSERT_TRUE(back) << err.message();
      parts.push_back(*back);
      files.push_back("shard-" + std::to_string(i) + ".json");
    }
    sim::InputError err;
    auto m = merge(parts, files, err);
    ASSERT_TRUE(m) << err.message();
    EXPECT_TRUE(m->complete());
    auto a = whole.to_json(), b = m->to_json();
    a.erase("shards");
    b.erase("shards");
    EXPECT_EQ(a.dump(1), b.dump(1)) << n << " shards";
    EXPECT_EQ(m->exit_code([](const std::string&) { return 2; }), 2);
  }
}

TEST(Merge, RefusesOverlappingShardsAndShardsOfAnotherSweep) {
  const SeedRange range{0, 10};
  Summary a = empty(range, 2, 0), b = empty(range, 2, 0), c = empty(range, 2, 1);
  c.options = " --step-bound 9";
  sim::InputError err;
  EXPECT_FALSE(merge({a, b}, {"a", "b"}, err));
  EXPECT_EQ(err.file, "b");
  EXPECT_NE(err.expected.find("overlapping"), std::string::npos) << err.message();
  EXPECT_FALSE(merge({a, c}, {"a", "c"}, err));
  EXPECT_EQ(err.path, "$.options");
  c.options.clear();
  EXPECT_TRUE(merge({a, c}, {"a", "c"}, err)) << err.message();
}

TEST(Summary, ANegativeScenariosFailureNeverSeenExitsSevenOnlyWhenTheSweepIsComplete) {
  Summary s = empty({0, 2}, 2, 0);
  RunRecord pass;
  pass.outcome = "pass";
  pass.expected = false;
  s.add(pass);
  auto code = [](const std::string&) { return 1; };
  EXPECT_EQ(s.exit_code(code), 0) << "one shard of two: the other may see it";
  Summary t = empty({0, 2}, 2, 1);
  pass.seed = 1;
  t.add(pass);
  sim::InputError err;
  EXPECT_EQ(merge({s, t}, {"s", "t"}, err)->exit_code(code), 7);
}

TEST(SplitWords, ReadsBackEveryWordShellQuoteWritesAndRefusesOtherLines) {
  const std::vector<std::string> words = {"tools/simrun", "my scenarios/it's.json", "--seed", "7", "--memory-limit",
                                          "512M", std::string("a\x01" "b"), "$HOME", "x;rm -rf y"};
  std::string line;
  for (const auto& w : words) line += (line.empty() ? "" : " ") + sim::shell_quote(w);
  EXPECT_EQ(split_words(line), words) << line;
  for (const char* bad : {"a  b", "a ", " a", "'a", "a\"b\"", "a\\ b", "$'a", "a;b", "`a`", "a|b", "$(a)", "'a'b", "a\\'"})
    EXPECT_EQ(split_words(bad), std::nullopt) << bad;
  EXPECT_EQ(split_words(""), std::vector<std::string>{});
}

TEST(RunPageFailures, PicksTheFirstUnexpectedFailuresBySeedThenExpectedOnes) {
  Summary s = empty({0, 100}, 1, 0);
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    RunRecord r;
    r.seed = seed;
    r.outcome = "assertion";
    r.expected = seed % 3 != 0;
    r.unexpected = !r.expected;
    r.replay = "x";
    s.add(r);
  }
  const auto picked = run_page_failures(s);
  ASSERT_EQ(picked.size(), kRunPagesWritten);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_TRUE(picked[i].unexpected && picked[i].seed == 3 * i) << i;
  for (std::size_t i = 10; i < kRunPagesWritten; ++i) EXPECT_FALSE(picked[i].unexpected) << i;
  EXPECT_EQ(picked[10].seed, 1u);
  EXPECT_EQ(run_page_name("x-seedSEED-SEED.html", 42), "x-seed42-42.html");
}

// pct_run makes a passing PCT run of depth `depth` with `fibers` fibers, `steps`
// decisions and change points drawn over [1, range].
RunRecord pct_run(std::uint64_t seed, std::uint64_t depth, std::uint64_t fibers, std::uint64_t steps, std::uint64_t range) {
  RunRecord r;
  r.seed = seed;
  r.strategy = "pct:" + std::to_string(depth);
  r.outcome = "pass";
  r.steps = steps;
  r.fibers = fibers;
  r.pct_depth = depth;
  r.pct_steps = range;
  return r;
}

TEST(PctStatement, TheBoundCountsOnlyRunsThatStayedWithinTheirDrawnRange) {
  Summary s = empty(SeedRange{0, 4}, 1, 0);
  s.expect = "pass";
  s.add(pct_run(0, 2, 3, 900, 1000));         // covered
  s.add(pct_run(1, 2, 4, 1000, 1000));        // covered: the last decision is within the range
  s.add(pct_run(2, 2, 9, 1'000'000, 20'000));  // outlasted its range: neither its n nor its k counts
  s.add(pct_run(3, 2, 2, 50, 0));             // its measuring walk ran, not PCT
  const StrategyCounts& c = s.strategies.at("pct:2");
  EXPECT_EQ(c.pct_covered, 2u);
  EXPECT_EQ(c.pct_fibers_max, 4u);
  EXPECT_EQ(c.pct_range_max, 1000u);
  EXPECT_EQ(c.steps_max, 1'000'000u) << "steps_max is the longest run, never a drawn range";
  const std::string text = describe(s);
  EXPECT_NE(text.find("2 of 4 runs outlasted the range their change points were drawn from; the bound counts only the "
                      "other 2: a depth-2 bug whose change points fall within a run's range is found in one run with "
                      "chance at least 0.00025 (n=4 fibers, k=1000 steps), in one of these 2 runs with chance at least "
                      "0.000499"),
            std::string::npos)
      << text;
  const auto j = s.to_json()["strategies"]["pct:2"]["pct"];
  EXPECT_EQ(j["covered_runs"], 2u);
  EXPECT_EQ(j["fibers_max"], 4u);
  EXPECT_EQ(j["range_max"], 1000u);
  EXPECT_DOUBLE_EQ(j["miss_bound"].get<double>(), pct_miss_bound(2, 4, 1000, 2));

  Summary none = empty(SeedRange{0, 1}, 1, 0);
  none.add(pct_run(0, 3, 3, 5000, 10));
  EXPECT_NE(describe(none).find("1 of 1 runs outlasted the range their change points were drawn from; the bound counts "
                                "only the other 0: no PCT guarantee"),
            std::string::npos)
      << describe(none);
  // Depth 1 draws no change point: a long run is covered, the measuring walk is not.
  Summary d1 = empty(SeedRange{0, 2}, 1, 0);
  d1.add(pct_run(0, 1, 4, 5000, 10));
  d1.add(pct_run(1, 1, 8, 50, 0));
  EXPECT_EQ(d1.strategies.at("pct:1").pct_covered, 1u);
  EXPECT_EQ(d1.strategies.at("pct:1").pct_fibers_max, 4u);
}

TEST(PctStatement, AChanceCloseToOneIsNotRoundedUpToOne) {
  Summary s = empty(SeedRange{0, 2000}, 1, 0);
  for (std::uint64_t seed = 0; seed < 2000; ++seed) s.add(pct_run(seed, 1, 2, 10, 10));
  const std::string text = describe(s);
  EXPECT_NE(text.find("chance at least 0.5 (n=2 fibers), in one of these 2000 runs with chance > 0.999"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("at least 1"), std::string::npos) << text;
  // Three digits rounded down: 1/3 prints 0.333, 2/3 prints 0.666 (not 0.667).
  Summary t = empty(SeedRange{0, 1}, 1, 0);
  t.add(pct_run(0, 2, 1, 3, 3));
  t.add(pct_run(1, 2, 1, 3, 3));
  EXPECT_NE(describe(t).find("chance at least 0.333 (n=1 fibers, k=3 steps), in one of these 2 runs with chance at "
                             "least 0.555"),
            std::string::npos)
      << describe(t);
}

TEST(PctMissBound, FallsWithRunsAndRisesWithDepth) {
  EXPECT_EQ(pct_miss_bound(0, 4, 1000, 3), 1.0);
  EXPECT_NEAR(pct_miss_bound(1, 4, 1000, 1), 0.75, 1e-12);  // depth 1: p = 1/n
  EXPECT_LT(pct_miss_bound(2000, 4, 1000, 2), pct_miss_bound(1000, 4, 1000, 2));
  EXPECT_LT(pct_miss_bound(1000, 4, 1000, 2), pct_miss_bound(1000, 4, 1000, 3));
}

}  // namespace
}  // namespace weft::sweep
