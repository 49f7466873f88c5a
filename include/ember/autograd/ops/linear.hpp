// ember/autograd/ops/linear.hpp — the layers that are one GEMM: linear (x·wᵀ + b) and conv1d (im2col).
// Layer: autograd. Shapes are written at each op; glossary: N rows (batch·time), C classes,
// D features, V vocabulary.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "ember/autograd/function.hpp"
#include "ember/autograd/ops/elementwise.hpp"
#include "ember/autograd/ops/reduce.hpp"
#include "ember/autograd/ops/shape.hpp"
#include "ember/autograd/ops/matmul.hpp"
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
template <class T>
struct Conv1d : Node<T> {
  Tensor<T> x, w;  // x (contiguous) only when the weight needs a gradient
  Shape x_shape;
  std::int64_t stride = 1, padding = 0, dilation = 1, l_out = 0;

  static std::int64_t out_length(std::int64_t L, std::int64_t K, std::int64_t stride,
                                 std::int64_t padding, std::int64_t dilation) {
    return (L + 2 * padding - dilation * (K - 1) - 1) / stride + 1;
  }
  // cols[(b·Lout + l), c·K + k] = x[b, c, l·stride − padding + k·dilation] or 0 outside.
  static Tensor<T> unfold(const Tensor<T>& xc, std::int64_t K, std::int64_t stride,
                          std::int64_t padding, std::int64_t dilation, std::int64_t l_out) {
    const std::int64_t B = xc.size(0), C = xc.size(1), L = xc.size(2);
    Tensor<T> cols = Tensor<T>::empty({B * l_out, C * K});
    const T* src = xc.data();
    T* dst = cols.data();
    parallel_for(0, B * l_out, 64, [&](std::int64_t r0, std::int64_t r1) {
      for (std::int64_t r = r0; r < r1; ++r) {
        const std::int64_t b = r / l_out, l = r % l_out;
        T* row = dst + r * C * K;
        for (std::int64_t c = 0; c < C; ++c) {
          const T* xs = src + (b * C + c) * L;
          for (std::int64_t k = 0; k < K; ++k) {
            const std::int64_t pos = l * stride - padding + k * dilation;
            row[c * K + k] = (pos >= 0 && pos < L) ? xs[pos] : T(0);
          }
        }
      }
    });
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
    Tensor<T> xc = input.data().contiguous();
    Tensor<T> cols = unfold(xc, K, stride, padding, dilation, l_out);
    // (B·Lout, Cin·K)·(Cin·K, Cout) → (B, Lout, Cout) → (B, Cout, Lout).
    Tensor<T> y = ember::matmul(cols, weight.data().reshape({O, C * K}).transpose(0, 1));
    Tensor<T> out = y.view({B, l_out, O}).permute({0, 2, 1}).contiguous();
    if (bias) out += bias->data().view({O, 1});
    const bool graph = bias ? detail::needs_graph<T>(input, weight, *bias)
                            : detail::needs_graph<T>(input, weight);
    if (!graph) return Var<T>(out);
    auto n = std::make_shared<Conv1d>();
    if (weight.requires_grad()) n->x = xc;
    n->w = weight.data();
    n->stride = stride;
    n->padding = padding;
    n->dilation = dilation;
    n->l_out = l_out;
    n->x_shape = input.shape();
    return bias ? detail::attach<T>(out, n, {&input, &weight, bias})
                : detail::attach<T>(out, n, {&input, &weight});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    const std::int64_t B = x_shape[0], C = x_shape[1], L = x_shape[2];
    const std::int64_t O = w.size(0), K = w.size(2);
    // dy as (B·Lout, Cout), the layout of the forward GEMM's result.
    Tensor<T> g = dout.permute({0, 2, 1}).contiguous().view({B * l_out, O});
    std::vector<Tensor<T>> grads(this->needs_grad.size());
    if (this->needs_grad[0]) {
      Tensor<T> dcols = ember::matmul(g, w.reshape({O, C * K}));  // (B·Lout, Cin·K)
      Tensor<T> dx = zeros<T>(x_shape);
      T* dst = dx.data();
      const T* src = dcols.data();
      parallel_for(0, B, 1, [&](std::int64_t b0, std::int64_t b1) {  // batches own their rows
        for (std::int64_t b = b0; b < b1; ++b) {
          for (std::int64_t l = 0; l < l_out; ++l) {
            const T* row = src + (b * l_out + l) * C * K;
            for (std::int64_t c = 0; c < C; ++c) {
              T* xs = dst + (b * C + c) * L;
              for (std::int64_t k = 0; k < K; ++k) {
                const std::int64_t pos = l * stride - padding + k * dilation;
                if (pos >= 0 && pos < L) xs[pos] += row[c * K + k];
              }
            }
          }
        }
      });
      grads[0] = dx;
    }
    if (this->needs_grad[1]) {
      Tensor<T> cols = unfold(x, K, stride, padding, dilation, l_out);
      grads[1] = ember::matmul(g.transpose(0, 1), cols).view({O, C, K});
    }
    if (grads.size() > 2 && this->needs_grad[2]) {
      const Tensor<T> gc = g.contiguous();  // (rows, features): the bias gradient sums rows
      grads[2] = Tensor<T>::empty({gc.size(1)});
      detail::column_sums(gc.data(), gc.size(0), gc.size(1), gc.size(1), grads[2].data());
    }
    return grads;
  }
  const char* name() const override { return "conv1d"; }
  void release_saved() override { x = w = Tensor<T>(); }
};

// y = x·wᵀ + b over all rows of x (..., in) → (..., out), one fused op: the forward is one GEMM
// with the bias as its beta = 1 input, and the backward computes each gradient in its own
// layout with one GEMM over all rows (N = rows of x):
//   dx = dy·w (N, in),  dw = dyᵀ·x (out, in),  db = Σ_rows dy.
// Composed as matmul(x, transpose(w)) + b instead, dw came out transposed and had to be
// copied, and the bias add was a separate pass. Saves x and w.
template <class T>
struct Linear : Node<T> {
  Tensor<T> x, w;
  static Var<T> apply(const Var<T>& input, const Var<T>& weight, const Var<T>* bias) {
    Tensor<T> out = ember::linear(input.data(), weight.data(),
                                  bias ? bias->data() : Tensor<T>());
    const bool graph = bias ? detail::needs_graph<T>(input, weight, *bias)
                            : detail::needs_graph<T>(input, weight);
    if (!graph) return Var<T>(out);
    auto n = std::make_shared<Linear>();
    if (weight.requires_grad()) n->x = input.data();
    if (input.requires_grad()) n->w = weight.data();
    return bias ? detail::attach<T>(out, n, {&input, &weight, bias})
                : detail::attach<T>(out, n, {&input, &weight});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) override {
    const std::int64_t out_f = dy.size(-1);
    Tensor<T> g = dy.reshape({-1, out_f});
    std::vector<Tensor<T>> grads(this->needs_grad.size());
    if (this->needs_grad[0]) {
      Shape xs = dy.shape();
      xs[xs.rank() - 1] = w.size(1);
      grads[0] = ember::matmul(g, w).view(xs);
    }
    if (this->needs_grad[1]) {
      grads[1] = ember::matmul(g.transpose(0, 1), x.reshape({-1, x.size(-1)}));
    }
    if (grads.size() > 2 && this->needs_grad[2]) {
      const Tensor<T> gc = g.contiguous();  // (rows, features): the bias gradient sums rows
      grads[2] = Tensor<T>::empty({gc.size(1)});
      detail::column_sums(gc.data(), gc.size(0), gc.size(1), gc.size(1), grads[2].data());
    }
    return grads;
  }
  const char* name() const override { return "linear"; }
  void release_saved() override { x = w = Tensor<T>(); }
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
