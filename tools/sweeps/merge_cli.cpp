// simrun merge: combines the summaries of a sweep's shards (simrun --summary, or
// the last line of simrun --json) into the summary of the whole sweep.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sweep.hpp"

namespace weft::sweep {
namespace {

// The exit codes simrun merge adds to the outcomes' (see simrun --help).
constexpr int kExitExpectedFailureNotObserved = 7;
constexpr int kExitBadInput = 8;
constexpr int kExitUsage = 9;

std::string missing_parts(const Summary& s) {
  std::string out;
  std::size_t listed = 0;
  for (std::uint64_t p = 0; p < s.shards && listed < 20; ++p) {
    if (s.parts.count(p)) continue;
    out += (listed++ ? ", " : "") + std::to_string(p);
  }
  if (s.shards - s.parts.size() > listed) out += ", ...";
  return out;
}

// kRunFlagsWithValue and kRunFlagsAlone are the flags a summary's options (and so
// a replay line) may carry: those that change a run (simrun's run_options), none
// that writes a file.
constexpr std::string_view kRunFlagsWithValue[] = {"--step-bound", "--livelock-decisions", "--metrics-every",
                                                   "--no-check", "--memory-limit"};
constexpr std::string_view kRunFlagsAlone[] = {"--no-race-detection"};

// run_flags splits a summary's options into words and checks each is a run flag.
std::optional<std::vector<std::string>> run_flags(const std::string& options) {
  const std::string_view text = std::string_view(options).substr(options.empty() || options[0] != ' ' ? 0 : 1);
  auto words = text.empty() ? std::optional<std::vector<std::string>>(std::vector<std::string>{}) : split_words(text);
  if (!words) return std::nullopt;
  for (std::size_t i = 0; i < words->size(); ++i) {
    const std::string& w = (*words)[i];
    if (std::find(std::begin(kRunFlagsAlone), std::end(kRunFlagsAlone), w) != std::end(kRunFlagsAlone)) continue;
    if (std::find(std::begin(kRunFlagsWithValue), std::end(kRunFlagsWithValue), w) == std::end(kRunFlagsWithValue) ||
        i + 1 == words->size() || (*words)[i + 1].empty() || (*words)[i + 1][0] == '-')
      return std::nullopt;
    ++i;
  }
  return words;
}

// PageRun is one failure's rerun: simrun's arguments after its own path.
struct PageRun {
  std::uint64_t seed = 0;
  std::string outcome;
  std::vector<std::string> args;
};

// rerun runs this simrun again (its stdout dropped) and returns its exit code, or
// -1 if it could not be started.
int rerun(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string self = "/proc/self/exe";
  argv.push_back(self.data());
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

int merge_main(int argc, char** argv, const RerunHooks& hooks) {
  CLI::App app{"simrun merge: combine the summaries of a sweep's shards into the sweep's summary.\n"
               "  simrun SCENARIO --seeds A..B --shard I/N --collect --summary shard-I.json   (each I)\n"
               "  simrun merge shard-*.json\n"};
  app.footer("Exit codes: the sweep's, as simrun --seeds gives them (0, an unexpected failure's code, or 7 when a\n"
             "negative scenario's failure was never seen); 8 a file is not a summary, or the files are not\n"
             "disjoint shards of one sweep, or a shard is missing (without --partial); 9 usage error.");
  std::vector<std::string> files;
  bool json = false, partial = false;
  std::string out;
  app.add_option("files", files, "summary files (simrun --summary FILE, or the output of simrun --json)")->required();
  app.add_flag("--json", json, "print the merged summary as JSON (format weft-sweep)");
  app.add_option("--out", out, "write the merged summary to FILE (it merges again)");
  std::string report, run_link, scenario_file;
  app.add_option("--report", report,
                 "write the sweep's HTML report to FILE, and next to it the run pages of the first " +
                     std::to_string(kRunPagesWritten) +
                     " failures (unexpected ones first), rerun from their replay lines (the scenario file must "
                     "still have the sweep's text)");
  app.add_option("--scenario", scenario_file,
                 "with --report: rerun the failures with this scenario file (default: the file their replay lines name)");
  app.add_option("--run-link", run_link,
                 "with --report: write no run pages; link every failure's seed to this page instead, SEED replaced "
                 "by the seed (e.g. where the shards' own --report wrote them)");
  app.add_flag("--partial", partial, "merge even if some shards are missing (the sweep is then incomplete)");
  try {
    app.parse(argc - 1, argv + 1);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "simrun merge: %s (see simrun merge --help)\n", sim::printable(e.what()).c_str());
    return kExitUsage;
  }
  std::vector<Summary> parts;
  for (const std::string& f : files) {
    sim::InputError err;
    auto s = load_summary(f, err);
    if (!s) {
      std::fprintf(stderr, "simrun merge: %s\n", err.message().c_str());
      return kExitBadInput;
    }
    parts.push_back(std::move(*s));
  }
  sim::InputError err;
  auto m = merge(parts, files, err);
  if (!m) {
    std::fprintf(stderr, "simrun merge: %s\n", err.message().c_str());
    return kExitBadInput;
  }
  if (m->parts.size() < m->shards && !partial) {
    std::fprintf(stderr, "simrun merge: expected every shard of %llu, missing %s (--partial merges what there is)\n",
                 static_cast<unsigned long long>(m->shards), missing_parts(*m).c_str());
    return kExitBadInput;
  }
  // The run pages' reruns, checked before anything is written: each failure's
  // replay line must be the one simrun writes for its seed, strategy and the
  // sweep's options, and the scenario file must still hold the sweep's text.
  std::vector<PageRun> page_runs;
  std::string page_link = run_link;
  const auto refuse = [](const std::string& what) {
    std::fprintf(stderr, "simrun merge: --report: %s\n", sim::printable(what).c_str());
    return kExitBadInput;
  };
  if (!report.empty() && run_link.empty()) {
    const auto flags = run_flags(m->options);
    if (!flags)
      return refuse("$.options: expected the flags a replay line carries (--step-bound N, --no-check NAME, ...), got '" +
                    m->options + "'");
    std::map<std::string, bool> checked;  // scenario file -> its text is the sweep's
    for (const Failure& f : run_page_failures(*m)) {
      const auto words = split_words(f.replay);
      const std::vector<std::string> head = {"tools/simrun", "", "--seed", std::to_string(f.seed), "--strategy", f.strategy};
      bool ok = words && words->size() == head.size() + flags->size();
      for (std::size_t i = 0; ok && i < words->size(); ++i)
        ok = i == 1 ? !(*words)[i].empty() : (*words)[i] == (i < head.size() ? head[i] : (*flags)[i - head.size()]);
      if (!ok)
        return refuse("the failure of seed " + std::to_string(f.seed) + ": expected the replay line simrun writes (" +
                      "tools/simrun SCENARIO --seed " + std::to_string(f.seed) + " --strategy " + f.strategy +
                      m->options + "), got '" + f.replay + "'");
      const std::string path = scenario_file.empty() ? (*words)[1] : scenario_file;
      if (!checked.count(path)) {
        std::string error;
        const auto hash = hooks.scenario_hash(path, error);
        if (!hash) return refuse("cannot rerun the failures: " + error);
        if (*hash != m->scenario_hash)
          return refuse(path + ": expected the sweep's scenario text (scenario_hash " + m->scenario_hash + "), got " +
                        *hash + ": the file changed since the sweep, so its failures would not rerun as they ran");
        checked[path] = true;
      }
      if (hooks.version != m->version)
        return refuse("the sweep ran " + m->version + ", this simrun is " + hooks.version +
                      ": its reruns would not be the sweep's runs");
      if (page_link.empty()) page_link = std::filesystem::path(path).stem().string() + "-seedSEED.html";
      PageRun r{f.seed, f.outcome, {path, "--seed", std::to_string(f.seed), "--strategy", f.strategy}};
      r.args.insert(r.args.end(), flags->begin(), flags->end());
      page_runs.push_back(std::move(r));
    }
  }
  std::set<std::uint64_t> linked;
  for (const Failure& f : m->failures) {
    if (!run_link.empty()) linked.insert(f.seed);
  }
  for (const PageRun& r : page_runs) linked.insert(r.seed);
  if (!out.empty()) {
    std::ofstream o(out, std::ios::binary | std::ios::trunc);
    o << sim::dump_safe(m->to_json(), 2) << "\n";
    if (!o) {
      std::fprintf(stderr, "simrun merge: --out: cannot write '%s'\n", sim::printable(out).c_str());
      return kExitUsage;
    }
  }
  if (!report.empty()) {
    std::ofstream o(report, std::ios::binary | std::ios::trunc);
    o << sweep_report_html(*m, page_link, linked);
    if (!o) {
      std::fprintf(stderr, "simrun merge: --report: cannot write '%s'\n", sim::printable(report).c_str());
      return kExitUsage;
    }
  }
  // Each page is the failure's replay line plus --report, run by this simrun.
  for (PageRun& r : page_runs) {
    const std::string page = (std::filesystem::path(report).parent_path() / run_page_name(page_link, r.seed)).string();
    r.args.insert(r.args.end(), {"--report", page, "--quiet"});
    const int code = rerun(r.args);
    if (code != outcome_code(r.outcome).value_or(-1))
      return refuse("seed " + std::to_string(r.seed) + " reran with exit " + std::to_string(code) + ", not as its recorded " +
                    r.outcome + " (exit " + std::to_string(outcome_code(r.outcome).value_or(-1)) + ")");
  }
  if (json) {
    std::printf("%s\n", sim::dump_safe(m->to_json()).c_str());
  } else {
    std::printf("%s: %llu of %llu seeds from %llu (%zu of %llu shards, %zu files), %.2f s of runs\n",
                sim::printable(m->scenario).c_str(), static_cast<unsigned long long>(m->seeds_run),
                static_cast<unsigned long long>(m->range.count), static_cast<unsigned long long>(m->range.first),
                m->parts.size(), static_cast<unsigned long long>(m->shards), files.size(), m->seconds);
    if (m->parts.size() < m->shards) std::printf("  incomplete: shards %s missing\n", missing_parts(*m).c_str());
    if (m->seeds_run < m->seeds_assigned)
      std::printf("  %llu seeds not run: a shard stopped at its first unexpected failure (--collect runs them all)\n",
                  static_cast<unsigned long long>(m->seeds_assigned - m->seeds_run));
    std::printf("%s", describe(*m).c_str());
    std::printf("  longest stretch without progress: %llu decisions (seed %llu)\n",
                static_cast<unsigned long long>(m->longest_quiet), static_cast<unsigned long long>(m->longest_quiet_seed));
    for (const Failure& f : m->failures) {
      // Every string from a summary file is escaped: a hostile one reaches no terminal raw.
      if (f.unexpected)
        std::printf("  replay: %s   # %s: %s\n", sim::printable(f.replay).c_str(), f.outcome.c_str(),
                    sim::printable(f.message).c_str());
    }
    if (m->failures_unlisted) std::printf("  (%llu more failures not listed)\n", static_cast<unsigned long long>(m->failures_unlisted));
    if (!page_runs.empty())
      std::printf("  run pages of %zu failures written next to %s\n", page_runs.size(), sim::printable(report).c_str());
  }
  const int code = m->exit_code([](const std::string& o) { return outcome_code(o).value_or(1); });
  return code == 7 ? kExitExpectedFailureNotObserved : code;
}

}  // namespace weft::sweep
