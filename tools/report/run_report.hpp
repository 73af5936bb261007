// One run's self-contained HTML report (simrun --seed N --report FILE.html): no
// network at view time, the script and the data are inline. A sweep's report is
// sweep_report_html (sweeps/sweep.hpp).
#pragma once

#include <string>

#include "weft/harness/runner.hpp"

namespace weft::report {

// run_report_html renders one run kept with its trace (RunConfig::keep_trace and
// record_schedule): a lane per worker and per other simulated thread (polls,
// steals, parks, dump rounds), the injection and local queue depths over the run,
// the failure with its fiber, message and last decisions, and `replay`.
std::string run_report_html(const sim::Scenario& sc, const sim::RunConfig& cfg, const sim::RunReport& r,
                            const std::string& replay);

}  // namespace weft::report
