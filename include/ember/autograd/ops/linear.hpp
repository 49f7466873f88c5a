// ember/autograd/ops/linear.hpp — the layers that are one GEMM: linear (x·wᵀ + b) and conv1d (im2col).
// Layer: autograd. Shapes are written at each op; glossary: N rows (batch·time), C classes,
// D features, V vocabulary.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

#include "ember/autograd/function.hpp"
#include "ember/autograd/ops/elementwise.hpp"
#include "ember/autograd/ops/reduce.hpp"
#include "ember/autograd/ops/shape.hpp"
#include "ember/autograd/ops/matmul.hpp"
#include "ember/kernels/activation.hpp"
#include "ember/kernels/conv1d.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember {

namespace ops {

// 1-D convolution (cross-correlation, as torch.nn.functional.conv1d):
//   y[b, o, l] = bias[o] + Σ_{c, k} w[o, c, k] · x[b, c, l·stride − padding + k·dilation]
// x (B, Cin, L), w (Cout, Cin, K), bias (Cout) → (B, Cout, Lout),
// Lout = (L + 2·padding − dilation·(K − 1) − 1) / stride + 1.
// Computed as one GEMM over unfolded input (im2col): cols (B·Lout, Cin·K) · wᵀ. Backward:
// dw = dyᵀ·cols, dcols = dy·w folded back into dx (col2im), db = Σ dy. Saves x (cols are rebuilt
// in backward: cheaper in memory than keeping them, and the unfold is a copy, not a GEMM).
//
// Channels-last inputs (x a transposed view of a dense (B, L, Cin) tensor, e.g. an embedding's
// output) with stride 1, no padding and no dilation skip both copies: the GEMM reads the windows
// in place (kernels/conv1d.hpp, conv1d_cl_*), and backward adds dx for each kernel tap with one
// GEMM into a shifted view of a (B, L, Cin) gradient, returned as the same transposed view.
// TextCNN at batch 64 (bench_models cnn/infer_b64, 1 thread): the input copy, the unfold and
// the GEMM were 16%, 36% and 36% of the time.
template <class T>
struct Conv1d : Node<T> {
  // x: the input made contiguous, or the channels-last view itself, only when the weight needs a
  // gradient. w: the weight (Cout, Cin, K); on the channels-last path reordered to (Cout, K, Cin).
  Tensor<T> x, w;
  Conv1dGeometry geo;
  bool channels_last = false;

  /// True when x (B, C, L) is a view of a dense (B, L, C) buffer and the convolution reads
  /// plain windows (stride 1, no padding, no dilation).
  static bool use_channels_last(const Tensor<T>& x, const Conv1dGeometry& g) {
    return g.stride == 1 && g.padding == 0 && g.dilation == 1 && g.B > 0 && g.C > 0 &&
           g.l_out > 0 && x.stride(1) == 1 && x.stride(2) == g.C && x.stride(0) == g.L * g.C;
  }
  // y (B·L, O): rows b·L + l are the outputs of window l of sequence b (the last K − 1 rows of
  // the buffer are not written), from A = the overlapping windows of xcl (B·L − K + 1, K·C) and
  // wkc, the weight as (O, K, C) contiguous.
  static Tensor<T> forward_channels_last(const T* xcl, const Tensor<T>& wkc,
                                         const Conv1dGeometry& g) {
    const std::int64_t O = wkc.size(0), KC = g.K * g.C, rows = g.B * g.L - g.K + 1;
    Tensor<T> y = Tensor<T>::empty({g.B * g.L, O});
    ember::gemm<T>(rows, O, KC, T(1), xcl, g.C, 1, wkc.data(), 1, KC, T(0), y.data(), O, 1);
    return y;
  }

  static std::int64_t out_length(std::int64_t L, std::int64_t K, std::int64_t stride,
                                 std::int64_t padding, std::int64_t dilation) {
    return (L + 2 * padding - dilation * (K - 1) - 1) / stride + 1;
  }
  // cols (B·Lout, Cin·K), kernels/conv1d.hpp.
  static Tensor<T> unfold(const Tensor<T>& xc, const Conv1dGeometry& g) {
    Tensor<T> cols = Tensor<T>::empty({g.B * g.l_out, g.C * g.K});
    if (cols.numel() > 0) kernels::conv1d_unfold(xc.data(), g, cols.data());
    return cols;
  }

  static Var<T> apply(const Var<T>& input, const Var<T>& weight, const Var<T>* bias,
                      std::int64_t stride, std::int64_t padding, std::int64_t dilation) {
    EMBER_CHECK(input.dim() == 3 && weight.dim() == 3, "conv1d",
                "expects input (B, Cin, L) and weight (Cout, Cin, K), got ", input.shape(),
                " and ", weight.shape());
    const std::int64_t B = input.size(0), C = input.size(1), L = input.size(2);
    const std::int64_t O = weight.size(0), K = weight.size(2);
    EMBER_CHECK(weight.size(1) == C, "conv1d", "input ", input.shape(), " has ", C,
                " channels but weight ", weight.shape(), " expects ", weight.size(1));
    EMBER_CHECK(stride >= 1 && padding >= 0 && dilation >= 1, "conv1d", "stride ", stride,
                ", padding ", padding, ", dilation ", dilation, " are invalid");
    if (bias) {
      EMBER_CHECK(bias->shape() == Shape{O}, "conv1d", "bias ", bias->shape(), " must be [", O,
                  "]");
    }
    EMBER_CHECK(K >= 1, "conv1d", "weight ", weight.shape(), " has a kernel of size 0");
    // Padded length and the kernel's reach, checked for overflow (padding and dilation come from
    // users' configurations).
    std::int64_t padded = 0, reach = 0;
    const bool overflow = __builtin_mul_overflow(padding, 2, &padded) ||
                          __builtin_add_overflow(padded, L, &padded) ||
                          __builtin_mul_overflow(dilation, K - 1, &reach) ||
                          __builtin_add_overflow(reach, 1, &reach);
    EMBER_CHECK(!overflow, "conv1d", "padding ", padding, " or dilation ", dilation,
                " is too large for kernel size ", K, " (size overflow)");
    EMBER_CHECK(padded >= reach, "conv1d", "input length ", L, " (padding ", padding,
                ") is shorter than the kernel's reach ", reach);
    const std::int64_t l_out = out_length(L, K, stride, padding, dilation);
    const Conv1dGeometry geo{B, C, L, K, stride, padding, dilation, l_out};
    const bool cl = use_channels_last(input.data(), geo);
    Tensor<T> xc, wsave = weight.data(), out;
    if (cl) {
      xc = input.data();
      wsave = weight.data().permute({0, 2, 1}).contiguous();  // (O, K, C)
      const Tensor<T> y = forward_channels_last(xc.data(), wsave, geo);
      out = Tensor<T>::empty({B, O, l_out});
      const Tensor<T> bc = bias ? bias->data().contiguous() : Tensor<T>();
      kernels::conv1d_cl_output(y.data(), bias ? bc.data() : nullptr, geo, O, out.data());
    } else {
      xc = input.data().contiguous();
      Tensor<T> cols = unfold(xc, geo);
      // (B·Lout, Cin·K)·(Cin·K, Cout) → (B, Lout, Cout) → (B, Cout, Lout).
      Tensor<T> y = ember::matmul(cols, weight.data().reshape({O, C * K}).transpose(0, 1));
      out = y.view({B, l_out, O}).permute({0, 2, 1}).contiguous();
      if (bias) out += bias->data().view({O, 1});
    }
    const bool graph = bias ? detail::needs_graph<T>(input, weight, *bias)
                            : detail::needs_graph<T>(input, weight);
    if (!graph) return Var<T>(out);
    auto n = std::make_shared<Conv1d>();
    if (weight.requires_grad()) n->x = xc;
    n->w = wsave;
    n->geo = geo;
    n->channels_last = cl;
    return bias ? detail::attach<T>(out, n, {&input, &weight, bias})
                : detail::attach<T>(out, n, {&input, &weight});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    if (channels_last) return backward_channels_last(dout);
    const std::int64_t B = geo.B, C = geo.C, L = geo.L, K = geo.K, l_out = geo.l_out;
    const std::int64_t O = w.size(0);
    // dy as (B·Lout, Cout), the layout of the forward GEMM's result.
    Tensor<T> g = dout.permute({0, 2, 1}).contiguous().view({B * l_out, O});
    std::vector<Tensor<T>> grads(this->needs_grad.size());
    if (this->needs_grad[0]) {
      Tensor<T> dcols = ember::matmul(g, w.reshape({O, C * K}));  // (B·Lout, Cin·K)
      Tensor<T> dx = zeros<T>({B, C, L});
      if (dcols.numel() > 0) kernels::conv1d_fold(dcols.data(), geo, dx.data());
      grads[0] = dx;
    }
    if (this->needs_grad[1]) {
      Tensor<T> cols = unfold(x, geo);
      grads[1] = ember::matmul(g.transpose(0, 1), cols).view({O, C, K});
    }
    if (grads.size() > 2 && this->needs_grad[2]) {
      const Tensor<T> gc = g.contiguous();  // (rows, features): the bias gradient sums rows
      grads[2] = Tensor<T>::empty({gc.size(1)});
      detail::column_sums(gc.data(), gc.size(0), gc.size(1), gc.size(1), grads[2].data());
    }
    return grads;
  }
  // g (B·L, O) holds dout by window row (zero in the K − 1 rows that straddle sequences), so
  // every GEMM runs over all B·L − K + 1 rows: dwp = gᵀ·A, and for each tap k the rows of g
  // times w[:, :, k]ᵀ add into dx rows shifted by k.
  std::vector<Tensor<T>> backward_channels_last(const Tensor<T>& dout) {
    const std::int64_t B = geo.B, C = geo.C, L = geo.L, K = geo.K;
    const std::int64_t O = w.size(0), KC = K * C, rows = B * L - K + 1;
    const Tensor<T> dc = dout.contiguous();
    Tensor<T> g = Tensor<T>::empty({B * L, O});
    kernels::conv1d_cl_dout(dc.data(), geo, O, g.data());
    std::vector<Tensor<T>> grads(this->needs_grad.size());
    if (this->needs_grad[0]) {  // w is (O, K, C) here
      Tensor<T> dxcl = zeros<T>({B, L, C});
      for (std::int64_t k = 0; k < K; ++k)
        ember::gemm<T>(rows, C, O, T(1), g.data(), O, 1, w.data() + k * C, KC, 1, T(1),
                       dxcl.data() + k * C, C, 1);
      grads[0] = dxcl.transpose(1, 2);  // (B, C, L), the input's layout
    }
    if (this->needs_grad[1]) {
      Tensor<T> dwkc = Tensor<T>::empty({O, K, C});
      ember::gemm<T>(O, KC, rows, T(1), g.data(), 1, O, x.data(), C, 1, T(0), dwkc.data(), KC, 1);
      grads[1] = dwkc.permute({0, 2, 1}).contiguous();  // (O, C, K)
    }
    if (grads.size() > 2 && this->needs_grad[2]) {
      grads[2] = Tensor<T>::empty({O});
      detail::column_sums(g.data(), B * L, O, O, grads[2].data());
    }
    return grads;
  }
  const char* name() const override { return "conv1d"; }
  void release_saved() override { x = w = Tensor<T>(); }
};

// y = act(x·wᵀ + b) + r over all rows of x (..., in) → (..., out), one fused op: act is the
// identity or GELU, b and the residual r (y's shape) are optional. The forward is one GEMM whose
// epilogue adds b, applies GELU (keeping its input, pre) and adds r on each tile of y as it is
// finished (LinearEpilogue, gemm.hpp). The backward computes each gradient in its own layout,
// with one GEMM over all rows (N = rows of x):
//   g = dy·gelu'(pre) with GELU, else dy;  dx = g·w (N, in),  dw = gᵀ·x (out, in),
//   db = Σ_rows g,  dr = dy.
// Composed as matmul(x, transpose(w)) + b instead, dw came out transposed and had to be copied,
// and the bias, the GELU and the residual add were each a pass over y. Saves x, w and pre.
template <class T>
struct Linear : Node<T> {
  Tensor<T> x, w, pre;
  bool gelu = false;
  int bias_slot = -1, residual_slot = -1;  // positions among the inputs, -1 when absent
  static Var<T> apply(const Var<T>& input, const Var<T>& weight, const Var<T>* bias,
                      bool gelu = false, const Var<T>* residual = nullptr) {
    const Var<T>* inputs[4] = {&input, &weight, nullptr, nullptr};
    std::size_t count = 2;
    int bias_slot = -1, residual_slot = -1;
    if (bias != nullptr) {
      bias_slot = static_cast<int>(count);
      inputs[count++] = bias;
    }
    if (residual != nullptr) {
      residual_slot = static_cast<int>(count);
      inputs[count++] = residual;
    }
    bool graph = false;
    for (std::size_t i = 0; i < count; ++i) graph = graph || inputs[i]->requires_grad();
    graph = graph && grad_enabled();
    LinearEpilogue<T> fused;
    fused.gelu = gelu;
    if (residual != nullptr) fused.residual = residual->data();
    // GELU's input, for its backward: only when a gradient flows through it.
    const bool keep_pre = gelu && graph &&
                          (input.requires_grad() || weight.requires_grad() ||
                           (bias != nullptr && bias->requires_grad()));
    if (keep_pre && input.dim() >= 1 && weight.dim() == 2) {  // else linear() refuses the shapes
      Shape out_shape = input.shape();
      out_shape[out_shape.rank() - 1] = weight.size(0);
      fused.pre_gelu = Tensor<T>::empty(out_shape);
    }
    Tensor<T> out = ember::linear(input.data(), weight.data(),
                                  bias != nullptr ? bias->data() : Tensor<T>(), fused);
    if (!graph) return Var<T>(out);
    auto n = std::make_shared<Linear>();
    // Each saved tensor only when a gradient needs it: x for dw; w for dx.
    if (weight.requires_grad()) n->x = input.data();
    if (input.requires_grad()) n->w = weight.data();
    n->pre = fused.pre_gelu;
    n->gelu = gelu;
    n->bias_slot = bias_slot;
    n->residual_slot = residual_slot;
    return detail::attach<T>(out, n, std::span<const Var<T>* const>(inputs, count));
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) override {
    std::vector<Tensor<T>> grads(this->needs_grad.size());
    if (residual_slot >= 0 && this->needs_grad[static_cast<std::size_t>(residual_slot)])
      grads[static_cast<std::size_t>(residual_slot)] = dy;
    const bool bias_grad = bias_slot >= 0 && this->needs_grad[static_cast<std::size_t>(bias_slot)];
    if (!this->needs_grad[0] && !this->needs_grad[1] && !bias_grad) return grads;
    const std::int64_t out_f = dy.size(-1);
    Tensor<T> g = dy.reshape({-1, out_f});
    if (gelu) {  // through GELU: g = dy·gelu'(pre), one pass (kernels/activation.hpp)
      const Tensor<T> gc = g.contiguous();
      Tensor<T> d = Tensor<T>::empty(gc.shape());
      kernels::gelu_backward(pre.data(), gc.data(), d.data(), d.numel());
      g = d;
    }
    if (this->needs_grad[0]) {
      Shape xs = dy.shape();
      xs[xs.rank() - 1] = w.size(1);
      grads[0] = ember::matmul(g, w).view(xs);
    }
    if (this->needs_grad[1]) {
      grads[1] = ember::matmul(g.transpose(0, 1), x.reshape({-1, x.size(-1)}));
    }
    if (bias_grad) {
      const Tensor<T> gc = g.contiguous();  // (rows, features): the bias gradient sums rows
      Tensor<T> db = Tensor<T>::empty({gc.size(1)});
      detail::column_sums(gc.data(), gc.size(0), gc.size(1), gc.size(1), db.data());
      grads[static_cast<std::size_t>(bias_slot)] = db;
    }
    return grads;
  }
  const char* name() const override { return gelu ? "linear_gelu" : "linear"; }
  void release_saved() override { x = w = pre = Tensor<T>(); }
};

}  // namespace ops

/// x·wᵀ + b (torch.nn.functional.linear): x (..., in), w (out, in), b (out).
template <FloatingScalar T>
Var<T> linear(const Var<T>& x, const Var<T>& w, const Var<T>& b) {
  return ops::Linear<T>::apply(x, w, &b);
}
template <FloatingScalar T>
Var<T> linear(const Var<T>& x, const Var<T>& w) {
  return ops::Linear<T>::apply(x, w, nullptr);
}
/// gelu(x·wᵀ + b) in one op: the GEMM applies the bias and GELU (exact, erf form) to each tile
/// of the output as it finishes it, and keeps GELU's input for the backward. The same values as
/// gelu(linear(x, w, b)) without the pass over the output in memory. x (..., in), w (out, in),
/// b (out).
template <FloatingScalar T>
Var<T> linear_gelu(const Var<T>& x, const Var<T>& w, const Var<T>& b) {
  return ops::Linear<T>::apply(x, w, &b, /*gelu=*/true);
}
/// x·wᵀ + b + residual in one op (a residual connection): the GEMM adds the bias and the
/// residual (x's rows, out features: the output's shape) to each tile as it finishes it. The
/// same values as linear(x, w, b) + residual without the passes over both in memory.
template <FloatingScalar T>
Var<T> linear_residual(const Var<T>& x, const Var<T>& w, const Var<T>& b,
                       const Var<T>& residual) {
  return ops::Linear<T>::apply(x, w, &b, /*gelu=*/false, &residual);
}
/// 1-D convolution of x (B, Cin, L) with w (Cout, Cin, K) and bias (Cout) → (B, Cout, Lout).
template <FloatingScalar T>
Var<T> conv1d(const Var<T>& x, const Var<T>& w, const Var<T>& bias, std::int64_t stride = 1,
              std::int64_t padding = 0, std::int64_t dilation = 1) {
  return ops::Conv1d<T>::apply(x, w, &bias, stride, padding, dilation);
}
/// 1-D convolution without a bias.
template <FloatingScalar T>
Var<T> conv1d(const Var<T>& x, const Var<T>& w, std::int64_t stride = 1, std::int64_t padding = 0,
              std::int64_t dilation = 1) {
  return ops::Conv1d<T>::apply(x, w, nullptr, stride, padding, dilation);
}

}  // namespace ember
