#include "../test_util.hpp"

using ember::Shape;
using ember::Tensor;

TEST(Factory, ZerosOnesFull) {
  auto z = ember::zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(values(z), std::vector<float>(6, 0.0f));
  EXPECT_EQ(values(ember::ones<int>({3})), (std::vector<int>{1, 1, 1}));
  EXPECT_EQ(values(ember::full<double>({2}, 2.5)), (std::vector<double>{2.5, 2.5}));
  EXPECT_EQ(ember::zeros(5).shape(), (Shape{5}));
  EXPECT_EQ(ember::zeros({}).numel(), 1);
  EXPECT_EQ(values(ember::zeros_like(ember::ones<int>({2}))), (std::vector<int>{0, 0}));
}

TEST(Factory, NegativeOrHugeShapesRaise) {
  EXPECT_EMBER_ERROR(ember::zeros({2, -3}), "empty: negative dimension -3 in shape [2,-3]");
  EXPECT_EMBER_ERROR(ember::zeros({1LL << 31, 1LL << 31, 1LL << 31}), "size overflow");
  EXPECT_EMBER_ERROR(ember::zeros({1LL << 50}), "cannot allocate");
}

TEST(Factory, Arange) {
  EXPECT_EQ(values(ember::arange<int>(5)), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(values(ember::arange<double>(1, 2, 0.25)), (std::vector<double>{1, 1.25, 1.5, 1.75}));
  EXPECT_EQ(values(ember::arange<int>(5, 0, -2)), (std::vector<int>{5, 3, 1}));
  EXPECT_EQ(ember::arange(3, 3).numel(), 0);
  EXPECT_EQ(ember::arange(0.0, 1.0, 0.1).numel(), 10);  // ceil((1-0)/0.1) as numpy
  EXPECT_EMBER_ERROR(ember::arange(0.0, 1.0, 0.0), "arange: invalid range");
}

TEST(Factory, LinspaceIncludesEndpoints) {
  auto l = ember::linspace<double>(0, 1, 5);
  EXPECT_EQ(values(l), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(values(ember::linspace(3, 3, 1)), (std::vector<float>{3}));
  EXPECT_EQ(ember::linspace(0, 1, 0).numel(), 0);
  auto t = ember::linspace<float>(0, 0.3, 4);
  EXPECT_EQ(t.at(3), 0.3f);  // the end point is exact
  EXPECT_EMBER_ERROR(ember::linspace(0, 1, -1), "linspace: number of points must be non-negative");
}

TEST(Factory, Eye) {
  EXPECT_EQ(values(ember::eye<int>(3)), (std::vector<int>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(values(ember::eye<int>(2, 3)), (std::vector<int>{1, 0, 0, 0, 1, 0}));
}

TEST(Factory, FromVector) {
  std::vector<double> v{1, 2, 3, 4, 5, 6};
  auto t = ember::from_vector(v, {2, 3});
  EXPECT_EQ(t.at(1, 0), 4.0);
  v[0] = 100;  // copied, not borrowed
  EXPECT_EQ(t.at(0, 0), 1.0);
  EXPECT_EQ(ember::from_vector(v).shape(), (Shape{6}));
  EXPECT_EMBER_ERROR(ember::from_vector(v, {4, 2}),
                     "from_vector: 6 values cannot fill shape [4,2] (8 elements)");
}

TEST(Factory, RandomFactoriesAreSeededAndInRange) {
  ember::Generator g1(42), g2(42), g3(43);
  auto a = ember::rand({1000}, g1);
  auto b = ember::rand({1000}, g2);
  auto c = ember::rand({1000}, g3);
  EXPECT_TRUE(ember::equal(a, b));
  EXPECT_FALSE(ember::equal(a, c));
  EXPECT_GE(ember::min(a).item(), 0.0f);
  EXPECT_LT(ember::max(a).item(), 1.0f);
  auto u = ember::uniform<double>({1000}, -2, 3, g1);
  EXPECT_GE(ember::min(u).item(), -2.0);
  EXPECT_LT(ember::max(u).item(), 3.0);
  EXPECT_EMBER_ERROR(ember::uniform({2}, 1, 0, g1), "uniform: low 1 is greater than high 0");
}

TEST(Factory, RandnMoments) {
  ember::Generator g(7);
  auto x = ember::randn<double>({200000}, g);
  // Standard errors: mean 1/sqrt(n) ≈ 0.0022, variance sqrt(2/n) ≈ 0.0032; allow 5 sigma.
  EXPECT_NEAR(ember::mean(x).item(), 0.0, 0.011);
  EXPECT_NEAR(ember::var(x).item(), 1.0, 0.016);
  auto y = ember::normal({100000}, 5.0, 2.0, g);
  EXPECT_NEAR(ember::mean(y).item(), 5.0f, 0.04f);
  EXPECT_NEAR(std::sqrt(ember::var(y).item()), 2.0f, 0.04f);
}

TEST(Factory, RandintAndRandperm) {
  ember::Generator g(1);
  auto r = ember::randint<int>(-3, 4, {10000}, g);
  EXPECT_EQ(ember::min(r).item(), -3);
  EXPECT_EQ(ember::max(r).item(), 3);
  EXPECT_EMBER_ERROR(ember::randint(5, 5, {2}, g), "randint: empty range [5, 5)");
  auto p = ember::randperm(50, g);
  auto v = values(p);
  std::sort(v.begin(), v.end());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(v[static_cast<std::size_t>(i)], i);
}
