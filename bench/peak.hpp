// bench/peak.hpp — measures this machine's fp32 FMA ceiling, so GEMM results can be reported as
// a percentage of it. An FMA-throughput loop per ISA with 16 independent accumulators (more than
// latency × pipes = 4 × 2 = 8, so it is throughput-bound), compiled with function-level target
// attributes like ember's kernels.
#pragma once

#include <immintrin.h>

#include <chrono>
#include <cstdint>

#include <ember/ember.hpp>

#if EMBER_HAS_OPENMP
#include <omp.h>
#endif

namespace bench {

__attribute__((target("avx512f"), noinline)) inline float fma_loop_avx512(std::int64_t iters) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i) * 1e-3f);
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (std::int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float out[16];
  _mm512_store_ps(out, s);
  return out[0];
}

__attribute__((target("avx2,fma"), noinline)) inline float fma_loop_avx2(std::int64_t iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i) * 1e-3f);
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  for (std::int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  }
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  return out[0];
}

/// fp32 GFLOP/s of the FMA loop for `isa` on `threads` threads (each runs the loop).
inline double measure_fma_gflops(ember::Isa isa, int threads) {
  const bool wide = isa >= ember::Isa::Avx512;
  const std::int64_t iters = 20'000'000;
  const double flops_per_iter = wide ? 16.0 * 16 * 2 : 12.0 * 8 * 2;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    volatile float sink = 0;
#if EMBER_HAS_OPENMP
#pragma omp parallel num_threads(threads)
#endif
    {
      float r = wide ? fma_loop_avx512(iters) : fma_loop_avx2(iters);
      sink = sink + r;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, flops_per_iter * static_cast<double>(iters) * threads / s * 1e-9);
  }
  return best;
}

/// Cached peak of the best ISA for 1 and 2 threads.
inline double peak_gflops(int threads) {
  static const double one = measure_fma_gflops(ember::cpu_isa(), 1);
  static const double two = measure_fma_gflops(ember::cpu_isa(), 2);
  return threads <= 1 ? one : two;
}

}  // namespace bench
