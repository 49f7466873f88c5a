// Modules: parameter names and counts, PyTorch-default initialisation, train/eval, a small
// network trained end to end with AdamW, and weight averaging of state dicts (model soups):
// hand-worked means, weights, names matched in any order, a result that owns its storage, a
// soup of two modules loaded back, and errors that name the dict, the entry and the shapes.
#include <cmath>

#include "../test_util.hpp"
#include "train_helpers.hpp"

using ember::Tensor;
namespace nn = ember::nn;

namespace {
struct Block : nn::Module<float> {
  std::shared_ptr<nn::Linear<float>> wq, wk;
  std::shared_ptr<nn::LayerNorm<float>> norm;
  explicit Block(ember::Generator& g) {
    wq = this->register_module("wq", std::make_shared<nn::Linear<float>>(8, 8, true, g));
    wk = this->register_module("wk", std::make_shared<nn::Linear<float>>(8, 8, false, g));
    norm = this->register_module("norm", std::make_shared<nn::LayerNorm<float>>(8));
  }
};
struct Net : nn::Module<float> {
  std::shared_ptr<nn::Embedding<float>> emb;
  std::vector<std::shared_ptr<Block>> layers;
  explicit Net(ember::Generator& g) {
    emb = this->register_module("emb", std::make_shared<nn::Embedding<float>>(10, 8, g));
    for (int i = 0; i < 2; ++i) {
      layers.push_back(
          this->register_module("layer" + std::to_string(i), std::make_shared<Block>(g)));
    }
  }
};
}  // namespace

TEST(Module, HierarchicalNamesAndCounts) {
  ember::Generator g(1);
  Net net(g);
  std::vector<std::string> names;
  for (auto& [name, p] : net.named_parameters()) names.push_back(name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"emb.weight", "layer0.wq.weight", "layer0.wq.bias",
                                      "layer0.wk.weight", "layer0.norm.weight", "layer0.norm.bias",
                                      "layer1.wq.weight", "layer1.wq.bias", "layer1.wk.weight",
                                      "layer1.norm.weight", "layer1.norm.bias"}));
  EXPECT_EQ(net.parameter_count(), 80 + 2 * (64 + 8 + 64 + 8 + 8));
  EXPECT_EQ(net.parameters().size(), 11u);
}

TEST(Module, RegistrationErrors) {
  struct Bad : nn::Module<float> {
    void add(const std::string& n) { this->register_parameter(n, ember::zeros({1})); }
  } bad;
  bad.add("w");
  EXPECT_EMBER_ERROR(bad.add("w"), "Module: duplicate name 'w'");
  EXPECT_EMBER_ERROR(bad.add("a.b"), "Module: invalid name 'a.b'");
  EXPECT_EMBER_ERROR(nn::Linear<float>(0, 3), "Linear: sizes must be positive");
}

TEST(Layers, LinearInitMatchesPytorchBoundsAndComputes) {
  ember::Generator g(2);
  nn::Linear<double> lin(100, 50, true, g);
  const double bound = 0.1;  // 1/sqrt(100)
  EXPECT_LE(ember::max(lin.weight().data()).item(), bound);
  EXPECT_GE(ember::min(lin.weight().data()).item(), -bound);
  EXPECT_NEAR(ember::var(lin.weight().data(), {}, 0).item(), bound * bound / 3, 2e-4);  // U(-b,b)
  ember::Var<double> x(ember::randn<double>({4, 100}, g));
  auto y = lin(x);
  EXPECT_EQ(y.shape(), (ember::Shape{4, 50}));
  auto ref = ember::matmul(x.data(), lin.weight().data().t()) + lin.bias().data();
  EXPECT_TRUE(ember::allclose(y.data(), ref, 1e-12, 1e-12));
}

TEST(Layers, EmbeddingInitAndLookup) {
  ember::Generator g(3);
  nn::Embedding<double> emb(1000, 20, g);
  EXPECT_NEAR(ember::mean(emb.weight().data()).item(), 0.0, 0.02);
  EXPECT_NEAR(ember::var(emb.weight().data()).item(), 1.0, 0.03);
  auto out = emb(Tensor<std::int64_t>{7, 7, 3});
  EXPECT_TRUE(ember::equal(out.data()[0], emb.weight().data()[7]));
}

TEST(Layers, SkipInitLeavesParametersAtZeroAndTheGeneratorUntouched) {
  const auto largest = [](const Tensor<float>& t) { return ember::max(ember::abs(t)).item(); };
  ember::Generator g(5), fresh(5);
  {
    nn::init::SkipInit skip;
    EXPECT_TRUE(nn::init::skipping());
    nn::Linear<float> lin(8, 4, true, g);
    nn::Embedding<float> emb(10, 3, g);
    nn::Conv1d<float> conv(3, 2, 2, g);
    nn::init::xavier_uniform_(lin.weight(), g);
    for (auto& [name, p] : lin.named_parameters()) EXPECT_EQ(largest(p.data()), 0.0f) << name;
    EXPECT_EQ(largest(emb.weight().data()), 0.0f);
    EXPECT_EQ(largest(conv.weight().data()), 0.0f);
    {
      nn::init::SkipInit nested;
    }
    EXPECT_TRUE(nn::init::skipping());  // the inner guard restored what it found
  }
  EXPECT_FALSE(nn::init::skipping());
  // Nothing was drawn: the next layer gets what a fresh generator gives.
  nn::Linear<float> a(8, 4, true, g), b(8, 4, true, fresh);
  EXPECT_TRUE(ember::equal(a.weight().data(), b.weight().data()));
  EXPECT_GT(largest(a.weight().data()), 0.0f);
}

TEST(Layers, DropoutFollowsTrainEval) {
  nn::Sequential<double> seq{std::make_shared<nn::Dropout<double>>(0.5, 1)};
  ember::Var<double> x(ember::ones<double>({1000}));
  auto t = seq(x);
  EXPECT_LT(ember::sum(t.data()).item(), 1200);  // about half dropped, rest doubled
  EXPECT_GT(ember::sum(t.data()).item(), 800);
  EXPECT_GT(ember::sum((t.data() == 0.0).to<double>()).item(), 400);
  seq.eval();
  EXPECT_FALSE(seq.is_training());
  EXPECT_TRUE(ember::equal(seq(x).data(), x.data()));
}

TEST(Layers, SequentialMlpTrainsWithAdamW) {
  // XOR as a 2-class problem: Linear → Tanh → Linear, cross-entropy, AdamW.
  ember::Generator g(4);
  nn::Sequential<float> mlp = train_helpers::xor_mlp(g);
  std::vector<std::string> names;
  for (auto& [n, p] : mlp.named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  EXPECT_LT(train_helpers::train_xor(mlp), 0.05f);
  ember::Var<float> x(Tensor<float>{{0, 0}, {0, 1}, {1, 0}, {1, 1}});
  EXPECT_EQ(values(ember::argmax(mlp(x).data(), 1)), (std::vector<std::int64_t>{0, 1, 1, 0}));
}

TEST(Module, StateDictRoundTripAndStrictLoad) {
  ember::Generator g(7), h(8);
  Net a(g), b(h);
  EXPECT_FALSE(ember::equal(a.emb->weight().data(), b.emb->weight().data()));
  b.load_state_dict(a.state_dict());
  for (std::size_t i = 0; i < a.parameters().size(); ++i) {
    EXPECT_TRUE(ember::equal(a.parameters()[i].data(), b.parameters()[i].data()));
  }
  // The copy is by value: changing a afterwards leaves b alone.
  a.emb->weight().data().fill_(5.0f);
  EXPECT_NE(b.emb->weight().data().at(0, 0), 5.0f);
  auto sd = a.state_dict();
  auto missing = sd;
  missing.pop_back();
  EXPECT_EMBER_ERROR(b.load_state_dict(missing), "missing parameter 'layer1.norm.bias'");
  auto extra = sd;
  extra.emplace_back("head.weight", ember::zeros({2}));
  EXPECT_EMBER_ERROR(b.load_state_dict(extra), "unexpected parameter 'head.weight'");
  auto wrong = sd;
  wrong[0].second = ember::zeros({3, 8});
  EXPECT_EMBER_ERROR(b.load_state_dict(wrong),
                     "parameter 'emb.weight' has shape [3,8], the module expects [10,8]");
  EXPECT_NE(b.emb->weight().data().at(0, 0), 0.0f);  // nothing changed on failure
}

// ---- average_state_dicts ----

namespace {
nn::StateDict<float> avg_dict(const std::vector<float>& w, const std::vector<float>& b) {
  return {{"fc.weight", ember::from_vector(w).reshape({2, 2})}, {"fc.bias", ember::from_vector(b)}};
}
}  // namespace

TEST(Averaging, UniformMeanHandWorked) {
  auto soup = nn::average_state_dicts<float>({avg_dict({1, 2, 3, 4}, {1, -1}), avg_dict({3, 2, 1, 0}, {0, 0}),
                                              avg_dict({2, 2, 2, 2}, {2, 4})});
  ASSERT_EQ(soup.size(), 2u);
  EXPECT_EQ(soup[0].first, "fc.weight");
  EXPECT_EQ(soup[0].second.shape(), (ember::Shape{2, 2}));
  EXPECT_EQ(soup[0].second.to_vector(), (std::vector<float>{2, 2, 2, 2}));
  EXPECT_EQ(soup[1].first, "fc.bias");
  EXPECT_EQ(soup[1].second.to_vector(), (std::vector<float>{1, 1}));
}

TEST(Averaging, WeightsAreNormalised) {
  // (1·a + 3·b) / 4, and weights that are all scaled alike give the same soup.
  auto a = avg_dict({0, 4, 8, -4}, {1, 0});
  auto b = avg_dict({4, 0, 0, 4}, {1, 8});
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
  auto a = avg_dict({1, 2, 3, 4}, {0, 2});
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
  auto a = avg_dict({1, 2, 3, 4}, {0, 0});
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
