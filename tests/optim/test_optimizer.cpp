// Optimisers against updates worked out by hand from PyTorch's published formulas.
#include <cmath>
#include <numbers>

#include "../test_util.hpp"

using ember::Tensor;
using V = ember::Var<double>;
namespace optim = ember::optim;

namespace {
// Gives p the gradient c by backpropagating sum(p ⊙ c).
void set_grad(V& p, const Tensor<double>& c) {
  p.zero_grad();
  ember::sum(p * V(c)).backward();
}
}  // namespace

TEST(Optim, SgdPlainMomentumNesterovWeightDecay) {
  const Tensor<double> g{0.5, -3.0};
  {
    V p(Tensor<double>{1.0, -2.0}, true);
    optim::SGD<double> opt({p}, {.lr = 0.1});
    set_grad(p, g);
    opt.step();
    EXPECT_NEAR(p.data().at(0), 1.0 - 0.05, 1e-15);
    EXPECT_NEAR(p.data().at(1), -2.0 + 0.3, 1e-15);
  }
  {
    V p(Tensor<double>{1.0, -2.0}, true);
    optim::SGD<double> opt({p}, {.lr = 0.1, .momentum = 0.9});
    set_grad(p, g);
    opt.step();  // buf = g
    set_grad(p, g);
    opt.step();  // buf = 0.9 g + g = 1.9 g
    EXPECT_NEAR(p.data().at(0), 1.0 - 0.1 * 0.5 * (1 + 1.9), 1e-15);
  }
  {
    V p(Tensor<double>{1.0, -2.0}, true);
    optim::SGD<double> opt({p}, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
    set_grad(p, g);
    opt.step();  // buf = g, step g + 0.9 g = 1.9 g
    set_grad(p, g);
    opt.step();  // buf = 1.9 g, step g + 0.9·1.9 g = 2.71 g
    EXPECT_NEAR(p.data().at(1), -2.0 + 0.1 * 3.0 * (1.9 + 2.71), 1e-14);
  }
  {
    V p(Tensor<double>{1.0, -2.0}, true);
    optim::SGD<double> opt({p}, {.lr = 0.1, .weight_decay = 0.5});
    set_grad(p, g);
    opt.step();  // g + 0.5 p
    EXPECT_NEAR(p.data().at(0), 1.0 - 0.1 * (0.5 + 0.5), 1e-15);
  }
  V q(Tensor<double>{1.0}, true);
  EXPECT_EMBER_ERROR(optim::SGD<double>({q}, {.lr = 0.1, .nesterov = true}),
                     "SGD: Nesterov momentum needs");
}

TEST(Optim, AdamAndAdamW) {
  const Tensor<double> g{0.5, -3.0};
  V p(Tensor<double>{1.0, -2.0}, true);
  optim::Adam<double> adam({p}, {.lr = 0.1});
  // With a constant gradient the bias-corrected m̂ = g and v̂ = g², so each step moves
  // lr·g / (|g| + eps) ≈ lr·sign(g).
  for (int s = 1; s <= 3; ++s) {
    set_grad(p, g);
    adam.step();
    EXPECT_NEAR(p.data().at(0), 1.0 - 0.1 * s * 0.5 / (0.5 + 1e-8), 1e-12) << s;
    EXPECT_NEAR(p.data().at(1), -2.0 + 0.1 * s * 3.0 / (3.0 + 1e-8), 1e-12) << s;
  }
  EXPECT_EQ(adam.steps(), 3);

  V w(Tensor<double>{1.0, -2.0}, true);
  optim::AdamW<double> adamw({w}, {.lr = 0.1, .weight_decay = 0.5});
  set_grad(w, g);
  adamw.step();  // p ← p·(1 − lr·wd) − lr·g/(|g| + eps)
  EXPECT_NEAR(w.data().at(0), 1.0 * 0.95 - 0.1 * 0.5 / (0.5 + 1e-8), 1e-12);
  EXPECT_NEAR(w.data().at(1), -2.0 * 0.95 + 0.1 * 3.0 / (3.0 + 1e-8), 1e-12);

  V l2(Tensor<double>{1.0}, true);
  optim::Adam<double> adam_l2({l2}, {.lr = 0.1, .weight_decay = 1.0});
  set_grad(l2, Tensor<double>{0.0});
  adam_l2.step();  // Adam's L2: g = 0 + 1·p = 1, so the step is lr·1/(1 + eps)
  EXPECT_NEAR(l2.data().item(), 0.9, 1e-9);
}

TEST(Optim, AdamStateResumesExactly) {
  // Five steps in one run equal three steps, a state() saved into a fresh optimiser over
  // copied weights, and two more: the moments and the step count (bias correction) carry over.
  auto grad_at = [](int s) { return Tensor<double>{0.5 * s, -3.0 + s, 0.25}; };
  V a(Tensor<double>{1.0, -2.0, 0.5}, true), unused(Tensor<double>{7.0}, true);
  optim::AdamW<double> whole({a, unused}, {.lr = 0.05, .weight_decay = 0.1});
  for (int s = 1; s <= 5; ++s) {
    set_grad(a, grad_at(s));
    whole.step();
  }
  V b(Tensor<double>{1.0, -2.0, 0.5}, true), unused_b(Tensor<double>{7.0}, true);
  optim::AdamW<double> first({b, unused_b}, {.lr = 0.05, .weight_decay = 0.1});
  for (int s = 1; s <= 3; ++s) {
    set_grad(b, grad_at(s));
    first.step();
  }
  const auto st = first.state();
  EXPECT_EQ(st.steps, 3);
  EXPECT_EQ(st.m[1].numel(), 0);  // never had a gradient: no moments yet
  V c(b.data().clone(), true), unused_c(Tensor<double>{7.0}, true);
  optim::AdamW<double> second({c, unused_c}, {.lr = 0.05, .weight_decay = 0.1});
  second.load_state(st);
  for (int s = 4; s <= 5; ++s) {
    set_grad(c, grad_at(s));
    second.step();
  }
  EXPECT_EQ(c.data().to_vector(), a.data().to_vector());
  EXPECT_EQ(second.steps(), 5);
  auto bad = st;
  bad.m[0] = Tensor<double>{1.0, 2.0};
  EXPECT_EMBER_ERROR(second.load_state(bad), "Adam::load_state: parameter 0 has shape [3], its state [2]");
  bad = st;
  bad.v.pop_back();
  EXPECT_EMBER_ERROR(second.load_state(bad), "Adam::load_state: state for 2 and 1 parameters, the optimiser has 2");
}

TEST(Optim, ParamScalesActAsParameterGroups) {
  // Two parameters, the second at half the rate and without weight decay: each moves as it
  // would under an optimiser of its own with that rate and decay (torch's parameter groups).
  const Tensor<double> g{0.5, -3.0};
  auto run = [&](double lr, double wd, const std::vector<optim::ParamScale>& scales) {
    V a(Tensor<double>{1.0, -2.0}, true), b(Tensor<double>{1.0, -2.0}, true);
    optim::AdamW<double> opt({a, b}, {.lr = lr, .weight_decay = wd});
    if (!scales.empty()) opt.set_param_scales(scales);
    for (int s = 1; s <= 3; ++s) {
      set_grad(a, g);
      set_grad(b, Tensor<double>{1.0, -6.0});
      opt.set_lr(lr * (1.0 - 0.25 * s));  // a schedule scales both alike
      opt.step();
    }
    return std::pair{a.data().to_vector(), b.data().to_vector()};
  };
  const auto grouped = run(0.1, 0.5, {{1.0, 1.0}, {0.5, 0.0}});
  const auto alone_a = run(0.1, 0.5, {});
  const auto alone_b = run(0.05, 0.0, {});
  EXPECT_EQ(grouped.first, alone_a.first);
  EXPECT_EQ(grouped.second, alone_b.second);
  // By hand, the first step of b: lr 0.05·0.75, no decay, step lr·sign(g).
  V b(Tensor<double>{1.0}, true);
  optim::AdamW<double> one({b}, {.lr = 0.1, .weight_decay = 0.5});
  one.set_param_scales({{0.5, 0.0}});
  set_grad(b, Tensor<double>{-3.0});
  one.step();
  EXPECT_NEAR(b.data().item(), 1.0 + 0.05 * 3.0 / (3.0 + 1e-8), 1e-12);
  // SGD: the same multipliers.
  V s(Tensor<double>{1.0}, true);
  optim::SGD<double> sgd({s}, {.lr = 0.1, .weight_decay = 0.5});
  sgd.set_param_scales({{2.0, 0.5}});
  set_grad(s, Tensor<double>{0.5});
  sgd.step();  // p -= 0.2·(0.5 + 0.25·1)
  EXPECT_NEAR(s.data().item(), 1.0 - 0.2 * 0.75, 1e-15);
  EXPECT_EMBER_ERROR(sgd.set_param_scales({}), "Optimizer::set_param_scales: 0 scales for 1 parameters");
  EXPECT_EMBER_ERROR(sgd.set_param_scales({{-1.0, 1.0}}), "scales must be finite and non-negative, got lr -1");
}

TEST(Optim, ParametersWithoutGradAreSkipped) {
  V a(Tensor<double>{1.0}, true), b(Tensor<double>{1.0}, true);
  optim::Adam<double> opt({a, b}, {.lr = 0.1});
  set_grad(a, Tensor<double>{1.0});
  opt.step();
  EXPECT_EQ(b.data().item(), 1.0);
  EXPECT_NE(a.data().item(), 1.0);
  opt.zero_grad();
  EXPECT_FALSE(a.has_grad());
  V c(Tensor<double>{1.0});
  EXPECT_EMBER_ERROR(optim::SGD<double>({c}, {}),
                     "SGD: parameters must be leaves with requires_grad=true");
}

TEST(Optim, ClipGradNormScalesToMaxNorm) {
  V a(Tensor<double>{3.0}, true), b(Tensor<double>{0.0}, true);
  set_grad(a, Tensor<double>{3.0});
  set_grad(b, Tensor<double>{4.0});
  double norm = optim::clip_grad_norm<double>({a, b}, 1.0);
  EXPECT_DOUBLE_EQ(norm, 5.0);
  EXPECT_NEAR(a.grad().item(), 3.0 / (5.0 + 1e-6), 1e-15);
  EXPECT_NEAR(b.grad().item(), 4.0 / (5.0 + 1e-6), 1e-15);
  EXPECT_NEAR(optim::clip_grad_norm<double>({a, b}, 10.0), 1.0, 1e-6);  // below: unchanged
  EXPECT_NEAR(a.grad().item(), 3.0 / (5.0 + 1e-6), 1e-15);
}

TEST(Optim, WarmupThenLinearOrCosineDecay) {
  optim::WarmupDecay lin{10, 110, optim::WarmupDecay::Shape::Linear};
  EXPECT_EQ(lin.factor(0), 0.0);
  EXPECT_EQ(lin.factor(5), 0.5);
  EXPECT_EQ(lin.factor(10), 1.0);
  EXPECT_EQ(lin.factor(60), 0.5);
  EXPECT_EQ(lin.factor(110), 0.0);
  EXPECT_EQ(lin.factor(500), 0.0);
  optim::WarmupDecay cos{0, 100, optim::WarmupDecay::Shape::Cosine};
  EXPECT_EQ(cos.factor(0), 1.0);
  EXPECT_NEAR(cos.factor(50), 0.5, 1e-15);
  EXPECT_NEAR(cos.factor(25), 0.5 * (1 + std::cos(std::numbers::pi / 4)), 1e-15);
}

TEST(Optimizer, AdamKernelMatchesTheScalarFormOnEveryIsa) {
  // The fp32 update runs a dispatched kernel; it must agree with the portable loop for sizes
  // around the 16-lane width (masked tails) and with weight decay in both forms.
  ember::Generator g(11);
  for (std::int64_t n : {1, 15, 16, 17, 100}) {
    auto w0 = ember::randn<float>({n}, g), gr = ember::randn<float>({n}, g);
    auto m0 = ember::randn<float>({n}, g), v0 = ember::abs(ember::randn<float>({n}, g));
    const ember::kernels::AdamStep st{0.999f, 0.01f, 0.9f, 0.999f, 0.05f, 1.3f, 1e-8f};
    auto w1 = w0.clone(), m1 = m0.clone(), v1 = v0.clone();
    auto w2 = w0.clone(), m2 = m0.clone(), v2 = v0.clone();
    ember::kernels::adam_update_generic(w1.data(), gr.data(), m1.data(), v1.data(), n, st);
    ember::kernels::adam_update(w2.data(), gr.data(), m2.data(), v2.data(), n, st);
    EXPECT_TRUE(ember::allclose(w1, w2, 1e-6, 1e-7)) << "n = " << n;
    EXPECT_TRUE(ember::allclose(m1, m2, 1e-6, 1e-7)) << "n = " << n;
    EXPECT_TRUE(ember::allclose(v1, v2, 1e-6, 1e-7)) << "n = " << n;
    EXPECT_FALSE(ember::equal(w1, w0));
  }
}
