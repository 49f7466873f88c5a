#include <cmath>

#include "../test_util.hpp"

using ember::Tensor;

TEST(Softmax, HandWorkedRow) {
  Tensor<double> x{1, 2, 3};
  auto p = ember::softmax(x);
  double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_NEAR(p.at(0), std::exp(1.0) / z, 1e-15);
  EXPECT_NEAR(p.at(2), std::exp(3.0) / z, 1e-15);
  auto lp = ember::log_softmax(x);
  EXPECT_NEAR(lp.at(1), 2.0 - std::log(z), 1e-14);
}

TEST(Softmax, StableForLargeLogits) {
  Tensor<float> x{1000, 1001, 1002};
  auto p = ember::softmax(x);
  EXPECT_FALSE(std::isnan(p.at(0)));
  EXPECT_NEAR(p.at(2), 0.66524096f, 1e-6f);
  auto lp = ember::log_softmax(Tensor<float>{0.0f, -1000.0f});
  EXPECT_NEAR(lp.at(1), -1000.0f, 1e-3f);  // finite, not log(0)
}

TEST(Softmax, AnyAxisMatchesLastAxisOfTranspose) {
  ember::Generator g(4);
  auto x = ember::randn<double>({3, 4, 5}, g);
  for (int axis = 0; axis < 3; ++axis) {
    auto p = ember::softmax(x, axis);
    auto s = ember::sum(p, axis);
    EXPECT_TRUE(ember::allclose(s, ember::ones_like(s), 1e-12, 1e-12)) << axis;
    auto ref = ember::softmax(x.transpose(axis, 2), 2).transpose(axis, 2);
    EXPECT_TRUE(ember::allclose(p, ref, 1e-14, 1e-15)) << axis;
    auto lp = ember::log_softmax(x, axis);
    EXPECT_TRUE(ember::allclose(lp, ember::log(p), 1e-12, 1e-12)) << axis;
  }
}

TEST(Softmax, MatchesReferenceFormulaOnStridedInput) {
  ember::Generator g(8);
  auto x = ember::randn<double>({6, 9}, g).t();  // [9,6] non-contiguous
  auto p = ember::softmax(x, 0);
  for (int j = 0; j < 6; ++j) {
    double m = -INFINITY, z = 0;
    for (int i = 0; i < 9; ++i) m = std::max(m, x.at(i, j));
    for (int i = 0; i < 9; ++i) z += std::exp(x.at(i, j) - m);
    for (int i = 0; i < 9; ++i) EXPECT_NEAR(p.at(i, j), std::exp(x.at(i, j) - m) / z, 1e-15);
  }
}

TEST(Softmax, EdgeCases) {
  auto e = ember::softmax(ember::zeros({2, 0}), 1);
  EXPECT_EQ(e.numel(), 0);
  EXPECT_EQ(ember::softmax(ember::scalar_tensor(3.0f)).item(), 1.0f);
  auto ninf = ember::softmax(Tensor<float>{-INFINITY, 0.0f});
  EXPECT_EQ(ninf.at(0), 0.0f);
  EXPECT_EQ(ninf.at(1), 1.0f);
  EXPECT_TRUE(std::isnan(ember::softmax(Tensor<float>{NAN, 0.0f}).at(1)));
  EXPECT_EMBER_ERROR(ember::softmax(ember::zeros({2, 2}), 2), "softmax: axis 2 is out of range");
}

TEST(Compare, AllcloseAndEqual) {
  Tensor<double> a{1.0, 2.0};
  Tensor<double> b{1.0 + 1e-9, 2.0};
  EXPECT_TRUE(ember::allclose(a, b));
  EXPECT_FALSE(ember::allclose(a, Tensor<double>{1.1, 2.0}));
  EXPECT_TRUE(ember::allclose(a, Tensor<double>{1.1, 2.0}, 0.1));
  EXPECT_FALSE(ember::equal(a, b));
  EXPECT_TRUE(ember::equal(a, a.clone()));
  EXPECT_FALSE(ember::equal(a, a.reshape({2, 1})));
  Tensor<double> n{NAN};
  EXPECT_FALSE(ember::allclose(n, n));
  EXPECT_TRUE(ember::allclose(n, n, 1e-5, 1e-8, /*equal_nan=*/true));
  EXPECT_TRUE(ember::allclose(Tensor<double>{INFINITY}, Tensor<double>{INFINITY}));
  EXPECT_FALSE(ember::allclose(Tensor<double>{INFINITY}, Tensor<double>{1e308}));
  EXPECT_TRUE(ember::allclose(ember::ones({2, 3}), ember::ones({3})));  // broadcasts
}

// Every copy the dispatch can pick on this machine (generic, AVX2, AVX-512): rows of every
// length from 1 to 40 and 128 (the AVX2 copy's masked tail and full vectors), logits up to ±40,
// some −∞, against the double-precision formula (exp's 2 ulp, the sum's and the division's
// rounding: 1e-6 relative).
TEST(Softmax, EveryIsaCopyMatchesTheFormula) {
  ember::Generator g(12);
  const ember::Isa best = ember::gemm_isa();
  for (ember::Isa isa : {ember::Isa::Generic, ember::Isa::Avx2, ember::Isa::Avx512, best}) {
    if (isa > ember::cpu_isa()) continue;
    ember::set_gemm_isa(isa);
    for (std::int64_t n : {1, 2, 3, 7, 8, 9, 15, 16, 17, 23, 31, 33, 40, 128}) {
      Tensor<float> x = ember::randn<float>({5, n}, g) * 10.0f;
      if (n > 2) x.at(1, 1) = -INFINITY;
      const Tensor<float> p = ember::softmax(x), lp = ember::log_softmax(x);
      for (std::int64_t r = 0; r < 5; ++r) {
        double m = -INFINITY, z = 0;
        for (std::int64_t j = 0; j < n; ++j) m = std::max(m, static_cast<double>(x.at(r, j)));
        // x − m rounded to float, as every float softmax forms it (its rounding alone is up to
        // 2e-6 relative in the exponential at x − m ≈ −40); the rest in double.
        auto shifted = [&](std::int64_t j) { return static_cast<double>(x.at(r, j) - static_cast<float>(m)); };
        for (std::int64_t j = 0; j < n; ++j) z += std::exp(shifted(j));
        for (std::int64_t j = 0; j < n; ++j) {
          const double want = std::exp(shifted(j)) / z;
          ASSERT_NEAR(p.at(r, j), want, 1e-6 * want + 1e-37)
              << "isa " << ember::isa_name(isa) << " n " << n << " row " << r << " col " << j;
          const double log_want = shifted(j) - std::log(z);
          if (std::isinf(log_want)) {
            ASSERT_EQ(lp.at(r, j), -INFINITY);
          } else {
            ASSERT_NEAR(lp.at(r, j), log_want, 1e-6 * std::max(1.0, std::fabs(log_want))) << "isa " << ember::isa_name(isa);
          }
        }
      }
    }
    EXPECT_TRUE(std::isnan(ember::softmax(Tensor<float>{1, 2, NAN, 4, 5, 6, 7, 8, 9}).at(0))) << ember::isa_name(isa);
  }
  ember::set_gemm_isa(best);
}
