// models/transformer.hpp — a BERT-style encoder (Devlin et al. 2019) over SentencePiece ids:
// token + learned position embeddings, dropout, N pre-norm encoder layers (ember's
// TransformerEncoder, with its final LayerNorm), then
//   - for classification: the [CLS] vector (or the mean over the real positions), dropout,
//     one linear layer;
//   - for masked-language-model pretraining: BERT's head on the picked positions — dense,
//     GELU, LayerNorm, then scores against the token embedding itself (weights tied) plus a
//     bias per token.
// Weights start as BERT's: N(0, 0.02) for embeddings and projections, zero biases.
#pragma once

#include <ember/ember.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "models/classifier.hpp"
#include "models/config.hpp"

namespace sentiment {

class TransformerModel : public Classifier {
 public:
  TransformerModel(const ModelConfig& c, std::int64_t vocab, ember::Generator& g)
      : mean_pool_(c.pooling == "mean"), layers_(c.layers) {
    mlm_bias_ = register_parameter("mlm_bias", ember::zeros<float>({vocab}));
    tok_ = register_module("embedding", std::make_shared<nn::Embedding<float>>(vocab, c.dim, g));
    pos_ = register_module("position", std::make_shared<nn::Embedding<float>>(c.max_len, c.dim, g));
    enc_ = register_module("encoder", std::make_shared<nn::TransformerEncoder<float>>(
                                          c.layers,
                                          nn::TransformerOptions{.d_model = c.dim,
                                                                 .heads = c.heads,
                                                                 .ffn = c.ffn,
                                                                 .dropout = c.dropout,
                                                                 .activation = nn::Activation::GELU},
                                          g));
    mlm_dense_ = register_module("mlm_dense", std::make_shared<nn::Linear<float>>(c.dim, c.dim, true, g));
    mlm_norm_ = register_module("mlm_norm", std::make_shared<nn::LayerNorm<float>>(c.dim));
    drop_ = register_module("dropout", std::make_shared<nn::Dropout<float>>(c.dropout, g.next_u64()));
    fc_ = register_module("fc", std::make_shared<nn::Linear<float>>(c.dim, c.num_classes, true, g));
    // BERT's initialisation: every weight matrix N(0, 0.02), biases 0, LayerNorms 1 and 0.
    for (auto& [name, p] : named_parameters()) {
      if (p.dim() == 2) {
        nn::init::normal_(p, 0.0, 0.02, g);
      } else if (name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0) {
        nn::init::constant_(p, 0.0);
      }
    }
  }

  /// Fine-tuning's parameter groups. Layer-wise learning-rate decay (ELECTRA, Clark et al.
  /// 2020): the classifier, the final norm and the MLM head at the full rate, encoder layer i
  /// (0-based, of L) at layer_decay^(L − i), the embeddings at layer_decay^(L + 1). No weight
  /// decay on biases and norms (BERT's recipe): every 1-D parameter.
  std::vector<ember::optim::ParamScale> param_scales(double layer_decay) const override {
    const std::string layer_prefix = "encoder.layers.";
    std::vector<ember::optim::ParamScale> out;
    for (auto& [name, p] : named_parameters()) {
      std::int64_t depth = layers_ + 1;  // above the encoder layers
      if (name.rfind("embedding.", 0) == 0 || name.rfind("position.", 0) == 0) {
        depth = 0;
      } else if (name.rfind(layer_prefix, 0) == 0) {
        depth = 1 + std::stoll(name.substr(layer_prefix.size(), name.find('.', layer_prefix.size()) - layer_prefix.size()));
      }
      out.push_back({std::pow(layer_decay, static_cast<double>(layers_ + 1 - depth)), p.dim() == 1 ? 0.0 : 1.0});
    }
    return out;
  }

  /// The encoder's output (B, L, dim) for ids (B, L) and the padding mask (B, L).
  Var<float> encode(const Tensor<std::int64_t>& ids, const Tensor<bool>& padding_mask) {
    const std::int64_t L = ids.size(1);
    if (L > pos_->weight().size(0)) {
      throw std::runtime_error("transformer: a batch of length " + std::to_string(L) + " is longer than the model's " +
                               std::to_string(pos_->weight().size(0)) + " positions");
    }
    Var<float> x = (*tok_)(ids) + (*pos_)(ember::arange<std::int64_t>(0, static_cast<double>(L), 1));
    return (*enc_)((*drop_)(x), padding_mask);
  }

  Var<float> forward(const Batch& b) override {
    const std::int64_t B = b.ids.size(0);
    Tensor<bool> pad = padding_mask(b);
    Var<float> h = encode(b.ids, pad);
    Var<float> pooled = mean_pool_ ? ember::masked_mean(h, pad)
                                   : ember::reshape(ember::narrow(h, 1, 0, 1), {B, h.size(2)});
    return (*fc_)((*drop_)(pooled));
  }

  /// MLM scores (M, vocab) of the rows `positions` (flat indices b·L + t) of h (B, L, dim).
  Var<float> mlm_logits(const Var<float>& h, const Tensor<std::int64_t>& positions) {
    Var<float> rows = ember::index_select(ember::reshape(h, {h.size(0) * h.size(1), h.size(2)}), 0, positions);
    Var<float> z = (*mlm_norm_)(ember::gelu((*mlm_dense_)(rows)));
    return ember::linear(z, tok_->weight(), mlm_bias_);
  }

  /// True at the padding of each row (past its length).
  static Tensor<bool> padding_mask(const Batch& b) {
    const std::int64_t B = b.ids.size(0), L = b.ids.size(1);
    Tensor<bool> pad = ember::zeros<bool>({B, L});
    for (std::int64_t r = 0; r < B; ++r) {
      for (std::int64_t t = b.lengths[static_cast<std::size_t>(r)]; t < L; ++t) pad.data()[r * L + t] = true;
    }
    return pad;
  }

 private:
  bool mean_pool_;
  std::int64_t layers_;
  Var<float> mlm_bias_;
  std::shared_ptr<nn::Embedding<float>> tok_, pos_;
  std::shared_ptr<nn::TransformerEncoder<float>> enc_;
  std::shared_ptr<nn::Linear<float>> mlm_dense_, fc_;
  std::shared_ptr<nn::LayerNorm<float>> mlm_norm_;
  std::shared_ptr<nn::Dropout<float>> drop_;
};

namespace transformer {

/// A small BERT: d 256, 4 layers of 4 heads, ffn 1024, 128 positions (issue 14's reference
/// shape), dropout 0.1, [CLS] pooling.
inline void defaults(ModelConfig& c) {
  c.dim = 256;
  c.layers = 4;
  c.heads = 4;
  c.ffn = 1024;
  c.max_len = 128;
  c.dropout = 0.1;
  c.buckets = 0;
  c.weighting = "mean";
  c.embedding_std = 0.02;
  c.pooling = "cls";
}

/// The heads split the width evenly.
inline void check(const ModelConfig& c, const std::string& what) {
  if (c.dim % c.heads != 0) {
    throw std::runtime_error(what + ": dim " + std::to_string(c.dim) + " does not divide into " + std::to_string(c.heads) +
                             " heads");
  }
}

inline std::vector<std::pair<std::string, ember::Shape>> shapes(const ModelConfig& c, std::int64_t vocab) {
  const std::int64_t D = c.dim, F = c.ffn;
  std::vector<std::pair<std::string, ember::Shape>> out = {
      {"mlm_bias", {vocab}}, {"embedding.weight", {vocab, D}}, {"position.weight", {c.max_len, D}}};
  for (std::int64_t l = 0; l < c.layers; ++l) {
    const std::string p = "encoder.layers." + std::to_string(l) + ".";
    out.push_back({p + "norm1.weight", {D}});
    out.push_back({p + "norm1.bias", {D}});
    for (const char* w : {"wq", "wk", "wv", "wo"}) {
      out.push_back({p + "attn." + w + ".weight", {D, D}});
      out.push_back({p + "attn." + w + ".bias", {D}});
    }
    out.push_back({p + "norm2.weight", {D}});
    out.push_back({p + "norm2.bias", {D}});
    out.push_back({p + "linear1.weight", {F, D}});
    out.push_back({p + "linear1.bias", {F}});
    out.push_back({p + "linear2.weight", {D, F}});
    out.push_back({p + "linear2.bias", {D}});
  }
  out.push_back({"encoder.norm.weight", {D}});
  out.push_back({"encoder.norm.bias", {D}});
  out.push_back({"mlm_dense.weight", {D, D}});
  out.push_back({"mlm_dense.bias", {D}});
  out.push_back({"mlm_norm.weight", {D}});
  out.push_back({"mlm_norm.bias", {D}});
  out.push_back({"fc.weight", {c.num_classes, D}});
  out.push_back({"fc.bias", {c.num_classes}});
  return out;
}

}  // namespace transformer

}  // namespace sentiment
