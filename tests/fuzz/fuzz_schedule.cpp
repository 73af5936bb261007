// Fuzz target: the schedule reader (--strategy replay:FILE). Any bytes load or are
// refused with one line; a schedule that loads writes, reloads and writes again
// to the same text, and compares equal to itself reloaded.
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "weft/sim/schedule.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace weft::sim;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto s = Schedule::from_json(text, error);
  if (!s) {
    weft_fuzz_check(!error.empty() && error.find('\n') == std::string::npos, "a refused schedule says why in one line",
                    error);
    return 0;
  }
  const std::string once = s->to_json();
  std::string again_error;
  const auto again = Schedule::from_json(once, again_error);
  weft_fuzz_check(again.has_value(), "a written schedule loads back", again_error);
  weft_fuzz_check(*again == *s, "a reloaded schedule equals the loaded one", once);
  weft_fuzz_check(again->to_json() == once, "a reloaded schedule writes the same text", once);
  return 0;
}
