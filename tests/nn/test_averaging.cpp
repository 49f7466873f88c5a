// Weight averaging of state dicts (model soups): hand-worked means, weights, names matched in
// any order, a result that owns its storage, a soup of two modules loaded back, and errors
// that name the dict, the entry and the shapes.
#include "../test_util.hpp"

using ember::Tensor;
namespace nn = ember::nn;

namespace {
nn::StateDict<float> dict(const std::vector<float>& w, const std::vector<float>& b) {
  return {{"fc.weight", ember::from_vector(w).reshape({2, 2})}, {"fc.bias", ember::from_vector(b)}};
}
}  // namespace

TEST(Averaging, UniformMeanHandWorked) {
  auto soup = nn::average_state_dicts<float>({dict({1, 2, 3, 4}, {1, -1}), dict({3, 2, 1, 0}, {0, 0}),
                                              dict({2, 2, 2, 2}, {2, 4})});
  ASSERT_EQ(soup.size(), 2u);
  EXPECT_EQ(soup[0].first, "fc.weight");
  EXPECT_EQ(soup[0].second.shape(), (ember::Shape{2, 2}));
  EXPECT_EQ(soup[0].second.to_vector(), (std::vector<float>{2, 2, 2, 2}));
  EXPECT_EQ(soup[1].first, "fc.bias");
  EXPECT_EQ(soup[1].second.to_vector(), (std::vector<float>{1, 1}));
}

TEST(Averaging, WeightsAreNormalised) {
  // (1·a + 3·b) / 4, and weights that are all scaled alike give the same soup.
  auto a = dict({0, 4, 8, -4}, {1, 0});
  auto b = dict({4, 0, 0, 4}, {1, 8});
  auto soup = nn::average_state_dicts<float>({a, b}, {1, 3});
  EXPECT_EQ(soup[0].second.to_vector(), (std::vector<float>{3, 1, 2, 2}));
  EXPECT_EQ(soup[1].second.to_vector(), (std::vector<float>{1, 6}));
  EXPECT_EQ(nn::average_state_dicts<float>({a, b}, {0.25, 0.75})[0].second.to_vector(), soup[0].second.to_vector());
  // A zero weight leaves a dict out; one dict is its own average, as a copy.
  auto only_a = nn::average_state_dicts<float>({a, b}, {2, 0});
  EXPECT_EQ(only_a[0].second.to_vector(), a[0].second.to_vector());
  auto self = nn::average_state_dicts<float>({a});
  self[0].second.data()[0] = 99;
  EXPECT_EQ(a[0].second.data()[0], 0.0f) << "the soup must not alias its inputs";
}

TEST(Averaging, EqualValuesAverageToThemselvesExactly) {
  // Summed in double and divided once: no rounding drift, in float and in bfloat16.
  Tensor<float> x = ember::from_vector(std::vector<float>{0.1f, 1e-30f, 3.14159274f, -7.7f, 1e30f});
  nn::StateDict<float> d = {{"x", x}};
  EXPECT_EQ(nn::average_state_dicts<float>({d, d, d})[0].second.to_vector(), x.to_vector());
  Tensor<ember::bfloat16> y = x.to<ember::bfloat16>();
  nn::StateDict<ember::bfloat16> e = {{"y", y}};
  auto ye = nn::average_state_dicts<ember::bfloat16>({e, e, e, e, e, e, e})[0].second;
  for (std::int64_t i = 0; i < y.numel(); ++i) EXPECT_EQ(float(ye.data()[i]), float(y.data()[i])) << i;
}

TEST(Averaging, NamesMatchInAnyOrderAndViewsAreRead) {
  auto a = dict({1, 2, 3, 4}, {0, 2});
  // b lists its entries the other way round, and its weight is a transposed (strided) view.
  nn::StateDict<float> b = {{"fc.bias", ember::from_vector(std::vector<float>{2, 0})},
                            {"fc.weight", ember::from_vector(std::vector<float>{3, 4, 5, 6}).reshape({2, 2}).transpose(0, 1)}};
  ASSERT_FALSE(b[1].second.is_contiguous());
  auto soup = nn::average_state_dicts<float>({a, b});
  EXPECT_EQ(soup[0].first, "fc.weight");  // the first dict's order
  // b's weight reads [[3, 5], [4, 6]].
  EXPECT_EQ(soup[0].second.to_vector(), (std::vector<float>{2, 3.5f, 3.5f, 5}));
  EXPECT_EQ(soup[1].second.to_vector(), (std::vector<float>{1, 1}));
}

TEST(Averaging, ASoupOfTwoModulesLoadsBack) {
  ember::Generator g1(1), g2(2);
  nn::Linear<float> m1(3, 2, true, g1), m2(3, 2, true, g2), soup_model(3, 2, true, g1);
  soup_model.load_state_dict(nn::average_state_dicts<float>({m1.state_dict(), m2.state_dict()}));
  const auto s1 = m1.state_dict(), s2 = m2.state_dict(), ss = soup_model.state_dict();
  const Tensor<float>& w = ss[0].second;
  ASSERT_EQ(ss[0].first, "weight");
  for (std::int64_t i = 0; i < w.numel(); ++i) {
    const double want = (double(s1[0].second.data()[i]) + s2[0].second.data()[i]) / 2;
    EXPECT_FLOAT_EQ(w.data()[i], float(want)) << i;
  }
  // A linear layer is linear in its weights: the soup's output is the mean of the two outputs.
  Tensor<float> x = ember::from_vector(std::vector<float>{0.5f, -1, 2}).reshape({1, 3});
  ember::NoGradGuard no_grad;
  auto y1 = m1(ember::Var<float>(x)).data(), y2 = m2(ember::Var<float>(x)).data();
  auto ys = soup_model(ember::Var<float>(x)).data();
  for (std::int64_t i = 0; i < 2; ++i) EXPECT_NEAR(ys.data()[i], (y1.data()[i] + y2.data()[i]) / 2, 1e-6) << i;
}

TEST(Averaging, MismatchesAreClearErrors) {
  auto a = dict({1, 2, 3, 4}, {0, 0});
  EXPECT_EMBER_ERROR(nn::average_state_dicts<float>({}), "average_state_dicts: no state dicts to average");
  EXPECT_EMBER_ERROR(nn::average_state_dicts<float>({a, a}, {1}), "average_state_dicts: 1 weights for 2 state dicts");
  EXPECT_EMBER_ERROR(nn::average_state_dicts<float>({a, a}, {1, -0.5}), "weight 1 is -0.5 (weights must be finite and >= 0)");
  EXPECT_EMBER_ERROR(nn::average_state_dicts<float>({a, a}, {1, std::nan("")}), "weight 1 is nan");
  EXPECT_EMBER_ERROR(nn::average_state_dicts<float>({a, a}, {0, 0}), "the weights sum to 0");
  nn::StateDict<float> wide = {{"fc.weight", ember::zeros<float>({2, 3})}, {"fc.bias", ember::zeros<float>({2})}};
  EXPECT_EMBER_ERROR(nn::average_state_dicts<float>({a, wide}),
                     "'fc.weight' has shape [2,3] in state dict 1 but [2,2] in state dict 0");
  nn::StateDict<float> renamed = {{"fc.weight", ember::zeros<float>({2, 2})}, {"fc.b", ember::zeros<float>({2})}};
  EXPECT_EMBER_ERROR(nn::average_state_dicts<float>({a, renamed}), "state dict 1 has no 'fc.bias' (state dict 0 has it)");
  nn::StateDict<float> extra = a;
  extra.emplace_back("fc.scale", ember::zeros<float>({1}));
  EXPECT_EMBER_ERROR(nn::average_state_dicts<float>({a, extra}), "state dict 1 has 3 entries, state dict 0 has 2");
  nn::StateDict<float> twice = {{"fc.weight", ember::zeros<float>({2, 2})}, {"fc.weight", ember::zeros<float>({2, 2})}};
  EXPECT_EMBER_ERROR(nn::average_state_dicts<float>({a, twice}), "state dict 1 holds 'fc.weight' twice");
}
