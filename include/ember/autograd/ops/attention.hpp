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
  Tensor<T> q, k, v, probs;  // packed: q holds the whole (B, T, 3·E) projection, k and v empty
  Tensor<std::uint8_t> keep;
  Tensor<bool> pad;
  kernels::AttentionArgs<T> args;
  bool packed = false;

  // A (B, T, C) tensor whose channels are contiguous (a view when they already are).
  static Tensor<T> rows(const Tensor<T>& x) {
    return x.stride(2) == 1 || x.size(2) == 1 ? x : x.contiguous();
  }

  // Checks the operands, runs the forward kernel, and fills `node` (when not null) with what
  // backward needs. qt, kt, vt have contiguous channels.
  static Tensor<T> run(const Tensor<T>& qt, const Tensor<T>& kt, const Tensor<T>& vt,
                       const AttentionOptions<T>& o, Generator& gen, Attention* node,
                       const char* op) {
    EMBER_CHECK(qt.dim() == 3 && kt.dim() == 3 && vt.dim() == 3, op,
                "expects q (B, Tq, H·dk), k (B, Tk, H·dk), v (B, Tk, H·dv); got ", qt.shape(),
                ", ", kt.shape(), ", ", vt.shape());
    const std::int64_t B = qt.size(0), Tq = qt.size(1), Tk = kt.size(1);
    EMBER_CHECK(kt.size(0) == B && vt.size(0) == B && vt.size(1) == Tk && kt.size(2) == qt.size(2),
                op, "q ", qt.shape(), ", k ", kt.shape(), " and v ", vt.shape(),
                " do not fit (B, Tq, H·dk), (B, Tk, H·dk), (B, Tk, H·dv)");
    EMBER_CHECK(o.heads >= 1 && qt.size(2) % o.heads == 0 && vt.size(2) % o.heads == 0 &&
                    qt.size(2) > 0 && vt.size(2) > 0,
                op, "widths ", qt.size(2), " (q, k) and ", vt.size(2),
                " (v) must be positive multiples of heads ", o.heads);
    EMBER_CHECK(o.dropout >= 0 && o.dropout < 1, op, "dropout ", o.dropout, " is outside [0, 1)");
    if (o.key_padding_mask.numel() > 0 || o.key_padding_mask.dim() != 1) {
      EMBER_CHECK(o.key_padding_mask.shape() == Shape({B, Tk}), op, "key padding mask ",
                  o.key_padding_mask.shape(), " does not match (B, Tk) = (", B, ", ", Tk, ")");
    }
    const std::int64_t H = o.heads, dk = qt.size(2) / H, dv = vt.size(2) / H;
    const double scale = o.scale.value_or(1.0 / std::sqrt(static_cast<double>(dk)));
    EMBER_CHECK(std::isfinite(scale), op, "scale ", scale, " is not finite");
    const bool drop = o.training && o.dropout > 0;
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
    Tensor<T> probs = node != nullptr ? Tensor<T>::empty({B, H, Tq, Tk}) : Tensor<T>();
    Tensor<std::uint8_t> keep = node != nullptr && drop
                                    ? Tensor<std::uint8_t>::empty({B, H, Tq, Tk})
                                    : Tensor<std::uint8_t>();
    kernels::attention_forward<T>(a, out.data(), node != nullptr ? probs.data() : nullptr,
                                  node != nullptr && drop ? keep.data() : nullptr);
    if (node != nullptr) {
      node->probs = probs;
      node->keep = keep;
      node->pad = pad;
      node->args = a;
    }
    return out;
  }

  static Var<T> apply(const Var<T>& q_in, const Var<T>& k_in, const Var<T>& v_in,
                      const AttentionOptions<T>& o, Generator& gen) {
    EMBER_CHECK(q_in.dim() == 3 && k_in.dim() == 3 && v_in.dim() == 3,
                "scaled_dot_product_attention",
                "expects q (B, Tq, H·dk), k (B, Tk, H·dk), v (B, Tk, H·dv); got ", q_in.shape(),
                ", ", k_in.shape(), ", ", v_in.shape());
    const bool graph = detail::needs_graph<T>(q_in, k_in, v_in);
    auto node = graph ? std::make_shared<Attention>() : nullptr;
    Tensor<T> qt = rows(q_in.data()), kt = rows(k_in.data()), vt = rows(v_in.data());
    Tensor<T> out = run(qt, kt, vt, o, gen, node.get(), "scaled_dot_product_attention");
    if (!graph) return Var<T>(out);
    node->q = qt, node->k = kt, node->v = vt;
    return detail::attach<T>(std::move(out), std::move(node), {&q_in, &k_in, &v_in});
  }

  static Var<T> apply_packed(const Var<T>& qkv, const AttentionOptions<T>& o, Generator& gen) {
    constexpr const char* op = "scaled_dot_product_attention_qkv";
    EMBER_CHECK(qkv.dim() == 3 && qkv.size(2) % 3 == 0 && qkv.size(2) > 0, op,
                "expects qkv (B, T, 3·H·d), got ", qkv.shape());
    const std::int64_t E = qkv.size(2) / 3;
    const bool graph = detail::needs_graph<T>(qkv);
    auto node = graph ? std::make_shared<Attention>() : nullptr;
    const Tensor<T> base = rows(qkv.data());
    Tensor<T> out = run(base.narrow(2, 0, E), base.narrow(2, E, E), base.narrow(2, 2 * E, E), o,
                        gen, node.get(), op);
    if (!graph) return Var<T>(out);
    node->packed = true;
    node->q = base;
    return detail::attach<T>(std::move(out), std::move(node), {&qkv});
  }

  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    const Tensor<T> d = dout.contiguous();
    const std::uint8_t* kp = keep.numel() > 0 ? keep.data() : nullptr;
    if (packed) {  // one (B, T, 3·E) gradient, its column blocks written by the kernel
      const std::int64_t E3 = q.size(2), E = E3 / 3;
      Tensor<T> g = Tensor<T>::empty(q.shape());
      kernels::attention_backward<T>(args, d.data(), probs.data(), kp, g.data(), g.data() + E,
                                     g.data() + 2 * E, E3, E3, E3);
      return {g};
    }
    Tensor<T> dq = Tensor<T>::empty(q.shape()), dk = Tensor<T>::empty(k.shape()),
              dv = Tensor<T>::empty(v.shape());
    kernels::attention_backward<T>(args, d.data(), probs.data(), kp, dq.data(), dk.data(),
                                   dv.data());
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

/// Self-attention on one fused projection: qkv (B, T, 3·H·d) holds q, k and v as its three
/// column blocks (x·[Wq; Wk; Wv]ᵀ, one GEMM). Same result as scaled_dot_product_attention on the
/// three blocks; its gradient is one (B, T, 3·H·d) tensor written by the kernel (no per-block
/// gradients to scatter and add).
template <FloatingScalar T>
Var<T> scaled_dot_product_attention_qkv(const Var<T>& qkv, const AttentionOptions<T>& options = {},
                                        Generator& gen = default_generator()) {
  return ops::Attention<T>::apply_packed(qkv, options, gen);
}

}  // namespace ember
