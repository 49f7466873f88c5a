// ember/kernels/gemm/x86/ukernel_avx2_f32.hpp — AVX2+FMA fp32 micro-kernels, MR × (8·NV).
// Layer: kernels/gemm. Same contract (ukernel_ref.hpp) and ODR reasoning as the AVX-512 kernel
// (function-level target attribute, ISA-named namespace). Registered tile 6×16: 12 ymm
// accumulators, 2 for the B row, 1 for the A broadcast — 15 of 16 registers. Per k step: 2
// loads + 6 broadcasts feed 12 FMAs (6 cycles on 2 FMA pipes).
//
// Target: ≥ 90% of the AVX2 FMA peak in L1 (bench_gemm ukernel/…/k256). Reached on a Zen 3
// guest without AVX-512 (2026-12-04, bench_peak 101.8 GFLOP/s on 1 thread): 94 GFLOP/s (93%).
// See depth_loop — written as one function with the loop inline, g++ 12 stored all 12
// accumulators to the stack on every k step and the kernel ran at 31 GFLOP/s (31%); clang 14
// kept them in registers.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace ember::detail::avx2 {

#define EMBER_TARGET_AVX2 __attribute__((target("avx2,fma")))

// The main loop over the depth: one row of the B sliver (NV vectors) against MR broadcast
// elements of A, which come from a_at(i, p) (a plain scalar load; a lambda cannot carry the
// target attribute, so the vector code lives here and is always inlined). This shape — the
// AVX-512 kernel's — is what lets g++ 12 keep the accumulators in registers across the loop:
// with `_mm256_broadcast_ss(pointer)` in the loop body of ukernel_f32 itself it wrote every
// accumulator back to the stack on every step (12 stores per 12 FMAs; one 256-bit store per
// cycle on Zen 3 made that the bound). The unroll pragmas make -O2 builds (CMake's
// RelWithDebInfo) unroll the register tile as -O3 does (without them: a stack array).
template <int MR, int NV, bool kPackedB, class AAt>
EMBER_TARGET_AVX2 inline __attribute__((always_inline)) void depth_loop(
    std::int64_t k, const float* b, std::int64_t rs_b, const AAt& a_at, __m256 (&acc)[MR][NV]) {
  for (std::int64_t p = 0; p < k; ++p) {
    __m256 bv[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      if constexpr (kPackedB)
        bv[v] = _mm256_load_ps(b + p * 8 * NV + 8 * v);
      else
        bv[v] = _mm256_loadu_ps(b + p * rs_b + 8 * v);  // full width: see contract
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_set1_ps(a_at(i, p));
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
    }
  }
}

template <int MR, int NV, bool kPackedA, bool kPackedB>
EMBER_TARGET_AVX2 inline void ukernel_f32(std::int64_t k, const float* a, std::int64_t rs_a,
                                          const float* b, std::int64_t rs_b, float* c,
                                          std::int64_t rs_c, std::int64_t cs_c, std::int64_t m_cur,
                                          std::int64_t n_cur, float alpha, float beta) {
  __m256 acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();
  if constexpr (kPackedA) {
    depth_loop<MR, NV, kPackedB>(k, b, rs_b, [&](int i, std::int64_t p) { return a[p * MR + i]; }, acc);
  } else {
    // In-place A: rows past m_cur repeat the last valid row (computed, never stored), so
    // nothing outside A is read.
    const float* arow[MR];
    for (int i = 0; i < MR; ++i) arow[i] = a + std::min<std::int64_t>(i, m_cur - 1) * rs_a;
    depth_loop<MR, NV, kPackedB>(k, b, rs_b, [&](int i, std::int64_t p) { return arow[i][p]; }, acc);
  }
  const __m256 valpha = _mm256_set1_ps(alpha);
  const __m256 vbeta = _mm256_set1_ps(beta);
  if (cs_c == 1 && m_cur == MR && n_cur == 8 * NV) {
    for (int i = 0; i < MR; ++i) {
      float* ci = c + i * rs_c;
      for (int v = 0; v < NV; ++v) {
        __m256 r = _mm256_mul_ps(valpha, acc[i][v]);
        if (beta != 0.0f) r = _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(ci + 8 * v), r);
        _mm256_storeu_ps(ci + 8 * v, r);
      }
    }
    return;
  }
  // Edge tile or strided C: spill, then write the valid corner element by element.
  alignas(32) float tile[MR][8 * NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) _mm256_store_ps(&tile[i][8 * v], acc[i][v]);
  for (std::int64_t i = 0; i < m_cur; ++i) {
    for (std::int64_t j = 0; j < n_cur; ++j) {
      float& cij = c[i * rs_c + j * cs_c];
      cij = beta == 0.0f ? alpha * tile[i][j] : alpha * tile[i][j] + beta * cij;
    }
  }
}

#undef EMBER_TARGET_AVX2

}  // namespace ember::detail::avx2
