// ember/kernels/dropout.hpp — dropout masks from a Philox counter, and the masked products.
// Layer: kernels. A mask is a pure function of (key, coordinates): weight j of a row decided by
// 16 bits of Philox4x32-10 at counter (16·(j / 128) + lane, c1, c2, c3) (the lane-major layout of
// keep_row below), so the same key gives the same mask for any thread count or chunking, on
// every platform, and a mask can be regenerated instead of stored. One byte per element is
// stored when backward needs it (a float mask costs 4).
//
// Speed (bench_autograd encoder/step, 1 thread, Zen 5): the previous dropout (one 32-bit word
// per element from Generator::fill_u32, a float mask, one thread) was 6–9% of the step.
// Target: memory-bound, ≥ 50% of triad bandwidth for dropout_forward on 2 threads; reached: see
// README, "Roofline".
#pragma once

#include <algorithm>
#include <cstdint>

#include "ember/core/random.hpp"
#include "ember/kernels/cpu.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::kernels {

/// The 16-bit threshold for drop probability p: a draw below it drops (p is used to 1/65536).
inline std::uint32_t dropout_threshold(double p) {
  return static_cast<std::uint32_t>(p * 65536.0);
}

/// keep[j] (j < n) ← 1 if weight j survives, else 0. Chunk c (128 weights) takes the Philox
/// blocks at counters (16·c + l, c1, c2, c3), l < 16, under `key`; the low 16 bits of word e of
/// lane l decide weight 128·c + 16·e + l, the high 16 bits weight 128·c + 64 + 16·e + l. Two
/// draws per word halve the Philox work; the lane-major order keeps every loop contiguous.
inline void dropout_keep_row(std::uint8_t* keep, std::int64_t n, Generator::Key key,
                             std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                             std::uint32_t threshold) {
  constexpr int kLanes = 16, kChunk = 8 * kLanes;
  for (std::int64_t c = 0; c * kChunk < n; ++c) {
    std::uint32_t w[4][kLanes];
    for (int l = 0; l < kLanes; ++l) {
      w[0][l] = static_cast<std::uint32_t>(c * kLanes + l);
      w[1][l] = c1;
      w[2][l] = c2;
      w[3][l] = c3;
    }
    Generator::philox_lanes<kLanes>(w[0], w[1], w[2], w[3], key);
    // Decisions as 32-bit 0/1 first (compares on whole vectors), then narrowed to bytes in one
    // loop: deciding straight into bytes made g++ insert them one at a time.
    std::uint32_t keep32[kChunk];
    for (int e = 0; e < 4; ++e) {
      for (int l = 0; l < kLanes; ++l) {
        keep32[e * kLanes + l] = (w[e][l] & 0xffffu) >= threshold ? 1u : 0u;
        keep32[4 * kLanes + e * kLanes + l] = (w[e][l] >> 16) >= threshold ? 1u : 0u;
      }
    }
    const std::int64_t len = std::min<std::int64_t>(kChunk, n - c * kChunk);
    std::uint8_t* out = keep + c * kChunk;
    for (std::int64_t k = 0; k < len; ++k) out[k] = static_cast<std::uint8_t>(keep32[k]);
  }
}

/// The Philox key of a 64-bit seed.
inline Generator::Key dropout_key(std::uint64_t seed) {
  return {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
}

namespace detail_dropout {
// A flat tensor is cut into rows of kRow elements; row r is counter row (r, r >> 32, 0xD809).
inline constexpr std::int64_t kRow = 1 << 14;
}  // namespace detail_dropout

/// y = x ⊙ keep / (1 − p) over n contiguous elements, keep drawn from `seed` (stored in `keep`
/// when it is not null). Parallel over rows of 16 384 elements.
template <class T>
void dropout_forward(const T* x, T* y, std::uint8_t* keep, std::int64_t n, double p,
                     std::uint64_t seed) {
  using detail_dropout::kRow;
  const std::uint32_t threshold = dropout_threshold(p);
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  const Generator::Key key = dropout_key(seed);
  const std::int64_t rows = (n + kRow - 1) / kRow;
  parallel_for(0, rows, 2, [&](std::int64_t lo, std::int64_t hi) {
    std::uint8_t local[kRow];
    detail::with_widest_isa([&] {
      for (std::int64_t r = lo; r < hi; ++r) {
        const std::int64_t at = r * kRow, len = std::min(kRow, n - at);
        std::uint8_t* k = keep != nullptr ? keep + at : local;
        dropout_keep_row(k, len, key, static_cast<std::uint32_t>(r),
                         static_cast<std::uint32_t>(static_cast<std::uint64_t>(r) >> 32), 0xD809u,
                         threshold);
        const T* xr = x + at;
        T* yr = y + at;
        for (std::int64_t i = 0; i < len; ++i) yr[i] = xr[i] * (static_cast<T>(k[i]) * scale);
      }
    });
  });
}

/// dx = dy ⊙ keep / (1 − p) over n contiguous elements (dx may alias dy).
template <class T>
void dropout_backward(const T* dy, const std::uint8_t* keep, T* dx, std::int64_t n, double p) {
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  parallel_for(0, n, 32768, [&](std::int64_t lo, std::int64_t hi) {
    detail::with_widest_isa([&] {
      for (std::int64_t i = lo; i < hi; ++i) dx[i] = dy[i] * (static_cast<T>(keep[i]) * scale);
    });
  });
}

}  // namespace ember::kernels
