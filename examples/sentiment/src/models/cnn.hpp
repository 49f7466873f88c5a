// models/cnn.hpp — TextCNN (Kim 2014): token embeddings, Conv1d of widths 2/3/4, ReLU, max over
// the real (unpadded) positions, concatenation, dropout, one linear layer.
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

class CnnModel : public Classifier {
 public:
  CnnModel(const ModelConfig& c, std::int64_t vocab, ember::Generator& g)
      : widths_(c.widths), pairs_(c.tokenizer.cjk_bigrams) {
    {
      nn::init::SkipInit skip;  // built at zero without drawing; drawn once below at its own std
      emb_ = register_module("embedding",
                             std::make_shared<nn::Embedding<float>>(vocab, c.dim, g, /*sparse=*/true));
    }
    nn::init::normal_(emb_->weight(), 0.0, c.embedding_std, g);
    for (std::size_t i = 0; i < widths_.size(); ++i) {
      convs_.push_back(register_module(
          "conv" + std::to_string(widths_[i]),
          std::make_shared<nn::Conv1d<float>>(c.dim, c.filters, widths_[i], g)));
    }
    drop_ = register_module("dropout", std::make_shared<nn::Dropout<float>>(c.dropout, g.next_u64()));
    fc_ = register_module("fc", std::make_shared<nn::Linear<float>>(
                                    c.filters * static_cast<std::int64_t>(widths_.size()),
                                    c.num_classes, true, g));
  }
  std::int64_t min_length() const override {
    return *std::max_element(widths_.begin(), widths_.end()) * (pairs_ ? 2 : 1);
  }
  Var<float> forward(const Batch& b) override {
    const std::int64_t B = b.ids.size(0), L = b.ids.size(1) / (pairs_ ? 2 : 1);
    Var<float> e = (*emb_)(b.ids);  // (B, L or 2L, dim)
    if (pairs_) e = ember::sum(ember::reshape(e, {B, L, 2, e.size(2)}), {2});  // token + bigram
    Var<float> x = ember::transpose(e, 1, 2);  // (B, dim, L)
    std::vector<Var<float>> pooled;
    for (std::size_t i = 0; i < convs_.size(); ++i) {
      const std::int64_t K = widths_[i], Lout = L - K + 1;
      Var<float> h = ember::relu((*convs_[i])(x));  // (B, filters, Lout)
      // Window l covers tokens [l, l + K): it is real if it starts inside the text (a text
      // shorter than K keeps its first, partly padded window). Padded windows become 0, which
      // cannot win a max over ReLU outputs unless everything is 0.
      Tensor<bool> pad = ember::zeros<bool>({B, 1, Lout});
      for (std::int64_t r = 0; r < B; ++r) {
        const std::int64_t len = b.lengths[static_cast<std::size_t>(r)] / (pairs_ ? 2 : 1);
        const std::int64_t last = std::max<std::int64_t>(len - K, 0);
        for (std::int64_t l = last + 1; l < Lout; ++l) pad.data()[r * Lout + l] = true;
      }
      pooled.push_back(ember::max(ember::masked_fill(h, pad, 0.0f), {2}));  // (B, filters)
    }
    return (*fc_)((*drop_)(ember::cat(pooled, 1)));
  }

 private:
  std::vector<std::int64_t> widths_;
  bool pairs_;  // ids come as (token, CJK bigram) pairs; their embeddings are summed
  std::shared_ptr<nn::Embedding<float>> emb_;
  std::vector<std::shared_ptr<nn::Conv1d<float>>> convs_;
  std::shared_ptr<nn::Dropout<float>> drop_;
  std::shared_ptr<nn::Linear<float>> fc_;
};


namespace cnn {

inline void defaults(ModelConfig& c) {
  c.dim = 128;
  c.embedding_std = 0.1;
  c.buckets = 0;
  c.weighting = "mean";  // unused: the convolution reads the sequence
  // The convolution sees n-grams of its own: no negation marking. CJK bigram embeddings are
  // added at each position (characters alone carry little of a Chinese word's meaning).
  c.tokenizer = {.cjk_bigrams = true, .negation = false};
}

inline std::vector<std::pair<std::string, ember::Shape>> shapes(const ModelConfig& c, std::int64_t vocab) {
  std::vector<std::pair<std::string, ember::Shape>> out = {{"embedding.weight", {vocab, c.dim}}};
  for (std::int64_t w : c.widths) {
    out.push_back({"conv" + std::to_string(w) + ".weight", {c.filters, c.dim, w}});
    out.push_back({"conv" + std::to_string(w) + ".bias", {c.filters}});
  }
  out.push_back({"fc.weight", {c.num_classes, c.filters * static_cast<std::int64_t>(c.widths.size())}});
  out.push_back({"fc.bias", {c.num_classes}});
  return out;
}

}  // namespace cnn

}  // namespace sentiment
