// Modules: parameter names and counts, PyTorch-default initialisation, train/eval, and a small
// network trained end to end with AdamW.
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
