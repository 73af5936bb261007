// Fuzz target: the scenario loader. Any bytes either load or are refused with an
// InputError (never a crash, an uncaught exception or a sanitizer report), and
// every scenario that loads survives a write-and-reload round trip unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_check.hpp"
#include "weft/harness/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace weft::sim;
  const std::string text(reinterpret_cast<const char*>(data), size);
  ScenarioError error;
  const auto sc = parse_scenario(text, "fuzz.json", error);
  if (!sc) {
    weft_fuzz_check(!error.message().empty(), "a refused scenario says why");
    return 0;
  }
  // Round trip: written, reloaded, written again: the same text.
  const std::string once = scenario_to_json(*sc);
  ScenarioError again_error;
  const auto again = parse_scenario(once, "fuzz-rewritten.json", again_error);
  weft_fuzz_check(again.has_value(), "a written scenario loads back", again_error.message());
  weft_fuzz_check(scenario_to_json(*again) == once, "a reloaded scenario writes the same text", once);
  return 0;
}
