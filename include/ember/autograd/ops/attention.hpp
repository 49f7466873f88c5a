// ember/autograd/ops/attention.hpp — differentiable fused multi-head attention
// (torch.nn.functional.scaled_dot_product_attention, in the projection layout).
// Layer: autograd. Checks shapes, calls kernels/attention.hpp, and saves q, k, v (handles), the
// attention weights P (B, H, Tq, Tk) and the dropout mask (one byte per weight).
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>

#include "ember/autograd/function.hpp"
#include "ember/core/random.hpp"
#include "ember/kernels/attention.hpp"

namespace ember {

/// Options of scaled_dot_product_attention.
template <class T>
struct AttentionOptions {
  std::int64_t heads = 1;
  /// (B, Tk), true at padded keys (ignored by every query); empty for none.
  Tensor<bool> key_padding_mask{};
  /// Query i attends to keys j ≤ i only.
  bool causal = false;
  /// Drop probability for the attention weights; applied only when `training`.
  double dropout = 0.0;
  bool training = true;
  /// Score scale; 1/√(head width) when unset.
  std::optional<double> scale{};
};

namespace ops {

template <class T>
struct Attention : Node<T> {
  Tensor<T> q, k, v, probs;
  Tensor<std::uint8_t> keep;
  Tensor<bool> pad;
  kernels::AttentionArgs<T> args;

  // A (B, T, C) tensor whose channels are contiguous, and its batch and row strides.
  static Tensor<T> rows(const Tensor<T>& x) {
    return x.stride(2) == 1 || x.size(2) == 1 ? x : x.contiguous();
  }

  static Var<T> apply(const Var<T>& q_in, const Var<T>& k_in, const Var<T>& v_in,
                      const AttentionOptions<T>& o, Generator& gen) {
    constexpr const char* op = "scaled_dot_product_attention";
    EMBER_CHECK(q_in.dim() == 3 && k_in.dim() == 3 && v_in.dim() == 3, op,
                "expects q (B, Tq, H·dk), k (B, Tk, H·dk), v (B, Tk, H·dv); got ", q_in.shape(),
                ", ", k_in.shape(), ", ", v_in.shape());
    const std::int64_t B = q_in.size(0), Tq = q_in.size(1), Tk = k_in.size(1);
    EMBER_CHECK(k_in.size(0) == B && v_in.size(0) == B && v_in.size(1) == Tk &&
                    k_in.size(2) == q_in.size(2),
                op, "q ", q_in.shape(), ", k ", k_in.shape(), " and v ", v_in.shape(),
                " do not fit (B, Tq, H·dk), (B, Tk, H·dk), (B, Tk, H·dv)");
    EMBER_CHECK(o.heads >= 1 && q_in.size(2) % o.heads == 0 && v_in.size(2) % o.heads == 0 &&
                    q_in.size(2) > 0 && v_in.size(2) > 0,
                op, "widths ", q_in.size(2), " (q, k) and ", v_in.size(2),
                " (v) must be positive multiples of heads ", o.heads);
    EMBER_CHECK(o.dropout >= 0 && o.dropout < 1, op, "dropout ", o.dropout,
                " is outside [0, 1)");
    if (o.key_padding_mask.numel() > 0 || o.key_padding_mask.dim() != 1) {
      EMBER_CHECK(o.key_padding_mask.shape() == Shape({B, Tk}), op, "key padding mask ",
                  o.key_padding_mask.shape(), " does not match (B, Tk) = (", B, ", ", Tk, ")");
    }
    const std::int64_t H = o.heads, dk = q_in.size(2) / H, dv = v_in.size(2) / H;
    const double scale = o.scale.value_or(1.0 / std::sqrt(static_cast<double>(dk)));
    EMBER_CHECK(std::isfinite(scale), op, "scale ", scale, " is not finite");

    const bool graph = detail::needs_graph<T>(q_in, k_in, v_in);
    const bool drop = o.training && o.dropout > 0;
    auto node = graph ? std::make_shared<Attention>() : nullptr;
    Tensor<T> qt = rows(q_in.data()), kt = rows(k_in.data()), vt = rows(v_in.data());
    Tensor<bool> pad = o.key_padding_mask.numel() > 0 ? o.key_padding_mask.contiguous()
                                                       : Tensor<bool>();
    kernels::AttentionArgs<T> a;
    a.B = B, a.H = H, a.Tq = Tq, a.Tk = Tk, a.dk = dk, a.dv = dv;
    a.q = qt.data(), a.q_sb = qt.stride(0), a.q_st = qt.stride(1);
    a.k = kt.data(), a.k_sb = kt.stride(0), a.k_st = kt.stride(1);
    a.v = vt.data(), a.v_sb = vt.stride(0), a.v_st = vt.stride(1);
    a.key_pad = pad.numel() > 0 ? pad.data() : nullptr;
    a.causal = o.causal;
    a.scale = static_cast<T>(scale);
    a.dropout = drop ? o.dropout : 0.0;
    a.seed = drop ? gen.next_u64() : 0;

    Tensor<T> out = Tensor<T>::empty({B, Tq, H * dv});
    Tensor<T> probs = graph ? Tensor<T>::empty({B, H, Tq, Tk}) : Tensor<T>();
    Tensor<std::uint8_t> keep =
        graph && drop ? Tensor<std::uint8_t>::empty({B, H, Tq, Tk}) : Tensor<std::uint8_t>();
    kernels::attention_forward<T>(a, out.data(), graph ? probs.data() : nullptr,
                                  graph && drop ? keep.data() : nullptr);
    if (!graph) return Var<T>(out);
    node->q = qt, node->k = kt, node->v = vt;
    node->probs = probs;
    node->keep = keep;
    node->pad = pad;
    node->args = a;
    return detail::attach<T>(out, node, {&q_in, &k_in, &v_in});
  }

  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    const Tensor<T> d = dout.contiguous();
    Tensor<T> dq = Tensor<T>::empty(q.shape()), dk = Tensor<T>::empty(k.shape()),
              dv = Tensor<T>::empty(v.shape());
    kernels::attention_backward<T>(args, d.data(), probs.data(),
                                   keep.numel() > 0 ? keep.data() : nullptr, dq.data(),
                                   dk.data(), dv.data());
    return {dq, dk, dv};
  }
  const char* name() const override { return "scaled_dot_product_attention"; }
  void release_saved() override {
    q = k = v = probs = Tensor<T>();
    keep = Tensor<std::uint8_t>();
    pad = Tensor<bool>();
  }
};

}  // namespace ops

/// Multi-head scaled dot-product attention in one fused op, as
/// torch.nn.functional.scaled_dot_product_attention but on the projection layout: q (B, Tq, H·dk),
/// k (B, Tk, H·dk), v (B, Tk, H·dv) → (B, Tq, H·dv), head h being the h-th block of columns.
///     out = concat_h softmax(scale · q_h k_hᵀ, masked) v_h
/// Padded keys (options.key_padding_mask) and, if causal, later keys get zero weight; a query
/// with no key left gets uniform weights (finite, where PyTorch gives NaN). Dropout on the
/// weights uses a Philox stream keyed from `gen`. Views with contiguous channels (e.g. column
/// slices of one fused q|k|v projection) are read in place.
template <FloatingScalar T>
Var<T> scaled_dot_product_attention(const Var<T>& q, const Var<T>& k, const Var<T>& v,
                                    const AttentionOptions<T>& options = {},
                                    Generator& gen = default_generator()) {
  return ops::Attention<T>::apply(q, k, v, options, gen);
}

}  // namespace ember
