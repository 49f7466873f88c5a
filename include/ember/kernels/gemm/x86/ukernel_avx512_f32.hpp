// ember/kernels/gemm/x86/ukernel_avx512_f32.hpp — AVX-512 fp32 micro-kernels, MR × (16·NV).
// Layer: kernels/gemm. Compiled with a function-level target attribute, so a program built
// without -mavx512f still contains this code and dispatch.hpp calls it only on CPUs that have
// AVX-512. The functions live in namespace `avx512`, so their (inline) identity carries the ISA:
// two translation units built with different -m flags define them identically, and the linker
// cannot merge them with an SSE2 twin (numpy#25274, pytorch#14436).
//
// Contract: ukernel_ref.hpp (packed or in-place A and B). Register use for the registered 14×32
// tile: 28 zmm accumulators (14 rows × 2 vectors of 16 floats), 2 zmm for the B row, A
// broadcast from memory — 30 of 32 registers. Per k step: 2 loads + 14 broadcasts feed 28 FMAs
// (14 cycles on 2 FMA pipes). Alone in L1 (k = 256, packed) it runs at 231 GFLOP/s, 94% of the
// 247 GFLOP/s FMA peak bench_peak measures on this machine (bench_gemm, ukernel/…/k256).
#pragma once

#include <immintrin.h>

#include "ember/kernels/simd_store.hpp"

#include <algorithm>
#include <cstdint>

namespace ember::detail::avx512 {

#define EMBER_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,fma")))

// The n-edge mask for vector v of a tile whose last valid column is n_cur - 1.
EMBER_TARGET_AVX512 inline __mmask16 column_mask(std::int64_t n_cur, int v) {
  const std::int64_t left = n_cur - 16 * v;
  if (left >= 16) return static_cast<__mmask16>(0xffff);
  if (left <= 0) return 0;
  return static_cast<__mmask16>((1u << left) - 1u);
}

// The main loop over the depth: one row of the B sliver (NV vectors) against MR broadcast
// elements of the A sliver, which come from a_at(i, p) (a plain scalar load; a lambda cannot
// carry the target attribute, so the vector code lives here and is always inlined). The unroll
// pragmas make -O2 builds (CMake's RelWithDebInfo) unroll the register tile as -O3 does:
// without them g++ 12 at -O2 kept the accumulators in a stack array.
template <int MR, int NV, bool kPackedB, class AAt>
EMBER_TARGET_AVX512 inline __attribute__((always_inline)) void depth_loop(
    std::int64_t k, const float* b, std::int64_t rs_b, const AAt& a_at, __m512 (&acc)[MR][NV]) {
  for (std::int64_t p = 0; p < k; ++p) {
    __m512 bv[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      if constexpr (kPackedB)
        bv[v] = _mm512_load_ps(b + p * 16 * NV + 16 * v);
      else
        bv[v] = _mm512_loadu_ps(b + p * rs_b + 16 * v);  // full width: see contract
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(a_at(i, p));
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
  }
}

// kPackStride: the row count the packed A sliver was laid out for (the family's full MR); an
// edge kernel with fewer rows reads the first MR of each packed column.
template <int MR, int NV, bool kPackedA, bool kPackedB, int kPackStride = MR>
EMBER_TARGET_AVX512 inline void ukernel_f32(std::int64_t k, const float* a, std::int64_t rs_a,
                                            const float* b, std::int64_t rs_b, float* c,
                                            std::int64_t rs_c, std::int64_t cs_c,
                                            std::int64_t m_cur, std::int64_t n_cur, float alpha,
                                            float beta) {
  __m512 acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();

  if constexpr (kPackedA) {
    depth_loop<MR, NV, kPackedB>(k, b, rs_b, [&](int i, std::int64_t p) { return a[p * kPackStride + i]; }, acc);
  } else if (m_cur == MR) {
    // In-place A, full tile: row i at a + i·rs_a, addressed as one of ⌈MR/5⌉ base pointers
    // plus 0, 1, 2, 3 or 4 strides (x86 addressing: base + stride·{1, 2, 4} or + 3·stride), so
    // the loop needs ⌈MR/5⌉ + 2 registers instead of one pointer per row — with MR = 14 those
    // did not fit the 16 general registers and were reloaded from the stack every step
    // (bench_gemm, 1 thread, medians: 64³ 208 → 214 GFLOP/s, 4096×64×64 189 → 196,
    // 256×128×512 196 → 202).
    const float* base[(MR + 4) / 5];
    for (int j = 0; j < (MR + 4) / 5; ++j) base[j] = a + 5 * j * rs_a;
    depth_loop<MR, NV, kPackedB>(k, b, rs_b, [&](int i, std::int64_t p) { return base[i / 5][(i % 5) * rs_a + p]; }, acc);
  } else {
    // In-place A, m edge: rows past m_cur repeat the last valid row (computed, never stored),
    // so nothing outside A is read.
    const float* arow[MR];
    for (int i = 0; i < MR; ++i) arow[i] = a + std::min<std::int64_t>(i, m_cur - 1) * rs_a;
    depth_loop<MR, NV, kPackedB>(k, b, rs_b, [&](int i, std::int64_t p) { return arow[i][p]; }, acc);
  }

  const __m512 valpha = _mm512_set1_ps(alpha);
  const __m512 vbeta = _mm512_set1_ps(beta);
  // Masks only here, after the loop: mask registers live across the k loop made g++ 12 spill
  // all 28 accumulators to the stack inside it (measured: 64 instead of 176 GFLOP/s).
  __mmask16 bmask[NV];
  for (int v = 0; v < NV; ++v) bmask[v] = column_mask(n_cur, v);
  if (cs_c == 1) {
    // Row-major C: masked loads and stores clip the n edge at no cost; rows ≥ m_cur are skipped.
    for (int i = 0; i < MR; ++i) {
      if (i >= m_cur) break;
      float* ci = c + i * rs_c;
      for (int v = 0; v < NV; ++v) {
        if (bmask[v] == 0) break;
        __m512 r = _mm512_mul_ps(valpha, acc[i][v]);
        if (beta != 0.0f)
          r = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(bmask[v], ci + 16 * v), r);
        ::ember::detail::store_ps_lanes(ci + 16 * v, bmask[v], r);
      }
    }
  } else {
    // Strided C (e.g. column-major): spill the tile and write element by element.
    alignas(64) float tile[MR][16 * NV];
    for (int i = 0; i < MR; ++i)
      for (int v = 0; v < NV; ++v) _mm512_store_ps(&tile[i][16 * v], acc[i][v]);
    for (std::int64_t i = 0; i < m_cur; ++i) {
      for (std::int64_t j = 0; j < n_cur; ++j) {
        float& cij = c[i * rs_c + j * cs_c];
        cij = beta == 0.0f ? alpha * tile[i][j] : alpha * tile[i][j] + beta * cij;
      }
    }
  }
}

#undef EMBER_TARGET_AVX512

}  // namespace ember::detail::avx512
