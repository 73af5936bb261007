// Test parameters: current-thread and multi-thread with 1, 2 and 4 workers.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "weft/runtime.hpp"

namespace weft::test {

struct RuntimeParam {
  std::string name;
  weft::Flavor flavor;
  std::uint32_t workers;
  weft::Runtime build() const {
    auto b = flavor == weft::Flavor::current_thread ? weft::Builder::current_thread()
                                                    : weft::Builder::multi_thread().worker_threads(workers);
    return b.build();
  }
  weft::Builder builder() const {
    return flavor == weft::Flavor::current_thread ? weft::Builder::current_thread()
                                                  : weft::Builder::multi_thread().worker_threads(workers);
  }
};

inline std::vector<RuntimeParam> all_runtimes() {
  return {{"CurrentThread", weft::Flavor::current_thread, 1},
          {"Workers1", weft::Flavor::multi_thread, 1},
          {"Workers2", weft::Flavor::multi_thread, 2},
          {"Workers4", weft::Flavor::multi_thread, 4}};
}

// multi_thread_runtimes lists the multi-thread configurations with at least min_workers.
inline std::vector<RuntimeParam> multi_thread_runtimes(std::uint32_t min_workers) {
  std::vector<RuntimeParam> out;
  for (auto& p : all_runtimes()) {
    if (p.flavor == weft::Flavor::multi_thread && p.workers >= min_workers) out.push_back(p);
  }
  return out;
}

inline std::string param_name(const ::testing::TestParamInfo<RuntimeParam>& info) { return info.param.name; }

}  // namespace weft::test
