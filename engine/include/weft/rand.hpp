// Seeded pseudo-random numbers whose output is the same on every standard library.
#pragma once

#include <cstdint>

namespace weft::rng {

// splitmix64 derives well-mixed seeds from one seed.
constexpr std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// FastRand is the workers' xorshift generator for victim selection.
class FastRand {
 public:
  explicit FastRand(std::uint64_t seed = 1) noexcept {
    std::uint64_t s = seed;
    one_ = static_cast<std::uint32_t>(splitmix64(s)) | 1u;
    two_ = static_cast<std::uint32_t>(splitmix64(s)) | 1u;
  }
  std::uint32_t next() noexcept {
    std::uint32_t s1 = one_;
    const std::uint32_t s0 = two_;
    s1 ^= s1 << 17;
    s1 = s1 ^ s0 ^ (s1 >> 7) ^ (s0 >> 16);
    one_ = s0;
    two_ = s1;
    return s0 + s1;
  }
  // next_n draws uniformly from [0, n) by multiply-shift, no std distribution.
  std::uint32_t next_n(std::uint32_t n) noexcept {
    return static_cast<std::uint32_t>((static_cast<std::uint64_t>(next()) * n) >> 32);
  }

 private:
  std::uint32_t one_;
  std::uint32_t two_;
};

}  // namespace weft::rng
