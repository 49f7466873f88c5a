// ember/kernels/layernorm.hpp — layer normalisation over the last dim: forward and backward on
// raw pointers. Layer: kernels.
//
//   x, y, xhat: (R, D) row-major; weight, bias: (D); rstd: (R)
//   y[r, :] = xhat[r, :] · weight + bias,  xhat = (x − mean) · rstd,  rstd = 1 / sqrt(var + eps)
//
// Robust for any finite input: each row is first scaled by s = max |x| (layer norm is scale
// invariant up to eps, which becomes eps / s²), and sums are accumulated in double. So x² never
// overflows (float inputs near FLT_MAX normalise to ±1, not to 0 or NaN) and a row whose values
// differ by 1e30 keeps its mean exact enough. A constant row gives xhat = 0. NaN or ±Inf in a
// row makes that row NaN, as in PyTorch; other rows are unaffected.
//
// Rows are split across threads (parallel_for); each row is four passes over data in L1, the
// reductions in 8 double lanes so they vectorise (bench_autograd encoder/step: layer norm was
// 4% of the MLM pretraining step with one running sum per reduction).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "ember/config.hpp"
#include "ember/core/dtype.hpp"
#include "ember/kernels/cpu.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::detail {

namespace layer_norm_lanes {
inline constexpr int kLanes = 8;
/// f(i, i mod kLanes) for i < n: whole groups of kLanes first (the inner loop over lanes is what
/// vectorises), then the tail.
template <class F>
EMBER_ALWAYS_INLINE void for_lanes(std::int64_t n, F&& f) {
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) f(i + l, l);
  for (; i < n; ++i) f(i, static_cast<int>(i % kLanes));
}
inline double combine_sum(const double (&a)[kLanes]) {
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}
inline double combine_max(const double (&a)[kLanes]) {
  return std::max(std::max(std::max(a[0], a[1]), std::max(a[2], a[3])),
                  std::max(std::max(a[4], a[5]), std::max(a[6], a[7])));
}
}  // namespace layer_norm_lanes

}  // namespace ember::detail

namespace ember::kernels {

/// Forward: fills y, xhat (both (R, D)) and rstd (R) from x (R, D), weight and bias (D).
template <class T>
void layer_norm_forward(const T* x, const T* weight, const T* bias, T* y, T* xhat, T* rstd,
                        std::int64_t R, std::int64_t D, double eps) {
  using CT = compute_t<T>;
  using namespace detail::layer_norm_lanes;
  const std::int64_t grain = std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(D, 1));
  parallel_for(0, R, grain, [&](std::int64_t lo, std::int64_t hi) {
    detail::with_widest_isa([&] {
      for (std::int64_t r = lo; r < hi; ++r) {
        const T* xr = x + r * D;
        T* hr = xhat + r * D;
        T* yr = y + r * D;
        // Reductions in kLanes independent double accumulators (combined in a fixed order at the
        // end), so they vectorise: a single running sum cannot (no reassociation without
        // -ffast-math), and ran the row one element at a time.
        double mx[kLanes] = {}, probe[kLanes] = {};
        for_lanes(D, [&](std::int64_t i, int l) {
          const double v = static_cast<double>(static_cast<CT>(xr[i]));
          mx[l] = std::max(mx[l], std::abs(v));
          probe[l] += v * 0.0;  // NaN once any element is NaN or ±Inf
        });
        const double s = combine_max(mx);
        const bool finite = combine_sum(probe) == 0.0;
        if (!finite || D == 0) {
          const T nan = static_cast<T>(std::numeric_limits<CT>::quiet_NaN());
          for (std::int64_t i = 0; i < D; ++i) hr[i] = yr[i] = nan;
          rstd[r] = nan;
          continue;
        }
        if (s == 0) {  // a row of zeros: xhat = 0, the output is the bias
          for (std::int64_t i = 0; i < D; ++i) {
            hr[i] = T(0);
            yr[i] = bias[i];
          }
          rstd[r] = static_cast<T>(static_cast<CT>(1 / std::sqrt(eps)));
          continue;
        }
        const double inv_s = 1 / s;
        double sums[kLanes] = {};
        for_lanes(D, [&](std::int64_t i, int l) {
          sums[l] += static_cast<double>(static_cast<CT>(xr[i])) * inv_s;
        });
        const double mean = combine_sum(sums) / static_cast<double>(D);
        double sqs[kLanes] = {};
        for_lanes(D, [&](std::int64_t i, int l) {
          const double c = static_cast<double>(static_cast<CT>(xr[i])) * inv_s - mean;
          sqs[l] += c * c;
        });
        const double sq = combine_sum(sqs);
        // var(x) + eps = s² · (var(z) + eps / s²); eps / s² may be 0 or huge, never NaN.
        const double scaled = 1 / std::sqrt(sq / static_cast<double>(D) + eps * inv_s * inv_s);
        for (std::int64_t i = 0; i < D; ++i) {
          const double h = (static_cast<double>(static_cast<CT>(xr[i])) * inv_s - mean) * scaled;
          hr[i] = static_cast<T>(static_cast<CT>(h));
          yr[i] = static_cast<T>(static_cast<CT>(h * static_cast<double>(static_cast<CT>(weight[i])) +
                                                 static_cast<double>(static_cast<CT>(bias[i]))));
        }
        rstd[r] = static_cast<T>(static_cast<CT>(scaled * inv_s));
      }
    });
  });
}

/// Backward for dx: dx = rstd · (g − mean(g) − xhat · mean(g · xhat)) with g = dy · weight.
/// dy, xhat, dx: (R, D); rstd: (R). (dweight and dbias are column sums, taken by the caller.)
template <class T>
void layer_norm_backward_input(const T* dy, const T* weight, const T* xhat, const T* rstd, T* dx,
                               std::int64_t R, std::int64_t D) {
  using CT = compute_t<T>;
  using namespace detail::layer_norm_lanes;
  const std::int64_t grain = std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(D, 1));
  parallel_for(0, R, grain, [&](std::int64_t lo, std::int64_t hi) {
    detail::with_widest_isa([&] {
      for (std::int64_t r = lo; r < hi; ++r) {
        const T* dr = dy + r * D;
        const T* hr = xhat + r * D;
        T* out = dx + r * D;
        double mgs[kLanes] = {}, mgxs[kLanes] = {};
        for_lanes(D, [&](std::int64_t i, int l) {
          const double g = static_cast<double>(static_cast<CT>(dr[i])) *
                           static_cast<double>(static_cast<CT>(weight[i]));
          mgs[l] += g;
          mgxs[l] += g * static_cast<double>(static_cast<CT>(hr[i]));
        });
        const double mg = combine_sum(mgs) / static_cast<double>(D);
        const double mgx = combine_sum(mgxs) / static_cast<double>(D);
        const double rs = static_cast<double>(static_cast<CT>(rstd[r]));
        for (std::int64_t i = 0; i < D; ++i) {
          const double g = static_cast<double>(static_cast<CT>(dr[i])) *
                           static_cast<double>(static_cast<CT>(weight[i]));
          out[i] = static_cast<T>(
              static_cast<CT>(rs * (g - mg - static_cast<double>(static_cast<CT>(hr[i])) * mgx)));
        }
      }
    });
  });
}

}  // namespace ember::kernels
