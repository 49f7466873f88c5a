// ember/kernels/dropout.hpp — dropout masks from a Philox counter, and the masked products.
// Layer: kernels. A mask is a pure function of (key, coordinates): weight j of a row decided by
// 16 bits of Philox4x32-10 at counter (16·(j / 128) + lane, c1, c2, c3) (the lane-major layout of
// keep_row below), so the same key gives the same mask for any thread count or chunking, on
// every platform, and a mask can be regenerated instead of stored. One byte per element is
// stored when backward needs it (a float mask costs 4).
//
// Speed (bench_autograd encoder/step, 1 thread, Zen 5): the previous dropout (one 32-bit word
// per element from Generator::fill_u32, a float mask, one thread) was 6–9% of the step.
// Target: memory-bound, ≥ 80% of triad bandwidth for dropout_forward. The portable loop
// (philox_lanes in the widest copy) reached 12.4 / 23.5 GB/s on 1 / 2 threads (Zen 5 guest,
// 29% of the 2-thread triad): g++ 12 lowers its 32×32→64 products to vpmovzxdq + vpmullq +
// vpermt2d. The AVX-512 form below (vpmuludq on even and odd lanes, mask and product fused in
// one pass, no byte mask written and re-read) reached: see README, "Roofline".
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "ember/core/random.hpp"
#include "ember/kernels/cpu.hpp"
#include "ember/kernels/parallel.hpp"

#if EMBER_X86
#include <immintrin.h>
#endif

namespace ember::kernels {

/// The 16-bit threshold for drop probability p: a draw below it drops (p is used to 1/65536).
inline std::uint32_t dropout_threshold(double p) {
  return static_cast<std::uint32_t>(p * 65536.0);
}

#if EMBER_X86
namespace detail_dropout {

#define EMBER_TARGET_DROPOUT __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw")))

// All-lanes masks: the maskz forms, because g++ 12's unmasked forms pass an undefined register
// through, which its own -Wmaybe-uninitialized flags (as kernels/adam.hpp notes).
constexpr __mmask8 kAll8 = 0xff;
constexpr __mmask16 kAll16 = 0xffff;

/// Philox4x32-10 (Generator::philox) on 16 counters at once, one zmm per word of the block.
EMBER_TARGET_DROPOUT inline void philox16(__m512i& x0, __m512i& x1, __m512i& x2, __m512i& x3,
                                          Generator::Key key) {
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(Generator::kPhiloxM0));
  const __m512i m1 = _mm512_set1_epi32(static_cast<int>(Generator::kPhiloxM1));
  constexpr __mmask16 kOdd = 0xAAAA;
  for (int round = 0; round < 10; ++round) {
    // 32×32→64 products of the even lanes, then of the odd lanes moved down; the high words
    // are merged back into 16 lanes, the low words are the plain 32-bit product.
    const __m512i p0e = _mm512_maskz_mul_epu32(kAll8, x0, m0);
    const __m512i p0o = _mm512_maskz_mul_epu32(kAll8, _mm512_maskz_srli_epi64(kAll8, x0, 32), m0);
    const __m512i p1e = _mm512_maskz_mul_epu32(kAll8, x2, m1);
    const __m512i p1o = _mm512_maskz_mul_epu32(kAll8, _mm512_maskz_srli_epi64(kAll8, x2, 32), m1);
    const __m512i hi0 = _mm512_mask_blend_epi32(kOdd, _mm512_maskz_srli_epi64(kAll8, p0e, 32), p0o);
    const __m512i hi1 = _mm512_mask_blend_epi32(kOdd, _mm512_maskz_srli_epi64(kAll8, p1e, 32), p1o);
    const __m512i lo0 = _mm512_mask_blend_epi32(kOdd, p0e, _mm512_maskz_slli_epi64(kAll8, p0o, 32));
    const __m512i lo1 = _mm512_mask_blend_epi32(kOdd, p1e, _mm512_maskz_slli_epi64(kAll8, p1o, 32));
    x0 = _mm512_maskz_ternarylogic_epi32(kAll16, hi1, x1, _mm512_set1_epi32(static_cast<int>(key[0])), 0x96);
    x2 = _mm512_maskz_ternarylogic_epi32(kAll16, hi0, x3, _mm512_set1_epi32(static_cast<int>(key[1])), 0x96);
    x1 = lo1;
    x3 = lo0;
    key[0] += Generator::kPhiloxW0;
    key[1] += Generator::kPhiloxW1;
  }
}

/// dropout_keep_row's mask for n weights, fused with the product when x is given: keep (if not
/// null) ← the mask bytes, y ← x ⊙ keep·scale (x, y null: the mask only). The same draws and
/// the same products as the portable loops (a dropped x becomes x·0: −0, or NaN for ±inf/NaN).
EMBER_TARGET_DROPOUT inline void dropout_row_avx512(const float* x, float* y, std::uint8_t* keep,
                                                    std::int64_t n, Generator::Key key,
                                                    std::uint32_t c1, std::uint32_t c2,
                                                    std::uint32_t c3, std::uint32_t threshold,
                                                    float scale) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i thr = _mm512_set1_epi32(static_cast<int>(threshold));
  const __m512i low16 = _mm512_set1_epi32(0xffff);
  const __m512 sv = _mm512_set1_ps(scale);
  const __m128i one = _mm_set1_epi8(1);
  for (std::int64_t c = 0; c * 128 < n; ++c) {
    __m512i w[4] = {_mm512_maskz_add_epi32(kAll16, _mm512_set1_epi32(static_cast<int>(16 * c)), lane),
                    _mm512_set1_epi32(static_cast<int>(c1)), _mm512_set1_epi32(static_cast<int>(c2)),
                    _mm512_set1_epi32(static_cast<int>(c3))};
    philox16(w[0], w[1], w[2], w[3], key);
    for (int half = 0; half < 2; ++half) {
      for (int e = 0; e < 4; ++e) {
        const std::int64_t at = 128 * c + 64 * half + 16 * e;
        if (at >= n) return;
        const __m512i draw = half == 0 ? _mm512_maskz_and_epi32(kAll16, w[e], low16) : _mm512_maskz_srli_epi32(kAll16, w[e], 16);
        const __mmask16 kept = _mm512_cmpge_epu32_mask(draw, thr);
        const std::int64_t left = n - at;
        const __mmask16 valid = left >= 16 ? static_cast<__mmask16>(0xffff)
                                           : static_cast<__mmask16>((1u << left) - 1u);
        const __m128i bytes = _mm_maskz_mov_epi8(kept, one);
        const __m512 f = _mm512_maskz_mov_ps(kept, sv);
        if (left >= 16) {  // unmasked loads and stores where they can be (faster on Zen)
          if (keep != nullptr) _mm_storeu_si128(reinterpret_cast<__m128i*>(keep + at), bytes);
          if (x != nullptr) _mm512_storeu_ps(y + at, _mm512_maskz_mul_ps(kAll16, _mm512_loadu_ps(x + at), f));
          continue;
        }
        if (keep != nullptr) _mm_mask_storeu_epi8(keep + at, valid, bytes);
        if (x != nullptr) {
          _mm512_mask_storeu_ps(y + at, valid, _mm512_maskz_mul_ps(kAll16, _mm512_maskz_loadu_ps(valid, x + at), f));
        }
      }
    }
  }
}

#undef EMBER_TARGET_DROPOUT

}  // namespace detail_dropout
#endif

/// keep[j] (j < n) ← 1 if weight j survives, else 0. Chunk c (128 weights) takes the Philox
/// blocks at counters (16·c + l, c1, c2, c3), l < 16, under `key`; the low 16 bits of word e of
/// lane l decide weight 128·c + 16·e + l, the high 16 bits weight 128·c + 64 + 16·e + l. Two
/// draws per word halve the Philox work; the lane-major order keeps every loop contiguous.
inline void dropout_keep_row(std::uint8_t* keep, std::int64_t n, Generator::Key key,
                             std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                             std::uint32_t threshold) {
#if EMBER_X86
  if (isa_has_avx512()) {
    return detail_dropout::dropout_row_avx512(nullptr, nullptr, keep, n, key, c1, c2, c3, threshold,
                                              0.0f);
  }
#endif
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
inline std::uint32_t row_lo(std::int64_t r) {
  return static_cast<std::uint32_t>(r);
}
inline std::uint32_t row_hi(std::int64_t r) {
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(r) >> 32);
}
inline constexpr std::uint32_t kRowTag = 0xD809u;
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
#if EMBER_X86
  if constexpr (std::is_same_v<T, float>) {
    if (isa_has_avx512()) {
      parallel_for(0, rows, 2, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t r = lo; r < hi; ++r) {
          const std::int64_t at = r * kRow;
          detail_dropout::dropout_row_avx512(
              x + at, y + at, keep != nullptr ? keep + at : nullptr, std::min(kRow, n - at), key,
              detail_dropout::row_lo(r), detail_dropout::row_hi(r), detail_dropout::kRowTag,
              threshold, scale);
        }
      });
      return;
    }
  }
#endif
  parallel_for(0, rows, 2, [&](std::int64_t lo, std::int64_t hi) {
    std::uint8_t local[kRow];
    detail::with_widest_isa([&] {
      for (std::int64_t r = lo; r < hi; ++r) {
        const std::int64_t at = r * kRow, len = std::min(kRow, n - at);
        std::uint8_t* k = keep != nullptr ? keep + at : local;
        dropout_keep_row(k, len, key, detail_dropout::row_lo(r), detail_dropout::row_hi(r),
                         detail_dropout::kRowTag, threshold);
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
