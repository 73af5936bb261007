// The fuzz targets' property check: a failed property prints what broke and
// aborts, which libFuzzer (and the replay driver) report as a finding.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

inline void weft_fuzz_check(bool ok, const char* property, const std::string& detail = {}) {
  if (ok) return;
  std::fprintf(stderr, "fuzz property violated: %s\n%s\n", property, detail.substr(0, 2000).c_str());
  std::abort();
}
