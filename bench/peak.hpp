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

/// G(FL)OP/s of `loop` (ops_per_thread operations) run by each of `threads` threads at once,
/// best of 3.
template <class Loop>
double best_rate(int threads, double ops_per_thread, Loop loop) {
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    volatile float sink = 0;
#if EMBER_HAS_OPENMP
#pragma omp parallel num_threads(threads)
#endif
    {
      const float r = loop();
      sink = sink + r;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, ops_per_thread * threads / s * 1e-9);
  }
  return best;
}

/// fp32 GFLOP/s of the FMA loop for `isa` on `threads` threads (each runs the loop).
inline double measure_fma_gflops(ember::Isa isa, int threads) {
  const bool wide = isa >= ember::Isa::Avx512;
  const std::int64_t iters = 20'000'000;
  const double flops_per_iter = wide ? 16.0 * 16 * 2 : 12.0 * 8 * 2;
  return best_rate(threads, flops_per_iter * static_cast<double>(iters),
                   [&] { return wide ? fma_loop_avx512(iters) : fma_loop_avx2(iters); });
}

// ---- the bf16 / int8 ceilings -----------------------------------------------------------------
// Dot-product instructions with 16 independent accumulators, and AMX tile products with the
// tiles kept in registers (4 accumulators, 2 A and 2 B tiles, as the GEMM kernel's tile plan).

// The AVX-512 dot-product ceilings run ember's own 6×64 assembly loop (dot_6x64 in
// ukernel_avx512_dot.hpp, the order oneDNN's brgemm JIT uses) over 128 depth groups whose
// operands stay in L1: on Zen 5, vpdpbusd issues about twice as often in that order as in any
// register-only loop g++ compiled from intrinsics (850 vs 430 GOP/s), which had made oneDNN
// appear to run at 188% of the "peak". Zeroing and storing the 24 accumulators per call is
// ~1% of the 128 groups.
template <bool kInt8>
__attribute__((noinline)) inline float dot_loop(std::int64_t iters) {
  constexpr std::int64_t kGroups = 128;
  alignas(64) static thread_local std::int32_t a[6 * kGroups], b[64 * kGroups], out[6 * 64];
  for (std::int64_t it = 0; it < iters; ++it) ember::detail::avx512_dot::dot_6x64<kInt8>(kGroups, a, b, out);
  return static_cast<float>(out[0]);
}

// Without VNNI, ember's int8 kernel (ukernel_avx2_u8s8.hpp) multiplies int16 pairs with
// vpmaddwd and adds them into int32 with vpaddd: its ceiling is that pair of instructions with
// nothing else, 12 independent accumulators as the kernel has. In assembly: from intrinsics the
// multiply of loop-invariant registers would be hoisted, and fed back from the accumulators it
// ran at the latency of the chain (79 GOP/s on a Zen 3 where the kernel reached 156).
__attribute__((target("avx2"), noinline)) inline float madd_loop_avx2(std::int64_t iters) {
#define EMBER_MADD_ADD(r) "vpmaddwd %%ymm12, %%ymm13, %%ymm14\n vpaddd %%ymm14, %%ymm" #r ", %%ymm" #r "\n"
  std::int32_t out[8];
  asm volatile(
      "vpcmpeqd %%ymm12, %%ymm12, %%ymm12\n"
      "vpcmpeqd %%ymm13, %%ymm13, %%ymm13\n"
      "vpxor %%ymm0, %%ymm0, %%ymm0\n vpxor %%ymm1, %%ymm1, %%ymm1\n vpxor %%ymm2, %%ymm2, %%ymm2\n"
      "vpxor %%ymm3, %%ymm3, %%ymm3\n vpxor %%ymm4, %%ymm4, %%ymm4\n vpxor %%ymm5, %%ymm5, %%ymm5\n"
      "vpxor %%ymm6, %%ymm6, %%ymm6\n vpxor %%ymm7, %%ymm7, %%ymm7\n vpxor %%ymm8, %%ymm8, %%ymm8\n"
      "vpxor %%ymm9, %%ymm9, %%ymm9\n vpxor %%ymm10, %%ymm10, %%ymm10\n vpxor %%ymm11, %%ymm11, %%ymm11\n"
      "1:\n"
      EMBER_MADD_ADD(0) EMBER_MADD_ADD(1) EMBER_MADD_ADD(2) EMBER_MADD_ADD(3) EMBER_MADD_ADD(4)
      EMBER_MADD_ADD(5) EMBER_MADD_ADD(6) EMBER_MADD_ADD(7) EMBER_MADD_ADD(8) EMBER_MADD_ADD(9)
      EMBER_MADD_ADD(10) EMBER_MADD_ADD(11)
      "dec %[n]\n"
      "jnz 1b\n"
      "vpaddd %%ymm1, %%ymm0, %%ymm0\n"
      "vmovdqu %%ymm0, (%[out])\n"
      : [n] "+r"(iters)
      : [out] "r"(out)
      : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14");
#undef EMBER_MADD_ADD
  return static_cast<float>(out[0]);
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
/// grants: AMX tiles, else vdpbf16ps / vpdpbusd, else for int8 the vpmaddwd + vpaddd pair of
/// the AVX2 kernel, else 0 (no such instruction).
inline double measure_lowp_peak(bool int8, int threads, std::string* what = nullptr) {
  const bool amx = ember::amx_granted();
  const ember::CpuFeatures& f = ember::cpu_features();
  if (!amx && int8 && !f.avx512_vnni && ember::cpu_isa() >= ember::Isa::Avx2) {
    if (what) *what = "vpmaddwd+vpaddd";
    const std::int64_t iters = 20'000'000;
    return best_rate(threads, 12.0 * 16 * 2 * static_cast<double>(iters), [&] { return madd_loop_avx2(iters); });
  }
  if (!amx && !(int8 ? f.avx512_vnni : f.avx512_bf16)) {
    if (what) *what = "none";
    return 0;
  }
  if (what) *what = amx ? (int8 ? "tdpbusd" : "tdpbf16ps") : (int8 ? "vpdpbusd" : "vdpbf16ps");
  const std::int64_t iters = amx ? 2'000'000 : 150'000;
  // Per iteration: AMX 4 tile products of 16×16×(32 bf16 | 64 int8) multiply-adds; the dot
  // loops 128 groups of 24 instructions of 16 lanes × (2 | 4) multiply-adds.
  const double ops_per_iter =
      amx ? 4.0 * 16 * 16 * (int8 ? 64 : 32) * 2 : 128.0 * 24 * 16 * (int8 ? 4 : 2) * 2;
  return best_rate(threads, ops_per_iter * static_cast<double>(iters), [&] {
    return amx ? (int8 ? amx_loop<true>(iters) : amx_loop<false>(iters))
               : (int8 ? dot_loop<true>(iters) : dot_loop<false>(iters));
  });
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
