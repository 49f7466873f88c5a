// Quantisation: hand-worked per-tensor and per-channel values (round half to even, clamping,
// zero points), dequantisation, errors; the dynamically quantised linear against fp32 within
// the bound of kernels/quantize.hpp, computed from the actual scales; a quantised MLP.
#include <cmath>
#include <cstring>

#include "../test_util.hpp"

using ember::Tensor;
namespace nn = ember::nn;

TEST(Quantize, PerTensorHandWorked) {
  // scale 0.5, zero point 10: -1.5/0.5 = -3 → 7; 0.25/0.5 = 0.5 → 0 (half to even) → 10; 1.25/0.5 =
  // 2.5 → 2 → 12; 200 → 410 clamps to 255; -100 → -190 clamps to 0.
  Tensor<float> x{-1.5f, 0.25f, 1.25f, 200.0f, -100.0f};
  auto q = ember::quantize_per_tensor<std::uint8_t>(x, 0.5f, 10);
  EXPECT_EQ(values(q.values), (std::vector<std::uint8_t>{7, 10, 12, 255, 0}));
  EXPECT_EQ(values(q.dequantize()), (std::vector<float>{-1.5f, 0.0f, 1.0f, 122.5f, -5.0f}));
  auto s = ember::quantize_per_tensor<std::int8_t>(x, 1.0f, 0);
  EXPECT_EQ(values(s.values), (std::vector<std::int8_t>{-2, 0, 1, 127, -100}));
  auto big = ember::quantize_per_tensor<std::int8_t>(Tensor<float>{300.0f, -300.0f}, 1.0f, 0);
  EXPECT_EQ(values(big.values), (std::vector<std::int8_t>{127, -128}));
}

TEST(Quantize, PerChannelAlongEitherAxis) {
  Tensor<float> w{{1.0f, -2.0f, 3.0f}, {0.5f, 0.25f, -0.75f}};
  auto rows = ember::quantize_per_channel<std::int8_t>(w, Tensor<float>{1.0f, 0.25f},
                                                       Tensor<std::int32_t>{0, 1}, 0);
  EXPECT_EQ(values(rows.values), (std::vector<std::int8_t>{1, -2, 3, 3, 2, -2}));
  EXPECT_EQ(values(rows.dequantize()), (std::vector<float>{1, -2, 3, 0.5f, 0.25f, -0.75f}));
  auto cols = ember::quantize_per_channel<std::uint8_t>(
      w, Tensor<float>{0.5f, 1.0f, 0.25f}, Tensor<std::int32_t>{4, 8, 0}, -1);
  EXPECT_EQ(cols.axis, 1);
  EXPECT_EQ(values(cols.values), (std::vector<std::uint8_t>{6, 6, 12, 5, 8, 0}));
}

TEST(Quantize, ErrorsNameTheOperationAndValue) {
  Tensor<float> x{1.0f, 2.0f};
  EXPECT_EMBER_ERROR(ember::quantize_per_tensor<std::uint8_t>(x, 0.0f, 0),
                     "quantize_per_tensor: scale must be positive");
  EXPECT_EMBER_ERROR(ember::quantize_per_tensor<std::uint8_t>(x, 1.0f, 256),
                     "zero_point 256 is outside [0, 255]");
  EXPECT_EMBER_ERROR(ember::quantize_per_tensor<std::int8_t>(Tensor<float>{NAN}, 1.0f, 0),
                     "non-finite value at flat index 0");
  EXPECT_EMBER_ERROR(ember::quantize_per_channel<std::int8_t>(x, Tensor<float>{1.0f},
                                                              Tensor<std::int32_t>{0}, 0),
                     "must both be [2]");
  EXPECT_EMBER_ERROR(ember::quantize_per_channel<std::int8_t>(x, Tensor<float>{1.0f, 1.0f},
                                                              Tensor<std::int32_t>{0, 0}, 3),
                     "axis 3 is out of range");
  auto w = ember::quantize_linear_weights(Tensor<float>{{1.0f, 2.0f}});
  EXPECT_EMBER_ERROR(ember::linear_int8(Tensor<float>{{1.0f, 2.0f, 3.0f}}, w),
                     "does not end in in_features 2");
  EXPECT_EMBER_ERROR(ember::linear_int8(Tensor<float>{{1.0f, INFINITY}}, w), "non-finite");
  EXPECT_EMBER_ERROR(ember::linear_int8(Tensor<float>{{NAN, 1.0f}}, w), "non-finite");
  // A row whose range overflows float still quantises (the range is taken in double).
  const Tensor<float> huge = ember::linear_int8(Tensor<float>{{3e38f, -3e38f}}, w);
  EXPECT_TRUE(std::isfinite(huge.at(0, 0)) || std::isinf(huge.at(0, 0)));
  EXPECT_FALSE(std::isnan(huge.at(0, 0)));
}

// The bound of kernels/quantize.hpp: |Δy(r,o)| ≤ Σ_p |x|·s_o/2 + |W|·s_r/2 + s_r·s_o/4, with the
// scales the implementation chose (s_o from the weights, s_r recomputed from the row's range).
TEST(Quantize, DynamicLinearWithinTheRoundingBound) {
  ember::Generator g(8);
  const std::int64_t B = 13, In = 70, Out = 37;
  auto x = ember::uniform<float>({B, In}, -2, 3, g), w = ember::uniform<float>({Out, In}, -1, 1, g);
  auto b = ember::uniform<float>({Out}, -1, 1, g);
  auto qw = ember::quantize_linear_weights(w, b);
  const Tensor<float> y = ember::linear_int8(x, qw), ref = ember::linear(x, w, b);
  double worst = 0;
  for (std::int64_t r = 0; r < B; ++r) {
    float mn = 0, mx = 0;
    for (std::int64_t p = 0; p < In; ++p) {
      mn = std::min(mn, x.at(r, p));
      mx = std::max(mx, x.at(r, p));
    }
    const double sr = (mx - mn) / 255.0;
    for (std::int64_t o = 0; o < Out; ++o) {
      const double so = qw.scales.at(o);
      double bound = 0;
      for (std::int64_t p = 0; p < In; ++p)
        bound += std::fabs(x.at(r, p)) * so / 2 + std::fabs(w.at(o, p)) * sr / 2 + sr * so / 4;
      const double err = std::fabs(double(y.at(r, o)) - ref.at(r, o));
      ASSERT_LE(err, bound * 1.001 + 1e-5) << r << "," << o;
      worst = std::max(worst, err / bound);
    }
  }
  EXPECT_GT(worst, 0.0);  // int8 really ran
  // Leading dims are kept, zero rows give an empty result.
  EXPECT_EQ(ember::linear_int8(ember::zeros({2, 3, In}), qw).shape(), ember::Shape({2, 3, Out}));
  EXPECT_EQ(ember::linear_int8(ember::zeros({0, In}), qw).shape(), ember::Shape({0, Out}));
}

// quantize_linear_weights packs Wᵀ once for the int8 kernel; the products with it equal, bit
// for bit, those that pack `weight` on each call (a weights struct without `packed`).
TEST(Quantize, DynamicLinearPrepackedEqualsPackingPerCall) {
  ember::Generator g(10);
  const std::int64_t In = 300, Out = 70;
  auto w = ember::uniform<float>({Out, In}, -1, 1, g), b = ember::uniform<float>({Out}, -1, 1, g);
  auto x = ember::uniform<float>({2, 45, In}, -2, 3, g);
  const auto qw = ember::quantize_linear_weights(w, b);
  EXPECT_EQ(qw.packed.rows(), In);
  EXPECT_EQ(qw.packed.cols(), Out);
  EXPECT_EQ(std::string(qw.packed.kernel_name()), ember::gemm_kernel_name(ember::DType::Int8));
  auto per_call = qw;
  per_call.packed = ember::PackedB<std::int8_t>();
  const auto y = values(ember::linear_int8(x, qw)), y_ref = values(ember::linear_int8(x, per_call));
  ASSERT_EQ(y.size(), y_ref.size());
  EXPECT_EQ(std::memcmp(y.data(), y_ref.data(), y.size() * sizeof(float)), 0);
  // Against fp32: within a few percent of the outputs' scale (the bound is checked above).
  const auto ref = values(ember::linear(x, w, b));
  double err = 0, mag = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    err = std::max(err, std::fabs(double(y[i]) - ref[i]));
    mag = std::max(mag, std::fabs(double(ref[i])));
  }
  EXPECT_LT(err, 0.03 * mag);
}

TEST(Quantize, DynamicallyQuantisedMlpAgreesWithFp32) {
  ember::Generator g(9);
  nn::Sequential<float> mlp{std::make_shared<nn::Linear<float>>(64, 128, true, g),
                            std::make_shared<nn::ReLU<float>>(),
                            std::make_shared<nn::Linear<float>>(128, 10, true, g)};
  auto x = ember::uniform<float>({32, 64}, -1, 1, g);
  const Tensor<float> ref = mlp(ember::Var<float>(x)).data();
  EXPECT_EQ(nn::quantize_dynamic(mlp), 2u);
  EXPECT_NE(dynamic_cast<nn::DynamicQuantizedLinear*>(mlp.at(0).get()), nullptr);
  const Tensor<float> y = mlp(ember::Var<float>(x)).data();
  // Stated bound for this two-layer stack: each layer's rounding error is ≤ ~1% of its output
  // scale (8 bits over the range), so the logits stay within 3% of the largest |logit|, and
  // the predicted class agrees on at least 30 of 32 rows.
  const double scale = ember::max(ember::abs(ref)).item();
  EXPECT_LE(ember::max(ember::abs(y - ref)).item(), 0.03 * scale);
  const auto a = values(ember::argmax(y, 1)), b = values(ember::argmax(ref, 1));
  int same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  EXPECT_GE(same, 30);
}
