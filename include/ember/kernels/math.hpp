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
#pragma once

#include <bit>
#include <cstdint>

namespace ember::detail {

inline float exp_fast(float x) {
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

}  // namespace ember::detail
