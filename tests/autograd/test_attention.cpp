// Fused scaled_dot_product_attention against the composed graph, by hand and by finite
// differences; masks, causality, dropout, strided inputs, errors.
#include <gtest/gtest.h>

#include "ember/ember.hpp"
#include "grad_util.hpp"

using ember::Tensor;

namespace {

// The composed reference: heads split by permute, matmul, masked_fill, softmax, matmul, merge.
// A row with no valid key is not compared (the reference's −1e300 fill gives uniform weights
// there too, but its gradient path differs).
V composed_attention(const V& q, const V& k, const V& v, std::int64_t H, const Tensor<bool>& pad,
                     bool causal, double scale) {
  const std::int64_t B = q.size(0), Tq = q.size(1), Tk = k.size(1);
  const std::int64_t dk = q.size(2) / H, dv = v.size(2) / H;
  auto split = [&](const V& y, std::int64_t T, std::int64_t d) {
    return ember::permute(ember::reshape(y, {B, T, H, d}), {0, 2, 1, 3});
  };
  V s = ember::matmul(split(q, Tq, dk), ember::transpose(split(k, Tk, dk), -1, -2)) * scale;
  Tensor<bool> m = ember::zeros<bool>({B, 1, Tq, Tk});
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t i = 0; i < Tq; ++i)
      for (std::int64_t j = 0; j < Tk; ++j)
        m.at(b, 0, i, j) = (pad.numel() > 0 && pad.at(b, j)) || (causal && j > i);
  V p = ember::softmax(ember::masked_fill(s, m, -1e300), -1);
  V ctx = ember::permute(ember::matmul(p, split(v, Tk, dv)), {0, 2, 1, 3});
  return ember::reshape(ctx, {B, Tq, H * dv});
}

ember::AttentionOptions<double> opts(std::int64_t heads, Tensor<bool> pad = {},
                                     bool causal = false, double dropout = 0.0) {
  ember::AttentionOptions<double> o;
  o.heads = heads;
  o.key_padding_mask = std::move(pad);
  o.causal = causal;
  o.dropout = dropout;
  return o;
}

// Values and gradients (of Σ out ⊙ R) of the fused op and the composed graph agree.
void expect_matches_composed(const V& q, const V& k, const V& v,
                             const ember::AttentionOptions<double>& o, const char* what) {
  const std::int64_t dk = q.size(2) / o.heads;  // head width
  const double scale = 1.0 / std::sqrt(static_cast<double>(dk));
  ember::Generator g(9);
  V fused = ember::scaled_dot_product_attention(q, k, v, o);
  V ref = composed_attention(q, k, v, o.heads, o.key_padding_mask, o.causal, scale);
  EXPECT_TRUE(ember::allclose(fused.data(), ref.data(), 1e-12, 1e-12)) << what;
  Tensor<double> r = ember::randn<double>(fused.shape(), g);
  std::vector<Tensor<double>> grads[2];
  for (int pass = 0; pass < 2; ++pass) {
    for (const V* x : {&q, &k, &v}) const_cast<V*>(x)->zero_grad();
    V out = pass == 0 ? fused : ref;
    ember::sum(out * V(r)).backward();
    for (const V* x : {&q, &k, &v}) grads[pass].push_back(x->grad().clone());
  }
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(ember::allclose(grads[0][static_cast<std::size_t>(i)],
                                grads[1][static_cast<std::size_t>(i)], 1e-11, 1e-11))
        << what << ": gradient " << "qkv"[i];
}

}  // namespace

TEST(Attention, FusedMatchesComposedGraph) {
  ember::Generator g(21);
  // Self-attention, 2 heads, one padded key in batch 0 and three in batch 1.
  V x1 = leaf({2, 5, 6}, g), x2 = leaf({2, 5, 6}, g), x3 = leaf({2, 5, 6}, g);
  Tensor<bool> pad{{false, false, false, false, true}, {false, true, false, true, true}};
  expect_matches_composed(x1, x2, x3, opts(2, pad), "padded");
  expect_matches_composed(x1, x2, x3, opts(3), "no mask, 3 heads");
  expect_matches_composed(x1, x2, x3, opts(2, pad, /*causal=*/true), "causal and padded");
  // Cross-attention: 3 queries over 4 keys, value width 4 per head against key width 2.
  V q = leaf({2, 3, 4}, g), k = leaf({2, 4, 4}, g), v = leaf({2, 4, 8}, g);
  Tensor<bool> kpad{{false, false, true, false}, {false, false, false, false}};
  expect_matches_composed(q, k, v, opts(2, kpad), "cross-attention, dv != dk");
  expect_matches_composed(q, k, v, opts(2, {}, true), "causal cross-attention");
}

TEST(Attention, ReadsColumnViewsOfAFusedProjection) {
  ember::Generator g(22);
  // q | k | v as column blocks of one (B, T, 3·D) tensor: row stride 3·D, no copy needed.
  V qkv = leaf({2, 4, 12}, g);
  V q = ember::narrow(qkv, 2, 0, 4), k = ember::narrow(qkv, 2, 4, 4), v = ember::narrow(qkv, 2, 8, 4);
  ASSERT_EQ(q.data().stride(1), 12);
  Tensor<bool> pad{{false, false, true, true}, {false, false, false, false}};
  V fused = ember::scaled_dot_product_attention(q, k, v, opts(2, pad));
  V ref = composed_attention(q, k, v, 2, pad, false, 1 / std::sqrt(2.0));
  EXPECT_TRUE(ember::allclose(fused.data(), ref.data(), 1e-12, 1e-12));
  // A transposed view (channels not contiguous) is copied and gives the same values.
  V xt = leaf({2, 4, 3}, g);
  V t = ember::transpose(xt, 1, 2);  // (2, 3, 4), channel stride 3
  V a = ember::scaled_dot_product_attention(t, t, t, opts(2));
  V tc(t.data().contiguous());
  V b = ember::scaled_dot_product_attention(tc, tc, tc, opts(2));
  EXPECT_TRUE(ember::allclose(a.data(), b.data(), 0, 0));
}

TEST(Attention, PackedQkvEqualsThreeViewsAndGivesOneGradient) {
  ember::Generator g(28);
  Tensor<bool> pad{{false, false, true, true}, {false, false, false, false}};
  for (bool causal : {false, true}) {
    V qkv = leaf({2, 4, 12}, g);
    V packed = ember::scaled_dot_product_attention_qkv(qkv, opts(2, pad, causal));
    Tensor<double> r = ember::randn<double>(packed.shape(), g);
    ember::sum(packed * V(r)).backward();
    const Tensor<double> grad_packed = qkv.grad().clone();
    qkv.zero_grad();
    V views = ember::scaled_dot_product_attention(ember::narrow(qkv, 2, 0, 4),
                                                  ember::narrow(qkv, 2, 4, 4),
                                                  ember::narrow(qkv, 2, 8, 4), opts(2, pad, causal));
    ember::sum(views * V(r)).backward();
    EXPECT_TRUE(ember::allclose(packed.data(), views.data(), 0, 0));
    EXPECT_TRUE(ember::allclose(grad_packed, qkv.grad(), 1e-15, 1e-15));
  }
  EXPECT_EMBER_ERROR(ember::scaled_dot_product_attention_qkv(leaf({2, 4, 10}, g), opts(2)),
                     "scaled_dot_product_attention_qkv: expects qkv (B, T, 3·H·d), got [2,4,10]");
}

// Issue 14: attention with padding masks equals attention on the unpadded sequence.
TEST(Attention, PaddedBatchEqualsUnpaddedSequences) {
  ember::Generator g(23);
  const std::int64_t lens[] = {5, 2, 4};
  V q = leaf({3, 5, 8}, g), k = leaf({3, 5, 8}, g), v = leaf({3, 5, 8}, g);
  Tensor<bool> pad = ember::zeros<bool>({3, 5});
  for (std::int64_t b = 0; b < 3; ++b)
    for (std::int64_t t = lens[b]; t < 5; ++t) pad.at(b, t) = true;
  for (bool causal : {false, true}) {
    V batched = ember::scaled_dot_product_attention(q, k, v, opts(2, pad, causal));
    for (std::int64_t b = 0; b < 3; ++b) {
      auto cut = [&](const V& x) {
        return V(x.data().narrow(0, b, 1).narrow(1, 0, lens[b]).contiguous());
      };
      V alone = ember::scaled_dot_product_attention(cut(q), cut(k), cut(v), opts(2, {}, causal));
      EXPECT_TRUE(ember::allclose(batched.data().narrow(0, b, 1).narrow(1, 0, lens[b]),
                                  alone.data(), 1e-13, 1e-13))
          << "sequence " << b << (causal ? ", causal" : "");
    }
  }
}

TEST(Attention, RowWithoutKeysIsUniformAndPassesNoScoreGradient) {
  ember::Generator g(24);
  V q = leaf({1, 3, 2}, g), k = leaf({1, 3, 2}, g), v = leaf({1, 3, 2}, g);
  V out = ember::scaled_dot_product_attention(q, k, v, opts(1, ember::ones<bool>({1, 3})));
  // Uniform weights: every output row is the mean of v's rows.
  Tensor<double> mean = ember::mean(v.data(), {1});
  for (std::int64_t i = 0; i < 3; ++i)
    EXPECT_TRUE(ember::allclose(out.data().narrow(1, i, 1).reshape({1, 2}), mean, 1e-15, 1e-15));
  ember::sum(out).backward();
  EXPECT_EQ(ember::max(ember::abs(q.grad())).item(), 0.0);
  EXPECT_EQ(ember::max(ember::abs(k.grad())).item(), 0.0);
  EXPECT_TRUE(ember::allclose(v.grad(), ember::full<double>({1, 3, 2}, 1.0), 1e-15, 1e-15));
}

// The float kernel in every copy the dispatch can pick on this machine (generic, AVX2,
// AVX-512; its row softmax, dropout and dS loops run in the widest one) against the double
// kernel: padding, causality, dropout, key counts that are not a multiple of 8.
TEST(Attention, FloatInEveryIsaCopyMatchesDouble) {
  ember::Generator g(31);
  const std::int64_t B = 2, Tq = 13, Tk = 13, H = 2, d = 4;
  const Tensor<double> q = ember::randn<double>({B, Tq, H * d}, g) * 2.0;
  const Tensor<double> k = ember::randn<double>({B, Tk, H * d}, g) * 2.0;
  const Tensor<double> v = ember::randn<double>({B, Tk, H * d}, g);
  const Tensor<double> r = ember::randn<double>({B, Tq, H * d}, g);
  Tensor<bool> pad = ember::zeros<bool>({B, Tk});
  for (std::int64_t j = 9; j < Tk; ++j) pad.at(1, j) = true;
  const ember::Isa best = ember::gemm_isa();
  for (bool causal : {false, true}) {
    for (double p : {0.0, 0.25}) {
      // The double reference; the same generator seed gives the same dropout mask.
      ember::AttentionOptions<double> od = opts(H, pad, causal, p);
      V qd(q, true), kd(k, true), vd(v, true);
      ember::Generator gd(5);
      V outd = ember::scaled_dot_product_attention(qd, kd, vd, od, gd);
      ember::sum(outd * V(r)).backward();
      for (ember::Isa isa : {ember::Isa::Generic, ember::Isa::Avx2, ember::Isa::Avx512, best}) {
        if (isa > ember::cpu_isa()) continue;
        ember::set_gemm_isa(isa);
        ember::AttentionOptions<float> of;
        of.heads = H;
        of.key_padding_mask = pad;
        of.causal = causal;
        of.dropout = p;
        ember::Var<float> qf(q.to<float>(), true), kf(k.to<float>(), true), vf(v.to<float>(), true);
        ember::Generator gf(5);
        ember::Var<float> outf = ember::scaled_dot_product_attention(qf, kf, vf, of, gf);
        ember::sum(outf * ember::Var<float>(r.to<float>())).backward();
        const std::string what = std::string("isa ") + std::string(ember::isa_name(isa)) +
                                 (causal ? " causal" : "") + " p " + std::to_string(p);
        EXPECT_TRUE(ember::allclose(outf.data().to<double>(), outd.data(), 1e-5, 1e-5)) << what;
        EXPECT_TRUE(ember::allclose(qf.grad().to<double>(), qd.grad(), 1e-4, 1e-4)) << what;
        EXPECT_TRUE(ember::allclose(kf.grad().to<double>(), kd.grad(), 1e-4, 1e-4)) << what;
        EXPECT_TRUE(ember::allclose(vf.grad().to<double>(), vd.grad(), 1e-4, 1e-4)) << what;
      }
      ember::set_gemm_isa(best);
    }
  }
}

TEST(Attention, DropoutDropsWeightsAndRescalesTheRest) {
  // One head, v = identity, so out = the dropped weights Pd (B, Tq, Tk) themselves.
  ember::Generator g(25);
  const std::int64_t B = 4, T = 64;
  V q = leaf({B, T, 8}, g), k = leaf({B, T, 8}, g);
  Tensor<double> eye = ember::zeros<double>({B, T, T});
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t j = 0; j < T; ++j) eye.at(b, j, j) = 1;
  V v(eye);
  const double p = 0.3;
  Tensor<double> plain = ember::scaled_dot_product_attention(q, k, v, opts(1)).data();
  ember::Generator drop_gen(7);
  Tensor<double> dropped = ember::scaled_dot_product_attention(q, k, v, opts(1, {}, false, p),
                                                               drop_gen).data();
  std::int64_t zeros = 0;
  for (std::int64_t e = 0; e < plain.numel(); ++e) {
    const double a = plain.data()[e], d = dropped.data()[e];
    if (d == 0) {
      ++zeros;
    } else {
      EXPECT_NEAR(d, a / (1 - p), 1e-15);
    }
  }
  // 16 384 weights: the dropped fraction is within 5 standard deviations of p.
  const double frac = static_cast<double>(zeros) / static_cast<double>(plain.numel());
  EXPECT_NEAR(frac, p, 5 * std::sqrt(p * (1 - p) / static_cast<double>(plain.numel())));
  // Same generator state, same mask; the thread count does not change it.
  const int threads_before = ember::num_threads();
  for (int threads : {1, 2}) {
    ember::set_num_threads(threads);
    ember::Generator again(7);
    EXPECT_TRUE(ember::allclose(ember::scaled_dot_product_attention(
                                    q, k, v, opts(1, {}, false, p), again).data(),
                                dropped, 0, 0));
  }
  ember::set_num_threads(threads_before);
  // Not training: no dropout.
  auto eval = opts(1, {}, false, p);
  eval.training = false;
  EXPECT_TRUE(ember::allclose(ember::scaled_dot_product_attention(q, k, v, eval).data(), plain,
                              0, 0));
}

TEST(Attention, FloatMatchesDoubleOnATrainingSizedProblem) {
  // The GEMM micro-kernels and vectorised exp on a (4, 128, 256) batch with 4 heads.
  ember::Generator g(26);
  Tensor<double> qd = ember::randn<double>({4, 128, 256}, g), kd = ember::randn<double>({4, 128, 256}, g),
                 vd = ember::randn<double>({4, 128, 256}, g);
  Tensor<bool> pad = ember::zeros<bool>({4, 128});
  pad.narrow(0, 1, 1).narrow(1, 100, 28).fill_(true);
  auto to_f = [](const Tensor<double>& t) { return ember::Var<float>(t.to<float>(), true); };
  ember::Var<float> qf = to_f(qd), kf = to_f(kd), vf = to_f(vd);
  ember::AttentionOptions<float> of;
  of.heads = 4;
  of.key_padding_mask = pad;
  V qv(qd, true), kv(kd, true), vv(vd, true);
  auto outf = ember::scaled_dot_product_attention(qf, kf, vf, of);
  auto outd = ember::scaled_dot_product_attention(qv, kv, vv, opts(4, pad));
  EXPECT_TRUE(ember::allclose(outf.data().to<double>(), outd.data(), 1e-4, 1e-4));
  ember::sum(ember::square(outf)).backward();
  ember::sum(ember::square(outd)).backward();
  EXPECT_TRUE(ember::allclose(qf.grad().to<double>(), qv.grad(), 1e-3, 1e-3));
  EXPECT_TRUE(ember::allclose(kf.grad().to<double>(), kv.grad(), 1e-3, 1e-3));
  EXPECT_TRUE(ember::allclose(vf.grad().to<double>(), vv.grad(), 1e-3, 1e-3));
}

TEST(Attention, BadInputGetsAClearError) {
  ember::Generator g(27);
  V q = leaf({2, 3, 4}, g), k = leaf({2, 5, 4}, g), v = leaf({2, 5, 6}, g);
  EXPECT_EMBER_ERROR(ember::scaled_dot_product_attention(q, k, leaf({2, 4, 6}, g), opts(2)),
                     "scaled_dot_product_attention: q [2,3,4], k [2,5,4] and v [2,4,6] do not fit");
  EXPECT_EMBER_ERROR(ember::scaled_dot_product_attention(q, k, v, opts(3)),
                     "widths 4 (q, k) and 6 (v) must be positive multiples of heads 3");
  EXPECT_EMBER_ERROR(ember::scaled_dot_product_attention(q, k, v, opts(2, ember::zeros<bool>({2, 3}))),
                     "key padding mask [2,3] does not match (B, Tk) = (2, 5)");
  EXPECT_EMBER_ERROR(ember::scaled_dot_product_attention(q, k, v, opts(2, {}, false, 1.0)),
                     "dropout 1 is outside [0, 1)");
  EXPECT_EMBER_ERROR(ember::scaled_dot_product_attention(leaf({2, 3}, g), k, v, opts(2)),
                     "expects q (B, Tq, H·dk)");
}
