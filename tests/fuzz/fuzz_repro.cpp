// Fuzz target: the reproduction reader (simrun repro FILE). Any bytes load or are
// refused with one line; a reproduction that loads writes, reloads and writes
// again to the same text.
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "weft/harness/repro.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace weft::sim;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto r = parse_repro(text, "fuzz.repro.json", error);
  if (!r) {
    weft_fuzz_check(!error.empty() && error.find('\n') == std::string::npos, "a refused reproduction says why in one line",
                    error);
    return 0;
  }
  const std::string once = repro_to_json(*r);
  std::string again_error;
  const auto again = parse_repro(once, "fuzz-rewritten.repro.json", again_error);
  weft_fuzz_check(again.has_value(), "a written reproduction loads back", again_error);
  weft_fuzz_check(repro_to_json(*again) == once, "a reloaded reproduction writes the same text", once);
  return 0;
}
