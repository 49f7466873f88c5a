// ember/kernels/activation.hpp — GELU's forward and backward as raw-pointer kernels.
// Layer: kernels. The scalar formulas (gelu_value, gelu_grad) are shared by the Tensor-level
// ember::gelu (elementwise.hpp), the autograd op (autograd/ops/nn.hpp) and the pointer kernels
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
// Measured (8M elements, forward + backward, 2 threads, Zen 5): SSE2 14.8 ns/element, the AVX2
// copy 7.0, the AVX-512 copy 1.03. The AVX2 copy is not vectorised: g++ 12 keeps the clamps
// of exp_fast/erf_fast as branches under -ftrapping-math (AVX-512 if-converts them with
// masks), so it only gains FMA and VEX encoding. Target: memory-bound on every copy; missed
// for AVX2 (needs exp/erf written on vector types).
#if EMBER_X86
__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))) inline void gelu_forward_avx512(
    const float* x, float* y, std::int64_t n) {
  gelu_forward_loop(x, y, n);
}
__attribute__((target("avx2,fma"))) inline void gelu_forward_avx2(const float* x, float* y, std::int64_t n) {
  gelu_forward_loop(x, y, n);
}
__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))) inline void gelu_backward_avx512(
    const float* x, const float* dy, float* dx, std::int64_t n) {
  gelu_backward_loop(x, dy, dx, n);
}
__attribute__((target("avx2,fma"))) inline void gelu_backward_avx2(const float* x, const float* dy, float* dx,
                                                                  std::int64_t n) {
  gelu_backward_loop(x, dy, dx, n);
}
#endif

/// y = gelu(x) over n elements on this thread, with the widest instructions allowed
/// (EMBER_ISA / set_gemm_isa cap it, so every copy is testable on one machine).
template <class T>
void gelu_forward_range(const T* x, T* y, std::int64_t n) {
#if EMBER_X86
  if constexpr (std::is_same_v<T, float>) {
    const Isa isa = gemm_isa();
    if (isa >= Isa::Avx512) return gelu_forward_avx512(x, y, n);
    if (isa >= Isa::Avx2) return gelu_forward_avx2(x, y, n);
  }
#endif
  gelu_forward_loop(x, y, n);
}
template <class T>
void gelu_backward_range(const T* x, const T* dy, T* dx, std::int64_t n) {
#if EMBER_X86
  if constexpr (std::is_same_v<T, float>) {
    const Isa isa = gemm_isa();
    if (isa >= Isa::Avx512) return gelu_backward_avx512(x, dy, dx, n);
    if (isa >= Isa::Avx2) return gelu_backward_avx2(x, dy, dx, n);
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
