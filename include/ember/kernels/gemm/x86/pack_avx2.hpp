// ember/kernels/gemm/x86/pack_avx2.hpp — packing a row-major block with 8×8 in-register
// transposes (AVX), for the fp32 kernel families of AVX2 and AVX-512.
// Layer: kernels/gemm. Contract: pack_a in pack.hpp (same arguments, same packed layout).
// The case that needs it: a sliver whose source rows are contiguous along k (cs = 1, rs = row
// stride), the A of an ordinary row-major product, and the B of x·Wᵀ (every Linear forward) or
// Q·Kᵀ. The generic loop gathers MR elements from MR rows per k — two memory operations per
// element, about one element per cycle. Here 8 rows × 8 k are loaded as 8 vectors, transposed
// with 24 shuffles and stored as 8 columns: 40 instructions per 64 elements.
// Measured (bench_autograd attention/fused, B 64, T 128, D 256, 1 thread, Zen 5): pack_a fell
// from 12.5% of the run to see README; target ≤ 3%.
//
// The packing takes a conversion applied to every element on the way: CopyF32 (the fp32
// kernels) or RoundBf16F32 (fp32 → the fp32 value of its bf16 rounding: the operands of the
// "+bf16in" rows of mixed.hpp, which run the fp32 kernels on bf16-rounded values where the CPU
// has no bf16 instructions). Element-wise, it commutes with the transposes.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "ember/core/dtype.hpp"
#include "ember/kernels/gemm/pack.hpp"

namespace ember::detail::avx2 {

#define EMBER_TARGET_AVX_PACK __attribute__((target("avx2,fma")))

/// The identity: plain fp32 packing.
struct CopyF32 {
  EMBER_TARGET_AVX_PACK static __m256 vec(__m256 x) { return x; }
  EMBER_TARGET_AVX_PACK static __m128 vec(__m128 x) { return x; }
  static float one(float x) { return x; }
};

/// fp32 → the fp32 value of its bf16 rounding: to nearest, ties to even, NaN kept and made
/// quiet, no flush of subnormals — bit-identical to ember::bfloat16's constructor.
struct RoundBf16F32 {
  EMBER_TARGET_AVX_PACK static __m256 vec(__m256 x) {
    const __m256i u = _mm256_castps_si256(x);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    const __m256i rounded = _mm256_add_epi32(u, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), lsb));
    const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)),
                                           _mm256_set1_epi32(0x7f800000));
    const __m256i r =
        _mm256_blendv_epi8(rounded, _mm256_or_si256(u, _mm256_set1_epi32(0x00400000)), nan);
    return _mm256_castsi256_ps(_mm256_and_si256(r, _mm256_set1_epi32(static_cast<int>(0xffff0000u))));
  }
  EMBER_TARGET_AVX_PACK static __m128 vec(__m128 x) {
    return _mm256_castps256_ps128(vec(_mm256_insertf128_ps(_mm256_setzero_ps(), x, 0)));
  }
  static float one(float x) { return static_cast<float>(bfloat16(x)); }
};

// The 8×8 transpose of 32-bit lanes: col[c] holds lane c of r[0..8) (24 shuffles). Also the
// int8 pair packing's (ukernel_avx2_u8s8.hpp), whose lanes are int16 pairs.
EMBER_TARGET_AVX_PACK inline __attribute__((always_inline)) void transpose8(const __m256 (&r)[8],
                                                                           __m256 (&col)[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  // s0: elements 0 | 4 of rows 0–3 (lane 0 | lane 1), s1: 1 | 5, s2: 2 | 6, s3: 3 | 7; s4–s7
  // the same for rows 4–7.
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  col[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  col[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  col[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  col[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  col[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  col[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  col[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  col[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// Eight rows r[0..8) of 8 floats → column c (element c of every row) stored at out + c·ld.
template <class Conv>
EMBER_TARGET_AVX_PACK inline __attribute__((always_inline)) void transpose8_store(
    const float* src, std::int64_t rs, float* out, std::int64_t ld) {
  __m256 r[8], col[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) r[i] = Conv::vec(_mm256_loadu_ps(src + i * rs));
  transpose8(r, col);
#pragma GCC unroll 8
  for (int c = 0; c < 8; ++c) _mm256_storeu_ps(out + c * ld, col[c]);
}

// Four rows of 4 floats → 4 columns of 4 (SSE), stored at out + c·ld.
template <class Conv>
EMBER_TARGET_AVX_PACK inline __attribute__((always_inline)) void transpose4_store(
    const float* src, std::int64_t rs, float* out, std::int64_t ld) {
  __m128 r0 = Conv::vec(_mm_loadu_ps(src)), r1 = Conv::vec(_mm_loadu_ps(src + rs)),
         r2 = Conv::vec(_mm_loadu_ps(src + 2 * rs)), r3 = Conv::vec(_mm_loadu_ps(src + 3 * rs));
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  _mm_storeu_ps(out, r0);
  _mm_storeu_ps(out + ld, r1);
  _mm_storeu_ps(out + 2 * ld, r2);
  _mm_storeu_ps(out + 3 * ld, r3);
}

// Four rows of 8 floats → 8 columns of 4 (k = 0…7), stored at out + k·ld: one AVX load and
// conversion per row instead of two SSE ones.
template <class Conv>
EMBER_TARGET_AVX_PACK inline __attribute__((always_inline)) void transpose4x8_store(
    const float* src, std::int64_t rs, float* out, std::int64_t ld) {
  const __m256 r0 = Conv::vec(_mm256_loadu_ps(src)), r1 = Conv::vec(_mm256_loadu_ps(src + rs)),
               r2 = Conv::vec(_mm256_loadu_ps(src + 2 * rs)),
               r3 = Conv::vec(_mm256_loadu_ps(src + 3 * rs));
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  // s0: column 0 | column 4, s1: 1 | 5, s2: 2 | 6, s3: 3 | 7.
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  _mm_storeu_ps(out, _mm256_castps256_ps128(s0));
  _mm_storeu_ps(out + ld, _mm256_castps256_ps128(s1));
  _mm_storeu_ps(out + 2 * ld, _mm256_castps256_ps128(s2));
  _mm_storeu_ps(out + 3 * ld, _mm256_castps256_ps128(s3));
  _mm_storeu_ps(out + 4 * ld, _mm256_extractf128_ps(s0, 1));
  _mm_storeu_ps(out + 5 * ld, _mm256_extractf128_ps(s1, 1));
  _mm_storeu_ps(out + 6 * ld, _mm256_extractf128_ps(s2, 1));
  _mm_storeu_ps(out + 7 * ld, _mm256_extractf128_ps(s3, 1));
}

// Two rows of 8 floats → 8 pairs (k = 0…7), stored as 64-bit words at out + k·ld.
template <class Conv>
EMBER_TARGET_AVX_PACK inline __attribute__((always_inline)) void interleave2x8_store(
    const float* src, std::int64_t rs, float* out, std::int64_t ld) {
  const __m256 r0 = Conv::vec(_mm256_loadu_ps(src)), r1 = Conv::vec(_mm256_loadu_ps(src + rs));
  const __m256 lo = _mm256_unpacklo_ps(r0, r1), hi = _mm256_unpackhi_ps(r0, r1);
  // lo: k 0, 1 | 4, 5; hi: k 2, 3 | 6, 7 — each k a pair of 64 bits.
  const __m128 k01 = _mm256_castps256_ps128(lo), k45 = _mm256_extractf128_ps(lo, 1);
  const __m128 k23 = _mm256_castps256_ps128(hi), k67 = _mm256_extractf128_ps(hi, 1);
  _mm_storel_pi(reinterpret_cast<__m64*>(out), k01);
  _mm_storeh_pi(reinterpret_cast<__m64*>(out + ld), k01);
  _mm_storel_pi(reinterpret_cast<__m64*>(out + 2 * ld), k23);
  _mm_storeh_pi(reinterpret_cast<__m64*>(out + 3 * ld), k23);
  _mm_storel_pi(reinterpret_cast<__m64*>(out + 4 * ld), k45);
  _mm_storeh_pi(reinterpret_cast<__m64*>(out + 5 * ld), k45);
  _mm_storel_pi(reinterpret_cast<__m64*>(out + 6 * ld), k67);
  _mm_storeh_pi(reinterpret_cast<__m64*>(out + 7 * ld), k67);
}

// The first n (0 ≤ n < 4) floats at s, zeros above — plain loads of 2 and 1 floats, no masks.
EMBER_TARGET_AVX_PACK inline __m128 load_first4(const float* s, std::int64_t n) {
  const auto pair = [](const float* q) {
    return _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q)));
  };
  switch (n) {
    case 1: return _mm_load_ss(s);
    case 2: return pair(s);
    case 3: return _mm_movelh_ps(pair(s), _mm_load_ss(s + 2));
    default: return _mm_setzero_ps();
  }
}

// The first n (0 ≤ n < 8) floats at s as a vector, zeros above.
EMBER_TARGET_AVX_PACK inline __m256 load_first8(const float* s, std::int64_t n) {
  if (n >= 4) return _mm256_set_m128(load_first4(s + 4, n - 4), _mm_loadu_ps(s));
  return _mm256_set_m128(_mm_setzero_ps(), load_first4(s, n));
}

// Stores lanes [0, n) of v (0 ≤ n < 4) at d.
EMBER_TARGET_AVX_PACK inline void store_first4(float* d, __m128 v, std::int64_t n) {
  const auto pair = [](float* q, __m128 x) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(q), _mm_castps_si128(x));
  };
  switch (n) {
    case 1: _mm_store_ss(d, v); break;
    case 2: pair(d, v); break;
    case 3: pair(d, v); _mm_store_ss(d + 2, _mm_movehl_ps(v, v)); break;
    default: break;
  }
}

// Stores lanes [0, n) of v (0 ≤ n ≤ 8) at d.
EMBER_TARGET_AVX_PACK inline void store_first8(float* d, __m256 v, std::int64_t n) {
  if (n == 8) {
    _mm256_storeu_ps(d, v);
  } else if (n >= 4) {
    _mm_storeu_ps(d, _mm256_castps256_ps128(v));
    store_first4(d + 4, _mm256_extractf128_ps(v, 1), n - 4);
  } else {
    store_first4(d, _mm256_castps256_ps128(v), n);
  }
}

// Columns already contiguous (rs_a = 1: A column-major, or the B of a row-major product): each
// k copies `rows` floats and zero-fills to mr, in 8-float vectors and one partial vector, so no
// load reads past the source and no store past the sliver (slivers are packed concurrently).
// The partial vector is built from plain loads and stores of 4, 2 and 1 floats: on Zen 3 the
// masked forms (vmaskmovps) took 35% of the packing of 6-row slivers in the bf16 MLM step.
template <class Conv>
EMBER_TARGET_AVX_PACK inline void pack_columns(std::int64_t rows, std::int64_t kc, const float* src,
                                               std::int64_t cs, std::int64_t mr, float* ap) {
  const std::int64_t full = rows / 8 * 8, rem = rows - full;
  for (std::int64_t p = 0; p < kc; ++p) {
    const float* s = src + p * cs;
    float* d = ap + p * mr;
    std::int64_t i = 0;
    for (; i < full; i += 8) _mm256_storeu_ps(d + i, Conv::vec(_mm256_loadu_ps(s + i)));
    if (rem > 0) {
      // The partial vector of data (zeros above it), stored up to mr: an edge sliver (rows <
      // mr) continues with zeros.
      const std::int64_t n = std::min<std::int64_t>(8, mr - i);
      store_first8(d + i, Conv::vec(load_first8(s + i, rem)), n);
      i += n;
    }
    for (; i + 8 <= mr; i += 8) _mm256_storeu_ps(d + i, _mm256_setzero_ps());
    if (i < mr) store_first8(d + i, _mm256_setzero_ps(), mr - i);
  }
}

/// pack_a's contract for float, each element passed through Conv: 8×8 and 4×4 transposes when
/// rows run along k (cs_a = 1), vector copies when columns do (rs_a = 1); any other layout goes
/// to the generic loop.
template <class Conv = CopyF32>
EMBER_TARGET_AVX_PACK inline void pack_f32(std::int64_t mc, std::int64_t kc, const float* a,
                                           std::int64_t rs_a, std::int64_t cs_a, std::int64_t mr,
                                           float* ap) {
  if (rs_a == 1) {
    for (std::int64_t i0 = 0; i0 < mc; i0 += mr, ap += mr * kc)
      pack_columns<Conv>(std::min(mr, mc - i0), kc, a + i0, cs_a, mr, ap);
    return;
  }
  if (cs_a != 1) {
    pack_a<float, Conv>(mc, kc, a, rs_a, cs_a, mr, ap);
    return;
  }
  for (std::int64_t i0 = 0; i0 < mc; i0 += mr) {
    const std::int64_t rows = std::min(mr, mc - i0);
    const float* src = a + i0 * rs_a;
    // Depths [from, kc) of rows [first, first + h), one element at a time (the depths after
    // the last vector).
    const auto depth_tail = [&](std::int64_t from, std::int64_t first, std::int64_t h) {
      for (std::int64_t p = from; p < kc; ++p)
        for (std::int64_t i = first; i < first + h; ++i)
          ap[p * mr + i] = Conv::one(src[i * rs_a + p]);
    };
    std::int64_t g = 0;
    for (; g + 8 <= rows; g += 8) {
      std::int64_t p = 0;
      for (; p + 8 <= kc; p += 8)
        transpose8_store<Conv>(src + g * rs_a + p, rs_a, ap + p * mr + g, mr);
      depth_tail(p, g, 8);
    }
    for (; g + 4 <= rows; g += 4) {
      std::int64_t p = 0;
      for (; p + 8 <= kc; p += 8)
        transpose4x8_store<Conv>(src + g * rs_a + p, rs_a, ap + p * mr + g, mr);
      for (; p + 4 <= kc; p += 4)
        transpose4_store<Conv>(src + g * rs_a + p, rs_a, ap + p * mr + g, mr);
      depth_tail(p, g, 4);
    }
    // The last 1–3 rows (MR = 6 leaves 2 after the group of 4): pairs, then one row, 8 depths
    // per load.
    for (; g + 2 <= rows; g += 2) {
      std::int64_t p = 0;
      for (; p + 8 <= kc; p += 8)
        interleave2x8_store<Conv>(src + g * rs_a + p, rs_a, ap + p * mr + g, mr);
      depth_tail(p, g, 2);
    }
    if (g < rows) {
      std::int64_t p = 0;
      alignas(32) float tmp[8];
      for (; p + 8 <= kc; p += 8) {
        _mm256_store_ps(tmp, Conv::vec(_mm256_loadu_ps(src + g * rs_a + p)));
        for (std::int64_t j = 0; j < 8; ++j) ap[(p + j) * mr + g] = tmp[j];
      }
      depth_tail(p, g, 1);
      ++g;
    }
    if (g < mr)
      for (std::int64_t p = 0; p < kc; ++p)
        for (std::int64_t i = g; i < mr; ++i) ap[p * mr + i] = 0.0f;
    ap += mr * kc;
  }
}

}  // namespace ember::detail::avx2
