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
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "ember/kernels/gemm/pack.hpp"

namespace ember::detail::avx2 {

#define EMBER_TARGET_AVX_PACK __attribute__((target("avx2,fma")))

// Eight rows r[0..8) of 8 floats → column c (element c of every row) stored at out + c·ld.
EMBER_TARGET_AVX_PACK inline __attribute__((always_inline)) void transpose8_store(
    const float* src, std::int64_t rs, float* out, std::int64_t ld) {
  const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + rs),
               r2 = _mm256_loadu_ps(src + 2 * rs), r3 = _mm256_loadu_ps(src + 3 * rs),
               r4 = _mm256_loadu_ps(src + 4 * rs), r5 = _mm256_loadu_ps(src + 5 * rs),
               r6 = _mm256_loadu_ps(src + 6 * rs), r7 = _mm256_loadu_ps(src + 7 * rs);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  // s0: elements 0 | 4 of rows 0–3 (lane 0 | lane 1), s1: 1 | 5, s2: 2 | 6, s3: 3 | 7; s4–s7
  // the same for rows 4–7.
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(out, _mm256_permute2f128_ps(s0, s4, 0x20));
  _mm256_storeu_ps(out + ld, _mm256_permute2f128_ps(s1, s5, 0x20));
  _mm256_storeu_ps(out + 2 * ld, _mm256_permute2f128_ps(s2, s6, 0x20));
  _mm256_storeu_ps(out + 3 * ld, _mm256_permute2f128_ps(s3, s7, 0x20));
  _mm256_storeu_ps(out + 4 * ld, _mm256_permute2f128_ps(s0, s4, 0x31));
  _mm256_storeu_ps(out + 5 * ld, _mm256_permute2f128_ps(s1, s5, 0x31));
  _mm256_storeu_ps(out + 6 * ld, _mm256_permute2f128_ps(s2, s6, 0x31));
  _mm256_storeu_ps(out + 7 * ld, _mm256_permute2f128_ps(s3, s7, 0x31));
}

// Four rows of 4 floats → 4 columns of 4 (SSE), stored at out + c·ld.
EMBER_TARGET_AVX_PACK inline __attribute__((always_inline)) void transpose4_store(
    const float* src, std::int64_t rs, float* out, std::int64_t ld) {
  __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps(src + rs), r2 = _mm_loadu_ps(src + 2 * rs),
         r3 = _mm_loadu_ps(src + 3 * rs);
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  _mm_storeu_ps(out, r0);
  _mm_storeu_ps(out + ld, r1);
  _mm_storeu_ps(out + 2 * ld, r2);
  _mm_storeu_ps(out + 3 * ld, r3);
}

// The mask of the first n (< 8) lanes, for maskload/maskstore.
EMBER_TARGET_AVX_PACK inline __m256i lanes_below(std::int64_t n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx);
}

// Columns already contiguous (rs_a = 1: A column-major, or the B of a row-major product): each
// k copies `rows` floats and zero-fills to mr, in 8-float vectors and one masked vector, so no
// load reads past the source and no store past the sliver (slivers are packed concurrently).
EMBER_TARGET_AVX_PACK inline void pack_columns(std::int64_t rows, std::int64_t kc, const float* src,
                                               std::int64_t cs, std::int64_t mr, float* ap) {
  const std::int64_t full = rows / 8 * 8;
  const __m256i tail = lanes_below(rows - full);
  for (std::int64_t p = 0; p < kc; ++p) {
    const float* s = src + p * cs;
    float* d = ap + p * mr;
    std::int64_t i = 0;
    for (; i < full; i += 8) _mm256_storeu_ps(d + i, _mm256_loadu_ps(s + i));
    if (rows == mr) {
      if (i < mr) _mm256_maskstore_ps(d + i, tail, _mm256_maskload_ps(s + i, tail));
      continue;
    }
    // An edge sliver: the partial vector of data (its masked-off lanes load as zeros), then
    // zeros to mr.
    if (i < rows) {
      const std::int64_t n = std::min<std::int64_t>(8, mr - i);
      _mm256_maskstore_ps(d + i, lanes_below(n), _mm256_maskload_ps(s + i, tail));
      i += n;
    }
    for (; i + 8 <= mr; i += 8) _mm256_storeu_ps(d + i, _mm256_setzero_ps());
    if (i < mr) _mm256_maskstore_ps(d + i, lanes_below(mr - i), _mm256_setzero_ps());
  }
}

/// pack_a's contract for float: 8×8 and 4×4 transposes when rows run along k (cs_a = 1), vector
/// copies when columns do (rs_a = 1); any other layout goes to the generic loop.
EMBER_TARGET_AVX_PACK inline void pack_f32(std::int64_t mc, std::int64_t kc, const float* a,
                                           std::int64_t rs_a, std::int64_t cs_a, std::int64_t mr,
                                           float* ap) {
  if (rs_a == 1) {
    for (std::int64_t i0 = 0; i0 < mc; i0 += mr, ap += mr * kc)
      pack_columns(std::min(mr, mc - i0), kc, a + i0, cs_a, mr, ap);
    return;
  }
  if (cs_a != 1) {
    pack_a<float>(mc, kc, a, rs_a, cs_a, mr, ap);
    return;
  }
  for (std::int64_t i0 = 0; i0 < mc; i0 += mr) {
    const std::int64_t rows = std::min(mr, mc - i0);
    const float* src = a + i0 * rs_a;
    std::int64_t g = 0;
    for (; g + 8 <= rows; g += 8) {
      std::int64_t p = 0;
      for (; p + 8 <= kc; p += 8) transpose8_store(src + g * rs_a + p, rs_a, ap + p * mr + g, mr);
      for (; p < kc; ++p)
        for (std::int64_t i = g; i < g + 8; ++i) ap[p * mr + i] = src[i * rs_a + p];
    }
    for (; g + 4 <= rows; g += 4) {
      std::int64_t p = 0;
      for (; p + 4 <= kc; p += 4) transpose4_store(src + g * rs_a + p, rs_a, ap + p * mr + g, mr);
      for (; p < kc; ++p)
        for (std::int64_t i = g; i < g + 4; ++i) ap[p * mr + i] = src[i * rs_a + p];
    }
    for (std::int64_t p = 0; p < kc; ++p) {
      std::int64_t i = g;
      for (; i < rows; ++i) ap[p * mr + i] = src[i * rs_a + p];
      for (; i < mr; ++i) ap[p * mr + i] = 0.0f;
    }
    ap += mr * kc;
  }
}

}  // namespace ember::detail::avx2
