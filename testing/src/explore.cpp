// weft::testing::explore (weft/testing.hpp): seeds, strategy, the first failure,
// its shrinking, its schedule file and replay line; the environment variables.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "weft/facade_backend.hpp"
#include "weft/testing.hpp"

namespace weft::testing {
namespace {

using sim::Outcome;
using sim::StrategySpec;

// parse_u64 reads a whole decimal number; false if `text` is not one.
bool parse_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// sim_options are the simulator options of one run under `strategy` and `seed`.
sim::Options sim_options(const Options& o, StrategySpec strategy, std::uint64_t seed) {
  sim::Options so;
  so.seed = seed;
  so.strategy = std::move(strategy);
  so.step_bound = o.step_bound;
  so.stack_size = o.stack_size;
  so.spurious_wakeup_per_mille = o.spurious_wakeup_per_mille;
  so.memory_model = o.memory_model;
  so.history_depth = o.history_depth;
  so.teardown = o.teardown;
  return so;
}

// run_once runs the body once in `s`: the body's own thread-locals die when it
// returns (as a thread's do), and those of threads that never returned when the
// run ends.
sim::RunResult run_once(sim::Simulation& s, const std::function<void()>& body) {
  sim::RunResult r = s.run([&body] {
    body();
    facade_detail::end_thread_locals();
  });
  facade_detail::drop_thread_locals();
  return r;
}

// run_seed runs one seed. PCT with no step count measures it by a random walk of
// the same seed first (Simulation::run), and a failure of that walk is a failure
// found: it is returned, not thrown away.
sim::RunResult run_seed(const Options& o, std::uint64_t seed, const std::function<void()>& body) {
  sim::Simulation s(sim_options(o, o.strategy, seed));
  return run_once(s, body);
}

// is_recorded says whether a schedule is a full recording (every decision explicit,
// no switches): it replays strictly, so a replay that diverges says so.
bool is_recorded(const sim::Schedule& s) {
  if (!s.switches.empty() || s.decisions.empty()) return false;
  return std::none_of(s.decisions.begin(), s.decisions.end(), [](const sim::Decision& d) {
    return d.kind == sim::DecisionKind::fiber && d.value == sim::kLenientDefault;
  });
}

std::string artifact_dir(const Options& o) {
  if (!o.artifact_dir.empty()) return o.artifact_dir;
  return "weft-failures";
}

// file_stem makes a name safe as a file name.
std::string file_stem(const std::string& name) {
  std::string s = name.empty() ? std::string("explore") : name;
  for (char& c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) c = '_';
  }
  return s;
}

std::string replay_line(const Options& o, const std::string& path) {
  const std::string cmd = o.replay_command.empty() ? this_program() : o.replay_command;
  return "WEFT_REPLAY=" + path + " " + cmd;
}

// trace_json renders a traced run (sim::Options::trace) in the Trace Event
// format that ui.perfetto.dev and chrome://tracing open: one lane per simulated
// thread, one slice per decision on the lane of the thread that reached it (the
// decision's index is its time, so the lanes read as the interleaving), and the
// run's outcome as a last, global mark. Past sim::kTraceStepsKept decisions only the
// last ones are shown, and a first mark says how many were left out.
nlohmann::json trace_json(const std::string& title, const sim::RunResult& r) {
  using nlohmann::json;
  json events = json::array();
  events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", 1}, {"args", {{"name", title}}}});
  const std::size_t skipped = r.trace.size() > sim::kTraceStepsKept ? r.trace.size() - sim::kTraceStepsKept : 0;
  // The decisions before the first one shown (the kernel keeps only the last ones too).
  const std::uint64_t left_out = r.trace.empty() ? 0 : r.trace[skipped].index;
  if (left_out != 0) {
    events.push_back({{"ph", "i"}, {"s", "g"}, {"name", "earlier decisions left out"}, {"pid", 1}, {"tid", 0},
                      {"ts", left_out}, {"args", {{"left_out", left_out}}}});
  }
  auto name_of = [&r](std::uint64_t id) {
    return id < r.fiber_names.size() ? r.fiber_names[id] + " (" + std::to_string(id) + ")" : std::to_string(id);
  };
  for (std::uint64_t id = 0; id < r.fiber_names.size(); ++id) {
    events.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", 1}, {"tid", id}, {"args", {{"name", name_of(id)}}}});
  }
  for (std::size_t i = skipped; i < r.trace.size(); ++i) {
    const sim::TraceStep& t = r.trace[i];
    json args = {{"decision", t.index}, {"virtual_ns", t.time_ns}};
    if (t.kind == sim::DecisionKind::fiber) {
      args[t.op == sim::Op::wake_one ? "woke" : "next"] = name_of(t.value);
    } else {
      args["drew"] = t.value;
    }
    events.push_back({{"ph", "X"}, {"name", sim::op_name(t.op)}, {"pid", 1}, {"tid", t.fiber},
                      {"ts", t.index}, {"dur", 1}, {"args", std::move(args)}});
  }
  events.push_back({{"ph", "i"}, {"s", "g"}, {"name", sim::outcome_name(r.outcome)}, {"pid", 1}, {"tid", 0},
                    {"ts", r.trace.empty() ? 0 : r.trace.back().index + 1}, {"args", {{"message", r.message}}}});
  return json{{"traceEvents", std::move(events)}, {"displayTimeUnit", "ns"}};
}

// write_trace replays `schedule` once with the trace on and writes that run to
// `path` (Trace Event JSON). Returns "" or why no trace was written: the replay
// did not fail as the run it stands for did (`signature`), or the file could
// not be written.
std::string write_trace(const Options& o, const sim::Schedule& schedule, const std::string& signature,
                        const std::string& title, const std::string& path, const std::function<void()>& body) {
  std::error_code ec;
  std::filesystem::remove(path, ec);  // an older run's trace must not stand for this one
  const bool strict = is_recorded(schedule);
  sim::Options so = sim_options(o, strict ? StrategySpec::replay(schedule) : StrategySpec::lenient(schedule),
                                schedule.seed);
  so.trace = true;
  sim::Simulation s(so);
  const sim::RunResult r = run_once(s, body);
  if (sim::failure_signature(r.outcome, r.message) != signature) {
    return "its replay ended as " + std::string(sim::outcome_name(r.outcome)) + ", not as the failure";
  }
  std::ofstream out(path);
  out << trace_json(title, r).dump() << "\n";
  out.close();
  if (!out) return "it could not be written to " + path;
  return "";
}

// fill_failure copies a failing run into the result.
void fill_failure(Result& res, const sim::RunResult& r) {
  res.outcome = r.outcome;
  res.message = r.message;
  res.seed = r.seed;
  res.steps = r.steps;
  res.switches_before = r.context_switches;
}

}  // namespace

std::string this_program() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("./test") : exe.string();
}

void parse_seeds(const std::string& text, std::uint64_t& first, std::uint64_t& count) {
  const std::string expected = "expected a seed N or an inclusive range A..B with A <= B (e.g. 0..9999)";
  const auto dots = text.find("..");
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  if (dots == std::string::npos) {
    if (!parse_u64(text, a)) throw UsageError("WEFT_SEEDS='" + text + "': " + expected);
    b = a;
  } else if (!parse_u64(std::string_view(text).substr(0, dots), a) ||
             !parse_u64(std::string_view(text).substr(dots + 2), b) || a > b || b - a == ~std::uint64_t{0}) {
    throw UsageError("WEFT_SEEDS='" + text + "': " + expected);
  }
  first = a;
  count = b - a + 1;
}

double parse_time_bound(const std::string& text) {
  if (text == "none") return std::numeric_limits<double>::infinity();
  double s = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), s);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !(s > 0) || !std::isfinite(s)) {
    throw UsageError("WEFT_TIME_BOUND='" + text + "': expected a positive number of seconds or none");
  }
  return s;
}

StrategySpec parse_strategy(const std::string& text) {
  if (text == "random") return StrategySpec::random();
  if (text == "hold") return StrategySpec::hold();
  std::uint64_t depth = 0;
  if (text.rfind("pct:", 0) == 0 && parse_u64(std::string_view(text).substr(4), depth) && depth >= 1 && depth <= 64) {
    return StrategySpec::pct(static_cast<std::uint32_t>(depth));
  }
  throw UsageError("WEFT_STRATEGY='" + text + "': expected random, pct:D (D from 1 to 64, e.g. pct:3) or hold");
}

std::string apply_env(Options& options) {
  if (const std::string seeds = env_or_empty("WEFT_SEEDS"); !seeds.empty()) {
    parse_seeds(seeds, options.first_seed, options.seeds);
  }
  if (const std::string strategy = env_or_empty("WEFT_STRATEGY"); !strategy.empty()) {
    options.strategy = parse_strategy(strategy);
  }
  if (const std::string model = env_or_empty("WEFT_MEMORY_MODEL"); !model.empty()) {
    const std::optional<sim::MemoryModel> m = sim::memory_model_from(model);
    if (!m) throw UsageError("WEFT_MEMORY_MODEL='" + model + "': expected sc or c11");
    options.memory_model = *m;
  }
  if (const std::string bound = env_or_empty("WEFT_TIME_BOUND"); !bound.empty()) {
    options.time_bound_seconds = parse_time_bound(bound);
  }
  if (const std::string dir = env_or_empty("WEFT_ARTIFACT_DIR"); !dir.empty() && options.artifact_dir.empty()) {
    options.artifact_dir = dir;
  }
  return env_or_empty("WEFT_REPLAY");
}

std::string Result::report() const {
  std::ostringstream os;
  if (passed()) {
    if (replayed) {
      os << "weft: the replay passed (strategy " << strategy << ")";
    } else {
      os << "weft: " << seeds_run << " seeds passed (strategy " << strategy << ")";
      if (time_bound_hit) os << "; stopped at the time bound";
    }
    return os.str();
  }
  os << "weft: " << sim::outcome_name(outcome) << " at seed " << seed << " (strategy " << strategy << ", "
     << (replayed ? std::string("replayed") : std::to_string(seeds_run) + " seeds run") << ")\n";
  os << "  " << message << "\n";
  if (!schedule_path.empty()) {
    os << "  schedule: " << schedule_path;
    if (shrunk) os << " (shrunk from " << switches_before << " switches to " << switches_after << ")";
    os << "\n";
  }
  if (!trace_path.empty()) os << "  trace: " << trace_path << " (open it in ui.perfetto.dev)\n";
  if (trace_path.empty() && !trace_error.empty()) os << "  trace: none (" << trace_error << ")\n";
  if (!replay.empty()) os << "  replay: " << replay << "\n";
  return os.str();
}

Result replay(const Options& options, const std::string& path, const std::function<void()>& body) {
  std::string error;
  std::optional<sim::Schedule> sched = sim::Schedule::load(path, error);
  if (!sched) throw UsageError("WEFT_REPLAY='" + path + "': " + error);
  const std::string why = sim::replay_mismatch(*sched, options.memory_model, options.history_depth);
  if (!why.empty())
    throw UsageError("WEFT_REPLAY='" + path + "': " + why +
                     " (a replay would diverge): set WEFT_MEMORY_MODEL or Options::memory_model and history_depth to match");
  std::string stem = path;
  if (const std::string ext = ".schedule.json"; stem.size() > ext.size() && stem.ends_with(ext)) {
    stem.resize(stem.size() - ext.size());
  }
  const std::string trace = stem + ".replay.trace.json";
  std::error_code ec;
  std::filesystem::remove(trace, ec);  // an earlier replay's trace must not stand for this one
  const bool strict = is_recorded(*sched);
  sim::Simulation s(sim_options(options, strict ? StrategySpec::replay(*sched) : StrategySpec::lenient(*sched),
                                sched->seed));
  const sim::RunResult r = run_once(s, body);
  Result res;
  res.replayed = true;
  res.seeds_run = 1;
  res.strategy = strict ? "replay" : "lenient replay";
  if (r.outcome != Outcome::pass) {
    fill_failure(res, r);
    res.schedule_path = path;
    res.replay = replay_line(options, path);
    res.trace_error = write_trace(options, *sched, sim::failure_signature(r.outcome, r.message),
                                  "weft replay of " + path, trace, body);
    if (res.trace_error.empty()) res.trace_path = trace;
  }
  return res;
}

Result explore(Options options, const std::function<void()>& body) {
  if (options.read_env) {
    const std::string replay_path = apply_env(options);
    if (!replay_path.empty()) return replay(options, replay_path, body);
  }
  Result res;
  res.strategy = options.strategy.label();
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < options.seeds; ++i) {
    const std::chrono::duration<double> spent = std::chrono::steady_clock::now() - start;
    if (i > 0 && spent.count() >= options.time_bound_seconds) {
      res.time_bound_hit = true;
      break;
    }
    const std::uint64_t seed = options.first_seed + i;
    sim::RunResult r = run_seed(options, seed, body);
    ++res.seeds_run;
    if (r.outcome == Outcome::pass) continue;

    // The first failure: shrink its schedule, write it, name the replay line.
    fill_failure(res, r);
    sim::Schedule to_write = r.schedule;
    // A resource_limit failure (a stack overflow, the memory budget) is written
    // as it ran, neither shrunk nor replayed for its trace: a replay sees every
    // decision, and an overflow inside one ends the process (kernel.cpp, Step O2).
    const bool replayable = r.outcome != Outcome::resource_limit;
    if (options.shrink && replayable && r.outcome != Outcome::nondeterminism) {
      sim::ShrinkOptions so;
      so.max_seconds = options.shrink_seconds;
      const sim::ScheduleSize size{r.schedule.decisions.size(), r.context_switches, r.preemptions, r.steps};
      const sim::ShrinkResult shrunk = sim::shrink_schedule(
          r.schedule, size,
          [&](const sim::Schedule& candidate) {
            sim::Simulation s(sim_options(options, StrategySpec::lenient(candidate), seed));
            const sim::RunResult c = run_once(s, body);
            return sim::Probe{sim::failure_signature(c.outcome, c.message), c.steps, c.preemptions};
          },
          so);
      if (shrunk.reproduced) {
        to_write = shrunk.schedule;
        res.shrunk = true;
        res.switches_after = shrunk.after.switches;
      }
    }
    std::error_code ec;
    const std::filesystem::path dir = artifact_dir(options);
    std::filesystem::create_directories(dir, ec);
    // The failure's files: <stem>.schedule.json and <stem>.trace.json.
    const std::filesystem::path stem =
        std::filesystem::absolute(dir / (file_stem(options.name) + "-seed" + std::to_string(seed)), ec);
    const std::filesystem::path file = stem.string() + ".schedule.json";
    std::string error;
    if (to_write.save(file.string(), error)) {
      res.schedule_path = file.string();
      res.replay = replay_line(options, res.schedule_path);
    } else {
      res.message += " (the schedule could not be written: " + error + ")";
    }
    // The trace is of the schedule written (the shrunk one when it shrank).
    const std::string trace = stem.string() + ".trace.json";
    if (replayable) {
      res.trace_error = write_trace(options, to_write, sim::failure_signature(r.outcome, r.message),
                                    "weft " + options.name + " seed " + std::to_string(seed), trace, body);
    } else {
      std::filesystem::remove(trace, ec);
      res.trace_error = "a resource_limit failure is not replayed for a trace (a replayed overflow may end the process)";
    }
    if (res.trace_error.empty()) res.trace_path = trace;
    return res;
  }
  return res;
}

}  // namespace weft::testing
