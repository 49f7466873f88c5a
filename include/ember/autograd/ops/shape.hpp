// ember/autograd/ops/shape.hpp — differentiable reshape and transpose.
// Layer: autograd. Both are views forward; backward applies the inverse view to dout.
#pragma once

#include "ember/autograd/function.hpp"

namespace ember {

namespace ops {

template <class T>
struct Reshape : Node<T> {
  Shape x_shape;
  static Var<T> apply(const Var<T>& x, const Shape& shape) {
    Tensor<T> out = x.data().reshape(shape);
    if (!detail::needs_graph<T>(x)) return Var<T>(out);
    auto n = std::make_shared<Reshape>();
    n->x_shape = x.shape();
    return detail::attach<T>(out, n, {&x});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    return {dout.reshape(x_shape)};
  }
  const char* name() const override { return "reshape"; }
  void release_saved() override {}
};

template <class T>
struct Transpose : Node<T> {
  std::int64_t d0 = 0, d1 = 0;
  static Var<T> apply(const Var<T>& x, std::int64_t a, std::int64_t b) {
    Tensor<T> out = x.data().transpose(a, b);
    if (!detail::needs_graph<T>(x)) return Var<T>(out);
    auto n = std::make_shared<Transpose>();
    n->d0 = a;
    n->d1 = b;
    return detail::attach<T>(out, n, {&x});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    return {dout.transpose(d0, d1)};
  }
  const char* name() const override { return "transpose"; }
  void release_saved() override {}
};

}  // namespace ops

/// Differentiable reshape (one dim may be -1).
template <FloatingScalar T>
Var<T> reshape(const Var<T>& x, const Shape& shape) {
  return ops::Reshape<T>::apply(x, shape);
}
/// Differentiable transpose of two dims.
template <FloatingScalar T>
Var<T> transpose(const Var<T>& x, std::int64_t d0, std::int64_t d1) {
  return ops::Transpose<T>::apply(x, d0, d1);
}

}  // namespace ember
