// Mixed-precision training: under MatmulPrecisionGuard(bf16) the forward and both backward
// GEMMs of matmul, linear and conv1d multiply bf16-rounded operands with fp32 sums, while
// parameters, gradients and optimiser state stay fp32; XOR and a tiny transformer still train.
//
// Error bound of one bf16 product against the fp32 one: rounding a and b to bf16 (unit roundoff
// u_b = 2^-9) gives |â·b̂ − a·b| ≤ (2·u_b + u_b²)·|a||b|; both sums add at most
// γ_k ≈ k·2^-24 of Σ|a||b| each. So |C_bf16 − C_fp32| ≤ (2^-8 + 2^-17 + 2(k+4)·2^-24)·Σ|a||b|,
// with Σ|a||b| computed as |A|·|B|. A wrong operand (or an unrounded one) fails it or the check
// that the two results differ.
#include <cmath>

#include "../autograd/grad_util.hpp"
#include "train_helpers.hpp"

using ember::Tensor;
using ember::Var;
namespace nn = ember::nn;

namespace {

void expect_within_bf16_bound(const Tensor<float>& fp32, const Tensor<float>& bf16,
                              const Tensor<float>& magnitude, std::int64_t k, const char* what) {
  ASSERT_EQ(fp32.shape(), bf16.shape()) << what;
  const double factor = std::ldexp(1.0, -8) + std::ldexp(1.0, -17) +
                        2.0 * static_cast<double>(k + 4) * std::ldexp(1.0, -24);
  const auto a = fp32.contiguous().to_vector(), b = bf16.contiguous().to_vector(),
             m = magnitude.contiguous().to_vector();
  double max_diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(double(a[i]) - b[i]);
    max_diff = std::max(max_diff, d);
    ASSERT_LE(d, factor * m[i] * 1.0001 + 1e-30) << what << " element " << i;
  }
  EXPECT_GT(max_diff, 0.0) << what << ": identical to fp32, so bf16 did not run";
}

Tensor<float> abs_of(const Tensor<float>& t) {
  return ember::abs(t);
}

}  // namespace

TEST(MixedPrecision, LinearForwardAndBothBackwardGemms) {
  ember::Generator g(3);
  const std::int64_t B = 9, In = 37, Out = 23;
  auto x0 = ember::uniform<float>({B, In}, -1, 1, g), w0 = ember::uniform<float>({Out, In}, -1, 1, g);
  auto bias0 = ember::uniform<float>({Out}, -1, 1, g), r = ember::uniform<float>({B, Out}, -1, 1, g);
  auto run = [&](ember::Precision p, Tensor<float>& y, Tensor<float>& dx, Tensor<float>& dw) {
    ember::MatmulPrecisionGuard guard(p);
    Var<float> x(x0.clone(), true), w(w0.clone(), true), b(bias0.clone(), true);
    Var<float> out = ember::linear(x, w, b);
    ember::sum(out * Var<float>(r)).backward();
    y = out.data();
    dx = x.grad();
    dw = w.grad();
  };
  Tensor<float> y32, dx32, dw32, y16, dx16, dw16;
  run(ember::Precision::fp32, y32, dx32, dw32);
  run(ember::Precision::bf16, y16, dx16, dw16);
  // y = x·wᵀ + b (the bias is added exactly: magnitude of the product only, plus |b| rounding 0)
  expect_within_bf16_bound(y32, y16, ember::matmul(abs_of(x0), abs_of(w0).t()), In, "y");
  expect_within_bf16_bound(dx32, dx16, ember::matmul(abs_of(r), abs_of(w0)), Out, "dx = dy·w");
  expect_within_bf16_bound(dw32, dw16, ember::matmul(abs_of(r).t(), abs_of(x0)), B, "dw = dyᵀ·x");
}

TEST(MixedPrecision, BatchedMatmulAndConv1d) {
  ember::Generator g(5);
  auto a0 = ember::uniform<float>({3, 7, 19}, -1, 1, g), b0 = ember::uniform<float>({3, 19, 11}, -1, 1, g);
  auto r = ember::uniform<float>({3, 7, 11}, -1, 1, g);
  Tensor<float> c[2], da[2], db[2];
  for (int i = 0; i < 2; ++i) {
    ember::MatmulPrecisionGuard guard(i == 0 ? ember::Precision::fp32 : ember::Precision::bf16);
    Var<float> a(a0.clone(), true), b(b0.clone(), true);
    Var<float> out = ember::matmul(a, b);
    ember::sum(out * Var<float>(r)).backward();
    c[i] = out.data();
    da[i] = a.grad();
    db[i] = b.grad();
  }
  expect_within_bf16_bound(c[0], c[1], ember::matmul(abs_of(a0), abs_of(b0)), 19, "a·b");
  expect_within_bf16_bound(da[0], da[1], ember::matmul(abs_of(r), abs_of(b0).transpose(1, 2)), 11,
                           "da");
  expect_within_bf16_bound(db[0], db[1], ember::matmul(abs_of(a0).transpose(1, 2), abs_of(r)), 7,
                           "db");

  // conv1d: its three GEMMs (im2col forward, input and weight gradients) run bf16 too. No
  // closed-form magnitude here: the outputs must differ from fp32 by at most 2^-7 relative to
  // the largest |output| and stay close to it.
  auto x0 = ember::uniform<float>({2, 4, 15}, -1, 1, g), w0 = ember::uniform<float>({5, 4, 3}, -1, 1, g);
  Tensor<float> y[2], dx[2], dw[2];
  for (int i = 0; i < 2; ++i) {
    ember::MatmulPrecisionGuard guard(i == 0 ? ember::Precision::fp32 : ember::Precision::bf16);
    Var<float> x(x0.clone(), true), w(w0.clone(), true);
    Var<float> out = ember::conv1d(x, w, 1, 1);
    ember::sum(out * out).backward();
    y[i] = out.data();
    dx[i] = x.grad();
    dw[i] = w.grad();
  }
  for (auto* pair : {y, dx, dw}) {
    const double scale = ember::max(ember::abs(pair[0])).item();
    const double diff = ember::max(ember::abs(pair[0] - pair[1])).item();
    EXPECT_GT(diff, 0.0);
    EXPECT_LE(diff, scale * 12 * std::ldexp(1.0, -8));  // k ≤ 12 terms, 2^-8 each
  }
}

TEST(MixedPrecision, XorLearnsUnderBf16) {
  ember::MatmulPrecisionGuard bf16(ember::Precision::bf16);
  ember::Generator g(4);
  nn::Sequential<float> mlp = train_helpers::xor_mlp(g);
  EXPECT_LT(train_helpers::train_xor(mlp), 0.05f);
  Var<float> x(Tensor<float>{{0, 0}, {0, 1}, {1, 0}, {1, 1}});
  EXPECT_EQ(values(ember::argmax(mlp(x).data(), 1)), (std::vector<std::int64_t>{0, 1, 1, 0}));
}

// The tiny transformer of test_transformer.cpp, trained twice from the same seed: under bf16 its
// loss curve stays close to the fp32 one and reaches the same end.
TEST(MixedPrecision, TinyTransformerTrainsUnderBf16LikeFp32) {
  auto train = [](ember::Precision p) {
    ember::MatmulPrecisionGuard guard(p);
    return train_helpers::train_tiny_transformer();
  };
  const std::vector<float> fp32 = train(ember::Precision::fp32), bf16 = train(ember::Precision::bf16);
  EXPECT_NE(fp32, bf16);  // bf16 ran
  // Stated tolerance: the first loss differs only by the forward's rounding (≤ 1%); over the
  // first 100 steps the curves stay within 0.05 + 10%; both end below 0.01.
  EXPECT_NEAR(bf16[0], fp32[0], 0.01 * fp32[0]);
  for (std::size_t s = 0; s < 100; s += 10) EXPECT_NEAR(bf16[s], fp32[s], 0.05 + 0.1 * fp32[s]) << s;
  EXPECT_LT(fp32.back(), 0.01f);
  EXPECT_LT(bf16.back(), 0.01f);
}
