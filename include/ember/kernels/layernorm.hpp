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
// Rows are split across threads (parallel_for); each row is three passes over data in L1.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "ember/core/dtype.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::detail {

/// Forward: fills y, xhat (both (R, D)) and rstd (R) from x (R, D), weight and bias (D).
template <class T>
void layer_norm_forward(const T* x, const T* weight, const T* bias, T* y, T* xhat, T* rstd,
                        std::int64_t R, std::int64_t D, double eps) {
  using CT = compute_t<T>;
  const std::int64_t grain = std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(D, 1));
  parallel_for(0, R, grain, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      const T* xr = x + r * D;
      T* hr = xhat + r * D;
      T* yr = y + r * D;
      double s = 0;  // max |x|: NaN-propagating through the sums below
      bool finite = true;
      for (std::int64_t i = 0; i < D; ++i) {
        const double v = static_cast<double>(static_cast<CT>(xr[i]));
        finite = finite && std::isfinite(v);
        s = std::max(s, std::abs(v));
      }
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
      double sum = 0;
      for (std::int64_t i = 0; i < D; ++i)
        sum += static_cast<double>(static_cast<CT>(xr[i])) * inv_s;
      const double mean = sum / static_cast<double>(D);
      double sq = 0;
      for (std::int64_t i = 0; i < D; ++i) {
        const double c = static_cast<double>(static_cast<CT>(xr[i])) * inv_s - mean;
        sq += c * c;
      }
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
}

/// Backward for dx: dx = rstd · (g − mean(g) − xhat · mean(g · xhat)) with g = dy · weight.
/// dy, xhat, dx: (R, D); rstd: (R). (dweight and dbias are column sums, taken by the caller.)
template <class T>
void layer_norm_backward_input(const T* dy, const T* weight, const T* xhat, const T* rstd, T* dx,
                               std::int64_t R, std::int64_t D) {
  using CT = compute_t<T>;
  const std::int64_t grain = std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(D, 1));
  parallel_for(0, R, grain, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      const T* dr = dy + r * D;
      const T* hr = xhat + r * D;
      T* out = dx + r * D;
      double mg = 0, mgx = 0;
      for (std::int64_t i = 0; i < D; ++i) {
        const double g = static_cast<double>(static_cast<CT>(dr[i])) *
                         static_cast<double>(static_cast<CT>(weight[i]));
        mg += g;
        mgx += g * static_cast<double>(static_cast<CT>(hr[i]));
      }
      mg /= static_cast<double>(D);
      mgx /= static_cast<double>(D);
      const double rs = static_cast<double>(static_cast<CT>(rstd[r]));
      for (std::int64_t i = 0; i < D; ++i) {
        const double g = static_cast<double>(static_cast<CT>(dr[i])) *
                         static_cast<double>(static_cast<CT>(weight[i]));
        out[i] = static_cast<T>(
            static_cast<CT>(rs * (g - mg - static_cast<double>(static_cast<CT>(hr[i])) * mgx)));
      }
    }
  });
}

}  // namespace ember::detail
