// Small training runs shared by the layer, transformer and mixed-precision tests.
#pragma once

#include <memory>
#include <vector>

#include <ember/ember.hpp>

namespace train_helpers {

/// XOR as a 2-class problem: Linear(2, 16) → Tanh → Linear(16, 2), cross-entropy, AdamW
/// (lr 0.05), 300 steps from seed 4. Returns the last loss; `mlp` is left trained.
inline float train_xor(ember::nn::Sequential<float>& mlp) {
  ember::optim::AdamW<float> opt(mlp.parameters(), {.lr = 0.05, .weight_decay = 0.0});
  ember::Var<float> x(ember::Tensor<float>{{0, 0}, {0, 1}, {1, 0}, {1, 1}});
  const ember::Tensor<std::int64_t> y{0, 1, 1, 0};
  float loss = 0;
  for (int step = 0; step < 300; ++step) {
    auto l = ember::cross_entropy(mlp(x), y);
    loss = l.item();
    opt.zero_grad();
    l.backward();
    opt.step();
  }
  return loss;
}

inline ember::nn::Sequential<float> xor_mlp(ember::Generator& g) {
  namespace nn = ember::nn;
  return nn::Sequential<float>{std::make_shared<nn::Linear<float>>(2, 16, true, g),
                               std::make_shared<nn::Tanh<float>>(),
                               std::make_shared<nn::Linear<float>>(16, 2, true, g)};
}

/// Classifies 8 token sequences (with padding) from the first position's output: a 1-layer
/// encoder (d 16, 2 heads, ffn 32) with learned embeddings, AdamW 3e-3, 200 steps from seed 6,
/// under the calling thread's matmul precision. Returns the loss of every step.
inline std::vector<float> train_tiny_transformer() {
  namespace nn = ember::nn;
  ember::Generator g(6);
  const std::int64_t V = 12, D = 16, Tn = 6;
  nn::Embedding<float> emb(V, D, g);
  nn::TransformerOptions o{.d_model = D, .heads = 2, .ffn = 32, .dropout = 0.0};
  nn::TransformerEncoder<float> enc(1, o, g);
  nn::Linear<float> head(D, 2, true, g);
  std::vector<ember::Var<float>> params = enc.parameters();
  for (auto* m : std::initializer_list<nn::Module<float>*>{&emb, &head})
    for (auto& p : m->parameters()) params.push_back(p);
  ember::optim::AdamW<float> opt(params, {.lr = 3e-3, .weight_decay = 0.0});
  ember::Tensor<std::int64_t> ids = ember::randint<std::int64_t>(1, V, {8, Tn}, g);
  ember::Tensor<bool> pad = ember::zeros<bool>({8, Tn});
  for (std::int64_t b = 0; b < 8; ++b) {  // sequence b has length 3 + b % 4; id 0 is padding
    for (std::int64_t t = 3 + b % 4; t < Tn; ++t) {
      pad.at(b, t) = true;
      ids.at(b, t) = 0;
    }
  }
  const ember::Tensor<std::int64_t> labels{0, 1, 1, 0, 1, 0, 0, 1};
  std::vector<float> curve;
  for (int step = 0; step < 200; ++step) {
    auto h = enc(emb(ids), pad);                                          // (8, T, D)
    auto logits = head(ember::reshape(ember::narrow(h, 1, 0, 1), {8, D}));  // first position
    auto loss = ember::cross_entropy(logits, labels);
    curve.push_back(loss.item());
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  return curve;
}

}  // namespace train_helpers
