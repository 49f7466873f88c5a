// ember/core/random.hpp — Generator: a seeded Philox4x32-10 stream, and ember's distributions.
// Layer: core. Same seed, same numbers on every platform and standard library: the bits come
// from Philox (Salmon et al., SC'11; counter-based, so a stream can be split or skipped ahead
// cheaply), and the distributions are defined here instead of std::*_distribution, whose
// output differs between standard libraries. Uniform floats take the top 24 (float) or 53
// (double) bits; normals use Box-Muller evaluated in double and rounded, so float results do not
// depend on the last ulp of the platform's log/cos.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace ember {

/// A Philox4x32-10 random stream. Not thread-safe: give each thread its own Generator.
class Generator {
 public:
  using Block = std::array<std::uint32_t, 4>;
  using Key = std::array<std::uint32_t, 2>;

  /// A stream keyed by `seed`, starting at counter 0.
  explicit Generator(std::uint64_t seed = 0x853c49e6748fea9bULL) { manual_seed(seed); }

  /// Restarts the stream: same seed, same sequence.
  void manual_seed(std::uint64_t seed) {
    seed_ = seed;
    key_ = {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
    counter_ = 0;
    used_ = 4;
    has_spare_normal_ = false;
  }
  std::uint64_t seed() const { return seed_; }

  /// Philox4x32's multipliers and key increments (Salmon et al., SC'11), shared by every
  /// implementation of the rounds (this class's, and the AVX-512 one of kernels/dropout.hpp).
  static constexpr std::uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
  static constexpr std::uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

  /// The Philox4x32-10 bijection: 10 rounds of a multiply-xor Feistel network on `ctr`.
  static Block philox(Block ctr, Key key) {
    for (int round = 0; round < 10; ++round) {
      std::uint64_t p0 = std::uint64_t{kPhiloxM0} * ctr[0];
      std::uint64_t p1 = std::uint64_t{kPhiloxM1} * ctr[2];
      ctr = {static_cast<std::uint32_t>(p1 >> 32) ^ ctr[1] ^ key[0], static_cast<std::uint32_t>(p1),
             static_cast<std::uint32_t>(p0 >> 32) ^ ctr[3] ^ key[1],
             static_cast<std::uint32_t>(p0)};
      key[0] += kPhiloxW0;
      key[1] += kPhiloxW1;
    }
    return ctr;
  }

  /// philox() on L counters at once, in place, one array per word of the block.
  template <int L>
  static void philox_lanes(std::uint32_t* c0, std::uint32_t* c1, std::uint32_t* c2,
                           std::uint32_t* c3, Key key) {
    for (int round = 0; round < 10; ++round) {
      for (int l = 0; l < L; ++l) {
        const std::uint64_t p0 = std::uint64_t{kPhiloxM0} * c0[l];
        const std::uint64_t p1 = std::uint64_t{kPhiloxM1} * c2[l];
        const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1[l] ^ key[0];
        const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3[l] ^ key[1];
        c1[l] = static_cast<std::uint32_t>(p1);
        c3[l] = static_cast<std::uint32_t>(p0);
        c0[l] = n0;
        c2[l] = n2;
      }
      key[0] += kPhiloxW0;
      key[1] += kPhiloxW1;
    }
  }

  /// Next uniformly distributed 32-bit word.
  std::uint32_t next_u32() {
    if (used_ == 4) {
      block_ = philox({static_cast<std::uint32_t>(counter_),
                       static_cast<std::uint32_t>(counter_ >> 32), 0u, 0u},
                      key_);
      ++counter_;
      used_ = 0;
    }
    return block_[used_++];
  }
  /// Fills out[0, n) with the next n words: exactly what n calls of next_u32 return, but whole
  /// blocks are computed straight into `out` (no per-word branch; the loop vectorises).
  void fill_u32(std::uint32_t* out, std::int64_t n) {
    std::int64_t i = 0;
    while (i < n && used_ < 4) out[i++] = block_[used_++];
    // 16 blocks at a time in structure-of-arrays form, which g++ turns into 512-bit
    // multiplies and xors (lanes = counters).
    constexpr int kLanes = 16;
    while (n - i >= 4 * kLanes) {
      std::uint32_t c0[kLanes], c1[kLanes], c2[kLanes], c3[kLanes];
      for (int l = 0; l < kLanes; ++l) {
        const std::uint64_t c = counter_ + static_cast<std::uint64_t>(l);
        c0[l] = static_cast<std::uint32_t>(c);
        c1[l] = static_cast<std::uint32_t>(c >> 32);
        c2[l] = c3[l] = 0;
      }
      philox_lanes<kLanes>(c0, c1, c2, c3, key_);
      for (int l = 0; l < kLanes; ++l) {
        out[i + 4 * l] = c0[l];
        out[i + 4 * l + 1] = c1[l];
        out[i + 4 * l + 2] = c2[l];
        out[i + 4 * l + 3] = c3[l];
      }
      counter_ += kLanes;
      i += 4 * kLanes;
    }
    while (i < n) out[i++] = next_u32();
  }
  std::uint64_t next_u64() {
    std::uint64_t hi = next_u32();
    return (hi << 32) | next_u32();
  }

  /// Uniform in [0, 1): 24 random bits for float, 53 for double.
  float next_float() { return static_cast<float>(next_u32() >> 8) * 0x1.0p-24f; }
  double next_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  /// Uniform integer in [0, n) without modulo bias (Lemire's multiply-shift with rejection).
  std::uint64_t next_below(std::uint64_t n) {
    if (n <= 1) return 0;
    if (n <= 0xffffffffULL) {
      std::uint32_t n32 = static_cast<std::uint32_t>(n);
      std::uint64_t m = std::uint64_t{next_u32()} * n32;
      std::uint32_t low = static_cast<std::uint32_t>(m);
      if (low < n32) {
        std::uint32_t threshold = static_cast<std::uint32_t>(-n32) % n32;
        while (low < threshold) {
          m = std::uint64_t{next_u32()} * n32;
          low = static_cast<std::uint32_t>(m);
        }
      }
      return m >> 32;
    }
    std::uint64_t limit = ~0ULL - (~0ULL % n);  // reject the incomplete top bucket
    std::uint64_t x;
    do x = next_u64();
    while (x >= limit);
    return x % n;
  }

  /// Standard normal, by Box-Muller in double (both outputs of a pair are used).
  double next_normal() {
    if (has_spare_normal_) {
      has_spare_normal_ = false;
      return spare_normal_;
    }
    double u1 = (static_cast<double>(next_u64() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]: log is finite
    double u2 = next_double();
    double r = std::sqrt(-2.0 * std::log(u1));
    constexpr double kTwoPi = 6.283185307179586476925286766559;
    spare_normal_ = r * std::sin(kTwoPi * u2);
    has_spare_normal_ = true;
    return r * std::cos(kTwoPi * u2);
  }

 private:
  std::uint64_t seed_ = 0;
  Key key_{};
  std::uint64_t counter_ = 0;
  Block block_{};
  std::size_t used_ = 4;  // words of block_ already returned
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

/// The process-wide generator used when no Generator is passed. Not thread-safe.
inline Generator& default_generator() {
  static Generator gen;
  return gen;
}

/// Reseeds the default generator, like torch.manual_seed.
inline void manual_seed(std::uint64_t seed) {
  default_generator().manual_seed(seed);
}

}  // namespace ember
