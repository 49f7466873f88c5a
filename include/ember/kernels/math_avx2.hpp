// ember/kernels/math_avx2.hpp — exp_fast, erf_fast, tanh_fast and normal_cdf_pdf (math.hpp) on 8-lane AVX2
// vectors, and the loops of element-wise maps and softmax's exponentials over them.
// Layer: kernels. The scalar forms in math.hpp vectorise by themselves wherever the compiler
// if-converts their clamps and region selects: clang at every level, g++ 12 for AVX-512 (masked
// instructions). g++ 12 keeps them as branches for AVX2 (under its default -ftrapping-math), so
// an AVX2 loop over the scalar form ran GELU at 7.0 ns per element against 1.0 for AVX-512
// (forward + backward, Zen 5). These are the same algorithms, written on __m256: the same
// constants, ranges and polynomials in the same order, with FMA where the scalar form is
// contracted, so they agree with the scalar forms to an ulp or two (tests/kernels/test_math.cpp
// sweeps them against double-precision references like the scalar forms).
//
// Speed target: the AVX2 copies memory-bound like the AVX-512 copies. Measured (activation.hpp):
// GELU 6.4× faster than the scalar forms in an AVX2 loop, within 1.4× of the AVX-512 copy;
// bench_dispatch (README, default build): exp 1.7–2.1 → 16.8–18.3 GB/s, tanh 1.1 → 7.9–8.2,
// softmax rows 1.6–2.2 → 8.6–9.6, each within 1.2× of its AVX-512 copy.
#pragma once

#include "ember/kernels/cpu.hpp"

#if EMBER_X86
#include <immintrin.h>

namespace ember::detail::avx2 {

#define EMBER_TARGET_AVX2 __attribute__((target("avx2,fma")))

EMBER_TARGET_AVX2 inline __m256 sign_mask() {
  return _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int>(0x80000000u)));
}

EMBER_TARGET_AVX2 inline __m256 horner_from(__m256 acc, __m256 /*x*/) {
  return acc;
}
template <class... C>
EMBER_TARGET_AVX2 inline __m256 horner_from(__m256 acc, __m256 x, float c, C... rest) {
  return horner_from(_mm256_fmadd_ps(acc, x, _mm256_set1_ps(c)), x, rest...);
}
/// c0·xⁿ + c1·xⁿ⁻¹ + … + cn by Horner's rule with FMA, the scalar forms' evaluation order.
template <class... C>
EMBER_TARGET_AVX2 inline __m256 horner(__m256 x, float c0, C... rest) {
  return horner_from(_mm256_set1_ps(c0), x, rest...);
}

/// exp_fast(x) lane by lane (math.hpp): Cody-Waite reduction, degree-7 Taylor polynomial,
/// 2^n as two powers of two; NaN propagates.
EMBER_TARGET_AVX2 inline __m256 exp_fast(__m256 x) {
  // max/min return their second operand for a NaN first operand: xc is finite, and the NaN is
  // put back at the end.
  const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-104.0f)), _mm256_set1_ps(89.0f));
  const __m256 round = _mm256_set1_ps(12582912.0f);
  const __m256 kn = _mm256_fmadd_ps(xc, _mm256_set1_ps(1.44269504088896341f), round);
  const __m256 nf = _mm256_sub_ps(kn, round);
  const __m256i n = _mm256_sub_epi32(_mm256_castps_si256(kn), _mm256_set1_epi32(0x4B400000));
  __m256 r = _mm256_fnmadd_ps(nf, _mm256_set1_ps(0.693359375f), xc);
  r = _mm256_fnmadd_ps(nf, _mm256_set1_ps(-2.12194440e-4f), r);
  const __m256 p = horner(r, 1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f,
                         1.0f / 6.0f, 0.5f, 1.0f, 1.0f);
  const __m256i n1 = _mm256_srai_epi32(n, 1);
  const __m256i n2 = _mm256_sub_epi32(n, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  const __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/// erf_fast(x) lane by lane (math.hpp): x·P(x²) below |x| = 1, 1 - e^{-x²}·Q(s) above, with
/// |x| clamped to [1, 4] for the second; NaN propagates.
EMBER_TARGET_AVX2 inline __m256 erf_fast(__m256 x) {
  const __m256 ax = _mm256_andnot_ps(sign_mask(), x);
  const __m256 t = _mm256_mul_ps(x, x);
  const __m256 p = horner(t, 0.00007875875063f, -0.0008016864287f, 0.005189087423f,
                         -0.02685421201f, 0.1128359472f, -0.3761262667f, 1.128379166f);
  const __m256 small = _mm256_mul_ps(x, p);
  const __m256 z = _mm256_min_ps(_mm256_max_ps(ax, _mm256_set1_ps(1.0f)), _mm256_set1_ps(4.0f));
  const __m256 s = _mm256_mul_ps(_mm256_sub_ps(z, _mm256_set1_ps(2.5f)), _mm256_set1_ps(1.0f / 1.5f));
  const __m256 q = horner(s, -0.00003566417877f, 0.00009629120195f, -0.0001474161429f,
                         0.0003681510979f, -0.001013662598f, 0.002425638938f, -0.005568837646f,
                         0.01248412315f, -0.02700545821f, 0.05611094756f, -0.1115210179f,
                         0.2108063577f);
  const __m256 z2 = _mm256_mul_ps(z, z);
  const __m256 z2lo = _mm256_fmsub_ps(z, z, z2);  // z² = z2 + z2lo exactly
  const __m256 e = _mm256_mul_ps(exp_fast(_mm256_xor_ps(z2, sign_mask())),
                                 _mm256_sub_ps(_mm256_set1_ps(1.0f), z2lo));
  const __m256 big_mag = _mm256_fnmadd_ps(e, q, _mm256_set1_ps(1.0f));
  // -big_mag where x < 0 (x = -0 lies in the small region, which is selected below).
  const __m256 negative = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
  const __m256 big = _mm256_xor_ps(big_mag, _mm256_and_ps(negative, sign_mask()));
  const __m256 y = _mm256_blendv_ps(big, small, _mm256_cmp_ps(ax, _mm256_set1_ps(1.0f), _CMP_LT_OQ));
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/// normal_cdf_pdf(x) lane by lane (math.hpp): erfc(|x|/√2)/2 = t·G(t)·e^{-x²/2} with
/// t = 1/(1 + 0.4·|x|/√2), |x| clamped to 20; Φ = that for x < 0, 1 − that otherwise; NaN
/// propagates to both.
struct NormalCdfPdf8 {
  __m256 cdf, pdf;
};
EMBER_TARGET_AVX2 inline NormalCdfPdf8 normal_cdf_pdf(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 ax = _mm256_min_ps(_mm256_andnot_ps(sign_mask(), x), _mm256_set1_ps(20.0f));
  const __m256 w = _mm256_mul_ps(ax, _mm256_set1_ps(0.70710678118654752f));
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.4f), w, one));
  const __m256 p = horner(t, -0.01493431424f, 0.07192053464f, -0.1215208659f, 0.07340162284f,
                         -0.02689658316f, 0.04356032082f, 0.05904756151f, 0.08594528596f,
                         0.1038003602f, 0.1128381585f, 0.1128379157f);
  const __m256 xx = _mm256_mul_ps(ax, ax);
  const __m256 xxlo = _mm256_fmsub_ps(ax, ax, xx);  // x² = xx + xxlo exactly
  const __m256 e = _mm256_mul_ps(exp_fast(_mm256_mul_ps(_mm256_set1_ps(-0.5f), xx)),
                                 _mm256_fnmadd_ps(_mm256_set1_ps(0.5f), xxlo, one));
  const __m256 half_erfc = _mm256_mul_ps(_mm256_mul_ps(t, p), e);
  const __m256 negative = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
  const __m256 cdf = _mm256_blendv_ps(_mm256_sub_ps(one, half_erfc), half_erfc, negative);
  const __m256 pdf = _mm256_mul_ps(_mm256_set1_ps(0.3989422804014327f), e);
  const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  return {_mm256_blendv_ps(cdf, x, nan), _mm256_blendv_ps(pdf, x, nan)};
}

/// tanh_fast(x) lane by lane (math.hpp): x·P(x²) below |x| = 0.6, ±(1 − 2/(e^{2|x|} + 1))
/// above with |x| clamped to 10; NaN propagates.
EMBER_TARGET_AVX2 inline __m256 tanh_fast(__m256 x) {
  const __m256 t = _mm256_mul_ps(x, x);
  const __m256 p = horner(t, -0.00584964391f, 0.02075134911f, -0.05376798351f, 0.1333167963f,
                         -0.3333328283f, 0.9999999975f);
  const __m256 small = _mm256_mul_ps(x, p);
  const __m256 ax = _mm256_andnot_ps(sign_mask(), x);
  const __m256 axc = _mm256_min_ps(ax, _mm256_set1_ps(10.0f));
  const __m256 e = exp_fast(_mm256_mul_ps(_mm256_set1_ps(2.0f), axc));
  const __m256 big_mag = _mm256_sub_ps(_mm256_set1_ps(1.0f),
                                       _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
  const __m256 negative = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
  const __m256 big = _mm256_xor_ps(big_mag, _mm256_and_ps(negative, sign_mask()));
  const __m256 y = _mm256_blendv_ps(big, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.6f), _CMP_LT_OQ));
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/// The __m256 forms of element-wise maps (elementwise.hpp: exp, tanh, sigmoid; softmax's
/// shifted exp), for map_ps.
struct ExpForm {
  EMBER_TARGET_AVX2 static __m256 apply(__m256 x) { return exp_fast(x); }
};
struct TanhForm {
  EMBER_TARGET_AVX2 static __m256 apply(__m256 x) { return tanh_fast(x); }
};
struct SigmoidForm {  // 1 / (1 + e^{−x}), the scalar form's order
  EMBER_TARGET_AVX2 static __m256 apply(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp_fast(_mm256_xor_ps(x, sign_mask()))));
  }
};
struct ExpShiftedForm {  // e^{x − shift}: softmax's exponentials
  float shift;
  EMBER_TARGET_AVX2 __m256 apply(__m256 x) const {
    return exp_fast(_mm256_sub_ps(x, _mm256_set1_ps(shift)));
  }
};

/// The mask of the first r < 8 lanes, for the masked loads and stores of a row's tail.
EMBER_TARGET_AVX2 inline __m256i first_lanes(std::int64_t r) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(r)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// y[i] = form.apply(x[i]) for i < n (y may be x), eight lanes at a time; the last n mod 8
/// through masked loads and stores, so every element takes the same vector arithmetic.
template <class Form>
EMBER_TARGET_AVX2 inline void map_ps(const float* x, float* y, std::int64_t n, const Form& form = {}) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, form.apply(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i mask = first_lanes(n - i);
    _mm256_maskstore_ps(y + i, mask, form.apply(_mm256_maskload_ps(x + i, mask)));
  }
}

#undef EMBER_TARGET_AVX2

}  // namespace ember::detail::avx2
#endif
