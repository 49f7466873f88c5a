// ember/autograd/ops/activation.hpp — gelu (exact, erf form) on the dispatched kernels.
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
#include "ember/kernels/activation.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember {

namespace ops {

// y = gelu(x) = x·Φ(x) (exact, erf form). dx = dy·(Φ(x) + x·φ(x)). Saves x.
template <class T>
struct Gelu : Unary<T, Gelu<T>> {
  static Var<T> apply(const Var<T>& a) {
    const Tensor<T>& x = a.data();
    Tensor<T> y;
    if (x.is_contiguous()) {  // the pointer kernel (kernels/activation.hpp)
      y = Tensor<T>::empty(x.shape());
      kernels::gelu_forward(x.data(), y.data(), x.numel());
    } else {
      y = ember::gelu(x);
    }
    return Unary<T, Gelu<T>>::record(a, y, true, false);
  }
  Tensor<T> grad(const Tensor<T>& dy) {
    using CT = compute_t<T>;
    const Tensor<T>& x = this->x;
    // One pass, not a derivative tensor and a product. Through the pointer kernel when both are
    // contiguous: map2's generic loop called the (large, inlined-math) lambda once per element,
    // which no compiler vectorises (19% of bench_autograd's encoder step, 1 thread).
    if (x.is_contiguous() && dy.is_contiguous() && dy.shape() == x.shape()) {
      Tensor<T> dx = Tensor<T>::empty(x.shape());
      kernels::gelu_backward(x.data(), dy.data(), dx.data(), x.numel());
      return dx;
    }
    return detail::map2<T>(x, dy, "gelu backward",
                           [](CT v, CT g) { return g * detail::gelu_grad(v); });
  }
  const char* name() const override { return "gelu"; }
};

}  // namespace ops

/// Differentiable exact gelu.
template <FloatingScalar T>
Var<T> gelu(const Var<T>& x) {
  return ops::Gelu<T>::apply(x);
}

}  // namespace ember
