// bench/peak.hpp — measures this machine's fp32 FMA ceiling, so GEMM results can be reported as
// a percentage of it. An FMA-throughput loop per ISA with 16 independent accumulators (more than
// latency × pipes = 4 × 2 = 8, so it is throughput-bound), compiled with function-level target
// attributes like ember's kernels.
#pragma once

#include <immintrin.h>

#include <chrono>
#include <cstdint>
#include <string>

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

// ---- the bf16 / int8 ceilings -----------------------------------------------------------------
// Dot-product instructions with 16 independent accumulators, and AMX tile products with the
// tiles kept in registers (4 accumulators, 2 A and 2 B tiles, as the GEMM kernel's tile plan).

// The AVX-512 dot-product loops are written in assembly, in the shape oneDNN's brgemm JIT
// uses (6 broadcast A operands loaded into fresh registers, one B vector loaded and used by 6
// rows at a time, 24 accumulators): on Zen 5, vpdpbusd issues about twice as often in this
// sequence as in any register-only loop g++ compiled from intrinsics (845 vs 430 GOP/s), which
// had made oneDNN appear to run at 188% of the "peak".
__attribute__((target("avx512f,avx512bf16"), noinline)) inline float dot_loop_bf16(std::int64_t iters) {
  alignas(64) static const std::int32_t a[8] = {0x3f803f80, 0x3f803f80, 0x3f803f80, 0x3f803f80,
                                                0x3f803f80, 0x3f803f80, 0, 0};
  alignas(64) static const std::int32_t b[64] = {};
  if (iters <= 0) return 0;
  asm volatile(
      "1:\n"
      "vpbroadcastd 0(%[a]), %%zmm7\n"
      "vpbroadcastd 4(%[a]), %%zmm6\n"
      "vpbroadcastd 8(%[a]), %%zmm5\n"
      "vpbroadcastd 12(%[a]), %%zmm4\n"
      "vpbroadcastd 16(%[a]), %%zmm3\n"
      "vpbroadcastd 20(%[a]), %%zmm2\n"
      "vmovdqu32 0(%[b]), %%zmm0\n"
      "vdpbf16ps %%zmm0, %%zmm7, %%zmm8\n"
      "vdpbf16ps %%zmm0, %%zmm6, %%zmm12\n"
      "vdpbf16ps %%zmm0, %%zmm5, %%zmm16\n"
      "vdpbf16ps %%zmm0, %%zmm4, %%zmm20\n"
      "vdpbf16ps %%zmm0, %%zmm3, %%zmm24\n"
      "vdpbf16ps %%zmm0, %%zmm2, %%zmm28\n"
      "vmovdqu32 64(%[b]), %%zmm0\n"
      "vdpbf16ps %%zmm0, %%zmm7, %%zmm9\n"
      "vdpbf16ps %%zmm0, %%zmm6, %%zmm13\n"
      "vdpbf16ps %%zmm0, %%zmm5, %%zmm17\n"
      "vdpbf16ps %%zmm0, %%zmm4, %%zmm21\n"
      "vdpbf16ps %%zmm0, %%zmm3, %%zmm25\n"
      "vdpbf16ps %%zmm0, %%zmm2, %%zmm29\n"
      "vmovdqu32 128(%[b]), %%zmm0\n"
      "vdpbf16ps %%zmm0, %%zmm7, %%zmm10\n"
      "vdpbf16ps %%zmm0, %%zmm6, %%zmm14\n"
      "vdpbf16ps %%zmm0, %%zmm5, %%zmm18\n"
      "vdpbf16ps %%zmm0, %%zmm4, %%zmm22\n"
      "vdpbf16ps %%zmm0, %%zmm3, %%zmm26\n"
      "vdpbf16ps %%zmm0, %%zmm2, %%zmm30\n"
      "vmovdqu32 192(%[b]), %%zmm0\n"
      "vdpbf16ps %%zmm0, %%zmm7, %%zmm11\n"
      "vdpbf16ps %%zmm0, %%zmm6, %%zmm15\n"
      "vdpbf16ps %%zmm0, %%zmm5, %%zmm19\n"
      "vdpbf16ps %%zmm0, %%zmm4, %%zmm23\n"
      "vdpbf16ps %%zmm0, %%zmm3, %%zmm27\n"
      "vdpbf16ps %%zmm0, %%zmm2, %%zmm31\n"
      "dec %[n]\n"
      "jnz 1b\n"
      : [n] "+r"(iters)
      : [a] "r"(a), [b] "r"(b)
      : "memory", "cc", "xmm0", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
  return 0;
}

__attribute__((target("avx512f,avx512vnni"), noinline)) inline float dot_loop_vnni(std::int64_t iters) {
  alignas(64) static const std::int32_t a[8] = {0x3f803f80, 0x3f803f80, 0x3f803f80, 0x3f803f80,
                                                0x3f803f80, 0x3f803f80, 0, 0};
  alignas(64) static const std::int32_t b[64] = {};
  if (iters <= 0) return 0;
  asm volatile(
      "1:\n"
      "vpbroadcastd 0(%[a]), %%zmm7\n"
      "vpbroadcastd 4(%[a]), %%zmm6\n"
      "vpbroadcastd 8(%[a]), %%zmm5\n"
      "vpbroadcastd 12(%[a]), %%zmm4\n"
      "vpbroadcastd 16(%[a]), %%zmm3\n"
      "vpbroadcastd 20(%[a]), %%zmm2\n"
      "vmovdqu32 0(%[b]), %%zmm0\n"
      "vpdpbusd %%zmm0, %%zmm7, %%zmm8\n"
      "vpdpbusd %%zmm0, %%zmm6, %%zmm12\n"
      "vpdpbusd %%zmm0, %%zmm5, %%zmm16\n"
      "vpdpbusd %%zmm0, %%zmm4, %%zmm20\n"
      "vpdpbusd %%zmm0, %%zmm3, %%zmm24\n"
      "vpdpbusd %%zmm0, %%zmm2, %%zmm28\n"
      "vmovdqu32 64(%[b]), %%zmm0\n"
      "vpdpbusd %%zmm0, %%zmm7, %%zmm9\n"
      "vpdpbusd %%zmm0, %%zmm6, %%zmm13\n"
      "vpdpbusd %%zmm0, %%zmm5, %%zmm17\n"
      "vpdpbusd %%zmm0, %%zmm4, %%zmm21\n"
      "vpdpbusd %%zmm0, %%zmm3, %%zmm25\n"
      "vpdpbusd %%zmm0, %%zmm2, %%zmm29\n"
      "vmovdqu32 128(%[b]), %%zmm0\n"
      "vpdpbusd %%zmm0, %%zmm7, %%zmm10\n"
      "vpdpbusd %%zmm0, %%zmm6, %%zmm14\n"
      "vpdpbusd %%zmm0, %%zmm5, %%zmm18\n"
      "vpdpbusd %%zmm0, %%zmm4, %%zmm22\n"
      "vpdpbusd %%zmm0, %%zmm3, %%zmm26\n"
      "vpdpbusd %%zmm0, %%zmm2, %%zmm30\n"
      "vmovdqu32 192(%[b]), %%zmm0\n"
      "vpdpbusd %%zmm0, %%zmm7, %%zmm11\n"
      "vpdpbusd %%zmm0, %%zmm6, %%zmm15\n"
      "vpdpbusd %%zmm0, %%zmm5, %%zmm19\n"
      "vpdpbusd %%zmm0, %%zmm4, %%zmm23\n"
      "vpdpbusd %%zmm0, %%zmm3, %%zmm27\n"
      "vpdpbusd %%zmm0, %%zmm2, %%zmm31\n"
      "dec %[n]\n"
      "jnz 1b\n"
      : [n] "+r"(iters)
      : [a] "r"(a), [b] "r"(b)
      : "memory", "cc", "xmm0", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
  return 0;
}

template <bool kInt8>
__attribute__((target("amx-tile,amx-bf16,amx-int8"), noinline)) inline float amx_loop(std::int64_t iters) {
  alignas(64) static thread_local unsigned char a[1024], b[1024];
  alignas(64) float out[256];
  ember::detail::amx::configure();
  _tile_loadd(4, a, 64);
  _tile_loadd(5, a, 64);
  _tile_loadd(6, b, 64);
  _tile_loadd(7, b, 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (std::int64_t it = 0; it < iters; ++it) {
    if constexpr (kInt8) {
      _tile_dpbusd(0, 4, 6);
      _tile_dpbusd(1, 4, 7);
      _tile_dpbusd(2, 5, 6);
      _tile_dpbusd(3, 5, 7);
    } else {
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
  _tile_stored(0, out, 64);
  ember::detail::amx::release();
  return out[0];
}

/// The bf16 (kInt8 = false: GFLOP/s) or int8 (GOP/s) ceiling of the best instruction this CPU
/// grants: AMX tiles, else vdpbf16ps / vpdpbusd, else 0 (no such instruction).
inline double measure_lowp_peak(bool int8, int threads, std::string* what = nullptr) {
  const bool amx = ember::amx_granted();
  const ember::CpuFeatures& f = ember::cpu_features();
  if (!amx && !(int8 ? f.avx512_vnni : f.avx512_bf16)) {
    if (what) *what = "none";
    return 0;
  }
  if (what) *what = amx ? (int8 ? "tdpbusd" : "tdpbf16ps") : (int8 ? "vpdpbusd" : "vdpbf16ps");
  const std::int64_t iters = amx ? 2'000'000 : 20'000'000;
  // Per iteration: AMX 4 tile products of 16×16×(32 bf16 | 64 int8) multiply-adds; the dot
  // loops 24 instructions of 16 lanes × (2 | 4) multiply-adds.
  const double ops_per_iter = amx ? 4.0 * 16 * 16 * (int8 ? 64 : 32) * 2 : 24.0 * 16 * (int8 ? 4 : 2) * 2;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    volatile float sink = 0;
#if EMBER_HAS_OPENMP
#pragma omp parallel num_threads(threads)
#endif
    {
      float r = amx ? (int8 ? amx_loop<true>(iters) : amx_loop<false>(iters))
                    : (int8 ? dot_loop_vnni(iters) : dot_loop_bf16(iters));
      sink = sink + r;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, ops_per_iter * static_cast<double>(iters) * threads / s * 1e-9);
  }
  return best;
}

/// Cached bf16 / int8 peaks for 1 and 2 threads.
inline double lowp_peak(bool int8, int threads) {
  static const double v[2][2] = {{measure_lowp_peak(false, 1), measure_lowp_peak(false, 2)},
                                 {measure_lowp_peak(true, 1), measure_lowp_peak(true, 2)}};
  return v[int8 ? 1 : 0][threads <= 1 ? 0 : 1];
}

/// Cached peak of the best ISA for 1 and 2 threads.
inline double peak_gflops(int threads) {
  static const double one = measure_fma_gflops(ember::cpu_isa(), 1);
  static const double two = measure_fma_gflops(ember::cpu_isa(), 2);
  return threads <= 1 ? one : two;
}

}  // namespace bench
