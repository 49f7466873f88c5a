#include <cmath>
#include <limits>

#include <ember/kernels/cpu.hpp>
#include <ember/kernels/math.hpp>
#include <ember/kernels/math_avx2.hpp>

#include "../test_util.hpp"

namespace {
// Distance in units in the last place between two finite floats of the same sign.
std::int64_t ulp_distance(float a, float b) {
  auto key = [](float f) {
    std::int32_t i = std::bit_cast<std::int32_t>(f);
    return i < 0 ? std::int64_t{std::numeric_limits<std::int32_t>::min()} - i : std::int64_t{i};
  };
  return std::llabs(key(a) - key(b));
}
}  // namespace

TEST(Math, ExpFastWithinTwoUlpOverTheWholeRange) {
  // Every 97th float bit pattern between -104 and 89 (about 10 million inputs), against
  // exp computed in double and rounded once to float (the correctly rounded value, up to
  // double's own 0.5 ulp).
  std::int64_t worst = 0;
  float worst_x = 0;
  // Bit patterns grow with magnitude on each side of zero: [+0, 89) and [-0, -104).
  const std::pair<float, float> ranges[] = {{0.0f, 89.0f}, {-0.0f, -104.0f}};
  for (auto [from, to] : ranges) {
    std::uint32_t a = std::bit_cast<std::uint32_t>(from), b = std::bit_cast<std::uint32_t>(to);
    for (std::uint32_t u = a; u < b; u += 97) {
      float x = std::bit_cast<float>(u);
      float ref = static_cast<float>(std::exp(static_cast<double>(x)));
      float got = ember::detail::exp_fast(x);
      if (ref == 0.0f || std::isinf(ref)) {
        ASSERT_EQ(got, ref) << "x=" << x;
        continue;
      }
      // Denormal results carry fewer significant bits; compare them absolutely.
      if (ref < std::numeric_limits<float>::min()) {
        ASSERT_LE(std::fabs(got - ref), 2 * std::numeric_limits<float>::denorm_min()) << "x=" << x;
        continue;
      }
      std::int64_t d = ulp_distance(got, ref);
      if (d > worst) {
        worst = d;
        worst_x = x;
      }
    }
  }
  EXPECT_LE(worst, 2) << "worst at x=" << worst_x;
}

TEST(Math, ExpFastSpecialValues) {
  using ember::detail::exp_fast;
  EXPECT_EQ(exp_fast(0.0f), 1.0f);
  EXPECT_EQ(exp_fast(-0.0f), 1.0f);
  EXPECT_EQ(exp_fast(INFINITY), INFINITY);
  EXPECT_EQ(exp_fast(-INFINITY), 0.0f);
  EXPECT_EQ(exp_fast(88.8f), INFINITY);  // e^88.8 > FLT_MAX
  EXPECT_TRUE(std::isfinite(exp_fast(88.72f)));
  EXPECT_EQ(exp_fast(-200.0f), 0.0f);
  EXPECT_GT(exp_fast(-100.0f), 0.0f);  // a denormal, not flushed to zero
  EXPECT_TRUE(std::isnan(exp_fast(NAN)));
}

namespace {
// Worst ulp distance of f against ref (double, rounded once to float) over every 97th float bit
// pattern of both signs (about 44 million inputs), denormal results compared absolutely.
template <class F, class R>
std::int64_t worst_ulps_everywhere(F f, R ref, float& worst_x) {
  std::int64_t worst = 0;
  for (std::uint32_t sign : {0u, 0x80000000u}) {
    for (std::uint32_t u = 0; u < 0x7F800000u; u += 97) {
      const float x = std::bit_cast<float>(u | sign);
      const float want = static_cast<float>(ref(static_cast<double>(x)));
      const float got = f(x);
      if (std::fabs(want) < std::numeric_limits<float>::min()) {
        EXPECT_LE(std::fabs(got - want), 2 * std::numeric_limits<float>::denorm_min()) << x;
        continue;
      }
      const std::int64_t d = ulp_distance(got, want);
      if (d > worst) {
        worst = d;
        worst_x = x;
      }
    }
  }
  return worst;
}
// normal_cdf_pdf's measured worst (both the scalar and the AVX2 form), with margin of one.
constexpr std::int64_t kCdfUlps = 8, kPdfUlps = 5;  // measured 7 and 4
}  // namespace

TEST(Math, ErfFastWithinTwoUlpOverTheWholeRange) {
  float at = 0;
  const auto worst = worst_ulps_everywhere(ember::detail::erf_fast,
                                           [](double x) { return std::erf(x); }, at);
  EXPECT_LE(worst, 2) << "worst at x=" << at;
}

TEST(Math, TanhFastWithinTwoUlpOverTheWholeRange) {
  float at = 0;
  const auto worst = worst_ulps_everywhere(ember::detail::tanh_fast,
                                           [](double x) { return std::tanh(x); }, at);
  EXPECT_LE(worst, 2) << "worst at x=" << at;
}

// Φ and φ for GELU: Φ against 0.5·erfc(−x/√2) (relative accuracy also in the negative tail),
// φ against e^{−x²/2}/√(2π).
TEST(Math, NormalCdfPdfWithinFewUlpOverTheWholeRange) {
  float at = 0;
  const auto cdf = [](float x) { return ember::detail::normal_cdf_pdf(x).cdf; };
  const auto pdf = [](float x) { return ember::detail::normal_cdf_pdf(x).pdf; };
  EXPECT_LE(worst_ulps_everywhere(cdf, [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }, at),
            kCdfUlps)
      << "cdf, worst at x=" << at;
  EXPECT_LE(worst_ulps_everywhere(pdf, [](double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }, at),
            kPdfUlps)
      << "pdf, worst at x=" << at;
  const auto f = ember::detail::normal_cdf_pdf(0.0f);
  EXPECT_EQ(f.cdf, 0.5f);
  EXPECT_EQ(ember::detail::normal_cdf_pdf(INFINITY).cdf, 1.0f);
  EXPECT_EQ(ember::detail::normal_cdf_pdf(-INFINITY).cdf, 0.0f);
  EXPECT_EQ(ember::detail::normal_cdf_pdf(INFINITY).pdf, 0.0f);
  EXPECT_TRUE(std::isnan(ember::detail::normal_cdf_pdf(NAN).cdf));
  EXPECT_TRUE(std::isnan(ember::detail::normal_cdf_pdf(NAN).pdf));
  // Φ(−x) + Φ(x) = 1 to rounding, and Φ is monotone across the sign change.
  for (float x : {1e-20f, 0.3f, 1.0f, 2.5f, 5.0f}) {
    const auto lo = ember::detail::normal_cdf_pdf(-x), hi = ember::detail::normal_cdf_pdf(x);
    EXPECT_NEAR(lo.cdf + hi.cdf, 1.0, 1.2e-7) << x;
    EXPECT_EQ(lo.pdf, hi.pdf) << x;
    EXPECT_LE(lo.cdf, 0.5f);
    EXPECT_GE(hi.cdf, 0.5f);
  }
}

TEST(Math, ErfAndTanhFastSpecialValues) {
  using ember::detail::erf_fast;
  using ember::detail::tanh_fast;
  for (float x : {0.0f, -0.0f}) {
    EXPECT_EQ(erf_fast(x), x);
    EXPECT_EQ(tanh_fast(x), x);
    EXPECT_EQ(std::signbit(erf_fast(x)), std::signbit(x));
  }
  EXPECT_EQ(erf_fast(INFINITY), 1.0f);
  EXPECT_EQ(erf_fast(-INFINITY), -1.0f);
  EXPECT_EQ(erf_fast(3.95f), 1.0f);
  EXPECT_EQ(tanh_fast(INFINITY), 1.0f);
  EXPECT_EQ(tanh_fast(-INFINITY), -1.0f);
  EXPECT_EQ(tanh_fast(1e30f), 1.0f);
  EXPECT_TRUE(std::isnan(erf_fast(NAN)));
  EXPECT_TRUE(std::isnan(tanh_fast(NAN)));
  // Odd symmetry holds exactly, on both sides of each region boundary.
  for (float x : {1e-20f, 0.3f, 0.5999f, 0.6f, 0.9999f, 1.0f, 2.5f, 3.99f, 7.0f}) {
    EXPECT_EQ(erf_fast(-x), -erf_fast(x)) << x;
    EXPECT_EQ(tanh_fast(-x), -tanh_fast(x)) << x;
  }
}

#if EMBER_X86
// The __m256 forms of math_avx2.hpp (GELU's AVX2 copy): the same sweeps and special values as
// the scalar forms, each lane of a vector on its own (the selects are per lane).
namespace {
__attribute__((target("avx2,fma"))) void exp8(const float* x, float* y) {
  _mm256_storeu_ps(y, ember::detail::avx2::exp_fast(_mm256_loadu_ps(x)));
}
__attribute__((target("avx2,fma"))) void erf8(const float* x, float* y) {
  _mm256_storeu_ps(y, ember::detail::avx2::erf_fast(_mm256_loadu_ps(x)));
}
__attribute__((target("avx2,fma"))) void cdf8(const float* x, float* y) {
  _mm256_storeu_ps(y, ember::detail::avx2::normal_cdf_pdf(_mm256_loadu_ps(x)).cdf);
}
__attribute__((target("avx2,fma"))) void pdf8(const float* x, float* y) {
  _mm256_storeu_ps(y, ember::detail::avx2::normal_cdf_pdf(_mm256_loadu_ps(x)).pdf);
}
__attribute__((target("avx2,fma"))) void tanh8(const float* x, float* y) {
  _mm256_storeu_ps(y, ember::detail::avx2::tanh_fast(_mm256_loadu_ps(x)));
}
// f on lane 3 of a vector whose other lanes hold values from other regions.
template <void (*F8)(const float*, float*)>
float lane3(float x) {
  const float in[8] = {0.5f, -7.0f, NAN, x, 2.0f, -0.25f, INFINITY, 1e-30f};
  float out[8];
  F8(in, out);
  return out[3];
}
}  // namespace

TEST(Math, Avx2FormsWithinTwoUlpOverTheWholeRange) {
  if (ember::cpu_isa() < ember::Isa::Avx2) GTEST_SKIP() << "no AVX2 on this CPU";
  float at = 0;
  EXPECT_LE(worst_ulps_everywhere(lane3<erf8>, [](double x) { return std::erf(x); }, at), 2)
      << "erf, worst at x=" << at;
  EXPECT_LE(worst_ulps_everywhere(lane3<tanh8>, [](double x) { return std::tanh(x); }, at), 2)
      << "tanh, worst at x=" << at;
  EXPECT_LE(worst_ulps_everywhere(lane3<cdf8>, [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }, at),
            kCdfUlps)
      << "cdf, worst at x=" << at;
  EXPECT_LE(worst_ulps_everywhere(lane3<pdf8>, [](double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }, at),
            kPdfUlps)
      << "pdf, worst at x=" << at;
  // exp over its finite, non-overflowing range (the scalar sweep's range), denormals included.
  const auto exp_ref = [](double x) { return x < -104.0 ? 0.0 : (x > 89.0 ? INFINITY : std::exp(x)); };
  std::int64_t worst = 0;
  for (std::uint32_t sign : {0u, 0x80000000u}) {
    for (std::uint32_t u = 0; u < 0x43000000u; u += 97) {  // |x| < 128
      const float x = std::bit_cast<float>(u | sign);
      const float want = static_cast<float>(exp_ref(static_cast<double>(x)));
      const float got = lane3<exp8>(x);
      if (std::isinf(want)) {
        ASSERT_EQ(got, want) << x;
        continue;
      }
      if (want < std::numeric_limits<float>::min()) {
        ASSERT_LE(std::fabs(got - want), 2 * std::numeric_limits<float>::denorm_min()) << x;
        continue;
      }
      worst = std::max(worst, ulp_distance(got, want));
    }
  }
  EXPECT_LE(worst, 2);
}

TEST(Math, Avx2FormsSpecialValuesPerLane) {
  if (ember::cpu_isa() < ember::Isa::Avx2) GTEST_SKIP() << "no AVX2 on this CPU";
  const float in[8] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 3.95f, -1.0f, 0.999f};
  float e[8], f[8], t[8];
  exp8(in, e);
  erf8(in, f);
  tanh8(in, t);
  EXPECT_EQ(e[0], 1.0f);
  EXPECT_EQ(e[1], 1.0f);
  EXPECT_EQ(e[2], INFINITY);
  EXPECT_EQ(e[3], 0.0f);
  EXPECT_TRUE(std::isnan(e[4]));
  EXPECT_EQ(f[0], 0.0f);
  EXPECT_TRUE(std::signbit(f[1]));
  EXPECT_EQ(f[2], 1.0f);
  EXPECT_EQ(f[3], -1.0f);
  EXPECT_TRUE(std::isnan(f[4]));
  EXPECT_EQ(f[5], 1.0f);
  EXPECT_EQ(t[0], 0.0f);
  EXPECT_TRUE(std::signbit(t[1]));
  EXPECT_EQ(t[2], 1.0f);
  EXPECT_EQ(t[3], -1.0f);
  EXPECT_TRUE(std::isnan(t[4]));
  // The vector forms agree with the scalar forms to within an ulp where both are defined.
  for (int i : {5, 6, 7}) {
    EXPECT_LE(ulp_distance(e[i], ember::detail::exp_fast(in[i])), 1) << in[i];
    EXPECT_LE(ulp_distance(f[i], ember::detail::erf_fast(in[i])), 1) << in[i];
    EXPECT_LE(ulp_distance(t[i], ember::detail::tanh_fast(in[i])), 1) << in[i];
  }
  // Odd symmetry exactly, on both sides of the region boundary.
  const float pos[8] = {1e-20f, 0.3f, 0.5999f, 0.6f, 0.9999f, 2.5f, 7.0f, 12.0f};
  float neg[8], tp[8], tn[8];
  for (int i = 0; i < 8; ++i) neg[i] = -pos[i];
  tanh8(pos, tp);
  tanh8(neg, tn);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(tn[i], -tp[i]) << pos[i];
}
#endif
