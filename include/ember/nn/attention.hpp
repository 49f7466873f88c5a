// ember/nn/attention.hpp — multi-head self-attention with a padding mask.
// Layer: nn. Shapes: B batch, T time, D model width, H heads, dh = D / H per head.
//   q, k, v = x·Wqᵀ, x·Wkᵀ, x·Wvᵀ, each split into heads (B, H, T, dh)
//   attn = softmax(q·kᵀ / √dh with padded keys set to the lowest float) (B, H, T, T)
//   out = (attn·v merged back to (B, T, D))·Woᵀ
// Padded keys get the lowest finite value rather than −∞, so a sequence that is all padding
// gives uniform weights instead of NaN (PyTorch gives NaN there); any real key outweighs them.
// Initialisation as torch.nn.MultiheadAttention: Xavier-uniform q/k/v weights, zero biases.
#pragma once

#include <cmath>
#include <limits>
#include <memory>

#include "ember/nn/init.hpp"
#include "ember/nn/layers.hpp"

namespace ember::nn {

template <FloatingScalar T = float>
class MultiHeadSelfAttention : public Module<T> {
 public:
  /// `dropout` applies to the attention weights in training (its stream seeded from `gen`).
  MultiHeadSelfAttention(std::int64_t d_model, std::int64_t heads, double dropout = 0.0,
                         Generator& gen = default_generator())
      : d_(d_model), heads_(heads) {
    EMBER_CHECK(d_model > 0 && heads > 0 && d_model % heads == 0, "MultiHeadSelfAttention",
                "d_model ", d_model, " must be a positive multiple of heads ", heads);
    wq_ = this->register_module("wq", std::make_shared<Linear<T>>(d_model, d_model, true, gen));
    wk_ = this->register_module("wk", std::make_shared<Linear<T>>(d_model, d_model, true, gen));
    wv_ = this->register_module("wv", std::make_shared<Linear<T>>(d_model, d_model, true, gen));
    wo_ = this->register_module("wo", std::make_shared<Linear<T>>(d_model, d_model, true, gen));
    for (auto* l : {wq_.get(), wk_.get(), wv_.get()}) init::xavier_uniform_(l->weight(), gen);
    for (auto* l : {wq_.get(), wk_.get(), wv_.get(), wo_.get()}) init::constant_(l->bias(), 0.0);
    dropout_ = this->register_module(
        "dropout", std::make_shared<Dropout<T>>(dropout, gen.next_u64()));
  }

  /// x (B, T, D); padding_mask (B, T), true at padded positions (keys there are ignored), or
  /// an empty tensor for none → (B, T, D).
  Var<T> forward(const Var<T>& x, const Tensor<bool>& padding_mask = Tensor<bool>()) {
    EMBER_CHECK(x.dim() == 3 && x.size(2) == d_, "MultiHeadSelfAttention", "expects x (B, T, ",
                d_, "), got ", x.shape());
    const std::int64_t B = x.size(0), T_ = x.size(1), dh = d_ / heads_;
    auto split = [&](const Var<T>& y) {  // (B, T, D) → (B, H, T, dh)
      return permute(reshape(y, {B, T_, heads_, dh}), {0, 2, 1, 3});
    };
    Var<T> q = split((*wq_)(x) * (1.0 / std::sqrt(static_cast<double>(dh))));
    Var<T> k = split((*wk_)(x)), v = split((*wv_)(x));
    Var<T> scores = matmul(q, transpose(k, -1, -2));  // (B, H, T, T)
    if (padding_mask.numel() > 0) {
      EMBER_CHECK(padding_mask.shape() == Shape({B, T_}), "MultiHeadSelfAttention",
                  "padding mask ", padding_mask.shape(), " does not match x ", x.shape());
      scores = masked_fill(scores, padding_mask.view({B, 1, 1, T_}),
                           std::numeric_limits<T>::lowest());
    }
    Var<T> attn = (*dropout_)(softmax(scores, -1));
    Var<T> ctx = permute(matmul(attn, v), {0, 2, 1, 3});  // (B, T, H, dh)
    return (*wo_)(reshape(ctx, {B, T_, d_}));
  }
  Var<T> operator()(const Var<T>& x, const Tensor<bool>& padding_mask = Tensor<bool>()) {
    return forward(x, padding_mask);
  }
  std::int64_t heads() const { return heads_; }

 private:
  std::int64_t d_, heads_;
  std::shared_ptr<Linear<T>> wq_, wk_, wv_, wo_;
  std::shared_ptr<Dropout<T>> dropout_;
};

}  // namespace ember::nn
