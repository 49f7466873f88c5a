// EmbeddingBag, Conv1d, multi-head self-attention and the pre-norm Transformer encoder: names,
// initialisation, a loop-by-loop attention reference, padding masks, gradients, and a tiny
// transformer that overfits a small batch.
#include <cmath>

#include "../autograd/grad_util.hpp"
#include "train_helpers.hpp"

using ember::Tensor;
namespace nn = ember::nn;

TEST(Layers, EmbeddingBagAndConv1dModules) {
  ember::Generator g(1);
  nn::EmbeddingBag<double> bag(50, 4, ember::BagMode::Sum, g);
  auto out = bag(Tensor<std::int64_t>{3, 7, 7}, Tensor<std::int64_t>{0, 1});
  EXPECT_EQ(out.shape(), (ember::Shape{2, 4}));
  auto w = bag.weight().data();
  EXPECT_TRUE(ember::allclose(out.data()[1], w[7] * 2.0, 1e-15, 0));

  nn::Conv1d<double> conv(6, 5, 3, {.padding = 1}, g);
  EXPECT_EQ(conv.weight().shape(), (ember::Shape{5, 6, 3}));
  const double bound = 1.0 / std::sqrt(18.0);  // PyTorch: 1/sqrt(in_channels · kernel)
  EXPECT_LE(ember::max(ember::abs(conv.weight().data())).item(), bound);
  EXPECT_LE(ember::max(ember::abs(conv.bias().data())).item(), bound);
  ember::Var<double> x(ember::randn<double>({2, 6, 9}, g));
  EXPECT_EQ(conv(x).shape(), (ember::Shape{2, 5, 9}));  // "same" length with padding 1
}

TEST(Init, XavierAndKaimingBounds) {
  ember::Generator g(2);
  ember::Var<double> w(ember::zeros<double>({30, 20, 3}), true);
  auto [fan_in, fan_out] = nn::init::fans(w.shape());
  EXPECT_EQ(fan_in, 60);
  EXPECT_EQ(fan_out, 90);
  nn::init::xavier_uniform_(w, g);
  const double xb = std::sqrt(6.0 / 150.0);
  EXPECT_LE(ember::max(ember::abs(w.data())).item(), xb);
  // 1800 draws: the variance estimate has a relative standard error of about 2%.
  EXPECT_NEAR(ember::var(w.data(), {}, 0).item(), xb * xb / 3, 0.08 * xb * xb / 3);
  nn::init::kaiming_uniform_(w, g, std::sqrt(5.0));
  EXPECT_LE(ember::max(ember::abs(w.data())).item(), 1 / std::sqrt(60.0));
  EXPECT_GT(ember::max(ember::abs(w.data())).item(), 0.99 / std::sqrt(60.0));
}

namespace {

// Attention computed with plain loops in double, from the module's own weights.
Tensor<double> reference_attention(const Tensor<double>& x, const Tensor<bool>& pad,
                                   nn::MultiHeadSelfAttention<double>& m, std::int64_t H) {
  const std::int64_t B = x.size(0), T = x.size(1), D = x.size(2), dh = D / H;
  std::map<std::string, Tensor<double>> p;
  for (auto& [name, v] : m.named_parameters()) p[name] = v.data();
  auto proj = [&](const std::string& n, const Tensor<double>& in) {
    return ember::matmul(in, p[n + ".weight"].t()) + p[n + ".bias"];
  };
  Tensor<double> q = proj("wq", x), k = proj("wk", x), v = proj("wv", x);
  Tensor<double> ctx = ember::zeros<double>({B, T, D});
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t h = 0; h < H; ++h)
      for (std::int64_t i = 0; i < T; ++i) {
        std::vector<double> s(static_cast<std::size_t>(T));
        double mx = -1e300, z = 0;
        for (std::int64_t j = 0; j < T; ++j) {
          double dot = 0;
          for (std::int64_t e = 0; e < dh; ++e) dot += q.at(b, i, h * dh + e) * k.at(b, j, h * dh + e);
          const auto sj = static_cast<std::size_t>(j);
          s[sj] = pad.at(b, j) ? -1e300 : dot / std::sqrt(static_cast<double>(dh));
          mx = std::max(mx, s[sj]);
        }
        for (auto& e : s) z += (e = std::exp(e - mx));
        for (std::int64_t j = 0; j < T; ++j)
          for (std::int64_t e = 0; e < dh; ++e)
            ctx.at(b, i, h * dh + e) += s[static_cast<std::size_t>(j)] / z * v.at(b, j, h * dh + e);
      }
  return proj("wo", ctx);
}

}  // namespace

TEST(Attention, MatchesLoopReferenceWithPaddingMask) {
  ember::Generator g(3);
  nn::MultiHeadSelfAttention<double> attn(8, 2, 0.0, g);
  std::vector<std::string> names;
  for (auto& [n, p] : attn.named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"wq.weight", "wq.bias", "wk.weight", "wk.bias",
                                             "wv.weight", "wv.bias", "wo.weight", "wo.bias"}));
  // Non-zero biases so the reference checks them too.
  for (auto& p : attn.parameters()) p.data().copy_(ember::uniform<double>(p.shape(), -0.5, 0.5, g));
  Tensor<double> x = ember::randn<double>({2, 4, 8}, g);
  Tensor<bool> pad{{false, false, false, true}, {false, true, true, true}};
  auto y = attn(ember::Var<double>(x), pad);
  EXPECT_TRUE(ember::allclose(y.data(), reference_attention(x, pad, attn, 2), 1e-12, 1e-12));
  // Unmasked too.
  Tensor<bool> none = ember::zeros<bool>({2, 4});
  EXPECT_TRUE(ember::allclose(attn(ember::Var<double>(x)).data(),
                              reference_attention(x, none, attn, 2), 1e-12, 1e-12));
  EXPECT_EMBER_ERROR(attn(ember::Var<double>(x), ember::zeros<bool>({2, 3})),
                     "MultiHeadSelfAttention: padding mask [2,3] does not match x [2,4,8]");
  EXPECT_EMBER_ERROR(nn::MultiHeadSelfAttention<double>(10, 3),
                     "d_model 10 must be a positive multiple of heads 3");
}

TEST(Attention, PaddedPositionsDoNotLeakAndGradientsCheck) {
  ember::Generator g(4);
  nn::MultiHeadSelfAttention<double> attn(6, 3, 0.0, g);
  Tensor<double> x = ember::randn<double>({1, 5, 6}, g);
  Tensor<bool> pad{{false, false, false, true, true}};
  auto y1 = attn(ember::Var<double>(x), pad).data();
  Tensor<double> x2 = x.clone();
  x2.narrow(1, 3, 2).copy_(ember::randn<double>({1, 2, 6}, g));  // change only the padding
  auto y2 = attn(ember::Var<double>(x2), pad).data();
  EXPECT_TRUE(ember::allclose(y1.narrow(1, 0, 3), y2.narrow(1, 0, 3), 1e-13, 1e-13));
  // A sequence that is all padding gives finite (uniform-attention) outputs, not NaN.
  auto all_pad = attn(ember::Var<double>(x), ember::ones<bool>({1, 5})).data();
  EXPECT_TRUE(ember::all(ember::isfinite(all_pad)).item());
  // Gradients with respect to the input and every weight, masked.
  Inputs in{V(x.clone(), true)};
  for (auto& p : attn.parameters()) in.push_back(p);
  expect_grad_ok(
      [&](const Inputs& v) { return attn(v[0], pad); }, in, "multi-head self-attention");
}

TEST(Transformer, NamesAndGradients) {
  ember::Generator g(5);
  nn::TransformerOptions o{.d_model = 8, .heads = 2, .ffn = 16, .dropout = 0.0};
  nn::TransformerEncoder<double> enc(2, o, g);
  auto params = enc.named_parameters();
  EXPECT_EQ(params.front().first, "layers.0.norm1.weight");
  EXPECT_EQ(params[2].first, "layers.0.attn.wq.weight");
  EXPECT_EQ(params.back().first, "norm.bias");
  // Per layer: 2 norms (2·2·8) + attention (4·(64 + 8)) + ffn (8·16 + 16 + 16·8 + 8).
  const std::int64_t per_layer = 32 + 288 + 280;
  EXPECT_EQ(enc.parameter_count(), 2 * per_layer + 16);
  Tensor<bool> pad{{false, false, true}};
  Inputs in{V(ember::randn<double>({1, 3, 8}, g), true)};
  for (auto& p : enc.parameters()) in.push_back(p);
  expect_grad_ok([&](const Inputs& v) { return enc(v[0], pad); }, in, "transformer encoder");
}

// The attention's residual form adds the residual in the output projection's GEMM epilogue:
// the same values and gradients as attention(x) + residual.
TEST(Attention, ResidualFormIsTheSum) {
  ember::Generator g(8);
  nn::MultiHeadSelfAttention<double> attn(8, 2, 0.0, g);
  for (auto& p : attn.parameters()) p.data().copy_(ember::uniform<double>(p.shape(), -0.5, 0.5, g));
  Tensor<bool> pad{{false, false, true, true}, {false, false, false, false}};
  const Tensor<double> xt = ember::randn<double>({2, 4, 8}, g), rt = ember::randn<double>({2, 4, 8}, g);
  const Tensor<double> c = ember::randn<double>({2, 4, 8}, g);
  V x1(xt.clone(), true), r1(rt.clone(), true), x2(xt.clone(), true), r2(rt.clone(), true);
  V y1 = attn.forward(x1, pad, r1), y2 = attn(x2, pad) + r2;
  EXPECT_TRUE(ember::allclose(y1.data(), y2.data(), 1e-13, 1e-13));
  ember::sum(y1 * V(c)).backward();
  ember::sum(y2 * V(c)).backward();
  EXPECT_TRUE(ember::allclose(x1.grad(), x2.grad(), 1e-12, 1e-12));
  EXPECT_TRUE(ember::allclose(r1.grad(), r2.grad(), 1e-12, 1e-12));
}

TEST(Transformer, TinyModelOverfitsASmallBatch) {
  // Classify 8 token sequences (with padding) from the first position's output: a 1-layer
  // encoder with learned embeddings must drive the loss near zero in a few hundred steps.
  const std::vector<float> curve = train_helpers::train_tiny_transformer();
  EXPECT_GT(curve.front(), 0.5f);
  EXPECT_LT(curve.back(), 0.01f);
}
