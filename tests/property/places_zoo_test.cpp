// The places property (tests/property/places.hpp) on the bug-zoo engine: it must
// fail on each planted leak that its end-of-run checks exist for, and the failing
// case is printed. shutdown_defer_ref_kept: shutdown forgets the references of the
// tasks on a worker's defer list; timer_cancel_keeps_entry: cancelling a sleep
// leaves its entry in the timer heap (engine/src/zoo/bug_hooks.hpp). With no bug
// planted the same property passes (Properties.ShutdownDumpAndAbortReach...).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include <iostream>
#include <sstream>
#include <string>

#include "bug_hooks.hpp"  // the zoo targets' include path (engine/CMakeLists.txt)
#include "places.hpp"

namespace weft::sim::property {
namespace {

// kZooCases bounds the cases per bug; each bug is found within a few dozen.
constexpr int kZooCases = 1000;

// Planted restores the zoo's bug to none, however the test ends.
struct Planted {
  explicit Planted(weft::Bug b) { weft::active_bug = b; }
  ~Planted() { weft::active_bug = weft::Bug::none; }
};

// PlantedLeaksIgnored: what a planted leak loses is lost on purpose, so under
// LeakSanitizer the allocations of these runs are not reported at exit.
struct PlantedLeaksIgnored {
#if defined(__SANITIZE_ADDRESS__)
  PlantedLeaksIgnored() { __lsan_disable(); }
  ~PlantedLeaksIgnored() { __lsan_enable(); }
#endif
};

class PlacesFindsLeak : public ::testing::TestWithParam<weft::Bug> {};

TEST_P(PlacesFindsLeak, ThePlacesPropertyFailsOnThePlantedLeak) {
  const weft::Bug bug = GetParam();
  const std::string name(weft::kBugNames[static_cast<std::size_t>(bug)]);
  Planted planted(bug);
  [[maybe_unused]] PlantedLeaksIgnored ignored;
  std::string last;  // the last failing case's outcome: after shrinking, the minimal one
  std::uint64_t runs = 0;
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = kZooCases;
  rc::detail::TestMetadata meta;
  meta.id = "ZooPlaces/" + name;
  meta.description = name;
  const auto result = rc::detail::checkProperty(rc::detail::toProperty([&] {
                                                  const Case c = *gen_places_case();
                                                  RunConfig cfg;
                                                  const RunReport r = run_places_case(c, cfg);
                                                  ++runs;
                                                  if (r.result.outcome != Outcome::pass)
                                                    last = std::string(outcome_name(r.result.outcome)) + ": " + r.result.message;
                                                  RC_ASSERT(r.result.outcome == Outcome::pass);
                                                }),
                                                meta, params);
  std::ostringstream msg;
  rc::detail::printResultMessage(result, msg);
  ASSERT_FALSE(result.template is<rc::detail::SuccessResult>())
      << name << ": the places property passed " << kZooCases << " cases with the leak planted";
  std::cout << name << ": found (" << runs << " runs, shrinking included)\n" << msg.str() << "\n" << last << std::endl;
  EXPECT_NE(last.find("no_leak"), std::string::npos) << name << ": failed, but not by no_leak: " << last;
}

INSTANTIATE_TEST_SUITE_P(Zoo, PlacesFindsLeak,
                         ::testing::Values(weft::Bug::shutdown_defer_ref_kept, weft::Bug::timer_cancel_keeps_entry),
                         [](const ::testing::TestParamInfo<weft::Bug>& info) {
                           return std::string(weft::kBugNames[static_cast<std::size_t>(info.param)]);
                         });

}  // namespace
}  // namespace weft::sim::property
