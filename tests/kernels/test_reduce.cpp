#include <cmath>

#include "../test_util.hpp"

using ember::Shape;
using ember::Tensor;

namespace {
Tensor<double> cube() {
  return ember::arange<double>(24).reshape({2, 3, 4});
}
}  // namespace

TEST(Reduce, SumAllAndAxes) {
  auto x = cube();
  EXPECT_EQ(ember::sum(x).item(), 276.0);  // 0 + ... + 23
  EXPECT_EQ(ember::sum(x).dim(), 0);
  auto s0 = ember::sum(x, 0);
  EXPECT_EQ(s0.shape(), (Shape{3, 4}));
  EXPECT_EQ(s0.at(2, 3), 11.0 + 23.0);
  auto s12 = ember::sum(x, {1, 2});
  EXPECT_EQ(values(s12), (std::vector<double>{66, 210}));
  auto s02 = ember::sum(x, {0, -1}, /*keepdim=*/true);
  EXPECT_EQ(s02.shape(), (Shape{1, 3, 1}));
  // row j: sum over i,l of 12i + 4j + l = 2*4*4j + 4*(0+12) + 2*(0+1+2+3)
  EXPECT_EQ(values(s02), (std::vector<double>{60, 92, 124}));
}

TEST(Reduce, SumAgainstLoopOnStridedInput) {
  ember::Generator g(2);
  auto x = ember::randn<double>({7, 5, 6}, g).permute({2, 0, 1});  // [6,7,5], non-contiguous
  auto s = ember::sum(x, {1});
  ASSERT_EQ(s.shape(), (Shape{6, 5}));
  for (int i = 0; i < 6; ++i)
    for (int k = 0; k < 5; ++k) {
      double ref = 0;
      for (int j = 0; j < 7; ++j) ref += x.at(i, j, k);
      EXPECT_NEAR(s.at(i, k), ref, 1e-12);
    }
}

TEST(Reduce, EmptyAndSizeOneDims) {
  auto e = ember::zeros({0, 3});
  EXPECT_EQ(values(ember::sum(e, 0)), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(ember::sum(e, 1).shape(), (Shape{0}));
  EXPECT_TRUE(std::isnan(ember::mean(e).item()));  // numpy: nan for an empty mean
  EXPECT_EQ(ember::prod(e).item(), 1.0f);
  EXPECT_EMBER_ERROR(ember::max(e, 0), "max: cannot reduce over the empty dimension 0 of [0,3]");
  EXPECT_EMBER_ERROR(ember::argmax(e), "argmax");
  EXPECT_EQ(values(ember::max(e, 1)), std::vector<float>{});  // reducing the non-empty dim is fine
  auto one = ember::ones({1, 1});
  EXPECT_EQ(ember::sum(one, {0, 1}).item(), 1.0f);
}

TEST(Reduce, AxisErrors) {
  auto x = cube();
  EXPECT_EMBER_ERROR(ember::sum(x, 3), "sum: axis 3 is out of range for a tensor of rank 3");
  EXPECT_EMBER_ERROR(ember::sum(x, {1, -2}), "sum: axis -2 appears more than once in [1,-2]");
  EXPECT_EMBER_ERROR(ember::argmax(x, -4), "argmax: axis -4 is out of range");
}

TEST(Reduce, MeanVarStd) {
  Tensor<double> x{{1, 2, 3, 4}, {2, 4, 6, 8}};
  EXPECT_EQ(values(ember::mean(x, 1)), (std::vector<double>{2.5, 5.0}));
  EXPECT_EQ(values(ember::mean(x, 0)), (std::vector<double>{1.5, 3, 4.5, 6}));
  // var of 1..4: deviations ±1.5, ±0.5 → squares sum 5; unbiased 5/3, population 5/4.
  EXPECT_DOUBLE_EQ(ember::var(x, 1).at(0), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(ember::var(x, 1, /*correction=*/0).at(0), 1.25);
  EXPECT_DOUBLE_EQ(ember::var(x, 1).at(1), 20.0 / 3.0);
  EXPECT_DOUBLE_EQ(ember::std(x, 1, 0).at(1), std::sqrt(5.0));
  EXPECT_EQ(ember::var(x, 1, 1, /*keepdim=*/true).shape(), (Shape{2, 1}));
}

TEST(Reduce, VarIsStableForLargeOffsets) {
  // Naive E[x^2] - E[x]^2 loses everything here in float; the two-pass method does not.
  Tensor<float> x{1e6f + 1, 1e6f + 2, 1e6f + 3};
  EXPECT_NEAR(ember::var(x, {}, 0).item(), 2.0f / 3.0f, 1e-3f);
}

TEST(Reduce, MaxMinAndNan) {
  Tensor<float> x{{3, -1, 7}, {2, 9, -4}};
  EXPECT_EQ(ember::max(x).item(), 9.0f);
  EXPECT_EQ(ember::min(x).item(), -4.0f);
  EXPECT_EQ(values(ember::max(x, 0)), (std::vector<float>{3, 9, 7}));
  EXPECT_EQ(values(ember::min(x, 1)), (std::vector<float>{-1, -4}));
  Tensor<float> n{1, NAN, 3};
  EXPECT_TRUE(std::isnan(ember::max(n).item()));
  EXPECT_TRUE(std::isnan(ember::min(n).item()));
  EXPECT_EQ(ember::max(Tensor<int>{-5, -9}).item(), -5);
  Tensor<float> inf{-INFINITY, -INFINITY};
  EXPECT_EQ(ember::max(inf).item(), -INFINITY);
}

TEST(Reduce, ArgmaxArgminFirstOccurrence) {
  Tensor<float> x{{1, 5, 5}, {7, 0, 7}};
  EXPECT_EQ(ember::argmax(x).item(), 3);  // flattened
  EXPECT_EQ(ember::argmin(x).item(), 4);
  EXPECT_EQ(values(ember::argmax(x, 1)), (std::vector<std::int64_t>{1, 0}));
  EXPECT_EQ(values(ember::argmax(x, 0)), (std::vector<std::int64_t>{1, 0, 1}));
  EXPECT_EQ(values(ember::argmin(x, -1)), (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(ember::argmax(x, 1, true).shape(), (Shape{2, 1}));
  Tensor<float> n{1, NAN, 3};
  EXPECT_EQ(ember::argmax(n).item(), 1);  // NaN counts as the maximum, as torch.argmax
  auto t = x.t();                         // strided
  EXPECT_EQ(values(ember::argmax(t, 0)), (std::vector<std::int64_t>{1, 0}));  // columns of x.t()
}

TEST(Reduce, ProdAnyAll) {
  EXPECT_EQ(ember::prod(Tensor<int>{1, 2, 3, 4}).item(), 24);
  EXPECT_EQ(values(ember::prod(Tensor<double>{{1, 2}, {3, 4}}, 0)), (std::vector<double>{3, 8}));
  Tensor<bool> b{{true, false}, {true, true}};
  EXPECT_FALSE(ember::all(b).item());
  EXPECT_TRUE(ember::any(b).item());
  EXPECT_EQ(values(ember::all(b, 0)), (std::vector<bool>{true, false}));
  EXPECT_EQ(values(ember::any(b, 1)), (std::vector<bool>{true, true}));
  EXPECT_TRUE(ember::all(ember::zeros<bool>({0})).item());
}

TEST(Reduce, IntegerSumsWrap) {
  Tensor<int> x{std::numeric_limits<int>::max(), 1};
  EXPECT_EQ(ember::sum(x).item(), std::numeric_limits<int>::min());
}

TEST(Reduce, FloatSumAccuracy) {
  // Summing a million 0.1f one by one in float drifts by ~1%; pairwise summation stays within
  // a few ulps of the float nearest to 1e6 · 0.1f (0.1f is 0.100000001490116...).
  ember::set_num_threads(1);
  auto x = ember::full<float>({1000000}, 0.1f);
  EXPECT_NEAR(ember::sum(x).item(), 100000.0015f, 0.05f);
}

TEST(Reduce, LargeReductionsMatchDoubleReferenceWithThreads) {
  ember::Generator g(9);
  auto x = ember::randn<float>({300, 700}, g);
  auto xd = x.to<double>();
  for (int threads : {1, 2}) {
    ember::set_num_threads(threads);
    auto s1 = ember::sum(x, 1);  // kept dim split
    auto s0 = ember::sum(x, 0);  // reduce over rows
    auto sa = ember::sum(x);     // full reduction, partials merged
    auto m = ember::max(x, 1);
    auto d1 = ember::sum(xd, 1), d0 = ember::sum(xd, 0);
    for (int i = 0; i < 300; i += 37) EXPECT_NEAR(s1.at(i), d1.at(i), 1e-3) << threads;
    for (int j = 0; j < 700; j += 53) EXPECT_NEAR(s0.at(j), d0.at(j), 1e-3) << threads;
    EXPECT_NEAR(sa.item(), ember::sum(xd).item(), 1e-2) << threads;
    for (int i = 0; i < 300; i += 41) {
      float ref = x.at(i, 0);
      for (int j = 1; j < 700; ++j) ref = std::max(ref, x.at(i, j));
      EXPECT_EQ(m.at(i), ref);
    }
  }
}

TEST(Reduce, DenseMaxMinMatchNaiveWithSignsZerosAndInfinities) {
  ember::Generator g(12);
  for (std::int64_t n : {1L, 15L, 16L, 17L, 1000L}) {
    auto x = ember::randn<double>({n}, g) * 1e3;
    x.at(0) = -0.0;
    if (n > 3) x.at(n / 2) = -INFINITY;
    double mx = -INFINITY, mn = INFINITY;
    for (std::int64_t i = 0; i < n; ++i) {
      mx = std::max(mx, x.at(i));
      mn = std::min(mn, x.at(i));
    }
    EXPECT_EQ(ember::max(x).item(), mx) << n;
    EXPECT_EQ(ember::min(x).item(), mn) << n;
    auto xf = x.to<float>();
    EXPECT_EQ(ember::max(xf).item(), static_cast<float>(mx)) << n;
    EXPECT_EQ(ember::min(xf).item(), static_cast<float>(mn)) << n;
  }
  Tensor<float> negs{-3.5f, -0.25f, -7.0f};
  EXPECT_EQ(ember::max(negs).item(), -0.25f);
  EXPECT_EQ(ember::min(negs).item(), -7.0f);
  Tensor<double> nan_last{1.0, 2.0, -NAN};
  EXPECT_TRUE(std::isnan(ember::max(nan_last).item()));
  EXPECT_TRUE(std::isnan(ember::min(nan_last).item()));
}

// The linear layer's bias-gradient kernel: against a double sum, on a padded row stride, with
// the same bits on 1 and 2 threads.
TEST(ColumnSums, MatchesDoubleAndIgnoresTheThreadCount) {
  ember::Generator g(31);
  const int threads_before = ember::num_threads();
  for (auto [n, m] : {std::pair<std::int64_t, std::int64_t>{1, 1}, {3, 70}, {200, 5}, {1000, 300}}) {
    const std::int64_t ld = m + 3;
    std::vector<float> x(static_cast<std::size_t>(n * ld));
    for (auto& v : x) v = g.next_float() - 0.5f;
    std::vector<float> out1(static_cast<std::size_t>(m)), out2(out1.size());
    ember::set_num_threads(1);
    ember::detail::column_sums(x.data(), n, m, ld, out1.data());
    ember::set_num_threads(2);
    ember::detail::column_sums(x.data(), n, m, ld, out2.data());
    EXPECT_EQ(out1, out2);
    for (std::int64_t j = 0; j < m; ++j) {
      double ref = 0;
      for (std::int64_t i = 0; i < n; ++i) ref += x[static_cast<std::size_t>(i * ld + j)];
      EXPECT_NEAR(out1[static_cast<std::size_t>(j)], ref, 1e-5 * static_cast<double>(n) + 1e-6)
          << n << "x" << m << " column " << j;
    }
  }
  ember::set_num_threads(threads_before);
}
