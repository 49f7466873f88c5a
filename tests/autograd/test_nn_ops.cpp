// The neural-network ops of autograd/ops/nn.hpp (loss, layer_norm, embedding, linear, activation, dropout, masked): finite differences and hand-worked values.
#include <cmath>

#include "grad_util.hpp"

using ember::Tensor;

namespace {

const Tensor<std::int64_t> kTargets{2, 0, 1, 2};

}  // namespace

void gradcheck_nn_ops() {
  ember::Generator g(5);
  expect_grad_ok([](const Inputs& v) { return ember::softmax(v[0], 1); }, {leaf({3, 4}, g)},
                 "softmax");
  expect_grad_ok([](const Inputs& v) { return ember::softmax(v[0], 0); }, {leaf({3, 4}, g)},
                 "softmax axis 0");
  expect_grad_ok([](const Inputs& v) { return ember::log_softmax(v[0], -1); }, {leaf({2, 5}, g)},
                 "log_softmax");
  expect_grad_ok([](const Inputs& v) { return ember::cross_entropy(v[0], kTargets); },
                 {leaf({4, 3}, g)}, "cross_entropy");
  expect_grad_ok(
      [](const Inputs& v) { return ember::cross_entropy(v[0], kTargets, /*ignore_index=*/0, 0.1); },
      {leaf({4, 3}, g)}, "cross_entropy with ignore_index and label smoothing");
  Tensor<double> y{{1, 0, 0.5}, {0, 1, 1}};
  expect_grad_ok([&](const Inputs& v) { return ember::binary_cross_entropy_with_logits(v[0], y); },
                 {leaf({2, 3}, g, -3, 3)}, "bce_with_logits");
  expect_grad_ok([](const Inputs& v) { return ember::layer_norm(v[0], v[1], v[2]); },
                 {leaf({2, 3, 5}, g), leaf({5}, g, 0.5, 1.5), leaf({5}, g)}, "layer_norm");
  Tensor<std::int64_t> ids{{1, 3, 1}, {0, 1, 2}};
  expect_grad_ok([&](const Inputs& v) { return ember::embedding(v[0], ids); }, {leaf({4, 3}, g)},
                 "embedding");
  expect_grad_ok(
      [](const Inputs& v) {
        ember::Generator mask_gen(17);  // same mask at every evaluation
        return ember::dropout(v[0], 0.3, true, mask_gen);
      },
      {leaf({4, 5}, g)}, "dropout");
  // A moderate fill value: with -1e9 in the loss, central differences lose all precision.
  Tensor<bool> mask{{true, false, false}, {false, true, false}};
  expect_grad_ok([&](const Inputs& v) { return ember::masked_fill(v[0], mask, -2.0); },
                 {leaf({2, 3}, g)}, "masked_fill");
  expect_grad_ok([](const Inputs& v) { return ember::gelu(v[0]); }, {leaf({7}, g, -3, 3)}, "gelu");
  expect_grad_ok([](const Inputs& v) { return ember::linear(v[0], v[1], v[2]); },
                 {leaf({2, 3, 4}, g), leaf({5, 4}, g), leaf({5}, g)}, "linear");
  expect_grad_ok([](const Inputs& v) { return ember::linear(v[0], v[1]); },
                 {leaf({4}, g), leaf({3, 4}, g)}, "linear, 1-D input, no bias");
  // The fused forms (GELU and residual epilogues in the GEMM).
  expect_grad_ok([](const Inputs& v) { return ember::linear_gelu(v[0], v[1], v[2]); },
                 {leaf({2, 3, 4}, g), leaf({5, 4}, g), leaf({5}, g)}, "linear_gelu");
  expect_grad_ok([](const Inputs& v) { return ember::linear_residual(v[0], v[1], v[2], v[3]); },
                 {leaf({2, 3, 4}, g), leaf({5, 4}, g), leaf({5}, g), leaf({2, 3, 5}, g)},
                 "linear_residual");
  // Bags [1, 3, 1], [] and [0, 2]: a repeated id, an empty bag, both modes.
  Tensor<std::int64_t> bag_ids{1, 3, 1, 0, 2}, offsets{0, 3, 3};
  for (auto mode : {ember::BagMode::Sum, ember::BagMode::Mean}) {
    expect_grad_ok(
        [&](const Inputs& v) { return ember::embedding_bag(v[0], bag_ids, offsets, mode); },
        {leaf({4, 3}, g)}, "embedding_bag");
  }
  const Tensor<double> psw{0.5, -2.0, 1.5, 3.0, 0.25};
  expect_grad_ok(
      [&](const Inputs& v) {
        return ember::embedding_bag(v[0], bag_ids, offsets, ember::BagMode::Sum, false, psw);
      },
      {leaf({4, 3}, g)}, "embedding_bag with per_sample_weights");
  expect_grad_ok([](const Inputs& v) { return ember::conv1d(v[0], v[1], v[2]); },
                 {leaf({2, 3, 7}, g), leaf({4, 3, 3}, g), leaf({4}, g)}, "conv1d");
  expect_grad_ok(
      [](const Inputs& v) { return ember::conv1d(v[0], v[1], /*stride=*/2, /*padding=*/2, 2); },
      {leaf({1, 2, 6}, g), leaf({3, 2, 2}, g)}, "conv1d strided, padded, dilated, no bias");
  // A transposed (B, T, C) → (B, C, T) view, as TextCNN feeds embeddings.
  expect_grad_ok(
      [](const Inputs& v) { return ember::conv1d(ember::transpose(v[0], 1, 2), v[1], v[2]); },
      {leaf({2, 5, 3}, g), leaf({2, 3, 2}, g), leaf({2}, g)}, "conv1d on a transposed view");
  Tensor<bool> pad{{false, false, true}, {true, true, true}};
  expect_grad_ok([&](const Inputs& v) { return ember::masked_mean(v[0], pad); },
                 {leaf({2, 3, 4}, g)}, "masked_mean");
  expect_grad_ok([&](const Inputs& v) { return ember::masked_max(v[0], pad); },
                 {leaf({2, 3, 4}, g)}, "masked_max");
  // Fused attention: padded keys (and a row with none), causal, cross-attention with dv != dk,
  // dropout (a fresh generator per evaluation: the same mask each time).
  Tensor<bool> kpad{{false, false, true}, {true, true, true}};
  auto attn_opts = [&](bool causal, double p) {
    ember::AttentionOptions<double> o;
    o.heads = 2;
    o.key_padding_mask = kpad;
    o.causal = causal;
    o.dropout = p;
    return o;
  };
  for (bool causal : {false, true}) {
    expect_grad_ok(
        [&](const Inputs& v) {
          return ember::scaled_dot_product_attention(v[0], v[1], v[2], attn_opts(causal, 0.0));
        },
        {leaf({2, 3, 4}, g), leaf({2, 3, 4}, g), leaf({2, 3, 6}, g)},
        causal ? "scaled_dot_product_attention causal" : "scaled_dot_product_attention");
  }
  expect_grad_ok(
      [&](const Inputs& v) {
        ember::Generator mask_gen(19);
        return ember::scaled_dot_product_attention(v[0], v[1], v[2], attn_opts(false, 0.4),
                                                   mask_gen);
      },
      {leaf({2, 4, 4}, g), leaf({2, 3, 4}, g), leaf({2, 3, 2}, g)},
      "scaled_dot_product_attention with dropout");
  expect_grad_ok(
      [&](const Inputs& v) {
        ember::Generator mask_gen(23);
        return ember::scaled_dot_product_attention_qkv(v[0], attn_opts(true, 0.3), mask_gen);
      },
      {leaf({2, 3, 12}, g)}, "scaled_dot_product_attention_qkv (packed), causal, dropout");
}

TEST(Gradcheck, EveryNnOp) { gradcheck_nn_ops(); }

// linear_gelu and linear_residual against the ops they fuse, in float (the GEMM's epilogue
// against the separate passes): values and every gradient, with all inputs requiring gradients
// and with only some (GELU's input is then kept only when a gradient flows through it).
TEST(NnOps, FusedLinearFormsMatchTheComposedOps) {
  using F = ember::Var<float>;
  ember::Generator g(21);
  const auto xt = ember::randn<float>({4, 7, 24}, g), wt = ember::randn<float>({40, 24}, g) * 0.2f;
  const auto bt = ember::randn<float>({40}, g), rt = ember::randn<float>({4, 7, 40}, g);
  const auto c = ember::randn<float>({4, 7, 40}, g);  // loss = Σ c ⊙ y
  for (int mask = 0; mask < 16; ++mask) {  // which of x, w, b, r require gradients
    auto make = [&](const Tensor<float>& t, int bit) { return F(t.clone(), ((mask >> bit) & 1) != 0); };
    F x1 = make(xt, 0), w1 = make(wt, 1), b1 = make(bt, 2), r1 = make(rt, 3);
    F x2 = make(xt, 0), w2 = make(wt, 1), b2 = make(bt, 2), r2 = make(rt, 3);
    for (bool gelu : {true, false}) {
      for (F* v : {&x1, &w1, &b1, &r1, &x2, &w2, &b2, &r2}) v->zero_grad();
      F fused = gelu ? ember::linear_gelu(x1, w1, b1) : ember::linear_residual(x1, w1, b1, r1);
      F composed = gelu ? ember::gelu(ember::linear(x2, w2, b2)) : ember::linear(x2, w2, b2) + r2;
      ASSERT_TRUE(ember::allclose(fused.data(), composed.data(), 1e-5, 1e-6))
          << (gelu ? "gelu" : "residual") << " mask " << mask;
      if (!fused.requires_grad()) continue;  // nothing to differentiate (no input needs it)
      ember::sum(fused * F(c)).backward();
      ember::sum(composed * F(c)).backward();
      const F* ones[4] = {&x1, &w1, &b1, &r1};
      const F* twos[4] = {&x2, &w2, &b2, &r2};
      for (int i = 0; i < (gelu ? 3 : 4); ++i) {
        if (!((mask >> i) & 1)) continue;
        EXPECT_TRUE(ember::allclose(ones[i]->grad(), twos[i]->grad(), 1e-4, 1e-5))
            << (gelu ? "gelu" : "residual") << " mask " << mask << " input " << i;
      }
    }
  }
  // A residual whose shape is not the output's is refused by name.
  EXPECT_EMBER_ERROR(ember::linear_residual(F(xt), F(wt), F(bt), F(ember::zeros<float>({4, 40}))),
                     "linear: residual [4,40] must have the output's shape [4,7,40]");
}

TEST(NnOps, EmbeddingBagHandWorked) {
  V w(Tensor<double>{{1, 10}, {2, 20}, {3, 30}}, true);
  Tensor<std::int64_t> ids{0, 2, 2, 1}, offsets{0, 1, 1};
  // Bags: [0], [], [2, 2, 1].
  auto sum = ember::embedding_bag(w, ids, offsets, ember::BagMode::Sum);
  EXPECT_EQ(values(sum.data()), (std::vector<double>{1, 10, 0, 0, 8, 80}));
  auto mean = ember::embedding_bag(w, ids, offsets);
  EXPECT_EQ(values(mean.data()),  // the bag sum times 1/size
            (std::vector<double>{1, 10, 0, 0, 8 * (1.0 / 3), 80 * (1.0 / 3)}));
  ember::sum(mean).backward();
  EXPECT_EQ(values(w.grad()), (std::vector<double>{1, 1, 1.0 / 3, 1.0 / 3, 2.0 / 3, 2.0 / 3}));
  EXPECT_EMBER_ERROR(ember::embedding_bag(w, Tensor<std::int64_t>{0, 5}, offsets),
                     "embedding_bag: index 5 at position 1 is out of range for 3 rows");
  EXPECT_EMBER_ERROR(ember::embedding_bag(w, ids, Tensor<std::int64_t>{0, 3, 2}),
                     "embedding_bag: offsets[1] = 3 does not start a bag inside 4 ids");
  EXPECT_EMBER_ERROR(ember::embedding_bag(w, ids, Tensor<std::int64_t>{1, 2}),
                     "embedding_bag: offsets[0] must be 0, got 1");
  // Weighted bags (TF-IDF style): bag [2, 2, 1] with weights 1, 0.5, 2 → 1.5·w2 + 2·w1.
  auto weighted = ember::embedding_bag(w, ids, offsets, ember::BagMode::Sum, false,
                                       Tensor<double>{9, 1, 0.5, 2});
  EXPECT_EQ(values(weighted.data()), (std::vector<double>{9, 90, 0, 0, 8.5, 85}));
  EXPECT_EMBER_ERROR(ember::embedding_bag(w, ids, offsets, ember::BagMode::Mean, false,
                                          Tensor<double>{1, 1, 1, 1}),
                     "per_sample_weights need mode Sum");
  EXPECT_EMBER_ERROR(ember::embedding_bag(w, ids, offsets, ember::BagMode::Sum, false,
                                          Tensor<double>{1, 1}),
                     "per_sample_weights [2] must match ids [4]");
}

TEST(NnOps, Conv1dHandWorked) {
  // x = [1, 2, 3, 4], w = [1, -1] (one channel): y[l] = x[l] - x[l+1] + b.
  V x(Tensor<double>{1, 2, 3, 4}.view({1, 1, 4}), true);
  V w(Tensor<double>{1, -1}.view({1, 1, 2}), true), b(Tensor<double>{10}, true);
  auto y = ember::conv1d(x, w, b);
  EXPECT_EQ(y.shape(), (ember::Shape{1, 1, 3}));
  EXPECT_EQ(values(y.data()), (std::vector<double>{9, 9, 9}));
  // Padding 1 adds a zero at each end: [0 1 2 3 4 0] → [-1, -1, -1, -1, 4].
  EXPECT_EQ(values(ember::conv1d(x, w, 1, 1).data()), (std::vector<double>{-1, -1, -1, -1, 4}));
  ember::sum(y).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1, 0, 0, -1}));
  EXPECT_EQ(values(w.grad()), (std::vector<double>{6, 9}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{3}));
  EXPECT_EMBER_ERROR(ember::conv1d(x, V(ember::zeros<double>({1, 2, 2}))),
                     "conv1d: input [1,1,4] has 1 channels but weight [1,2,2] expects 2");
  EXPECT_EMBER_ERROR(ember::conv1d(x, V(ember::zeros<double>({1, 1, 5}))),
                     "conv1d: input length 4 (padding 0) is shorter than the kernel's reach 5");
}

TEST(NnOps, MaskedMeanHandWorked) {
  V x(Tensor<double>{1, 2, 3, 4, 5, 6}.view({2, 3, 1}), true);
  Tensor<bool> pad{{false, true, false}, {true, true, true}};
  auto m = ember::masked_mean(x, pad);
  EXPECT_EQ(values(m.data()), (std::vector<double>{2, 0}));  // (1 + 3) / 2; all padded → 0
  ember::sum(m).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0.5, 0, 0.5, 0, 0, 0}));
}

TEST(NnOps, MaskedMaxHandWorked) {
  // Row 0 keeps positions 0 and 2 (the padded 9 must not win); row 1 is all padding → 0.
  V x(Tensor<double>{1, 9, 3, 4, 5, 6}.view({2, 3, 1}), true);
  Tensor<bool> pad{{false, true, false}, {true, true, true}};
  auto m = ember::masked_max(x, pad);
  EXPECT_EQ(values(m.data()), (std::vector<double>{3, 0}));
  ember::sum(m).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 0, 1, 0, 0, 0}));
  EXPECT_EMBER_ERROR(ember::masked_max(x, Tensor<bool>{{false, true}}),
                     "masked_max: expects x (B, T, D) and mask (B, T), got [2,3,1] and [1,2]");
}

TEST(NnOps, CrossEntropyHandWorked) {
  // Uniform logits over 2 classes: loss = log 2; label smoothing changes nothing when uniform.
  V x(Tensor<double>{{0, 0}, {0, 0}}, true);
  auto loss = ember::cross_entropy(x, Tensor<std::int64_t>{0, 1});
  EXPECT_NEAR(loss.item(), std::log(2.0), 1e-15);
  loss.backward();
  // d/dx = (softmax - onehot) / N = (0.5 - 1, 0.5) / 2.
  EXPECT_EQ(values(x.grad()), (std::vector<double>{-0.25, 0.25, 0.25, -0.25}));
  // Large logits stay finite (fused log-sum-exp).
  V big(Tensor<double>{{1000, 0}}, true);
  EXPECT_NEAR(ember::cross_entropy(big, Tensor<std::int64_t>{1}).item(), 1000.0, 1e-9);
}

// The fused kernel (kernels/loss.hpp) against the composition it replaces,
// −Σ q ⊙ log_softmax(x) / n_valid, in float and double: ignored rows, label smoothing, a row of
// far below the target's, rows large enough to split across threads.
template <class T>
void expect_cross_entropy_matches_composition() {
  using VT = ember::Var<T>;
  ember::Generator g(31);
  const std::int64_t N = 300, C = 257;
  Tensor<T> xt = ember::randn<T>({N, C}, g) * T(4);
  Tensor<std::int64_t> t = ember::randint<std::int64_t>(0, C, {N}, g);
  for (std::int64_t i = 0; i < N; i += 7) t.data()[i] = -100;
  xt.narrow(0, 1, 1).fill_(T(-1e4));  // every exponential but the target's underflows to 0
  xt.data()[1 * C + t.data()[1]] = T(3);
  const int threads_before = ember::num_threads();
  for (double eps : {0.0, 0.1}) {
    Tensor<T> q = ember::zeros<T>({N, C});
    double valid = 0;
    for (std::int64_t i = 0; i < N; ++i) {
      if (t.data()[i] == -100) continue;
      ++valid;
      if (eps > 0) q.narrow(0, i, 1).fill_(static_cast<T>(eps / static_cast<double>(C)));
      q.data()[i * C + t.data()[i]] += static_cast<T>(1 - eps);
    }
    for (int threads : {1, 2}) {
      ember::set_num_threads(threads);
      VT x1(xt.clone(), true), x2(xt.clone(), true);
      VT fused = ember::cross_entropy(x1, t, -100, eps);
      VT composed = ember::sum(VT(q) * ember::log_softmax(x2, -1)) * static_cast<T>(-1 / valid);
      const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
      EXPECT_NEAR(static_cast<double>(fused.item()), static_cast<double>(composed.item()), tol)
          << "eps " << eps << " threads " << threads;
      fused.backward();
      composed.backward();
      EXPECT_TRUE(ember::allclose(x1.grad(), x2.grad(), tol, tol))
          << "eps " << eps << " threads " << threads;
    }
  }
  ember::set_num_threads(threads_before);
}

TEST(NnOps, CrossEntropyMatchesTheComposedOps) {
  expect_cross_entropy_matches_composition<float>();
  expect_cross_entropy_matches_composition<double>();
}

// The gather/scatter kernels (kernels/embedding.hpp, kernels/conv1d.hpp) split work across
// threads so that no two threads add into one element: the gradients are the same bits on 1 and
// 2 threads, and match a double-precision sum of the occurrences.
TEST(NnOps, EmbeddingAndConv1dGradientsAreTheSameOnAnyThreadCount) {
  using F = ember::Var<float>;
  ember::Generator g(41);
  const Tensor<float> table = ember::randn<float>({50, 96}, g);
  const Tensor<std::int64_t> ids = ember::randint<std::int64_t>(0, 7, {40, 30}, g);  // many repeats
  const Tensor<float> dout = ember::randn<float>({40, 30, 96}, g);
  const Tensor<float> x = ember::randn<float>({6, 5, 40}, g), w = ember::randn<float>({4, 5, 3}, g);
  const Tensor<float> dy = ember::randn<float>({6, 4, 19}, g);
  const int threads_before = ember::num_threads();
  std::vector<Tensor<float>> emb, conv;
  for (int threads : {1, 2}) {
    ember::set_num_threads(threads);
    F t(table.clone(), true);
    ember::embedding(t, ids).backward(dout);
    emb.push_back(t.grad());
    F xv(x.clone(), true);
    ember::conv1d(xv, F(w), /*stride=*/2, /*padding=*/1, /*dilation=*/2).backward(dy);
    conv.push_back(xv.grad());
  }
  ember::set_num_threads(threads_before);
  EXPECT_TRUE(ember::equal(emb[0], emb[1]));
  EXPECT_TRUE(ember::equal(conv[0], conv[1]));
  Tensor<double> want = ember::zeros<double>({50, 96});
  for (std::int64_t i = 0; i < ids.numel(); ++i)
    for (std::int64_t d = 0; d < 96; ++d)
      want.data()[ids.data()[i] * 96 + d] += static_cast<double>(dout.data()[i * 96 + d]);
  EXPECT_TRUE(ember::allclose(emb[0].to<double>(), want, 1e-5, 1e-5));
}

// A channels-last input (a transposed view of (B, L, C), as TextCNN feeds embeddings) runs the
// convolution as GEMMs over overlapping windows, with no copy or unfold; the same input made
// contiguous runs im2col. Both must agree, forward and backward, for every kernel width up to L
// (K = L leaves one output per sequence), in float with several threads and in double.
template <class T>
void expect_channels_last_conv1d_matches_im2col(double tol) {
  using VT = ember::Var<T>;
  ember::Generator g(77);
  const std::int64_t B = 5, L = 9, C = 6, O = 7;
  const Tensor<T> emb = ember::randn<T>({B, L, C}, g);
  for (std::int64_t K : {1, 2, 4, 9}) {
    const Tensor<T> w = ember::randn<T>({O, C, K}, g), bias = ember::randn<T>({O}, g);
    const Tensor<T> dy = ember::randn<T>({B, O, L - K + 1}, g);
    std::vector<Tensor<T>> got[2];
    for (int contiguous = 0; contiguous < 2; ++contiguous) {
      VT e(emb.clone(), true), wv(w.clone(), true), bv(bias.clone(), true);
      VT x = ember::transpose(e, 1, 2);  // (B, C, L), channel stride 1
      if (contiguous) x = x * T(1);  // a fresh (B, C, L) result: the im2col path
      ASSERT_EQ(x.data().is_contiguous(), contiguous == 1);
      VT y = ember::conv1d(x, wv, bv);
      y.backward(dy);
      got[contiguous] = {y.data().clone(), e.grad().clone(), wv.grad().clone(), bv.grad().clone()};
    }
    for (std::size_t i = 0; i < 4; ++i)
      EXPECT_TRUE(ember::allclose(got[0][i], got[1][i], tol, tol)) << "K=" << K << " tensor " << i;
  }
}

TEST(NnOps, Conv1dOnChannelsLastInputMatchesIm2col) {
  expect_channels_last_conv1d_matches_im2col<double>(1e-12);
  const int threads_before = ember::num_threads();
  ember::set_num_threads(2);
  expect_channels_last_conv1d_matches_im2col<float>(1e-5);
  ember::set_num_threads(threads_before);
}

TEST(NnOps, CrossEntropyIgnoreIndexAndErrors) {
  V x(Tensor<double>{{2, 0}, {0, 5}}, true);
  auto loss = ember::cross_entropy(x, Tensor<std::int64_t>{0, -100});
  EXPECT_NEAR(loss.item(), std::log(1 + std::exp(-2.0)), 1e-15);  // only row 0 counts
  loss.backward();
  EXPECT_EQ(x.grad().at(1, 0), 0.0);
  EXPECT_EQ(x.grad().at(1, 1), 0.0);
  EXPECT_EMBER_ERROR(ember::cross_entropy(x, Tensor<std::int64_t>{0, 7}),
                     "cross_entropy: target 7 in row 1 is out of range for 2 classes");
  EXPECT_EMBER_ERROR(ember::cross_entropy(x, Tensor<std::int64_t>{0}),
                     "cross_entropy: targets [1] do not match logits [2,2]");
}

TEST(NnOps, BceWithLogitsHandWorked) {
  V x(Tensor<double>{0.0, 100.0, -100.0}, true);
  auto loss = ember::binary_cross_entropy_with_logits(x, Tensor<double>{1, 1, 0});
  EXPECT_NEAR(loss.item(), std::log(2.0) / 3.0, 1e-15);  // the saturated terms are ~0, not NaN
  loss.backward();
  EXPECT_NEAR(x.grad().at(0), (0.5 - 1.0) / 3.0, 1e-15);
}

TEST(NnOps, LayerNormNormalisesRows) {
  V x(Tensor<double>{{1, 2, 3, 4}, {10, 10, 10, 14}});
  V w(ember::ones<double>({4})), b(ember::zeros<double>({4}));
  auto y = ember::layer_norm(x, w, b, 0.0).data();
  for (int r = 0; r < 2; ++r) {
    EXPECT_NEAR(ember::mean(y[r]).item(), 0.0, 1e-12);
    EXPECT_NEAR(ember::var(y[r], {}, 0).item(), 1.0, 1e-12);
  }
  EXPECT_NEAR(y.at(0, 0), -1.5 / std::sqrt(1.25), 1e-12);
  EXPECT_EMBER_ERROR(ember::layer_norm(x, V(ember::ones<double>({3})), b),
                     "layer_norm: weight [3]");
}

TEST(NnOps, EmbeddingGradientOnlyInUsedRows) {
  V w(ember::arange<double>(12).reshape({4, 3}), true);
  auto out = ember::embedding(w, Tensor<std::int64_t>{{2, 2}, {0, 2}});
  EXPECT_EQ(out.shape(), (ember::Shape{2, 2, 3}));
  EXPECT_EQ(out.data().at(1, 0, 1), 1.0);
  ember::sum(out).backward();
  EXPECT_EQ(values(w.grad()), (std::vector<double>{1, 1, 1, 0, 0, 0, 3, 3, 3, 0, 0, 0}));
  EXPECT_EMBER_ERROR(ember::embedding(w, Tensor<std::int64_t>{4}),
                     "embedding: index 4 at position 0 is out of range for 4 rows");
}

TEST(NnOps, DropoutIsSeededScaledAndOffInEval) {
  V x(ember::ones<double>({1000}), true);
  ember::Generator g1(3), g2(3);
  auto a = ember::dropout(x, 0.25, true, g1), b = ember::dropout(x, 0.25, true, g2);
  EXPECT_TRUE(ember::equal(a.data(), b.data()));
  auto nz = ember::sum((a.data() > 0.0).to<double>()).item();
  EXPECT_NEAR(nz, 750, 60);  // ~5 standard deviations
  EXPECT_NEAR(ember::max(a.data()).item(), 1.0 / 0.75, 1e-15);
  auto e = ember::dropout(x, 0.25, /*training=*/false);
  EXPECT_TRUE(ember::equal(e.data(), x.data()));
  EXPECT_EMBER_ERROR(ember::dropout(x, 1.0, true), "dropout: probability 1 is outside [0, 1)");
  // Several counter rows (16 384 elements each): the same mask on 1 and 2 threads, the kept
  // fraction within 5 standard deviations, and the gradient is the mask times 1/(1 − p).
  const int threads_before = ember::num_threads();
  Tensor<float> big = ember::ones<float>({5, 20000});
  Tensor<float> first;
  for (int threads : {1, 2}) {
    ember::set_num_threads(threads);
    ember::Generator gen(8);
    ember::Var<float> xb(big, true);
    auto y = ember::dropout(xb, 0.1, true, gen);
    ember::sum(y).backward();
    EXPECT_TRUE(ember::equal(xb.grad(), y.data()));
    if (threads == 1) {
      first = y.data();
      const double kept = ember::sum((y.data() > 0.0f).to<double>()).item();
      EXPECT_NEAR(kept, 90000, 5 * std::sqrt(100000 * 0.1 * 0.9));
    } else {
      EXPECT_TRUE(ember::equal(first, y.data()));
    }
  }
  ember::set_num_threads(threads_before);
}

void gradcheck_shape_and_index_ops() {
  ember::Generator g(9);
  expect_grad_ok(
      [](const Inputs& v) {
        return ember::permute(v[0], {2, 0, 1}) * v[1];
      },
      {leaf({2, 3, 4}, g), leaf({4, 2, 3}, g)}, "permute");
  expect_grad_ok([](const Inputs& v) { return ember::narrow(v[0], 1, 1, 2); }, {leaf({3, 4}, g)},
                 "narrow");
  expect_grad_ok(
      [](const Inputs& v) {
        return ember::cat<double>({v[0], v[1], v[0]}, 1);
      },
      {leaf({2, 3}, g), leaf({2, 1}, g)}, "cat (an input used twice)");
  expect_grad_ok(
      [](const Inputs& v) {
        return ember::stack<double>({v[0], v[1]}, 1);
      },
      {leaf({2, 3}, g), leaf({2, 3}, g)}, "stack");
  const Tensor<std::int64_t> ids{2, 0, 2};
  expect_grad_ok([&](const Inputs& v) { return ember::index_select(v[0], 0, ids); },
                 {leaf({3, 4}, g)}, "index_select (repeated index)");
}

TEST(Gradcheck, ShapeAndIndexOps) { gradcheck_shape_and_index_ops(); }
