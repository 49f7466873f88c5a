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

}  // namespace ember::detail

namespace ember::kernels {

template <class T>
void gelu_forward(const T* x, T* y, std::int64_t n) {
  parallel_for(0, n, detail::kGrainActivation, [=](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) y[i] = detail::gelu_value(x[i]);
  });
}

template <class T>
void gelu_backward(const T* x, const T* dy, T* dx, std::int64_t n) {
  parallel_for(0, n, detail::kGrainActivation, [=](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) dx[i] = dy[i] * detail::gelu_grad(x[i]);
  });
}

}  // namespace ember::kernels
