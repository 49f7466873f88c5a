// ember/kernels/gemm/x86/ukernel_avx2_f32.hpp — AVX2+FMA fp32 micro-kernels, MR × (8·NV).
// Layer: kernels/gemm. Same contract (ukernel_ref.hpp) and ODR reasoning as the AVX-512 kernel
// (function-level target attribute, ISA-named namespace). Registered tile 6×16: 12 ymm
// accumulators, 2 for the B row, 1 for the A broadcast — 15 of 16 registers.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace ember::detail::avx2 {

#define EMBER_TARGET_AVX2 __attribute__((target("avx2,fma")))

template <int MR, int NV, bool kPackedA, bool kPackedB>
EMBER_TARGET_AVX2 inline void ukernel_f32(std::int64_t k, const float* a, std::int64_t rs_a,
                                          const float* b, std::int64_t rs_b, float* c,
                                          std::int64_t rs_c, std::int64_t cs_c, std::int64_t m_cur,
                                          std::int64_t n_cur, float alpha, float beta) {
  const float* arow[MR];
  if constexpr (!kPackedA) {
    for (int i = 0; i < MR; ++i) arow[i] = a + std::min<std::int64_t>(i, m_cur - 1) * rs_a;
  }
  __m256 acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();
  for (std::int64_t p = 0; p < k; ++p) {
    __m256 bv[NV];
    for (int v = 0; v < NV; ++v) {
      if constexpr (kPackedB)
        bv[v] = _mm256_load_ps(b + p * 8 * NV + 8 * v);
      else
        bv[v] = _mm256_loadu_ps(b + p * rs_b + 8 * v);  // full width: see contract
    }
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(kPackedA ? a + p * MR + i : arow[i] + p);
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
    }
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
