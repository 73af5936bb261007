// simrun merge: combines the summaries of a sweep's shards (simrun --summary, or
// the last line of simrun --json) into the summary of the whole sweep.
#include <CLI/CLI.hpp>
#include <cstdio>
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

}  // namespace

int merge_main(int argc, char** argv) {
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
  std::string report, run_link;
  app.add_option("--report", report, "write the sweep's HTML report to FILE");
  app.add_option("--run-link", run_link,
                 "with --report: link each failure's seed to this page, SEED replaced by the seed "
                 "(default SCENARIO-seedSEED.html, what its replay line with --report writes)");
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
    o << sweep_report_html(*m, run_link.empty() ? m->scenario + "-seedSEED.html" : run_link);
    if (!o) {
      std::fprintf(stderr, "simrun merge: --report: cannot write '%s'\n", sim::printable(report).c_str());
      return kExitUsage;
    }
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
      if (f.unexpected) std::printf("  replay: %s   # %s: %s\n", f.replay.c_str(), f.outcome.c_str(), sim::printable(f.message).c_str());
    }
    if (m->failures_unlisted) std::printf("  (%llu more failures not listed)\n", static_cast<unsigned long long>(m->failures_unlisted));
  }
  const int code = m->exit_code([](const std::string& o) { return outcome_code(o).value_or(1); });
  return code == 7 ? kExitExpectedFailureNotObserved : code;
}

}  // namespace weft::sweep
