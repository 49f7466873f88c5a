// Hostile inputs to the library, one case each, asserting the message: shapes whose element
// count overflows, negative and huge axes, extreme slice steps and convolution settings, and
// NaN/Inf through softmax, log_softmax, cross-entropy and layer norm (finite input gives finite
// output wherever the exact result is finite; non-finite input propagates as documented).
#include <cmath>
#include <limits>

#include "test_util.hpp"

using ember::Tensor;
using ember::Var;

namespace {
constexpr std::int64_t kBig = std::numeric_limits<std::int64_t>::max();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kMax = std::numeric_limits<float>::max();

bool all_finite(const Tensor<float>& t) {
  for (float v : t.contiguous().to_vector()) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}
}  // namespace

TEST(Hostile, ShapesWhoseElementCountOverflows) {
  EXPECT_EMBER_ERROR(Tensor<float>::empty({kBig, 2}), "has too many elements (size overflow)");
  EXPECT_EMBER_ERROR(Tensor<float>::empty({1LL << 32, 1LL << 32}), "size overflow");
  EXPECT_EMBER_ERROR(Tensor<float>::empty({1LL << 62}), "size overflow");  // bytes overflow
  EXPECT_EMBER_ERROR(ember::zeros<float>({-1, 3}), "negative dimension -1");
  Tensor<float> x = ember::zeros<float>({2, 3});
  EXPECT_EMBER_ERROR(x.reshape({kBig, 2}), "reshape");
  EXPECT_EMBER_ERROR(x.reshape({-1, -1}), "reshape");
  EXPECT_EMBER_ERROR(x.expand({kBig, 2, 3}), "size overflow");
}

TEST(Hostile, EmptyTensorsWithHugeOtherDims) {
  // Found by fuzz_tensor_ops: [0, 2^50, 2^52] has no elements, but its contiguous strides
  // overflowed int64 when copied.
  Tensor<float> e = ember::zeros<float>({0, 1LL << 50, 1LL << 52});
  EXPECT_EQ(e.numel(), 0);
  EXPECT_EQ(e.contiguous().numel(), 0);
  EXPECT_EQ(e.clone().shape(), (ember::Shape{0, 1LL << 50, 1LL << 52}));
  Tensor<float> x = ember::zeros<float>({1, 1});
  EXPECT_EQ(x.expand({0, 1LL << 62, 1}).contiguous().numel(), 0);
  // The zero last: the product of the dims before it overflows, and must not be formed.
  Tensor<float> z = ember::zeros<float>({1LL << 50, 1LL << 52, 0});
  EXPECT_EQ(z.numel(), 0);
  EXPECT_TRUE(z.is_contiguous());
  EXPECT_EQ((z + 1.0f).numel(), 0);
  EXPECT_EQ(ember::sum(z, {0}).shape(), (ember::Shape{1LL << 52, 0}));
  EXPECT_EMBER_ERROR(ember::sum(z, {2}), "size overflow");  // [2^50, 2^52] of zeros
}

TEST(Hostile, NegativeAndHugeAxes) {
  Tensor<float> x = ember::zeros<float>({2, 3});
  EXPECT_EMBER_ERROR(ember::sum(x, {kBig}),
                     "axis 9223372036854775807 is out of range for a tensor of rank 2");
  EXPECT_EMBER_ERROR(ember::sum(x, {std::numeric_limits<std::int64_t>::min()}), "is out of range");
  EXPECT_EMBER_ERROR(ember::softmax(x, -3), "axis -3 is out of range");
  EXPECT_EMBER_ERROR(x.transpose(0, 2), "axis 2 is out of range");
  EXPECT_EMBER_ERROR(x.permute({0, 0}), "are not a permutation");
  EXPECT_EMBER_ERROR(x.select(1, kBig), "index 9223372036854775807 is out of bounds");
  EXPECT_EMBER_ERROR(x.narrow(1, 1, kBig), "exceed dimension 1 of size 3");
  EXPECT_EMBER_ERROR(x.narrow(1, std::numeric_limits<std::int64_t>::min(), 1), "exceed dimension");
  EXPECT_EQ(ember::sum(x, {-1}).shape(), (ember::Shape{2}));
}

TEST(Hostile, SliceWithExtremeBoundsAndSteps) {
  Tensor<float> x = ember::arange<float>(0, 10);
  // A huge step used to overflow (hi − lo + step − 1).
  Tensor<float> s = x.slice(0, 3, kBig, kBig);
  EXPECT_EQ(s.shape(), (ember::Shape{1}));
  EXPECT_EQ(s.item(), 3.0f);
  Tensor<float> t = x.slice(0, std::numeric_limits<std::int64_t>::min(), kBig, 4);
  EXPECT_EQ(values(t.contiguous()), (std::vector<float>{0, 4, 8}));
  EXPECT_EQ(x.slice(0, kBig, kBig).numel(), 0);
  EXPECT_EMBER_ERROR(x.slice(0, 0, 5, 0), "step must be positive, got 0");
  EXPECT_EMBER_ERROR(x.slice(0, 0, 5, std::numeric_limits<std::int64_t>::min()),
                     "step must be positive");
}

TEST(Hostile, Conv1dPaddingAndDilationThatOverflow) {
  Var<float> x(ember::zeros<float>({1, 2, 5}));
  Var<float> w(ember::zeros<float>({3, 2, 2}));
  EXPECT_EMBER_ERROR(ember::conv1d(x, w, 1, kBig / 2, 1),
                     "padding 4611686018427387903 or dilation 1 is too large");
  EXPECT_EMBER_ERROR(ember::conv1d(x, w, 1, 0, kBig),
                     "is too large for kernel size 2 (size overflow)");
  EXPECT_EMBER_ERROR(ember::conv1d(x, w, 1, 0, 5),
                     "input length 5 (padding 0) is shorter than the kernel's reach 6");
  EXPECT_EMBER_ERROR(ember::conv1d(x, w, 0, 0, 1), "stride 0, padding 0, dilation 1 are invalid");
  EXPECT_EMBER_ERROR(ember::conv1d(x, Var<float>(ember::zeros<float>({3, 2, 0}))),
                     "has a kernel of size 0");
  // Huge but representable padding with a huge stride: one output position, no overflow.
  EXPECT_EQ(ember::conv1d(x, w, kBig, 2, 1).shape(), (ember::Shape{1, 3, 1}));
}

TEST(Hostile, SoftmaxAndLogSoftmaxOfExtremeFiniteInputStayFinite) {
  Tensor<float> x{{kMax, -kMax, 0.0f}, {1e30f, 1e30f, -1e30f}, {-kMax, -kMax, -kMax}};
  Tensor<float> p = ember::softmax(x, -1);
  EXPECT_TRUE(all_finite(p));
  EXPECT_EQ(p.at(0, 0), 1.0f);
  EXPECT_EQ(p.at(1, 0), 0.5f);
  EXPECT_NEAR(p.at(2, 0), 1.0f / 3, 1e-6);
  Tensor<float> lp = ember::log_softmax(x, -1);
  // log_softmax(-max) relative to max is -2·FLT_MAX: not representable, so -inf is the exact
  // rounding; every entry whose exact value is finite in float is finite.
  EXPECT_EQ(lp.at(0, 0), 0.0f);
  EXPECT_EQ(lp.at(0, 2), -kMax);
  EXPECT_NEAR(lp.at(1, 0), -std::log(2.0f), 1e-6);
  EXPECT_NEAR(lp.at(2, 1), -std::log(3.0f), 1e-6);
}

TEST(Hostile, SoftmaxOfNonFiniteInputIsDocumented) {
  // +inf among finite values: the inf entry takes all the mass (the limit); NaN propagates to
  // its row only; a row of -inf has no limit and is NaN (as in PyTorch).
  Tensor<float> x{
      {kInf, 1.0f, 2.0f}, {std::nanf(""), 1.0f, 2.0f}, {-kInf, -kInf, -kInf}, {1.0f, 2.0f, 3.0f}};
  Tensor<float> p = ember::softmax(x, -1);
  EXPECT_TRUE(std::isnan(p.at(0, 0)) || p.at(0, 0) == 1.0f);
  EXPECT_TRUE(std::isnan(p.at(1, 1)));
  EXPECT_TRUE(std::isnan(p.at(2, 0)));
  EXPECT_TRUE(all_finite(p[3]));  // rows are independent
}

TEST(Hostile, CrossEntropyOfExtremeLogitsStaysFinite) {
  Var<float> logits(Tensor<float>{{kMax, -kMax}, {1e30f, -1e30f}, {0.0f, 0.0f}}, true);
  Tensor<std::int64_t> target{0, 1, 1};
  Var<float> loss = ember::cross_entropy(logits, target);
  // Row 2 is exactly 2e30 nats wrong: finite in float. Row 0 is right (0 loss).
  EXPECT_TRUE(std::isfinite(loss.item()));
  EXPECT_NEAR(loss.item(), (2e30f + std::log(2.0f)) / 3, 1e24);
  loss.backward();
  EXPECT_TRUE(all_finite(logits.grad()));
  // A NaN logit makes the loss NaN (what the training loop's divergence check detects).
  Var<float> bad(Tensor<float>{{std::nanf(""), 0.0f}}, true);
  EXPECT_TRUE(std::isnan(ember::cross_entropy(bad, Tensor<std::int64_t>{0}).item()));
}

TEST(Hostile, LayerNormOfHugeFiniteInputStaysFinite) {
  // x² overflows float at |x| > 1.8e19: the variance must not be formed in float.
  Var<float> x(
      Tensor<float>{{1e30f, -1e30f, 3e30f, 0.0f}, {kMax, -kMax, kMax, -kMax}, {1, 1, 1, 1}}, true);
  Var<float> w(ember::ones<float>({4}), true), b(ember::zeros<float>({4}), true);
  Var<float> y = ember::layer_norm(x, w, b);
  EXPECT_TRUE(all_finite(y.data())) << y.data();
  // Row 1: mean 0, variance FLT_MAX², so y = ±1.
  EXPECT_NEAR(y.data().at(1, 0), 1.0f, 1e-5);
  EXPECT_NEAR(y.data().at(1, 1), -1.0f, 1e-5);
  // A constant row normalises to 0 (variance 0, eps keeps it finite).
  EXPECT_EQ(y.data().at(2, 0), 0.0f);
  ember::sum(y * y).backward();
  EXPECT_TRUE(all_finite(x.grad()));
  EXPECT_TRUE(all_finite(w.grad()));
}

TEST(Hostile, MatmulOfEmptyBatchesRowsAndDepth) {
  // Found by fuzz_tensor_ops: a batched product with m = 0 offset a null data pointer.
  const Tensor<float> a = ember::zeros<float>({2, 0, 3}), b = ember::ones<float>({2, 3, 4});
  EXPECT_EQ(ember::matmul(a, b).shape(), (ember::Shape{2, 0, 4}));
  // k = 0: the sum over nothing is 0.
  const Tensor<float> c =
      ember::matmul(ember::zeros<float>({2, 3, 0}), ember::zeros<float>({2, 0, 4}));
  EXPECT_EQ(c.shape(), (ember::Shape{2, 3, 4}));
  EXPECT_EQ(values(c), std::vector<float>(24, 0.0f));
  EXPECT_EQ(ember::matmul(ember::zeros<float>({0, 3, 3}), ember::zeros<float>({0, 3, 3})).numel(),
            0);
  EXPECT_EQ(ember::matmul(ember::zeros<float>({4, 0}), ember::zeros<float>({3, 0, 5})).shape(),
            (ember::Shape{3, 4, 5}));
}
