// ember/kernels/layernorm.hpp — layer normalisation over the last dim: forward and backward on
// raw pointers. Layer: kernels.
//
//   x, y, xhat: (R, D) row-major; weight, bias: (D); rstd: (R)
//   y[r, :] = xhat[r, :] · weight + bias,  xhat = (x − mean) · rstd,  rstd = 1 / sqrt(var + eps)
//
// Robust for any finite input: the double path first scales each row by 2^e ≥ s = max |x| (layer
// norm is scale invariant up to eps, which becomes eps / 2^2e; a power of two keeps the scaling
// exact) and accumulates in double. So x² never overflows (float inputs near FLT_MAX normalise to
// ±1, not to 0 or NaN) and a row whose values differ by 1e30 keeps its mean exact enough. Both
// paths centre twice: c = x − m, then x̂ = (c − δ)·rstd with δ = mean(c), var = mean(c²) − δ²,
// which removes the first mean's rounding (a constant row gives x̂ = 0 exactly). NaN or ±Inf in a
// row makes that row NaN, as in PyTorch; other rows are unaffected.
//
// Rows are split across threads (parallel_for); each row is a few passes over data in L1.
//
// Float rows take a float path first — two reductions and one write pass in 16 float lanes
// (Lanes16: vector types of the running copy's width) — and
// fall back to the double path unless Σc² is finite and at least D·2⁻⁶⁰ (so the largest terms are
// normal floats): rows with NaN or ±Inf, rows whose spread about the mean (root mean square of
// c) is above about 1e18 or below 1e-9, and constant rows.
// The backward does the same with Σ|dy·w|. Every row a network produces takes the float path.
//
// Target: ≥ 80% of the triad bandwidth at 2 threads (bench_elementwise BM_kernel_layer_norm_*,
// 8192 rows of 256, 12 bytes per element). The double path alone reached 8.1–10.0 / 17.2 GB/s
// forward (1 / 2 threads; 2.34 ms on one thread) and 13.5 / 24.1 backward; the float path
// 39.5 / 73.8 GB/s forward (0.59 ms; 90% of the triad's 81.5 GB/s measured in the same run)
// and 49.4 / 98.1 backward (0.47 ms; the operands partly fit the L3).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

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

// Non-dependent vector types, chosen by width below: g++ 12 drops vector_size(VB) with a
// template-dependent VB (the type silently stays a scalar float).
using FloatV16 = float __attribute__((vector_size(16)));
using FloatV32 = float __attribute__((vector_size(32)));
using FloatV64 = float __attribute__((vector_size(64)));
using IntV16 = std::int32_t __attribute__((vector_size(16)));
using IntV32 = std::int32_t __attribute__((vector_size(32)));
using IntV64 = std::int32_t __attribute__((vector_size(64)));
/// 16 float lanes as 64 / VB native vectors of VB bytes (GCC/clang vector types): VB = 64 in
/// the AVX-512 copy, 32 in the AVX2 copy, 16 in SSE2 (vectors wider than the copy's registers
/// were lowered through memory: the AVX2 copy ran 30% slower than the double path it replaced).
/// Lane l is element l % kPer of part l / kPer, so every width sums in the same order and gives
/// the same bits (up to FMA contraction). g++ 12's SLP vectoriser left per-lane arrays of
/// scalars as scalar code with lane extracts. Passed only by reference: a vector passed or
/// returned by value would change the ABI in copies without its registers (-Wpsabi).
template <int VB>
struct Lanes16 {
  using V =
      std::conditional_t<VB == 64, FloatV64, std::conditional_t<VB == 32, FloatV32, FloatV16>>;
  using VI = std::conditional_t<VB == 64, IntV64, std::conditional_t<VB == 32, IntV32, IntV16>>;
  static_assert(sizeof(V) == VB && sizeof(VI) == VB);
  static constexpr int kPer = VB / 4, kParts = 16 / kPer;
  V v[kParts] = {};
  static EMBER_ALWAYS_INLINE void load(V& out, const float* p) { std::memcpy(&out, p, VB); }
  double hsum() const {
    double t = 0;
    for (int k = 0; k < kParts; ++k)
      for (int l = 0; l < kPer; ++l) t += static_cast<double>(v[k][l]);
    return t;
  }
};

/// The float path of one row (see the header): false, touching nothing, unless Σc² is finite and
/// at least D·2⁻⁶⁰ (so its largest terms are normal floats), for the double path to handle
/// rows with NaN, ±Inf, huge or tiny values, or a constant row.
template <int VB>
EMBER_ALWAYS_INLINE bool layer_norm_row_float(const float* xr, const float* weight,
                                              const float* bias, float* yr, float* hr, float* rstd,
                                              std::int64_t D, double eps) {
  using L = Lanes16<VB>;
  using V = typename L::V;
  L sum;
  std::int64_t i = 0;
  for (; i + 16 <= D; i += 16)
    for (int k = 0; k < L::kParts; ++k) {
      V x;
      L::load(x, xr + i + k * L::kPer);
      sum.v[k] += x;
    }
  double total = sum.hsum();
  for (; i < D; ++i) total += static_cast<double>(xr[i]);
  const double dD = static_cast<double>(D);
  const float m0 = static_cast<float>(total / dD);
  L sc, sq;
  for (i = 0; i + 16 <= D; i += 16)
    for (int k = 0; k < L::kParts; ++k) {
      V c;
      L::load(c, xr + i + k * L::kPer);
      c -= m0;
      sc.v[k] += c;
      sq.v[k] += c * c;
    }
  double tc = sc.hsum(), tq = sq.hsum();
  for (; i < D; ++i) {
    const double c = static_cast<double>(xr[i] - m0);
    tc += c;
    tq += c * c;
  }
  if (!(tq >= dD * 0x1p-60 && tq <= static_cast<double>(std::numeric_limits<float>::max())))
    return false;  // also false for NaN
  const double delta = tc / dD;
  const double var = std::max(0.0, tq / dD - delta * delta);
  const double rs = 1 / std::sqrt(var + eps);
  const float fd = static_cast<float>(delta), fr = static_cast<float>(rs);
  for (i = 0; i < D; ++i) {
    const float h = ((xr[i] - m0) - fd) * fr;
    hr[i] = h;
    yr[i] = h * weight[i] + bias[i];
  }
  *rstd = fr;
  return true;
}

/// The backward's float path for one row: false, touching nothing, unless Σ|g| (g = dy·weight)
/// is finite and zero or at least D·2⁻⁶⁰, for the double path to handle.
template <int VB>
EMBER_ALWAYS_INLINE bool layer_norm_backward_row_float(const float* dr, const float* weight,
                                                       const float* hr, float rstd, float* out,
                                                       std::int64_t D) {
  using L = Lanes16<VB>;
  using V = typename L::V;
  using VI = typename L::VI;
  L sg, sgx, sa;
  std::int64_t i = 0;
  for (; i + 16 <= D; i += 16)
    for (int k = 0; k < L::kParts; ++k) {
      const std::int64_t at = i + k * L::kPer;
      V g, w, h;
      L::load(g, dr + at);
      L::load(w, weight + at);
      L::load(h, hr + at);
      g *= w;
      sg.v[k] += g;
      sgx.v[k] += g * h;
      VI bits;  // |g| by clearing the sign bits (memcpy, not bit_cast: no vector by value)
      std::memcpy(&bits, &g, VB);
      bits &= 0x7fffffff;
      V a;
      std::memcpy(&a, &bits, VB);
      sa.v[k] += a;
    }
  double tg = sg.hsum(), tgx = sgx.hsum(), ta = sa.hsum();
  for (; i < D; ++i) {
    const float g = dr[i] * weight[i];
    tg += static_cast<double>(g);
    tgx += static_cast<double>(g * hr[i]);
    ta += static_cast<double>(std::fabs(g));
  }
  const double dD = static_cast<double>(D);
  if (!(ta == 0 || (ta >= dD * 0x1p-60 &&
                    ta <= static_cast<double>(std::numeric_limits<float>::max()))))
    return false;  // also false for NaN
  if (!std::isfinite(tgx)) return false;
  const float mg = static_cast<float>(tg / dD), mgx = static_cast<float>(tgx / dD);
  for (i = 0; i < D; ++i) out[i] = rstd * ((dr[i] * weight[i] - mg) - hr[i] * mgx);
  return true;
}

/// f(std::integral_constant<int, VB>) with VB the vector width of the copy `isa` selects.
template <class F>
EMBER_ALWAYS_INLINE auto with_float_vector_bytes(Isa isa, F&& f) {
  if (isa >= Isa::Avx512) return f(std::integral_constant<int, 64>{});
  if (isa >= Isa::Avx2) return f(std::integral_constant<int, 32>{});
  return f(std::integral_constant<int, 16>{});
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
  const Isa isa = gemm_isa();  // the copy with_widest_isa runs, and its vector width
  parallel_for(0, R, grain, [&](std::int64_t lo, std::int64_t hi) {
    detail::with_widest_isa([&] {
      for (std::int64_t r = lo; r < hi; ++r) {
        const T* xr = x + r * D;
        T* hr = xhat + r * D;
        T* yr = y + r * D;
        if constexpr (std::is_same_v<T, float>) {
          if (D > 0 && with_float_vector_bytes(isa, [&](auto vb) {
                return layer_norm_row_float<decltype(vb)::value>(xr, weight, bias, yr, hr,
                                                                 rstd + r, D, eps);
              }))
            continue;
        }
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
        // Scale by a power of two (2^e ≥ s), so x · inv_s is exact and the centring below gives
        // the same bits whether or not a copy contracts it into an FMA (a constant row of 1e25
        // once normalised to ±1 in the AVX copies, 0 in SSE2).
        int e = 0;
        std::frexp(s, &e);
        const double inv_s = std::ldexp(1.0, -std::max(e, -1021));
        double sums[kLanes] = {};
        for_lanes(D, [&](std::int64_t i, int l) {
          sums[l] += static_cast<double>(static_cast<CT>(xr[i])) * inv_s;
        });
        const double mean = combine_sum(sums) / static_cast<double>(D);
        // Σc and Σc²: var = Σc²/D − δ² with δ = Σc/D, the mean's rounding error, taken out again
        // below (a constant row then gives var 0 and x̂ 0 even when its mean rounds).
        double scs[kLanes] = {}, sqs[kLanes] = {};
        for_lanes(D, [&](std::int64_t i, int l) {
          const double c = static_cast<double>(static_cast<CT>(xr[i])) * inv_s - mean;
          scs[l] += c;
          sqs[l] += c * c;
        });
        const double delta = combine_sum(scs) / static_cast<double>(D);
        const double var = std::max(0.0, combine_sum(sqs) / static_cast<double>(D) - delta * delta);
        // var(x) + eps = s² · (var(z) + eps / s²); eps / s² may be 0 or huge, never NaN.
        const double scaled = 1 / std::sqrt(var + eps * inv_s * inv_s);
        for (std::int64_t i = 0; i < D; ++i) {
          const double h =
              ((static_cast<double>(static_cast<CT>(xr[i])) * inv_s - mean) - delta) * scaled;
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
  const Isa isa = gemm_isa();  // the copy with_widest_isa runs, and its vector width
  parallel_for(0, R, grain, [&](std::int64_t lo, std::int64_t hi) {
    detail::with_widest_isa([&] {
      for (std::int64_t r = lo; r < hi; ++r) {
        const T* dr = dy + r * D;
        const T* hr = xhat + r * D;
        T* out = dx + r * D;
        if constexpr (std::is_same_v<T, float>) {
          if (with_float_vector_bytes(isa, [&](auto vb) {
                return layer_norm_backward_row_float<decltype(vb)::value>(dr, weight, hr,
                                                                          rstd[r], out, D);
              }))
            continue;
        }
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
