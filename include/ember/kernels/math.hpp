// ember/kernels/math.hpp — scalar math written so the compiler can vectorise it.
// Layer: kernels. libm's expf is a call per element, which no auto-vectoriser can turn into
// SIMD; `exp_fast` is branch-free arithmetic (Cody-Waite range reduction, a degree-7
// polynomial, exponent built from bits), so a plain loop over it vectorises at -O3.
//
// Accuracy: ≤ 2 ulp against correctly rounded expf over the whole float range (tested by a
// sweep in tests/kernels/test_math.cpp); exp(0) = 1 exactly; overflow gives +inf, underflow
// gives denormals then 0; NaN propagates.
// Speed (bench_elementwise, BM_ember_exp, 4M floats, 1 thread, -march=native): see README;
// target: memory-bound like Eigen's vectorised exp.
//
// erf_fast and tanh_fast follow the same rules: both regions of each are computed and one is
// selected (a blend, no branch), so loops over them vectorise. Their polynomials are
// Chebyshev fits made with mpmath by tools/fit_math.py (coefficients as printed there).
// Accuracy (sweeps in tests/kernels/test_math.cpp against double-precision std::erf/std::tanh):
// erf ≤ 2 ulp, tanh ≤ 2 ulp (1 measured), over the whole float range; odd symmetry exact; NaN propagates.
// normal_cdf_pdf (GELU's Φ and φ) has one region: Φ ≤ 7 ulp and φ ≤ 4 ulp measured over the
// whole float range, Φ relative to itself also in its negative tail.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "ember/config.hpp"

namespace ember::detail {

EMBER_ALWAYS_INLINE float exp_fast(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;  // few mantissa bits: n·kLn2Hi is exact
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer in the low bits
  // Clamp (NaN compares false and passes through both).
  float xc = x < -104.0f ? -104.0f : x;
  xc = xc > 89.0f ? 89.0f : xc;
  // n = round(x / ln 2), read from the mantissa bits of kn (no float→int conversion, so NaN
  // stays well-defined in scalar code too).
  const float kn = xc * kLog2e + kRound;
  const float nf = kn - kRound;
  const std::int32_t n = static_cast<std::int32_t>(std::bit_cast<std::uint32_t>(kn) - 0x4B400000u);
  // r = x - n ln 2 in [-ln2/2, ln2/2], in two steps for accuracy.
  const float r = (xc - nf * kLn2Hi) - nf * kLn2Lo;
  // e^r by its Taylor series to degree 7 (truncation error < 6e-9 relative on this interval).
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // 2^n as two normal powers of two, so n from -150 to 129 neither wraps the exponent field
  // nor loses the gradual underflow: overflow and underflow happen in the final products.
  const std::int32_t n1 = n >> 1, n2 = n - n1;
  const float s1 = std::bit_cast<float>((static_cast<std::uint32_t>(n1) + 127u) << 23);
  const float s2 = std::bit_cast<float>((static_cast<std::uint32_t>(n2) + 127u) << 23);
  const float y = p * s1 * s2;
  return x != x ? x : y;
}

/// erf(x) in float arithmetic, branch-free.
///   |x| < 1:  x · P(x²), P of degree 6 (fit error 1.2e-9 relative);
///   |x| ≥ 1:  1 - exp(-x²) · Q(s), s = (|x| - 2.5) / 1.5, Q of degree 11 on [1, 4]
///             (fit error 9.6e-9 of erfc·e^{x²}); x² is split into hi + lo with an FMA, so the
///             exponent carries no rounding error (3 ulp otherwise near |x| = 4).
///   |x| ≥ 3.92: erf rounds to ±1 in float; |x| is clamped to 4 for the polynomial.
EMBER_ALWAYS_INLINE float erf_fast(float x) {
  const float ax = x < 0.0f ? -x : x;
  // Small region.
  const float t = x * x;
  float p = 0.00007875875063f;
  p = p * t - 0.0008016864287f;
  p = p * t + 0.005189087423f;
  p = p * t - 0.02685421201f;
  p = p * t + 0.1128359472f;
  p = p * t - 0.3761262667f;
  p = p * t + 1.128379166f;
  const float small = x * p;
  // Large region.
  const float z = ax < 1.0f ? 1.0f : (ax > 4.0f ? 4.0f : ax);
  const float s = (z - 2.5f) * (1.0f / 1.5f);
  float q = -0.00003566417877f;
  q = q * s + 0.00009629120195f;
  q = q * s - 0.0001474161429f;
  q = q * s + 0.0003681510979f;
  q = q * s - 0.001013662598f;
  q = q * s + 0.002425638938f;
  q = q * s - 0.005568837646f;
  q = q * s + 0.01248412315f;
  q = q * s - 0.02700545821f;
  q = q * s + 0.05611094756f;
  q = q * s - 0.1115210179f;
  q = q * s + 0.2108063577f;
  const float z2 = z * z;
  const float z2lo = __builtin_fmaf(z, z, -z2);  // z² = z2 + z2lo exactly
  const float e = exp_fast(-z2) * (1.0f - z2lo);
  const float big_mag = 1.0f - e * q;
  const float big = x < 0.0f ? -big_mag : big_mag;
  const float y = ax < 1.0f ? small : big;
  return x != x ? x : y;
}

/// Φ(x) = (1 + erf(x/√2))/2, the standard normal CDF, with its density φ(x) = e^{-x²/2}/√(2π),
/// in float arithmetic, branch-free; GELU's forward is x·Φ(x) and its derivative Φ(x) + x·φ(x)
/// (activation.hpp), so both share one exponential. One region for every x:
///   erfc(w)/2 = t · G(t) · e^{-w²},  w = |x|/√2,  t = 1/(1 + 0.4 w) in (0, 1],
/// G of degree 10 (fit error 3.2e-9 relative; tools/fit_math.py), then Φ(x) = 1 - erfc(w)/2 for
/// x ≥ 0 and erfc(w)/2 for x < 0. So Φ keeps its relative accuracy for negative x, where
/// (1 + erf_fast(x/√2))/2 cancels to nothing (every digit gone below x ≈ -5.5). e^{-x²/2} is
/// taken from x² split exactly into hi + lo with an FMA; |x| is clamped to 20 (Φ has rounded to
/// 0 or 1 long before). Against erf_fast's two regions (19 polynomial terms, an exponential,
/// both computed for every element) this is one polynomial of 11 terms, one division and one
/// exponential: GELU backward 1.5–1.8× faster, forward up to 1.1× (README, "Roofline").
struct NormalCdfPdf {
  float cdf, pdf;
};
EMBER_ALWAYS_INLINE NormalCdfPdf normal_cdf_pdf(float x) {
  float ax = x < 0.0f ? -x : x;
  ax = ax > 20.0f ? 20.0f : ax;
  const float w = ax * 0.70710678118654752f;
  const float t = 1.0f / (1.0f + 0.4f * w);
  float p = -0.01493431424f;
  p = p * t + 0.07192053464f;
  p = p * t - 0.1215208659f;
  p = p * t + 0.07340162284f;
  p = p * t - 0.02689658316f;
  p = p * t + 0.04356032082f;
  p = p * t + 0.05904756151f;
  p = p * t + 0.08594528596f;
  p = p * t + 0.1038003602f;
  p = p * t + 0.1128381585f;
  p = p * t + 0.1128379157f;
  const float xx = ax * ax;
  const float xxlo = __builtin_fmaf(ax, ax, -xx);  // x² = xx + xxlo exactly
  const float e = exp_fast(-0.5f * xx) * (1.0f - 0.5f * xxlo);
  const float half_erfc = t * p * e;
  const float cdf = x < 0.0f ? half_erfc : 1.0f - half_erfc;
  const float pdf = 0.3989422804014327f * e;
  return {x != x ? x : cdf, x != x ? x : pdf};
}

/// tanh(x) in float arithmetic, branch-free.
///   |x| < 0.6: x · P(x²), P of degree 5 (fit error 2.5e-9 relative);
///   |x| ≥ 0.6: ±(1 - 2 / (e^{2|x|} + 1)), with |x| clamped to 10 (tanh rounds to ±1 there).
EMBER_ALWAYS_INLINE float tanh_fast(float x) {
  const float t = x * x;
  float p = -0.00584964391f;
  p = p * t + 0.02075134911f;
  p = p * t - 0.05376798351f;
  p = p * t + 0.1333167963f;
  p = p * t - 0.3333328283f;
  p = p * t + 0.9999999975f;
  const float small = x * p;
  float ax = x < 0.0f ? -x : x;
  ax = ax > 10.0f ? 10.0f : ax;
  const float big_mag = 1.0f - 2.0f / (exp_fast(2.0f * ax) + 1.0f);
  const float big = x < 0.0f ? -big_mag : big_mag;
  const float y = (x < 0.6f && x > -0.6f) ? small : big;
  return x != x ? x : y;
}

/// exp, erf, tanh for a compute type: the vectorisable forms above for float (and so for
/// bfloat16, whose compute type is float), libm for double.
template <class T>
EMBER_ALWAYS_INLINE T exp(T x) {
  if constexpr (std::is_same_v<T, float>)
    return exp_fast(x);
  else
    return std::exp(x);
}
template <class T>
EMBER_ALWAYS_INLINE T erf(T x) {
  if constexpr (std::is_same_v<T, float>)
    return erf_fast(x);
  else
    return std::erf(x);
}
template <class T>
EMBER_ALWAYS_INLINE T tanh(T x) {
  if constexpr (std::is_same_v<T, float>)
    return tanh_fast(x);
  else
    return std::tanh(x);
}

}  // namespace ember::detail
