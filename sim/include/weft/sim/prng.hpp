// The simulator's pseudo-random generator: xoshiro256** seeded by splitmix64.
//
// Every random choice of a simulated run comes from a generator defined here, with
// our own bounded draw, so a seed gives the same numbers on every standard library
// (std distributions are implementation-defined; see simulation-pitfalls.md #4).
#pragma once

#include <cstdint>

namespace weft::sim {

// splitmix64 advances `state` and returns the next splitmix64 output.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Prng is xoshiro256** (Blackman and Vigna), seeded from one 64-bit value.
class Prng {
 public:
  // Prng(seed) expands `seed` with splitmix64 into the 256-bit state.
  explicit constexpr Prng(std::uint64_t seed = 0) noexcept {
    std::uint64_t sm = seed;
    for (auto& word : s_) word = splitmix64(sm);
  }

  // next_u64 returns the next 64 random bits.
  constexpr std::uint64_t next_u64() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // below(n) returns a uniform draw in [0, n) by Lemire's multiply-and-reject; n > 0.
  constexpr std::uint64_t below(std::uint64_t n) noexcept {
    __uint128_t m = static_cast<__uint128_t>(next_u64()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<__uint128_t>(next_u64()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

  std::uint64_t s_[4]{};
};

}  // namespace weft::sim
