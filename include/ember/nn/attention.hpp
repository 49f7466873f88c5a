// ember/nn/attention.hpp — multi-head self-attention with a padding mask.
// Layer: nn. Shapes: B batch, T time, D model width, H heads, dh = D / H per head.
//   q|k|v = x·[Wq; Wk; Wv]ᵀ + [bq; bk; bv]               (B, T, 3·D), one GEMM; head h of q
//                                                        is columns h·dh… of the first block
//   ctx = scaled_dot_product_attention_qkv(q|k|v)         (B, T, D): per head
//         softmax(q_h·k_hᵀ / √dh over the unpadded keys), dropout, ·v_h — one fused op
//         (autograd/ops/attention.hpp), no per-head copies
//   out = ctx·Woᵀ + bo
// A sequence that is all padding gets uniform weights instead of NaN (PyTorch gives NaN there).
// Initialisation as torch.nn.MultiheadAttention: Xavier-uniform q/k/v weights, zero biases.
#pragma once

#include <cmath>
#include <limits>
#include <memory>

#include "ember/autograd/ops/attention.hpp"
#include "ember/nn/init.hpp"
#include "ember/nn/layers.hpp"

namespace ember::nn {

template <FloatingScalar T = float>
class MultiHeadSelfAttention : public Module<T> {
 public:
  /// `dropout` applies to the attention weights in training (its stream seeded from `gen`).
  MultiHeadSelfAttention(std::int64_t d_model, std::int64_t heads, double dropout = 0.0,
                         Generator& gen = default_generator())
      : d_(d_model), heads_(heads), dropout_(dropout) {
    EMBER_CHECK(d_model > 0 && heads > 0 && d_model % heads == 0, "MultiHeadSelfAttention",
                "d_model ", d_model, " must be a positive multiple of heads ", heads);
    wq_ = this->register_module("wq", std::make_shared<Linear<T>>(d_model, d_model, true, gen));
    wk_ = this->register_module("wk", std::make_shared<Linear<T>>(d_model, d_model, true, gen));
    wv_ = this->register_module("wv", std::make_shared<Linear<T>>(d_model, d_model, true, gen));
    wo_ = this->register_module("wo", std::make_shared<Linear<T>>(d_model, d_model, true, gen));
    for (auto* l : {wq_.get(), wk_.get(), wv_.get()}) init::xavier_uniform_(l->weight(), gen);
    for (auto* l : {wq_.get(), wk_.get(), wv_.get(), wo_.get()}) init::constant_(l->bias(), 0.0);
    EMBER_CHECK(dropout >= 0 && dropout < 1, "MultiHeadSelfAttention", "dropout ", dropout,
                " is outside [0, 1)");
    gen_.manual_seed(gen.next_u64());
  }

  /// x (B, T, D); padding_mask (B, T), true at padded positions (keys there are ignored), or
  /// an empty tensor for none → (B, T, D). With `residual` (B, T, D) given, returns
  /// residual + attention(x), the add done by the output projection's GEMM on each tile.
  Var<T> forward(const Var<T>& x, const Tensor<bool>& padding_mask = Tensor<bool>(),
                 const Var<T>& residual = Var<T>()) {
    EMBER_CHECK(x.dim() == 3 && x.size(2) == d_, "MultiHeadSelfAttention", "expects x (B, T, ",
                d_, "), got ", x.shape());
    const std::int64_t B = x.size(0), T_ = x.size(1);
    if (padding_mask.numel() > 0) {
      EMBER_CHECK(padding_mask.shape() == Shape({B, T_}), "MultiHeadSelfAttention",
                  "padding mask ", padding_mask.shape(), " does not match x ", x.shape());
    }
    AttentionOptions<T> o{.heads = heads_, .key_padding_mask = padding_mask, .causal = false,
                          .dropout = dropout_, .training = this->is_training(), .scale = {}};
    // One GEMM for q, k and v (x read and packed once), attention reading the three column
    // blocks in place; the weights stay three parameters (names and checkpoints unchanged).
    const Var<T> w = cat(std::vector<Var<T>>{wq_->weight(), wk_->weight(), wv_->weight()}, 0);
    const Var<T> b = cat(std::vector<Var<T>>{wq_->bias(), wk_->bias(), wv_->bias()}, 0);
    Var<T> ctx = scaled_dot_product_attention_qkv(linear(x, w, b), o, gen_);
    if (residual.defined()) return linear_residual(ctx, wo_->weight(), wo_->bias(), residual);
    return (*wo_)(ctx);
  }
  Var<T> operator()(const Var<T>& x, const Tensor<bool>& padding_mask = Tensor<bool>()) {
    return forward(x, padding_mask);
  }
  std::int64_t heads() const { return heads_; }

 private:
  std::int64_t d_, heads_;
  std::shared_ptr<Linear<T>> wq_, wk_, wv_, wo_;
  double dropout_;
  Generator gen_;  // the attention-weight dropout stream
};

}  // namespace ember::nn
