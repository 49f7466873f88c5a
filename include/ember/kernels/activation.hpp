// ember/kernels/activation.hpp — GELU's forward and backward as raw-pointer kernels.
// Layer: kernels. The scalar formulas (gelu_value, gelu_grad) are shared by the Tensor-level
// ember::gelu (elementwise.hpp), the autograd op (autograd/ops/activation.hpp) and the pointer kernels
// below, so every path computes the same bits. For float they use the vectorisable erf_fast and
// exp_fast (math.hpp): libm's erff is a call per element, which no compiler vectorises.
//
//   gelu_forward(x, y, n):        y[i]  = x[i]·Φ(x[i]),               Φ(x) = (1 + erf(x/√2))/2
//   gelu_backward(x, dy, dx, n):  dx[i] = dy[i]·(Φ(x[i]) + x[i]·φ(x[i])), φ(x) = e^{-x²/2}/√(2π)
//   x, y, dy, dx: n contiguous elements; dx may alias dy, y may alias x.
//
// Speed target: memory-bound (≥ 80% of triad bandwidth above L2; bench_elementwise BM_gelu*).
// Reached: see README, "Roofline".
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "ember/kernels/cpu.hpp"
#include "ember/kernels/math.hpp"
#include "ember/kernels/math_avx2.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::detail {

template <class T>
EMBER_ALWAYS_INLINE T gelu_value(T x) {
  return T(0.5) * x * (T(1) + detail::erf(x * T(0.7071067811865476)));
}
template <class T>
EMBER_ALWAYS_INLINE T gelu_grad(T x) {
  const T cdf = T(0.5) * (T(1) + detail::erf(x * T(0.7071067811865476)));
  const T pdf = T(0.3989422804014327) * detail::exp(T(-0.5) * x * x);
  return cdf + x * pdf;
}

/// Elements per thread below which GELU runs on one thread.
inline constexpr std::int64_t kGrainActivation = 16384;

// The loops, inlined into one copy per instruction set below: the vectoriser widens the
// branch-free erf/exp to the register width of the copy it sits in.
template <class T>
EMBER_ALWAYS_INLINE void gelu_forward_loop(const T* x, T* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = gelu_value(x[i]);
}
template <class T>
EMBER_ALWAYS_INLINE void gelu_backward_loop(const T* x, const T* dy, T* dx, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) dx[i] = dy[i] * gelu_grad(x[i]);
}

// Run-time dispatch for float: a program built without -march flags (the default) would
// otherwise get the SSE2 loop, 4 lanes without FMA. In the MLM pretraining step (issue 14's
// shape, d 256, ffn 1024), GELU forward + backward took 37% of the step at SSE2.
// The AVX-512 copy is the loop above run through with_widest_isa (cpu.hpp), which g++
// if-converts with masks. g++ 12 leaves the same
// loop scalar for AVX2 (it keeps exp_fast/erf_fast's clamps as branches under -ftrapping-math),
// so the AVX2 copy runs the __m256 forms of math_avx2.hpp, eight lanes at a time.
// Measured in a default build (g++ 12 -O3, no -march; 4M elements, 1 thread, Zen 5, best of
// 15, ns per element, forward / backward): SSE2 17.0 / 26.8; AVX2 10.2 / 15.5 with the scalar
// forms, **1.60 / 2.35** with the __m256 forms; AVX-512 1.12 / 1.67. (bench_elementwise builds
// with -march=native, where the "AVX2" copy may use AVX-512VL too, so it cannot show this.)
// Target: memory-bound on every copy. Reached for AVX-512 (~7 GB/s of 1-thread streaming);
// the AVX2 copy is within 1.4× of it, bound by its 8-lane arithmetic.
#if EMBER_X86
__attribute__((target("avx2,fma"))) inline void gelu_forward_avx2(const float* x, float* y, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 erf = avx2::erf_fast(_mm256_mul_ps(v, _mm256_set1_ps(0.7071067811865476f)));
    // 0.5·x·(1 + erf): the scalar form's order of operations.
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v),
                                          _mm256_add_ps(_mm256_set1_ps(1.0f), erf)));
  }
  gelu_forward_loop(x + i, y + i, n - i);
}
__attribute__((target("avx2,fma"))) inline void gelu_backward_avx2(const float* x, const float* dy, float* dx,
                                                                  std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 erf = avx2::erf_fast(_mm256_mul_ps(v, _mm256_set1_ps(0.7071067811865476f)));
    const __m256 cdf = _mm256_mul_ps(_mm256_set1_ps(0.5f), _mm256_add_ps(_mm256_set1_ps(1.0f), erf));
    const __m256 e = avx2::exp_fast(_mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(-0.5f), v), v));
    const __m256 pdf = _mm256_mul_ps(_mm256_set1_ps(0.3989422804014327f), e);
    const __m256 grad = _mm256_fmadd_ps(v, pdf, cdf);
    _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), grad));
  }
  gelu_backward_loop(x + i, dy + i, dx + i, n - i);
}
#endif

/// y = gelu(x) over n elements on this thread, with the widest instructions allowed
/// (EMBER_ISA / set_gemm_isa cap it, so every copy is testable on one machine).
template <class T>
void gelu_forward_range(const T* x, T* y, std::int64_t n) {
#if EMBER_X86
  if constexpr (std::is_same_v<T, float>) {
    return with_widest_isa([&] { gelu_forward_loop(x, y, n); },
                           [&] { gelu_forward_avx2(x, y, n); });
  }
#endif
  gelu_forward_loop(x, y, n);
}
template <class T>
void gelu_backward_range(const T* x, const T* dy, T* dx, std::int64_t n) {
#if EMBER_X86
  if constexpr (std::is_same_v<T, float>) {
    return with_widest_isa([&] { gelu_backward_loop(x, dy, dx, n); },
                           [&] { gelu_backward_avx2(x, dy, dx, n); });
  }
#endif
  gelu_backward_loop(x, dy, dx, n);
}

}  // namespace ember::detail

namespace ember::kernels {

template <class T>
void gelu_forward(const T* x, T* y, std::int64_t n) {
  parallel_for(0, n, detail::kGrainActivation,
               [=](std::int64_t lo, std::int64_t hi) { detail::gelu_forward_range(x + lo, y + lo, hi - lo); });
}

template <class T>
void gelu_backward(const T* x, const T* dy, T* dx, std::int64_t n) {
  parallel_for(0, n, detail::kGrainActivation, [=](std::int64_t lo, std::int64_t hi) {
    detail::gelu_backward_range(x + lo, dy + lo, dx + lo, hi - lo);
  });
}

}  // namespace ember::kernels
