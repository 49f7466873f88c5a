// ember/autograd/ops/layer_norm.hpp — layer normalisation over the last dim, affine.
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
#include "ember/kernels/layernorm.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember {

namespace ops {

// y = (x − mean) · rstd · w + b over the last dim (size D); x: (..., D), w, b: (D).
// Saves x̂ = (x − mean)·rstd and rstd per row; backward (per row, with g = dy ⊙ w):
//   dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)),  dw = Σ_rows dy ⊙ x̂,  db = Σ_rows dy.
template <class T>
struct LayerNorm : Node<T> {
  Tensor<T> xhat, rstd, w;  // xhat (R, D), rstd (R, 1), w (D): what dx needs
  Shape x_shape;
  // x: (..., D), weight, bias: (D) → (..., D). The kernel (kernels/layernorm.hpp) is finite for
  // every finite input.
  static Var<T> apply(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, double eps) {
    EMBER_CHECK(x.dim() >= 1, "layer_norm", "expects at least one dim, got ", x.shape());
    const std::int64_t D = x.size(-1);
    EMBER_CHECK(weight.shape() == Shape{D} && bias.shape() == Shape{D}, "layer_norm", "weight ",
                weight.shape(), " and bias ", bias.shape(), " must be [", D, "] for input ",
                x.shape());
    EMBER_CHECK(eps >= 0 && std::isfinite(eps), "layer_norm", "eps must be finite and >= 0, got ",
                eps);
    const Tensor<T> x2 = x.data().contiguous();
    const std::int64_t R = D == 0 ? 0 : x2.numel() / D;
    const Tensor<T> wc = weight.data().contiguous(), bc = bias.data().contiguous();
    Tensor<T> out = Tensor<T>::empty(x.shape());
    Tensor<T> xhat = Tensor<T>::empty({R, D}), rstd = Tensor<T>::empty({R, 1});
    kernels::layer_norm_forward(x2.data(), wc.data(), bc.data(), out.data(), xhat.data(),
                               rstd.data(), R, D, eps);
    if (!detail::needs_graph<T>(x, weight, bias)) return Var<T>(out);
    auto n = std::make_shared<LayerNorm>();
    n->xhat = xhat;
    n->rstd = rstd;
    n->w = wc;
    n->x_shape = x.shape();
    return detail::attach<T>(std::move(out), std::move(n), {&x, &weight, &bias});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    const std::int64_t D = xhat.size(1), R = xhat.size(0);
    Tensor<T> dy = dout.reshape({-1, D}).contiguous();
    Tensor<T> dx, dw, db;
    if (this->needs_grad[0]) {
      dx = Tensor<T>::empty(x_shape);
      kernels::layer_norm_backward_input(dy.data(), w.data(), xhat.data(), rstd.data(), dx.data(),
                                        R, D);
    }
    if (this->needs_grad[1]) dw = ember::sum(dy * xhat, {0});
    if (this->needs_grad[2]) db = ember::sum(dy, {0});
    return {dx, dw, db};
  }
  const char* name() const override { return "layer_norm"; }
  void release_saved() override { xhat = rstd = w = Tensor<T>(); }
};

}  // namespace ops

/// Layer normalisation over the last dim with affine weight and bias (D).
template <FloatingScalar T>
Var<T> layer_norm(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, double eps = 1e-5) {
  return ops::LayerNorm<T>::apply(x, weight, bias, eps);
}

}  // namespace ember
