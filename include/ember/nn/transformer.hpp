// ember/nn/transformer.hpp — the pre-norm Transformer encoder layer and a stack of them.
// Layer: nn. Pre-norm (Xiong et al. 2020; GPT-2, most modern encoders): each sub-layer sees
// a normalised input and adds to the residual stream, which trains stably without warmup
// tricks and needs a final LayerNorm after the stack:
//   x = x + dropout(attn(norm1(x), mask))
//   x = x + dropout(linear2(dropout(act(linear1(norm2(x))))))
#pragma once

#include <memory>

#include "ember/nn/attention.hpp"

namespace ember::nn {

/// The feed-forward activation.
enum class Activation { ReLU, GELU };

struct TransformerOptions {
  std::int64_t d_model = 128;
  std::int64_t heads = 4;
  std::int64_t ffn = 512;
  double dropout = 0.1;
  Activation activation = Activation::GELU;  // BERT's; PyTorch's layer defaults to ReLU
};

/// One pre-norm encoder layer: children "norm1", "attn", "norm2", "linear1", "linear2".
template <FloatingScalar T = float>
class TransformerEncoderLayer : public Module<T> {
 public:
  explicit TransformerEncoderLayer(const TransformerOptions& o,
                                   Generator& gen = default_generator())
      : act_(o.activation) {
    norm1_ = this->register_module("norm1", std::make_shared<LayerNorm<T>>(o.d_model));
    attn_ = this->register_module(
        "attn", std::make_shared<MultiHeadSelfAttention<T>>(o.d_model, o.heads, o.dropout, gen));
    norm2_ = this->register_module("norm2", std::make_shared<LayerNorm<T>>(o.d_model));
    linear1_ =
        this->register_module("linear1", std::make_shared<Linear<T>>(o.d_model, o.ffn, true, gen));
    linear2_ =
        this->register_module("linear2", std::make_shared<Linear<T>>(o.ffn, o.d_model, true, gen));
    for (const char* name : {"drop_attn", "drop_hidden", "drop_ffn"}) {
      drops_.push_back(
          this->register_module(name, std::make_shared<Dropout<T>>(o.dropout, gen.next_u64())));
    }
  }
  /// x (B, T, d_model), padding_mask (B, T) true at padding (or empty) → (B, T, d_model).
  // The composed ops, not linear_gelu / linear_residual (the GEMM epilogues): with them the
  // step measured slower (bench_autograd encoder/step, 1 thread: 42.2 → 43.8–44.3 ms; ffn/fused
  // 22.3–23.2 against ffn/composed 21.3–22.1 ms). GELU is compute-bound here (6.7 GB/s,
  // bench_dispatch), so fusing it saves no time, and the epilogue's per-row calls cost some.
  Var<T> forward(const Var<T>& x, const Tensor<bool>& padding_mask = Tensor<bool>()) {
    Var<T> h = x + (*drops_[0])(attn_->forward((*norm1_)(x), padding_mask));
    Var<T> f = (*linear1_)((*norm2_)(h));
    f = act_ == Activation::GELU ? gelu(f) : relu(f);
    return h + (*drops_[2])((*linear2_)((*drops_[1])(f)));
  }
  Var<T> operator()(const Var<T>& x, const Tensor<bool>& padding_mask = Tensor<bool>()) {
    return forward(x, padding_mask);
  }

 private:
  Activation act_;
  std::shared_ptr<LayerNorm<T>> norm1_, norm2_;
  std::shared_ptr<MultiHeadSelfAttention<T>> attn_;
  std::shared_ptr<Linear<T>> linear1_, linear2_;
  std::vector<std::shared_ptr<Dropout<T>>> drops_;
};

/// `num_layers` pre-norm layers ("layers.0", "layers.1", …) and the final LayerNorm ("norm").
template <FloatingScalar T = float>
class TransformerEncoder : public Module<T> {
 public:
  TransformerEncoder(std::int64_t num_layers, const TransformerOptions& o,
                     Generator& gen = default_generator()) {
    EMBER_CHECK(num_layers >= 1, "TransformerEncoder", "needs at least one layer, got ",
                num_layers);
    layers_ = this->register_module("layers",
                                    std::make_shared<ModuleList<TransformerEncoderLayer<T>, T>>());
    for (std::int64_t i = 0; i < num_layers; ++i) {
      layers_->push_back(std::make_shared<TransformerEncoderLayer<T>>(o, gen));
    }
    norm_ = this->register_module("norm", std::make_shared<LayerNorm<T>>(o.d_model));
  }
  Var<T> forward(const Var<T>& x, const Tensor<bool>& padding_mask = Tensor<bool>()) {
    Var<T> h = x;
    for (const auto& layer : *layers_) h = layer->forward(h, padding_mask);
    return (*norm_)(h);
  }
  Var<T> operator()(const Var<T>& x, const Tensor<bool>& padding_mask = Tensor<bool>()) {
    return forward(x, padding_mask);
  }

 private:
  std::shared_ptr<ModuleList<TransformerEncoderLayer<T>, T>> layers_;
  std::shared_ptr<LayerNorm<T>> norm_;
};

}  // namespace ember::nn
