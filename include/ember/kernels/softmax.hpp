// ember/kernels/softmax.hpp — numerically stable softmax and log_softmax along one axis.
// Layer: kernels. softmax(x)_i = exp(x_i - m) / Σ_j exp(x_j - m) with m = max_j x_j, so no
// exp overflows; log_softmax(x)_i = x_i - m - log Σ_j exp(x_j - m). Rows along the last axis of
// a contiguous tensor are processed in place in one fused pass each (rows split across threads);
// any other axis is moved last, computed, and moved back. A row containing +inf or NaN gives NaN,
// as in PyTorch.
#pragma once

#include <cmath>
#include <type_traits>

#include "ember/kernels/cpu.hpp"
#include "ember/kernels/math.hpp"
#include "ember/kernels/math_avx2.hpp"
#include "ember/kernels/parallel.hpp"
#include "ember/kernels/reduce.hpp"

namespace ember {

namespace detail {

/// y[i] = exp(x[i] − shift) for i < n (y may be x), math.hpp's exp. Called from inside a
/// with_widest_isa body: the loop vectorises in the AVX-512 copy, but g++ 12 leaves it scalar in
/// the AVX2 copy (exp_fast's clamps stay branches under -ftrapping-math), so there the __m256
/// form of math_avx2.hpp runs instead.
/// Target: the AVX2 copy as fast as the AVX-512 one (memory-bound). Measured (bench_dispatch,
/// softmax over 8192 rows of 256 floats, default build without -march, Zen 5, 1 thread): the
/// AVX2 copy 1.6–2.2 → 8.6–9.6 GB/s, the AVX-512 copy 9.1–11.5 GB/s.
template <class T, class CT>
EMBER_ALWAYS_INLINE void exp_shifted(const T* x, T* y, std::int64_t n, CT shift) {
  auto body = [&] {
    for (std::int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(detail::exp(static_cast<CT>(x[i]) - shift));
  };
#if EMBER_X86
  if constexpr (std::is_same_v<T, float>) {
    with_widest_isa(body, [&] { avx2::map_ps(x, y, n, avx2::ExpShiftedForm{shift}); });
    return;
  }
#endif
  body();
}

// y, x: (rows, n) contiguous; log=true gives log_softmax. Each row takes three vectorised
// passes over data in L1 (max; exp and store; pairwise sum of the stored exps) and a fourth to
// scale. Fusing exp with the sum in one loop would serialise it on the float adds.
template <class T>
void softmax_rows(const T* x, T* y, std::int64_t rows, std::int64_t n, bool log) {
  using CT = compute_t<T>;
  const std::int64_t grain =
      std::max<std::int64_t>(1, kGrainElementwise / std::max<std::int64_t>(n, 1));
  parallel_for(0, rows, grain, [&](std::int64_t lo, std::int64_t hi) {
    detail::with_widest_isa([&] {
      for (std::int64_t r = lo; r < hi; ++r) {
        const T* xr = x + r * n;
        T* yr = y + r * n;
        CT m = dense_extremum</*IsMax=*/true>(xr, n);
        if (m == -std::numeric_limits<CT>::infinity()) m = 0;  // all -inf: exp gives 0s
        exp_shifted(xr, yr, n, m);
        const CT s = SumOp<T>::pairwise_sum(yr, n);
        if (log) {
          // (x − m) − log s, not x − (m + log s): with |m| ≫ log s the sum m + log s rounds to m,
          // and every entry would lose its log s (log_softmax(1e30, 1e30) must be −log 2).
          const CT log_s = std::log(s);
          for (std::int64_t i = 0; i < n; ++i) yr[i] = static_cast<T>((static_cast<CT>(xr[i]) - m) - log_s);
        } else {
          const CT inv = CT(1) / s;
          for (std::int64_t i = 0; i < n; ++i) yr[i] = static_cast<T>(static_cast<CT>(yr[i]) * inv);
        }
      }
    });
  });
}

template <class T>
Tensor<T> softmax_impl(const Tensor<T>& x, std::int64_t axis, bool log, std::string_view op) {
  if (x.dim() == 0) return softmax_impl(x.reshape({1}), 0, log, op).reshape(Shape{});
  int ax = normalize_axis(axis, x.dim(), op);
  const int last = x.dim() - 1;
  Tensor<T> xt = (ax == last ? x : x.transpose(ax, last)).contiguous();
  Tensor<T> y = Tensor<T>::empty(xt.shape());
  const std::int64_t n = xt.shape()[last];
  if (xt.numel() > 0) softmax_rows(xt.data(), y.data(), xt.numel() / n, n, log);
  return ax == last ? y : y.transpose(ax, last).contiguous();
}

}  // namespace detail

/// Softmax along `axis` (default: last). Rows sum to 1.
template <FloatingScalar T>
Tensor<T> softmax(const Tensor<T>& x, std::int64_t axis = -1) {
  return detail::softmax_impl(x, axis, /*log=*/false, "softmax");
}

/// log(softmax(x)) along `axis`, computed without forming softmax (no log(0) = -inf for
/// merely small probabilities).
template <FloatingScalar T>
Tensor<T> log_softmax(const Tensor<T>& x, std::int64_t axis = -1) {
  return detail::softmax_impl(x, axis, /*log=*/true, "log_softmax");
}

}  // namespace ember
