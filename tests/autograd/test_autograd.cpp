// Autograd: every op against finite differences (gradcheck, in double), broadcasting and
// non-contiguous inputs, accumulation, the graph's lifetime, and NoGradGuard.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "grad_util.hpp"

using ember::Tensor;

// One entry per differentiable op: a test walks them all, so an op without a correct backward
// fails here.
void gradcheck_elementwise_and_reduce_ops() {
  ember::Generator g(1);
  struct OpCase {
    const char* name;
    std::function<V(const Inputs&)> f;
    Inputs in;
  };
  const std::vector<OpCase> cases = {
      {"add (broadcast)",
       [](const Inputs& v) { return v[0] + v[1]; },
       {leaf({2, 3}, g), leaf({3}, g)}},
      {"sub (broadcast)",
       [](const Inputs& v) { return v[0] - v[1]; },
       {leaf({2, 1}, g), leaf({1, 4}, g)}},
      {"mul (broadcast)",
       [](const Inputs& v) { return v[0] * v[1]; },
       {leaf({3, 1, 2}, g), leaf({4, 2}, g)}},
      {"div (broadcast)",
       [](const Inputs& v) { return v[0] / v[1]; },
       {leaf({2, 3}, g), leaf({3}, g, 0.5, 2.0)}},
      {"neg", [](const Inputs& v) { return -v[0]; }, {leaf({4}, g)}},
      {"exp", [](const Inputs& v) { return ember::exp(v[0]); }, {leaf({2, 2}, g)}},
      {"log", [](const Inputs& v) { return ember::log(v[0]); }, {leaf({5}, g, 0.2, 3.0)}},
      {"tanh", [](const Inputs& v) { return ember::tanh(v[0]); }, {leaf({3, 2}, g)}},
      {"sigmoid", [](const Inputs& v) { return ember::sigmoid(v[0]); }, {leaf({3, 2}, g)}},
      {"relu", [](const Inputs& v) { return ember::relu(v[0]); }, {leaf({6}, g)}},
      {"sum (axes)",
       [](const Inputs& v) {
         return ember::sum(v[0], {0, 2});
       },
       {leaf({2, 3, 4}, g)}},
      {"sum (keepdim)",
       [](const Inputs& v) { return ember::sum(v[0], {1}, true); },
       {leaf({2, 3}, g)}},
      {"mean", [](const Inputs& v) { return ember::mean(v[0], {-1}); }, {leaf({3, 5}, g)}},
      {"matmul 2-D",
       [](const Inputs& v) { return ember::matmul(v[0], v[1]); },
       {leaf({3, 4}, g), leaf({4, 2}, g)}},
      {"matmul batched broadcast",
       [](const Inputs& v) { return ember::matmul(v[0], v[1]); },
       {leaf({2, 1, 3, 4}, g), leaf({3, 4, 2}, g)}},
      {"matmul vector·matrix",
       [](const Inputs& v) { return ember::matmul(v[0], v[1]); },
       {leaf({4}, g), leaf({4, 3}, g)}},
      {"matmul matrix·vector",
       [](const Inputs& v) { return ember::matmul(v[0], v[1]); },
       {leaf({3, 4}, g), leaf({4}, g)}},
      {"matmul dot",
       [](const Inputs& v) { return ember::matmul(v[0], v[1]); },
       {leaf({5}, g), leaf({5}, g)}},
      {"reshape",
       [](const Inputs& v) {
         return ember::reshape(v[0], {3, -1}) * v[1];
       },
       {leaf({2, 6}, g), leaf({4}, g)}},
      {"transpose",
       [](const Inputs& v) { return ember::transpose(v[0], 0, 1) * v[1]; },
       {leaf({2, 3}, g), leaf({2}, g)}},
      {"abs", [](const Inputs& v) { return ember::abs(v[0]); }, {leaf({6}, g)}},
      {"square", [](const Inputs& v) { return ember::square(v[0]); }, {leaf({2, 3}, g)}},
      {"sqrt", [](const Inputs& v) { return ember::sqrt(v[0]); }, {leaf({5}, g, 0.3, 2.0)}},
      {"rsqrt", [](const Inputs& v) { return ember::rsqrt(v[0]); }, {leaf({5}, g, 0.3, 2.0)}},
      {"log1p", [](const Inputs& v) { return ember::log1p(v[0]); }, {leaf({5}, g, -0.5, 2.0)}},
      {"sin", [](const Inputs& v) { return ember::sin(v[0]); }, {leaf({4}, g, -3, 3)}},
      {"cos", [](const Inputs& v) { return ember::cos(v[0]); }, {leaf({4}, g, -3, 3)}},
      {"pow (scalar exponent)",
       [](const Inputs& v) { return ember::pow(v[0], 2.5); },
       {leaf({4}, g, 0.2, 2.0)}},
      {"pow (broadcast)",
       [](const Inputs& v) { return ember::pow(v[0], v[1]); },
       {leaf({2, 3}, g, 0.2, 2.0), leaf({3}, g, -1.5, 1.5)}},
      {"maximum (broadcast)",
       [](const Inputs& v) { return ember::maximum(v[0], v[1]); },
       {leaf({2, 3}, g), leaf({3}, g)}},
      {"minimum", [](const Inputs& v) { return ember::minimum(v[0], v[1]); },
       {leaf({4}, g), leaf({4}, g)}},
      {"clamp", [](const Inputs& v) { return ember::clamp(v[0], -0.5, 0.5); }, {leaf({8}, g)}},
      {"where (broadcast)",
       [](const Inputs& v) {
         return ember::where(Tensor<bool>{true, false, true}, v[0], v[1]);
       },
       {leaf({2, 3}, g), leaf({2, 1}, g)}},
      {"scalar on the left",
       [](const Inputs& v) { return 2.0 / (1.0 - 3.0 * v[0]) + (0.5 + v[0]); },
       {leaf({3}, g, 0.5, 1.0)}},
      {"prod (no zeros)",
       [](const Inputs& v) { return ember::prod(v[0], {1}); },
       {leaf({2, 4}, g, 0.5, 1.5)}},
      {"prod (with zeros)",
       [](const Inputs& v) { return ember::prod(v[0] * V(Tensor<double>{{0, 1, 1}, {0, 0, 1}})); },
       {leaf({2, 3}, g)}},
      {"max (axes)", [](const Inputs& v) { return ember::max(v[0], {0, 2}); },
       {leaf({2, 3, 4}, g)}},
      {"min (all)", [](const Inputs& v) { return ember::min(v[0]); }, {leaf({3, 4}, g)}},
      {"var", [](const Inputs& v) { return ember::var(v[0], {1}); }, {leaf({3, 5}, g)}},
      {"var (correction 0, keepdim)",
       [](const Inputs& v) { return ember::var(v[0], {0}, 0, true); },
       {leaf({4, 2}, g)}},
      {"std", [](const Inputs& v) { return ember::std(v[0]); }, {leaf({2, 3}, g)}},
      {"gather",
       [](const Inputs& v) {
         return ember::gather(v[0], 1, Tensor<std::int64_t>{{2, 0, 2}, {1, 1, 0}});
       },
       {leaf({2, 4}, g)}},
      {"gather axis 0",
       [](const Inputs& v) { return ember::gather(v[0], 0, Tensor<std::int64_t>{{1, 0, 1}}); },
       {leaf({2, 3}, g)}},
  };
  for (const auto& c : cases) expect_grad_ok(c.f, c.in, c.name);
}

TEST(Gradcheck, EveryOp) { gradcheck_elementwise_and_reduce_ops(); }

TEST(Gradcheck, NonContiguousInputs) {
  ember::Generator g(2);
  V base(ember::uniform<double>({4, 6}, -1, 1, g));
  V x(base.data().t(), true);                                             // [6,4] transposed view
  V y(base.data().slice(1, 0, 6, 2).clone(), true);                       // [4,3]
  V z(ember::uniform<double>({8, 3}, -1, 1, g).slice(0, 0, 8, 2), true);  // [4,3], row stride 6
  expect_grad_ok([](const Inputs& v) { return ember::matmul(v[0], v[1] * v[2]); }, {x, y, z},
                 "matmul on a transposed view and a row-strided leaf");
  expect_grad_ok([](const Inputs& v) { return ember::tanh(v[0] * v[1]); }, {y, z}, "strided leaf");
}

TEST(Gradcheck, DetectsAWrongGradient) {
  // A deliberately wrong backward must fail the check (the check can fail).
  struct WrongSquare : ember::Node<double> {
    Tensor<double> x;
    std::vector<Tensor<double>> backward(const Tensor<double>& dy) override {
      return {dy * x};
    }  // missing ×2
    const char* name() const override { return "wrong_square"; }
    void release_saved() override { x = Tensor<double>(); }
  };
  auto wrong = [](const Inputs& v) {
    Tensor<double> out = v[0].data() * v[0].data();
    if (!ember::detail::needs_graph<double>(v[0])) return V(out);
    auto n = std::make_shared<WrongSquare>();
    n->x = v[0].data();
    return ember::detail::attach<double>(out, n, {&v[0]});
  };
  ember::Generator g(3);
  auto r = ember::gradcheck<double>(wrong, {leaf({3}, g)});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("analytic"), std::string::npos);
}

TEST(Autograd, HandWorkedChain) {
  // y = sum((a·b + a)²) with a = [1, 2], b = [3, 4]: dy/da = 2(ab + a)(b + 1), dy/db = 2(ab + a)a.
  V a(Tensor<double>{1, 2}, true), b(Tensor<double>{3, 4}, true);
  V t = a * b + a;
  V y = ember::sum(t * t);
  EXPECT_EQ(y.item(), 16.0 + 100.0);
  y.backward();
  EXPECT_EQ(values(a.grad()), (std::vector<double>{2 * 4 * 4, 2 * 10 * 5}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{2 * 4 * 1, 2 * 10 * 2}));
}

TEST(Autograd, GradientsAccumulateAndZeroGrad) {
  V x(Tensor<double>{1, 2, 3}, true);
  ember::sum(x * x).backward();
  ember::sum(x * x).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{4, 8, 12}));  // 2x, twice
  x.zero_grad();
  EXPECT_FALSE(x.has_grad());
  EXPECT_EMBER_ERROR(x.grad(), "grad: no gradient");
  ember::sum(x).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1, 1, 1}));
}

TEST(Autograd, SharedSubexpressionSumsBothPaths) {
  V x(Tensor<double>{3}, true);
  V y = x * x;      // used twice below
  V z = y + y * x;  // x² + x³ → dz/dx = 2x + 3x² = 33
  z.backward();
  EXPECT_EQ(x.grad().item(), 33.0);
}

// A graph of ~150 Vars in which one leaf feeds every step (the engine's index grows past its
// first table; every path into x is summed): s = x + Σ_{k<50} x·x, so ds/dx = 1 + 100x.
TEST(Autograd, LongGraphWithOneLeafEverywhere) {
  ember::Var<double> x(ember::from_vector<double>({0.5, -2.0, 3.0}, {3}), true);
  ember::Var<double> s = x;
  for (int k = 0; k < 50; ++k) s = s + x * x;
  ember::sum(s).backward();
  const Tensor<double>& g = x.grad();
  EXPECT_DOUBLE_EQ(g.at(0), 51.0);
  EXPECT_DOUBLE_EQ(g.at(1), -199.0);
  EXPECT_DOUBLE_EQ(g.at(2), 301.0);
}

// An op with more inputs than a node keeps inline (cat of 40 Vars, some without grad).
TEST(Autograd, ManyInputOpGivesEachInputItsGradient) {
  std::vector<ember::Var<double>> xs;
  xs.reserve(40);
  for (int k = 0; k < 40; ++k) {
    xs.emplace_back(ember::from_vector<double>({1.0 * k, 2.0}, {2}), k % 3 != 0);
  }
  const ember::Var<double> w(ember::arange<double>(0, 80), false);
  ember::sum(ember::cat(xs, 0) * w).backward();
  for (int k = 0; k < 40; ++k) {
    if (k % 3 == 0) {
      EXPECT_FALSE(xs[static_cast<std::size_t>(k)].has_grad());
      continue;
    }
    const Tensor<double>& g = xs[static_cast<std::size_t>(k)].grad();
    EXPECT_DOUBLE_EQ(g.at(0), 2.0 * k);
    EXPECT_DOUBLE_EQ(g.at(1), 2.0 * k + 1);
  }
}

TEST(Autograd, SecondBackwardThroughFreedGraphRaises) {
  V x(Tensor<double>{1, 2}, true);
  V y = ember::sum(ember::exp(x));
  y.backward();
  EXPECT_EMBER_ERROR(y.backward(),
                     "backward: the graph through 'sum' was freed by an earlier backward()");
  V x2(Tensor<double>{1, 2}, true);
  V y2 = ember::sum(ember::exp(x2));
  y2.backward(/*retain_graph=*/true);
  y2.backward();
  EXPECT_NEAR(x2.grad().at(1), 2 * std::exp(2.0), 1e-12);
}

TEST(Autograd, BackwardErrors) {
  V x(Tensor<double>{1, 2}, true);
  V y = x * x;
  EXPECT_EMBER_ERROR(y.backward(),
                     "backward: an implicit gradient needs a one-element output, got shape [2]");
  EXPECT_EMBER_ERROR(y.backward(Tensor<double>{1, 2, 3}),
                     "backward: gradient of shape [3] for an output of shape [2]");
  V c(Tensor<double>{1, 2});
  EXPECT_EMBER_ERROR(ember::sum(c).backward(), "backward: this Var does not require grad");
  EXPECT_EMBER_ERROR(y.set_requires_grad(false), "set_requires_grad: only leaves");
  y.backward(Tensor<double>{1, 1});
  EXPECT_EQ(values(x.grad()), (std::vector<double>{2, 4}));
}

TEST(Autograd, NoGradGuardBuildsNoGraph) {
  V x(Tensor<double>{1, 2}, true);
  {
    ember::NoGradGuard no_grad;
    EXPECT_FALSE(ember::grad_enabled());
    V y = x * x;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_TRUE(y.is_leaf());
    EXPECT_EQ(y.grad_fn(), nullptr);
  }
  EXPECT_TRUE(ember::grad_enabled());
  V z = x * x;
  EXPECT_TRUE(z.requires_grad());
  EXPECT_STREQ(z.grad_fn()->name(), "mul");
}

TEST(Autograd, DetachCutsTheGraph) {
  V x(Tensor<double>{2}, true);
  V d = (x * x).detach();
  EXPECT_TRUE(d.is_leaf());
  EXPECT_FALSE(d.requires_grad());
  V y = x * d;  // d is a constant 4: dy/dx = 4
  y.backward();
  EXPECT_EQ(x.grad().item(), 4.0);
}

TEST(Autograd, GraphIsFreedWhenResultsGo) {
  std::weak_ptr<ember::Node<double>> node;
  V x(Tensor<double>{1, 2}, true);
  {
    V y = ember::exp(x);
    node = y.grad_fn();
    EXPECT_FALSE(node.expired());
  }
  EXPECT_TRUE(node.expired());  // nothing else held the node
}

TEST(Autograd, TwoLayerMlpLearnsXor) {
  // 2 → 8 (tanh) → 1 (sigmoid), plain gradient descent on the mean squared error.
  ember::Generator g(42);
  V x(Tensor<double>{{0, 0}, {0, 1}, {1, 0}, {1, 1}});
  Tensor<double> target{{0}, {1}, {1}, {0}};
  V w1(ember::uniform<double>({2, 8}, -1, 1, g), true), b1(ember::zeros<double>({8}), true);
  V w2(ember::uniform<double>({8, 1}, -1, 1, g), true), b2(ember::zeros<double>({1}), true);
  double loss = 1;
  for (int step = 0; step < 2000; ++step) {
    V h = ember::tanh(ember::matmul(x, w1) + b1);
    V p = ember::sigmoid(ember::matmul(h, w2) + b2);
    V d = p - V(target);
    V l = ember::mean(d * d);
    loss = l.item();
    for (V* w : {&w1, &b1, &w2, &b2}) w->zero_grad();
    l.backward();
    ember::NoGradGuard no_grad;
    for (V* w : {&w1, &b1, &w2, &b2}) ember::sub_(w->data(), w->grad() * 2.0);
  }
  EXPECT_LT(loss, 0.01);
  V h = ember::tanh(ember::matmul(x, w1) + b1);
  V p = ember::sigmoid(ember::matmul(h, w2) + b2);
  EXPECT_LT(p.data().at(0, 0), 0.2);
  EXPECT_GT(p.data().at(1, 0), 0.8);
  EXPECT_GT(p.data().at(2, 0), 0.8);
  EXPECT_LT(p.data().at(3, 0), 0.2);
}

TEST(Autograd, ExtremaShareTiesAndProdIsExactAtZero) {
  // max over [1, 3, 3]: the two maxima split the gradient (torch.amax's rule).
  V x(Tensor<double>{1, 3, 3}, true);
  ember::max(x).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 0.5, 0.5}));
  // maximum(a, b) with a tie at the middle element: half to each side.
  V a(Tensor<double>{1, 2, 5}, true), b(Tensor<double>{4, 2, 0}, true);
  ember::sum(ember::maximum(a, b)).backward();
  EXPECT_EQ(values(a.grad()), (std::vector<double>{0, 0.5, 1}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{1, 0.5, 0}));
  // prod of [2, 0, 3]: d/dx = [0, 6, 0] (the product of the others), no 0/0.
  V p(Tensor<double>{2, 0, 3}, true);
  ember::prod(p).backward();
  EXPECT_EQ(values(p.grad()), (std::vector<double>{0, 6, 0}));
  // Two zeros: every partial derivative is 0.
  V q(Tensor<double>{0, 4, 0}, true);
  ember::prod(q).backward();
  EXPECT_EQ(values(q.grad()), (std::vector<double>{0, 0, 0}));
  // clamp passes the gradient at the bounds themselves (as PyTorch), not outside.
  V c(Tensor<double>{-2, -1, 0, 1, 2}, true);
  ember::sum(ember::clamp(c, -1.0, 1.0)).backward();
  EXPECT_EQ(values(c.grad()), (std::vector<double>{0, 1, 1, 1, 0}));
  // abs has gradient 0 at 0.
  V z(Tensor<double>{-2, 0, 3}, true);
  ember::sum(ember::abs(z)).backward();
  EXPECT_EQ(values(z.grad()), (std::vector<double>{-1, 0, 1}));
}

// The one list: every op struct under include/ember/autograd (the literal its name() returns)
// must be exercised by one of the gradcheck functions, so an op added without a checked backward
// fails here, loudly and by name.
TEST(Gradcheck, EveryDifferentiableOpIsChecked) {
  covered_ops().clear();
  gradcheck_elementwise_and_reduce_ops();
  gradcheck_nn_ops();
  gradcheck_shape_and_index_ops();
  std::set<std::string> declared;
  const std::regex literal("\"([a-z_0-9]+)\"");
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(EMBER_SOURCE_DIR "/include/ember/autograd")) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      if (line.find("name() const override") == std::string::npos) continue;
      for (std::sregex_iterator it(line.begin(), line.end(), literal), end; it != end; ++it)
        declared.insert((*it)[1]);
    }
  }
  EXPECT_GE(declared.size(), 45u) << "the op structs were not found under " EMBER_SOURCE_DIR;
  for (const auto& name : declared)
    EXPECT_TRUE(covered_ops().count(name)) << "op '" << name << "' has no gradcheck entry";
}
