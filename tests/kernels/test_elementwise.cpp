#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "../test_util.hpp"

using ember::Shape;
using ember::Tensor;

TEST(Elementwise, ArithmeticHandWorked) {
  Tensor<float> a{{1, 2}, {3, 4}};
  Tensor<float> b{{10, 20}, {30, 40}};
  EXPECT_EQ(values(a + b), (std::vector<float>{11, 22, 33, 44}));
  EXPECT_EQ(values(b - a), (std::vector<float>{9, 18, 27, 36}));
  EXPECT_EQ(values(a * b), (std::vector<float>{10, 40, 90, 160}));
  EXPECT_EQ(values(b / a), (std::vector<float>{10, 10, 10, 10}));
  EXPECT_EQ(values(-a), (std::vector<float>{-1, -2, -3, -4}));
}

TEST(Elementwise, ScalarOperandsOnBothSides) {
  Tensor<float> a{1, 2, 4};
  EXPECT_EQ(values(a + 1), (std::vector<float>{2, 3, 5}));
  EXPECT_EQ(values(1 - a), (std::vector<float>{0, -1, -3}));
  EXPECT_EQ(values(a * 0.5), (std::vector<float>{0.5, 1, 2}));
  EXPECT_EQ(values(8.0f / a), (std::vector<float>{8, 4, 2}));
  EXPECT_EQ(values(a / 2), (std::vector<float>{0.5, 1, 2}));
}

TEST(Elementwise, BroadcastRowAndColumn) {
  Tensor<int> col{{1}, {2}, {3}};
  Tensor<int> row{10, 20};
  auto s = col + row;
  EXPECT_EQ(s.shape(), (Shape{3, 2}));
  EXPECT_EQ(values(s), (std::vector<int>{11, 21, 12, 22, 13, 23}));
  auto p = row * col;
  EXPECT_EQ(values(p), (std::vector<int>{10, 20, 20, 40, 30, 60}));
}

TEST(Elementwise, BroadcastThreeDimsAgainstManualLoop) {
  auto a = ember::arange(24).reshape({2, 1, 3, 4});
  auto b = ember::arange(6).reshape({2, 3, 1});
  auto c = a - b;
  ASSERT_EQ(c.shape(), (Shape{2, 2, 3, 4}));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 3; ++k)
        for (int l = 0; l < 4; ++l) EXPECT_EQ(c.at(i, j, k, l), a.at(i, 0, k, l) - b.at(j, k, 0));
}

TEST(Elementwise, BroadcastWithZeroSizeDims) {
  auto a = ember::zeros({0, 3});
  auto b = ember::ones({1, 3});
  auto c = a + b;
  EXPECT_EQ(c.shape(), (Shape{0, 3}));
  EXPECT_EQ(c.numel(), 0);
  EXPECT_EQ((ember::zeros({2, 0}) * ember::ones({2, 1})).shape(), (Shape{2, 0}));
  EXPECT_EMBER_ERROR(ember::zeros({0}) + ember::ones({2}), "add: cannot broadcast [0] with [2]");
}

TEST(Elementwise, IncompatibleShapesRaise) {
  EXPECT_EMBER_ERROR(ember::zeros({2, 3}) + ember::zeros({4, 3}),
                     "add: cannot broadcast [2,3] with [4,3]");
  EXPECT_EMBER_ERROR(ember::zeros({2}) * ember::zeros({3}), "mul: cannot broadcast [2] with [3]");
  EXPECT_EMBER_ERROR(ember::where(ember::zeros<bool>({2}), ember::zeros({3}), ember::zeros({3})),
                     "where: cannot broadcast");
}

TEST(Elementwise, NonContiguousInputs) {
  auto a = ember::arange(12).reshape({3, 4});
  auto t = a.t();                // [4,3], strides [1,4]
  auto s = a.slice(1, 0, 4, 2);  // [3,2], strides [4,2]
  auto r = t + t;
  EXPECT_EQ(r.at(3, 2), 22.0f);
  EXPECT_TRUE(r.is_contiguous());
  EXPECT_EQ(values(s * 10.0f), (std::vector<float>{0, 20, 40, 60, 80, 100}));
  auto m = t.slice(0, 1, 3) * s.t();  // [2,3] * [2,3]
  // m[i][j] = (4j + 1 + i) · (4j + 2i)
  EXPECT_EQ(values(m), (std::vector<float>{0, 20, 72, 4, 36, 100}));
}

TEST(Elementwise, Comparisons) {
  Tensor<float> a{1, 2, 3};
  Tensor<float> b{3, 2, 1};
  EXPECT_EQ(values(a < b), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(values(a <= b), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(values(a == b), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(values(a != b), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(values(a > 1.5), (std::vector<bool>{false, true, true}));
  EXPECT_EQ(values(2 >= a), (std::vector<bool>{true, true, false}));
  Tensor<float> n{NAN};
  EXPECT_FALSE((n == n).item());
  EXPECT_TRUE((n != n).item());
}

TEST(Elementwise, LogicalOps) {
  Tensor<bool> a{true, true, false, false};
  Tensor<bool> b{true, false, true, false};
  EXPECT_EQ(values(ember::logical_and(a, b)), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(values(ember::logical_or(a, b)), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(values(ember::logical_not(a)), (std::vector<bool>{false, false, true, true}));
}

TEST(Elementwise, WhereBroadcasts) {
  Tensor<bool> c{{true}, {false}};
  Tensor<float> a{1, 2, 3};
  auto w = ember::where(c, a, -a);
  EXPECT_EQ(w.shape(), (Shape{2, 3}));
  EXPECT_EQ(values(w), (std::vector<float>{1, 2, 3, -1, -2, -3}));
  auto x = Tensor<float>{-1, 5, -3};
  EXPECT_EQ(values(ember::where(x > 0, x, 0.0f)), (std::vector<float>{0, 5, 0}));
  EXPECT_EQ(values(ember::where(x > 0, 9.0f, x)), (std::vector<float>{-1, 9, -3}));
}

TEST(Elementwise, MaximumMinimumPropagateNan) {
  Tensor<float> a{1, 5, NAN};
  Tensor<float> b{3, 2, 0};
  auto mx = ember::maximum(a, b);
  EXPECT_EQ(mx.at(0), 3.0f);
  EXPECT_EQ(mx.at(1), 5.0f);
  EXPECT_TRUE(std::isnan(mx.at(2)));
  EXPECT_TRUE(std::isnan(ember::maximum(b, a).at(2)));
  EXPECT_EQ(values(ember::minimum(Tensor<int>{1, 5}, Tensor<int>{3, 2})), (std::vector<int>{1, 2}));
}

TEST(Elementwise, UnaryMathMatchesStd) {
  Tensor<double> x{-2.0, -0.5, 0.0, 0.7, 3.0};
  auto check = [&](const Tensor<double>& y, auto f) {
    for (int i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(y.at(i), f(x.at(i))) << "at " << i;
  };
  check(ember::exp(x), [](double v) { return std::exp(v); });
  check(ember::tanh(x), [](double v) { return std::tanh(v); });
  check(ember::abs(x), [](double v) { return std::fabs(v); });
  check(ember::neg(x), [](double v) { return -v; });
  check(ember::square(x), [](double v) { return v * v; });
  check(ember::relu(x), [](double v) { return v > 0 ? v : 0.0; });
  check(ember::sigmoid(x), [](double v) { return 1.0 / (1.0 + std::exp(-v)); });
  check(ember::sin(x), [](double v) { return std::sin(v); });
  check(ember::cos(x), [](double v) { return std::cos(v); });
  Tensor<double> p{0.25, 1.0, 4.0};
  EXPECT_EQ(values(ember::sqrt(p)), (std::vector<double>{0.5, 1.0, 2.0}));
  EXPECT_EQ(values(ember::rsqrt(p)), (std::vector<double>{2.0, 1.0, 0.5}));
  EXPECT_DOUBLE_EQ(ember::log(p).at(2), std::log(4.0));
  EXPECT_DOUBLE_EQ(ember::log1p(Tensor<double>{1e-10}).item(), std::log1p(1e-10));
}

TEST(Elementwise, SigmoidSaturatesWithoutNan) {
  Tensor<float> x{-1000.0f, 1000.0f, -88.0f};
  auto y = ember::sigmoid(x);
  EXPECT_EQ(y.at(0), 0.0f);
  EXPECT_EQ(y.at(1), 1.0f);
  EXPECT_GT(y.at(2), 0.0f);
}

TEST(Elementwise, GeluExactAndTanh) {
  Tensor<double> x{-1.0, 0.0, 1.0, 2.0};
  auto g = ember::gelu(x);
  // x * Phi(x): Phi(1) = 0.8413447460685429, Phi(2) = 0.9772498680518208
  EXPECT_NEAR(g.at(0), -1.0 * (1 - 0.8413447460685429), 1e-15);
  EXPECT_EQ(g.at(1), 0.0);
  EXPECT_NEAR(g.at(2), 0.8413447460685429, 1e-15);
  EXPECT_NEAR(g.at(3), 2 * 0.9772498680518208, 1e-15);
  auto gt = ember::gelu(x, ember::GeluApproximation::Tanh);
  EXPECT_NEAR(gt.at(2), 0.8411919906082768, 1e-12);  // 0.5(1+tanh(sqrt(2/pi)(1+0.044715)))
}

// float GELU (vectorised erf) against the double formula, forward and backward; the pointer
// kernels give the same bits as the Tensor op and the autograd op's backward.
TEST(Elementwise, GeluFloatMatchesDoubleForwardAndBackward) {
  const std::int64_t n = 200001;
  std::vector<float> x(static_cast<std::size_t>(n)), dy(x.size());
  for (std::int64_t i = 0; i < n; ++i) {
    x[static_cast<std::size_t>(i)] = -12.0f + 24.0f * static_cast<float>(i) / static_cast<float>(n - 1);
    dy[static_cast<std::size_t>(i)] = 1.0f - 0.5f * static_cast<float>(i % 7);
  }
  std::vector<float> y(x.size()), dx(x.size());
  // Every copy the dispatch can pick on this machine (generic, AVX2, AVX-512), then the default.
  const ember::Isa best = ember::gemm_isa();
  for (ember::Isa isa : {ember::Isa::Generic, ember::Isa::Avx2, ember::Isa::Avx512, best}) {
    if (isa > ember::cpu_isa()) continue;
    ember::set_gemm_isa(isa);
    ember::kernels::gelu_forward(x.data(), y.data(), n);
    ember::kernels::gelu_backward(x.data(), dy.data(), dx.data(), n);
    double worst_y = 0, worst_y_rel = 0, worst_dx = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double v = x[i];
      const double cdf = 0.5 * std::erfc(-v / std::sqrt(2.0));  // no cancellation for v < 0
      const double pdf = std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
      // Errors relative to the magnitudes the float formula works with (|x| and 1) ...
      worst_y = std::max(worst_y, std::fabs(y[i] - v * cdf) / std::max(1.0, std::fabs(v)));
      worst_dx = std::max(worst_dx, std::fabs(dx[i] - dy[i] * (cdf + v * pdf)) / std::max(1.0, std::fabs(v)));
      // ... and relative to the value itself, down to gelu(-12) ≈ -2e-32: Φ is taken from erfc
      // for negative x, so the tail keeps its digits (1 + erf(x/√2) had none left below -5.5).
      const double ref = v * cdf;
      if (std::fabs(ref) > 1e-35) worst_y_rel = std::max(worst_y_rel, std::fabs(y[i] - ref) / std::fabs(ref));
    }
    EXPECT_LT(worst_y, 3e-7) << "isa " << static_cast<int>(isa);
    EXPECT_LT(worst_y_rel, 1e-6) << "isa " << static_cast<int>(isa);  // 16 ulp; measured 7.6
    EXPECT_LT(worst_dx, 5e-7) << "isa " << static_cast<int>(isa);
  }
  ember::set_gemm_isa(best);
  const Tensor<float> xt = ember::from_vector<float>(x, {n});
  const auto yt = ember::gelu(xt);
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(yt.data()[i], y[i]) << i;
  ember::Var<float> xv(xt, true);
  auto out = ember::gelu(xv);
  out.backward(ember::from_vector<float>(dy, {n}));
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(xv.grad().data()[i], dx[i]) << i;
  // Saturation and NaN: gelu(-inf) is -0·... = NaN in the formula; large |x| saturate cleanly.
  EXPECT_EQ(ember::gelu(Tensor<float>{30.0f}).at(0), 30.0f);
  EXPECT_EQ(ember::gelu(Tensor<float>{-30.0f}).at(0), -0.0f);
  EXPECT_TRUE(std::isnan(ember::gelu(Tensor<float>{NAN}).at(0)));
}

// The GEMM's one-pass tile epilogue (bias, GELU keeping its input, residual add) in every copy
// and every combination of its steps, on a tile whose rows are apart from each other and whose
// width leaves a vector tail, against the separate steps in double. Elements outside the tile
// are left as they were.
TEST(Elementwise, GemmTileEpilogueEveryStepCombinationInEveryIsaCopy) {
  const std::int64_t m = 5, n = 37, ldc = 40, ld_pre = 41, ld_res = 39;
  std::vector<float> c0(static_cast<std::size_t>(m * ldc)), bias(static_cast<std::size_t>(n));
  std::vector<float> res(static_cast<std::size_t>(m * ld_res));
  for (std::size_t i = 0; i < c0.size(); ++i) c0[i] = -6.0f + 0.031f * static_cast<float>((i * 37) % 400);
  for (std::size_t i = 0; i < bias.size(); ++i) bias[i] = 0.25f * static_cast<float>(i % 5) - 0.5f;
  for (std::size_t i = 0; i < res.size(); ++i) res[i] = 1.5f - 0.1f * static_cast<float>(i % 31);
  const ember::Isa best = ember::gemm_isa();
  for (ember::Isa isa : {ember::Isa::Generic, ember::Isa::Avx2, ember::Isa::Avx512}) {
    if (isa > ember::cpu_isa()) continue;
    ember::set_gemm_isa(isa);
    for (int flags = 0; flags < 16; ++flags) {
      const bool with_bias = flags & 1, gelu = flags & 2, keep = flags & 4, with_res = flags & 8;
      std::vector<float> c = c0, pre(static_cast<std::size_t>(m * ld_pre), -99.0f);
      ember::detail::Epilogue<float> ep;
      ep.bias = with_bias ? bias.data() : nullptr;
      ep.act = gelu ? ember::detail::EpilogueAct::gelu : ember::detail::EpilogueAct::none;
      ep.pre = keep ? pre.data() : nullptr;
      ep.ld_pre = ld_pre;
      ep.residual = with_res ? res.data() : nullptr;
      ep.ld_residual = ld_res;
      ember::detail::epilogue_tile(ep, c.data(), ldc, m, n);
      const std::string where = "isa " + std::to_string(static_cast<int>(isa)) + " flags " + std::to_string(flags);
      for (std::int64_t i = 0; i < m; ++i) {
        for (std::int64_t j = 0; j < ldc; ++j) {
          const auto at = static_cast<std::size_t>(i * ldc + j);
          if (j >= n) {
            ASSERT_EQ(c[at], c0[at]) << where;  // outside the tile
            continue;
          }
          const float v = c0[at] + (with_bias ? bias[static_cast<std::size_t>(j)] : 0.0f);
          const float r = with_res ? res[static_cast<std::size_t>(i * ld_res + j)] : 0.0f;
          const double g = gelu ? 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))) : v;
          ASSERT_NEAR(c[at], g + r, 1e-6 * (1 + std::fabs(g) + std::fabs(r))) << where << " at " << i << "," << j;
          const float p = pre[static_cast<std::size_t>(i * ld_pre + j)];
          if (gelu && keep) {
            ASSERT_EQ(p, v) << where;  // GELU's input, the bias added in float
          } else {
            ASSERT_EQ(p, -99.0f) << where;  // pre written only with GELU
          }
        }
      }
    }
  }
  ember::set_gemm_isa(best);
}

// exp, tanh and sigmoid in every copy the dispatch can pick on this machine (generic, AVX2 with
// the __m256 forms, AVX-512): lengths that leave every tail length of the AVX2 loop, values in
// both regions of tanh, saturation, ±inf and NaN, against double precision (≤ 3 ulp, the
// reference's own rounding included). The in-place forms run the same copy: the same bits.
TEST(Elementwise, ExpTanhSigmoidInEveryIsaCopy) {
  std::vector<float> x(2000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (static_cast<float>(i) - 1000.0f) * 0.0917f;
  for (float v : {0.0f, -0.0f, 0.6f, -0.6f, 0.5999f, 88.0f, 89.5f, -104.5f, -200.0f, INFINITY, -INFINITY, NAN}) x.push_back(v);
  const ember::Isa best = ember::gemm_isa();
  for (ember::Isa isa : {ember::Isa::Generic, ember::Isa::Avx2, ember::Isa::Avx512, best}) {
    if (isa > ember::cpu_isa()) continue;
    ember::set_gemm_isa(isa);
    for (std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{13}, x.size()}) {
      const std::vector<float> xs(x.end() - static_cast<std::ptrdiff_t>(n), x.end());  // the special values last
      const Tensor<float> t = ember::from_vector<float>(xs, {static_cast<std::int64_t>(n)});
      const Tensor<float> e = ember::exp(t), th = ember::tanh(t), sg = ember::sigmoid(t);
      for (std::size_t i = 0; i < n; ++i) {
        const double v = xs[i];
        const std::string at = std::string(ember::isa_name(isa)) + " n " + std::to_string(n) + " x " + std::to_string(v);
        if (std::isnan(v)) {
          EXPECT_TRUE(std::isnan(e.data()[i]) && std::isnan(th.data()[i]) && std::isnan(sg.data()[i])) << at;
          continue;
        }
        const double ew = std::exp(v);
        if (ew > 3.4e38) {
          EXPECT_EQ(e.data()[i], INFINITY) << at;
        } else {
          EXPECT_NEAR(e.data()[i], ew, 3.6e-7 * ew + 3e-45) << at;
        }
        EXPECT_NEAR(th.data()[i], std::tanh(v), 3.6e-7 * std::fabs(std::tanh(v)) + 1e-45) << at;
        const double sw = 1 / (1 + std::exp(-v));
        // Below x ≈ −88.7, e^{−x} overflows and 1/(1 + inf) gives 0 for a denormal (as PyTorch's
        // formula does): absolute error under the smallest normal float.
        EXPECT_NEAR(sg.data()[i], sw, 6e-7 * sw + 1.2e-38) << at;
      }
      Tensor<float> e_ = t.clone(), th_ = t.clone(), sg_ = t.clone();
      ember::exp_(e_);
      ember::tanh_(th_);
      ember::sigmoid_(sg_);
      for (std::size_t i = 0; i + 1 < n; ++i) {  // the last is NaN
        ASSERT_EQ(e_.data()[i], e.data()[i]) << i;
        ASSERT_EQ(th_.data()[i], th.data()[i]) << i;
        ASSERT_EQ(sg_.data()[i], sg.data()[i]) << i;
      }
    }
  }
  ember::set_gemm_isa(best);
}

TEST(Elementwise, PowAndClamp) {
  Tensor<double> x{1, 2, 3};
  EXPECT_EQ(values(ember::pow(x, 2.0)), (std::vector<double>{1, 4, 9}));
  EXPECT_EQ(values(ember::pow(x, 0.5)), (std::vector<double>{1, std::sqrt(2.0), std::sqrt(3.0)}));
  EXPECT_EQ(values(ember::pow(x, Tensor<double>{3})), (std::vector<double>{1, 8, 27}));
  EXPECT_EQ(values(ember::clamp(Tensor<int>{-5, 0, 5}, -1, 1)), (std::vector<int>{-1, 0, 1}));
  auto c = ember::clamp(Tensor<float>{NAN, 3.0f}, 0.0f, 1.0f);
  EXPECT_TRUE(std::isnan(c.at(0)));
  EXPECT_EQ(c.at(1), 1.0f);
}

TEST(Elementwise, InPlaceVariants) {
  Tensor<float> a{1, 4, 9};
  ember::sqrt_(a);
  EXPECT_EQ(values(a), (std::vector<float>{1, 2, 3}));
  a += 1;
  EXPECT_EQ(values(a), (std::vector<float>{2, 3, 4}));
  a *= Tensor<float>{2, 2, 2};
  EXPECT_EQ(values(a), (std::vector<float>{4, 6, 8}));
  a -= 4;
  a /= 2;
  EXPECT_EQ(values(a), (std::vector<float>{0, 1, 2}));
  ember::clamp_(a, 0.5f, 1.5f);
  EXPECT_EQ(values(a), (std::vector<float>{0.5, 1, 1.5}));
  ember::relu_(ember::neg_(a));
  EXPECT_EQ(values(a), (std::vector<float>{0, 0, 0}));
}

TEST(Elementwise, InPlaceThroughViewsAndBroadcast) {
  auto m = ember::zeros({3, 4});
  m.slice(0, 1) += 1.0f;                        // rows 1..2
  m.select(1, 0) += Tensor<float>{10, 20, 30};  // column 0
  m += Tensor<float>{0, 0, 0, 5};               // broadcast row
  EXPECT_EQ(values(m), (std::vector<float>{10, 0, 0, 5, 21, 1, 1, 6, 31, 1, 1, 6}));
}

TEST(Elementwise, InPlaceCannotBroadcastTheDestination) {
  auto row = ember::zeros({3});
  EXPECT_EMBER_ERROR(row += ember::ones({2, 3}),
                     "add_: output with shape [3] does not match the broadcast shape [2,3]");
  auto e = ember::zeros({1, 3}).expand({2, 3});
  EXPECT_EMBER_ERROR(e += 1.0f, "add_: cannot write in place to a tensor whose elements overlap");
}

TEST(Elementwise, InPlaceWithOverlappingOperandMatchesNumpy) {
  auto a = ember::arange(5);
  a.slice(0, 1) += a.slice(0, 0, 4);  // numpy: a[1:] += a[:-1] → [0,1,3,5,7]
  EXPECT_EQ(values(a), (std::vector<float>{0, 1, 3, 5, 7}));
}

TEST(Elementwise, IntegerDivisionTruncatesAndRejectsZero) {
  Tensor<int> a{7, -7, 6};
  Tensor<int> b{2, 2, -3};
  EXPECT_EQ(values(a / b), (std::vector<int>{3, -3, -2}));
  EXPECT_EMBER_ERROR(a / (Tensor<int>{1, 0, 1}), "div: integer division by zero");
  EXPECT_EMBER_ERROR(a / 0, "div: integer division by zero");
  EXPECT_EMBER_ERROR(a /= 0, "div_: integer division by zero");
  Tensor<int> mn{std::numeric_limits<int>::min()};
  EXPECT_EQ((mn / -1).item(), std::numeric_limits<int>::min());  // wraps instead of trapping
}

TEST(Elementwise, IntegerOverflowWraps) {
  Tensor<int> a{std::numeric_limits<int>::max()};
  EXPECT_EQ((a + 1).item(), std::numeric_limits<int>::min());
  EXPECT_EQ((a * 2).item(), -2);
  EXPECT_EQ(ember::neg(Tensor<int>{std::numeric_limits<int>::min()}).item(),
            std::numeric_limits<int>::min());
}

TEST(Elementwise, BFloat16ComputesInFloat) {
  auto a = Tensor<float>{1.0f, 2.0f, 3.0f}.to<ember::bfloat16>();
  auto s = a + a * a;
  EXPECT_EQ(values(s.to<float>()), (std::vector<float>{2, 6, 12}));
  auto e = ember::exp(a);
  EXPECT_EQ(static_cast<float>(e.at(0)), static_cast<float>(ember::bfloat16(std::exp(1.0f))));
}

TEST(Elementwise, LargeTensorsTakeTheParallelPathCorrectly) {
  ember::Generator g(5);
  auto a = ember::randn({513, 1031}, g);  // > grain, odd sizes
  auto b = ember::randn({1031}, g);
  auto c = a * b + 1.0f;
  for (std::int64_t i : {0L, 200L, 512L}) {
    for (std::int64_t j : {0L, 517L, 1030L}) EXPECT_EQ(c.at(i, j), a.at(i, j) * b.at(j) + 1.0f);
  }
  auto t = a.t() * 2.0f;  // strided, parallel
  EXPECT_EQ(t.at(1030, 512), a.at(512, 1030) * 2.0f);
}

TEST(Elementwise, IsNanIsFiniteAndScalarWhere) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  Tensor<float> x{1, inf, -inf, nan};
  EXPECT_EQ(values(ember::isnan(x)), (std::vector<bool>{false, false, false, true}));
  EXPECT_EQ(values(ember::isfinite(x)), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(values(ember::where(Tensor<bool>{true, false}, 2.0f, -1.0f)),
            (std::vector<float>{2, -1}));
}

// The float add/sub/mul/div loops run in an AVX-512, an AVX2 or a generic copy chosen at run
// time; each is an exact IEEE operation, so every copy must give the correctly rounded result,
// which float(double op) is for one operation on floats (double has more than 2·24+2 bits).
TEST(Elementwise, ArithmeticIsCorrectlyRoundedOnEveryIsaCopy) {
  const std::int64_t n = 100003;  // odd: every copy's remainder loop runs too
  std::vector<float> a(static_cast<std::size_t>(n)), b(a.size());
  ember::Generator g(7);
  const Tensor<float> ra = ember::randn<float>({n}, g), rb = ember::randn<float>({n}, g);
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = ra.data()[i] * 1e3f;
    b[i] = rb.data()[i] + (i % 3 == 0 ? 3.0f : -0.25f);
  }
  const Tensor<float> ta = ember::from_vector<float>(a, {n}), tb = ember::from_vector<float>(b, {n});
  const ember::Isa best = ember::gemm_isa();
  for (ember::Isa isa : {ember::Isa::Generic, ember::Isa::Avx2, ember::Isa::Avx512, best}) {
    if (isa > ember::cpu_isa()) continue;
    ember::set_gemm_isa(isa);
    const Tensor<float> s = ta + tb, d = ta - tb, p = ta * tb, q = ta / tb;
    // The in-place forms (apply2_) run the same copies.
    Tensor<float> s_ = ta.clone(), d_ = ta.clone(), p_ = ta.clone(), q_ = ta.clone();
    s_ += tb;
    d_ -= tb;
    p_ *= tb;
    q_ /= tb;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double x = a[i], y = b[i];
      ASSERT_EQ(s.data()[i], static_cast<float>(x + y)) << "isa " << static_cast<int>(isa) << " i " << i;
      ASSERT_EQ(d.data()[i], static_cast<float>(x - y)) << "isa " << static_cast<int>(isa) << " i " << i;
      ASSERT_EQ(p.data()[i], static_cast<float>(x * y)) << "isa " << static_cast<int>(isa) << " i " << i;
      ASSERT_EQ(q.data()[i], static_cast<float>(x / y)) << "isa " << static_cast<int>(isa) << " i " << i;
      ASSERT_EQ(s_.data()[i], s.data()[i]) << "add_, isa " << static_cast<int>(isa) << " i " << i;
      ASSERT_EQ(d_.data()[i], d.data()[i]) << "sub_, isa " << static_cast<int>(isa) << " i " << i;
      ASSERT_EQ(p_.data()[i], p.data()[i]) << "mul_, isa " << static_cast<int>(isa) << " i " << i;
      ASSERT_EQ(q_.data()[i], q.data()[i]) << "div_, isa " << static_cast<int>(isa) << " i " << i;
    }
  }
  ember::set_gemm_isa(best);
}

// Same-shape contiguous operands take a path without the broadcast machinery; views, broadcasts
// and transposes take the strided one. Both must agree with the element-by-element definition.
TEST(Elementwise, SameShapeFastPathAgreesWithTheStridedPath) {
  ember::Generator g(3);
  const Tensor<double> a = ember::randn<double>({5, 7}, g), b = ember::randn<double>({5, 7}, g);
  const Tensor<double> bt = ember::randn<double>({7, 5}, g).transpose(0, 1);  // same shape, strided
  const Tensor<double> row = ember::randn<double>({7}, g);
  const Tensor<double> fast = a * b, strided = a * bt, bcast = a + row, neg = -bt;
  for (std::int64_t i = 0; i < 5; ++i) {
    for (std::int64_t j = 0; j < 7; ++j) {
      EXPECT_EQ(fast.at(i, j), a.at(i, j) * b.at(i, j));
      EXPECT_EQ(strided.at(i, j), a.at(i, j) * bt.at(i, j));
      EXPECT_EQ(bcast.at(i, j), a.at(i, j) + row.at(j));
      EXPECT_EQ(neg.at(i, j), -bt.at(i, j));
    }
  }
  EXPECT_TRUE(fast.is_contiguous());
  EXPECT_TRUE(strided.is_contiguous());
  EXPECT_THROW(a * ember::randn<double>({5, 6}, g), ember::Error);
}

// The dropout mask against its definition (dropout.hpp), computed here from Generator::philox
// one block at a time: weight j of counter row r is 16 bits of the block at counter
// (16·⌊j/128⌋ + j mod 16, r, r >> 32, 0xD809), word ⌊(j mod 64)/16⌋, low half for j mod 128 < 64.
// On every ISA copy (the AVX-512 one is hand-written), with tails of every length, several
// counter rows on 2 threads, no mask stored, and values whose dropped product is −0 or NaN.
TEST(Elementwise, DropoutMaskIsPhiloxOnEveryIsaCopy) {
  const std::int64_t row = 1 << 14, n = 2 * row + 1000 + 77;
  const double p = 0.3;
  const std::uint64_t seed = 0x123456789abcULL;
  const std::uint32_t threshold = ember::kernels::dropout_threshold(p);
  const ember::Generator::Key key = ember::kernels::dropout_key(seed);
  std::vector<std::uint8_t> want(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t r = i / row, j = i % row;
    const auto block = ember::Generator::philox(
        {static_cast<std::uint32_t>(16 * (j / 128) + j % 16), static_cast<std::uint32_t>(r),
         static_cast<std::uint32_t>(static_cast<std::uint64_t>(r) >> 32), 0xD809u},
        key);
    const std::uint32_t word = block[static_cast<std::size_t>((j % 64) / 16)];
    const std::uint32_t draw = j % 128 < 64 ? (word & 0xffffu) : (word >> 16);
    want[static_cast<std::size_t>(i)] = draw >= threshold ? 1 : 0;
  }
  ember::Generator g(5);
  std::vector<float> x(static_cast<std::size_t>(n));
  for (auto& v : x) v = static_cast<float>(g.next_normal());
  // Dropped: −2 (→ −0), +inf and NaN (→ NaN); kept: +inf.
  std::vector<std::size_t> dropped;
  for (std::size_t i = 0; i < want.size() && dropped.size() < 3; ++i)
    if (want[i] == 0) dropped.push_back(i);
  ASSERT_EQ(dropped.size(), 3u);
  x[dropped[0]] = -2.0f;
  x[dropped[1]] = std::numeric_limits<float>::infinity();
  x[dropped[2]] = std::numeric_limits<float>::quiet_NaN();
  x[static_cast<std::size_t>(std::find(want.begin(), want.end(), 1) - want.begin())] =
      std::numeric_limits<float>::infinity();
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  const int threads_before = ember::num_threads();
  const ember::Isa best = ember::gemm_isa();
  for (ember::Isa isa : {ember::Isa::Generic, ember::Isa::Avx2, ember::Isa::Avx512, best}) {
    if (isa > ember::cpu_isa()) continue;
    ember::set_gemm_isa(isa);
    for (int threads : {1, 2}) {
      ember::set_num_threads(threads);
      const std::string at = "isa " + std::to_string(static_cast<int>(isa)) + ", " +
                             std::to_string(threads) + " threads";
      std::vector<float> y(x.size()), y2(x.size());
      std::vector<std::uint8_t> keep(x.size(), 7);
      ember::kernels::dropout_forward(x.data(), y.data(), keep.data(), n, p, seed);
      ASSERT_EQ(keep, want) << at;
      ember::kernels::dropout_forward(x.data(), y2.data(), nullptr, n, p, seed);
      for (std::size_t i = 0; i < x.size(); ++i) {
        const float expect = x[i] * (static_cast<float>(want[i]) * scale);
        const auto bits = std::bit_cast<std::uint32_t>(expect);  // −0 and NaN exactly
        ASSERT_EQ(std::bit_cast<std::uint32_t>(y[i]), bits) << at << ", element " << i;
        ASSERT_EQ(std::bit_cast<std::uint32_t>(y2[i]), bits) << at << ", element " << i;
      }
      // The mask alone (attention's rows): every length up to two chunks and one longer row.
      for (std::int64_t len : {std::int64_t{1}, std::int64_t{15}, std::int64_t{16}, std::int64_t{63},
                               std::int64_t{64}, std::int64_t{65}, std::int64_t{127}, std::int64_t{128},
                               std::int64_t{129}, std::int64_t{255}, std::int64_t{1000}}) {
        std::vector<std::uint8_t> k(static_cast<std::size_t>(len) + 16, 9);
        ember::kernels::dropout_keep_row(k.data(), len, key, 1, 0, 0xD809u, threshold);
        for (std::int64_t j = 0; j < len; ++j)
          ASSERT_EQ(k[static_cast<std::size_t>(j)], want[static_cast<std::size_t>(row + j)]) << at << ", length " << len;
        for (std::size_t j = static_cast<std::size_t>(len); j < k.size(); ++j)
          ASSERT_EQ(k[j], 9) << at << ": wrote past length " << len;
      }
    }
  }
  ember::set_gemm_isa(best);
  ember::set_num_threads(threads_before);
}

// Dropout, softmax and layer norm run their loops inside a copy compiled for the widest level
// allowed (with_widest_isa): on every copy the dropout mask is the same (integer work), softmax
// and layer norm match a double-precision reference.
TEST(Elementwise, RowKernelsOnEveryIsaCopy) {
  const std::int64_t R = 37, D = 301, n = R * D;
  ember::Generator g(11);
  const Tensor<float> x = ember::randn<float>({R, D}, g) * 3.0f;
  const float* px = x.data();
  std::vector<float> w(static_cast<std::size_t>(D)), b(w.size());
  for (std::int64_t i = 0; i < D; ++i) {
    w[static_cast<std::size_t>(i)] = 0.5f + 0.01f * static_cast<float>(i % 17);
    b[static_cast<std::size_t>(i)] = -0.2f + 0.03f * static_cast<float>(i % 5);
  }
  std::vector<std::uint8_t> keep0;
  const ember::Isa best = ember::gemm_isa();
  for (ember::Isa isa : {ember::Isa::Generic, ember::Isa::Avx2, ember::Isa::Avx512, best}) {
    if (isa > ember::cpu_isa()) continue;
    ember::set_gemm_isa(isa);
    const std::string at = "isa " + std::to_string(static_cast<int>(isa));
    // Dropout: identical masks, y = x·keep/(1-p) exactly.
    std::vector<float> y(static_cast<std::size_t>(n));
    std::vector<std::uint8_t> keep(static_cast<std::size_t>(n));
    ember::kernels::dropout_forward(px, y.data(), keep.data(), n, 0.25, 99);
    if (keep0.empty()) keep0 = keep;
    ASSERT_EQ(keep, keep0) << at;
    for (std::int64_t i = 0; i < n; ++i) {
      const std::size_t k = static_cast<std::size_t>(i);
      ASSERT_EQ(y[k], keep[k] ? px[i] * (1.0f * static_cast<float>(1.0 / 0.75)) : 0.0f) << at;
    }
    // Softmax rows against double.
    ember::detail::softmax_rows(px, y.data(), R, D, false);
    for (std::int64_t r = 0; r < R; ++r) {
      double m = -1e300, s = 0;
      for (std::int64_t i = 0; i < D; ++i) m = std::max(m, static_cast<double>(px[r * D + i]));
      for (std::int64_t i = 0; i < D; ++i) s += std::exp(static_cast<double>(px[r * D + i]) - m);
      for (std::int64_t i = 0; i < D; ++i) {
        const double want = std::exp(static_cast<double>(px[r * D + i]) - m) / s;
        ASSERT_NEAR(y[static_cast<std::size_t>(r * D + i)], want, 1e-6 * want + 1e-12) << at;  // ~16 ulp
      }
    }
    // Layer norm forward against double.
    std::vector<float> h(static_cast<std::size_t>(n)), rstd(static_cast<std::size_t>(R));
    ember::kernels::layer_norm_forward(px, w.data(), b.data(), y.data(), h.data(), rstd.data(), R, D, 1e-5);
    for (std::int64_t r = 0; r < R; ++r) {
      double mean = 0, var = 0;
      for (std::int64_t i = 0; i < D; ++i) mean += px[r * D + i];
      mean /= static_cast<double>(D);
      for (std::int64_t i = 0; i < D; ++i) var += (px[r * D + i] - mean) * (px[r * D + i] - mean);
      const double rs = 1 / std::sqrt(var / static_cast<double>(D) + 1e-5);
      ASSERT_NEAR(rstd[static_cast<std::size_t>(r)], rs, 1e-6 * rs) << at;
      for (std::int64_t i = 0; i < D; ++i) {
        const double want = (px[r * D + i] - mean) * rs * w[static_cast<std::size_t>(i)] + b[static_cast<std::size_t>(i)];
        ASSERT_NEAR(y[static_cast<std::size_t>(r * D + i)], want, 2e-6 * (1 + std::fabs(want))) << at;
      }
    }
  }
  ember::set_gemm_isa(best);
}

// Layer norm's float rows take a float path (16 float lanes, centred on the float mean and then
// corrected by δ = mean(x − m₀)); rows with tiny, huge or non-finite values, or a constant row,
// fall back to the double path. Forward and backward on every copy against a double reference,
// over rows that exercise each: ordinary, offset far from zero (1e4 + N(0, 1), where a plain
// float variance would cancel), tiny (1e-25), huge (1e25), constant, and widths that are not a
// multiple of 16.
TEST(Elementwise, LayerNormFloatRowsMatchDoubleOnEveryIsaCopy) {
  for (const std::int64_t D : {std::int64_t{1}, std::int64_t{16}, std::int64_t{301}}) {
    const std::int64_t R = 6, n = R * D;
    ember::Generator g(5);
    const Tensor<float> z = ember::randn<float>({R, D}, g), dz = ember::randn<float>({R, D}, g);
    std::vector<float> x(static_cast<std::size_t>(n)), dy(x.size());
    const float scale[R] = {3.0f, 1.0f, 1e-25f, 1e25f, 0.0f, 0.5f};
    const float offset[R] = {0.0f, 1e4f, 0.0f, 0.0f, 7.0f, -2.0f};
    for (std::int64_t r = 0; r < R; ++r)
      for (std::int64_t i = 0; i < D; ++i) {
        const auto k = static_cast<std::size_t>(r * D + i);
        x[k] = offset[r] + scale[r] * z.data()[k];
        dy[k] = r == 5 ? 1e-30f * dz.data()[k] : dz.data()[k];  // row 5: tiny gradients
      }
    std::vector<float> w(static_cast<std::size_t>(D)), b(w.size());
    for (std::int64_t i = 0; i < D; ++i) {
      w[static_cast<std::size_t>(i)] = 0.5f + 0.01f * static_cast<float>(i % 17);
      b[static_cast<std::size_t>(i)] = -0.2f + 0.03f * static_cast<float>(i % 5);
    }
    const ember::Isa best = ember::gemm_isa();
    for (ember::Isa isa : {ember::Isa::Generic, ember::Isa::Avx2, ember::Isa::Avx512, best}) {
      if (isa > ember::cpu_isa()) continue;
      ember::set_gemm_isa(isa);
      const std::string at = "isa " + std::to_string(static_cast<int>(isa)) + " D " + std::to_string(D);
      std::vector<float> y(x.size()), h(x.size()), dx(x.size()), rstd(static_cast<std::size_t>(R));
      ember::kernels::layer_norm_forward(x.data(), w.data(), b.data(), y.data(), h.data(), rstd.data(), R, D, 1e-5);
      ember::kernels::layer_norm_backward_input(dy.data(), w.data(), h.data(), rstd.data(), dx.data(), R, D);
      for (std::int64_t r = 0; r < R; ++r) {
        const float* xr = x.data() + r * D;
        const float* dr = dy.data() + r * D;
        double mean = 0, var = 0;
        for (std::int64_t i = 0; i < D; ++i) mean += xr[i];
        mean /= static_cast<double>(D);
        for (std::int64_t i = 0; i < D; ++i) var += (xr[i] - mean) * (xr[i] - mean);
        var /= static_cast<double>(D);
        // Scale-invariant reference (eps scales with the row, as in the kernel's double path).
        const double rs = 1 / std::sqrt(var + 1e-5);
        ASSERT_NEAR(rstd[static_cast<std::size_t>(r)], rs, 2e-6 * rs) << at << " row " << r;
        std::vector<double> hh(static_cast<std::size_t>(D)), gg(hh.size());
        double mg = 0, mgx = 0;
        for (std::int64_t i = 0; i < D; ++i) {
          const auto k = static_cast<std::size_t>(i);
          hh[k] = (xr[i] - mean) * rs;
          const double want = hh[k] * w[k] + b[k];
          ASSERT_NEAR(y[static_cast<std::size_t>(r * D + i)], want, 2e-6 * (1 + std::fabs(want)))
              << at << " row " << r << " i " << i;
          ASSERT_NEAR(h[static_cast<std::size_t>(r * D + i)], hh[k], 2e-6 * (1 + std::fabs(hh[k])))
              << at << " row " << r << " i " << i;
          gg[k] = static_cast<double>(dr[i]) * w[k];
          mg += gg[k];
          mgx += gg[k] * hh[k];
        }
        mg /= static_cast<double>(D);
        mgx /= static_cast<double>(D);
        double gscale = 0;
        for (double v : gg) gscale = std::max(gscale, std::fabs(v));
        for (std::int64_t i = 0; i < D; ++i) {
          const auto k = static_cast<std::size_t>(i);
          const double want = rs * (gg[k] - mg - hh[k] * mgx);
          ASSERT_NEAR(dx[static_cast<std::size_t>(r * D + i)], want, 1e-5 * rs * gscale + 1e-44)
              << at << " row " << r << " i " << i;
        }
      }
    }
    ember::set_gemm_isa(best);
  }
  // A constant row normalises to exactly 0 on every copy, also in double where its mean rounds
  // (the AVX copies once contracted the centring into an FMA and gave ±1 for a row of 1e25 / 3).
  const double c = 1e25 / 3;
  const double xd[3] = {c, c, c}, wd[3] = {1, 1, 1}, bd[3] = {0, 0, 0};
  const ember::Isa best = ember::gemm_isa();
  for (ember::Isa isa : {ember::Isa::Generic, ember::Isa::Avx2, ember::Isa::Avx512, best}) {
    if (isa > ember::cpu_isa()) continue;
    ember::set_gemm_isa(isa);
    double yd[3], hd[3], rd[1];
    ember::kernels::layer_norm_forward(xd, wd, bd, yd, hd, rd, 1, 3, 1e-5);
    EXPECT_EQ(hd[0], 0.0) << "isa " << static_cast<int>(isa);
    EXPECT_EQ(hd[2], 0.0) << "isa " << static_cast<int>(isa);
    EXPECT_DOUBLE_EQ(rd[0], 1 / std::sqrt(1e-5)) << "isa " << static_cast<int>(isa);
  }
  ember::set_gemm_isa(best);
}

// Float → float maps (exp, tanh, sigmoid) run in the widest copy allowed: each copy stays
// within the scalar forms' accuracy (≤ 2 ulp for exp and tanh, tested in test_math.cpp).
TEST(Elementwise, FloatMapsOnEveryIsaCopy) {
  const std::int64_t n = 200003;
  std::vector<float> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = -80.0f + 160.0f * static_cast<float>(i) / static_cast<float>(n);
  const Tensor<float> x = ember::from_vector<float>(v, {n});
  auto ulps = [](float a, float b) {
    auto key = [](float f) {
      const auto i = std::bit_cast<std::int32_t>(f);
      return i < 0 ? std::int64_t{std::numeric_limits<std::int32_t>::min()} - i : std::int64_t{i};
    };
    const std::int64_t d = key(a) - key(b);
    return d < 0 ? -d : d;
  };
  const ember::Isa best = ember::gemm_isa();
  for (ember::Isa isa : {ember::Isa::Generic, ember::Isa::Avx2, ember::Isa::Avx512, best}) {
    if (isa > ember::cpu_isa()) continue;
    ember::set_gemm_isa(isa);
    const Tensor<float> e = ember::exp(x), t = ember::tanh(x), s = ember::sigmoid(x);
    std::int64_t worst_e = 0, worst_t = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const double xi = v[static_cast<std::size_t>(i)];
      worst_e = std::max(worst_e, ulps(e.data()[i], static_cast<float>(std::exp(xi))));
      worst_t = std::max(worst_t, ulps(t.data()[i], static_cast<float>(std::tanh(xi))));
      ASSERT_NEAR(s.data()[i], 1 / (1 + std::exp(-xi)), 1e-6) << "isa " << static_cast<int>(isa);
    }
    EXPECT_LE(worst_e, 2) << "isa " << static_cast<int>(isa);
    EXPECT_LE(worst_t, 2) << "isa " << static_cast<int>(isa);
  }
  ember::set_gemm_isa(best);
}
