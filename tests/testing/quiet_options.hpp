// quiet_options: the exploration options of weft's own tests: this test's seeds
// only (the WEFT_* environment is ignored), failures written under the build
// directory, a short shrink budget.
#pragma once

#include <cstdint>
#include <string>

#include "weft/testing.hpp"

namespace weft::testing::test {

inline Options quiet_options(const std::string& name, std::uint64_t seeds) {
  Options o;
  o.name = name;
  o.seeds = seeds;
  o.read_env = false;
  o.artifact_dir = WEFT_TEST_ARTIFACT_DIR;
  o.shrink_seconds = 5;
  return o;
}

}  // namespace weft::testing::test
