// models/bow.hpp — fastText (Joulin et al. 2017): the mean of the embeddings of a text's tokens,
// CJK bigrams and hashed adjacent-token bigrams (EmbeddingBag), then one linear layer; or a
// weighted sum (naive-Bayes ratios, TF-IDF; see ModelConfig::weighting).
#pragma once

#include <ember/ember.hpp>
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "models/classifier.hpp"
#include "models/config.hpp"

namespace sentiment {

namespace nn = ember::nn;
using ember::Tensor;
using ember::Var;

class BowModel : public Classifier {
 public:
  BowModel(const ModelConfig& c, std::int64_t vocab, ember::Generator& g) {
    {
      nn::init::SkipInit skip;  // built at zero without drawing (17 M normals for a 2^18-bucket bag)
      bag_ = register_module("embedding", std::make_shared<nn::EmbeddingBag<float>>(
                                              vocab + c.buckets, c.dim,
                                              bag_is_weighted(c) ? ember::BagMode::Sum : ember::BagMode::Mean,
                                              g, /*sparse=*/true));
      fc_ = register_module("fc", std::make_shared<nn::Linear<float>>(c.dim, c.num_classes, true, g));
    }
    // fastText's initialisation, drawn once: inputs U(−1/dim, 1/dim), output zero.
    const double b = 1.0 / static_cast<double>(c.dim);
    nn::init::uniform_(bag_->weight(), -b, b, g);
    nn::init::constant_(fc_->weight(), 0.0);
    nn::init::constant_(fc_->bias(), 0.0);
  }
  bool padded_input() const override { return false; }
  Var<float> forward(const Batch& b) override {
    return (*fc_)((*bag_)(b.flat, b.offsets, b.weights));
  }

 private:
  std::shared_ptr<nn::EmbeddingBag<float>> bag_;
  std::shared_ptr<nn::Linear<float>> fc_;
};


namespace bow {

inline void defaults(ModelConfig&) {}

inline std::vector<std::pair<std::string, ember::Shape>> shapes(const ModelConfig& c, std::int64_t vocab) {
  return {{"embedding.weight", {vocab + c.buckets, c.dim}},
          {"fc.weight", {c.num_classes, c.dim}},
          {"fc.bias", {c.num_classes}}};
}

}  // namespace bow

}  // namespace sentiment
