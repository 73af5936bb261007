// A sweep's HTML report (see sweep.hpp): static tables, no script but the ready marker.
#include <algorithm>
#include <string>

#include "sweep.hpp"

namespace weft::sweep {
namespace {

// html_escape makes text safe inside an element or an attribute.
std::string html_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

}  // namespace

std::string sweep_report_html(const Summary& s, const std::string& run_link, const std::set<std::uint64_t>& linked) {
  std::string o = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>weft sweep report</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 12px 18px; color: #222; }
h1 { font-size: 18px; } h2 { font-size: 15px; margin-top: 18px; }
table { border-collapse: collapse; } td, th { padding: 2px 10px; border-bottom: 1px solid #eee; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; height: 11px; background: #4f7fbf; vertical-align: middle; }
.bad { color: #c62828; font-weight: bold; } code { font-size: 12px; }
</style></head><body>
)HTML";
  const std::uint64_t last = s.range.count ? s.range.first + s.range.count - 1 : s.range.first;
  o += "<h1>" + html_escape(s.scenario) + ": seeds " + std::to_string(s.range.first) + ".." + std::to_string(last) + "</h1>\n";
  o += "<p>" + std::to_string(s.seeds_run) + " runs of " + std::to_string(s.range.count) + " seeds, " +
       std::to_string(s.parts.size()) + " of " + std::to_string(s.shards) + " shards" +
       (s.complete() ? "" : " <span class=\"bad\">(incomplete)</span>") + "; scenario expects " + html_escape(s.expect) +
       "; " + html_escape(s.version) + (s.strategy_flag.empty() ? "" : "; --strategy " + html_escape(s.strategy_flag)) +
       html_escape(s.options) + ".</p>\n";
  o += "<h2>Outcomes</h2><table id=\"outcomes\"><tr><th>outcome</th><th>runs</th></tr>";
  for (const auto& [k, v] : s.outcomes) o += "<tr><td>" + html_escape(k) + "</td><td class=\"n\">" + std::to_string(v) + "</td></tr>";
  o += "</table><p>" + std::to_string(s.unexpected) + " unexpected failures.</p>\n";
  o += "<h2>Coverage marks reached</h2><table id=\"marks\"><tr><th>mark</th><th>runs</th></tr>";
  for (const auto& [m, v] : s.marks)
    o += "<tr><td>" + html_escape(m) + "</td><td class=\"n\">" + std::to_string(v) + "</td></tr>";
  if (s.marks.empty()) o += "<tr><td>none</td><td></td></tr>";
  o += "</table>\n<h2>Decisions per run</h2><table id=\"histogram\"><tr><th>decisions</th><th>runs</th><th></th></tr>";
  std::uint64_t most = 1;
  for (auto v : s.histogram) most = std::max(most, v);
  for (std::size_t b = 0; b < kHistogramBuckets; ++b) {
    if (!s.histogram[b]) continue;
    const std::string range = b == 0 ? "0" : std::to_string(1ull << (b - 1)) + " to " + std::to_string(b >= 64 ? UINT64_MAX : (1ull << b) - 1);
    o += "<tr><td>" + range + "</td><td class=\"n\">" + std::to_string(s.histogram[b]) + "</td><td><span class=\"bar\" style=\"width:" +
         std::to_string(1 + 400 * s.histogram[b] / most) + "px\"></span></td></tr>";
  }
  o += "</table><p>" + std::to_string(s.decisions) + " decisions in all, at most " + std::to_string(s.decisions_max) +
       " in one run.</p>\n<h2>Strategies</h2><pre>" + html_escape(describe(s)) + "</pre>\n";
  o += "<h2>Failures</h2>";
  if (!linked.empty())
    o += "<p>The first " + std::to_string(linked.size()) + " failures (unexpected ones first) link to their run pages; " +
         "the replay line of any other writes its page.</p>";
  o += "<table id=\"failures\"><tr><th>seed</th><th>strategy</th><th>outcome</th><th>expected</th><th>message</th><th>replay</th></tr>";
  for (const Failure& f : s.failures) {
    // A failure without a page shows the replay line that writes it.
    std::string seed = std::to_string(f.seed);
    const std::string link = run_link.empty() ? "" : run_page_name(run_link, f.seed);
    if (!link.empty() && linked.count(f.seed)) seed = "<a href=\"" + html_escape(link) + "\">" + seed + "</a>";
    o += "<tr><td>" + seed + "</td><td>" + html_escape(f.strategy) + "</td><td" + (f.unexpected ? " class=\"bad\"" : "") + ">" +
         html_escape(f.outcome) + "</td><td>" + (f.unexpected ? "no" : "yes") + "</td><td>" + html_escape(f.message) +
         "</td><td><code>" + html_escape(f.replay) + (link.empty() ? "" : " --report " + html_escape(sim::shell_quote(link))) +
         "</code></td></tr>";
  }
  o += "</table>";
  if (s.failures_unlisted) o += "<p>" + std::to_string(s.failures_unlisted) + " more failures not listed.</p>";
  o += "\n<script>document.body.dataset.ready = \"1\"; console.log(\"weft-report-ready\");</script>\n</body></html>\n";
  return o;
}

}  // namespace weft::sweep
