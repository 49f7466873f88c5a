// ember/autograd/ops/elementwise.hpp — differentiable element-wise ops on Var, with broadcasting.
// Layer: autograd. One struct per op: forward (apply) and backward side by side, and the tensors
// backward needs saved as named members. Broadcast operands get their gradient summed back to
// their own shape (sum_to).
#pragma once

#include "ember/autograd/function.hpp"
#include "ember/kernels/elementwise.hpp"

namespace ember {

namespace ops {

// z = x + y. Saves only the shapes: dz flows to both, summed to each operand's shape.
template <class T>
struct Add : Node<T> {
  Shape x_shape, y_shape;
  static Var<T> apply(const Var<T>& x, const Var<T>& y) {
    Tensor<T> out = x.data() + y.data();
    if (!detail::needs_graph<T>(x, y)) return Var<T>(out);
    auto n = std::make_shared<Add>();
    n->x_shape = x.shape();
    n->y_shape = y.shape();
    return detail::attach<T>(out, n, {&x, &y});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dz) override {
    return {this->needs_grad[0] ? detail::sum_to(dz, x_shape) : Tensor<T>(),
            this->needs_grad[1] ? detail::sum_to(dz, y_shape) : Tensor<T>()};
  }
  const char* name() const override { return "add"; }
  void release_saved() override {}
};

// z = x - y: dx = dz, dy = -dz.
template <class T>
struct Sub : Node<T> {
  Shape x_shape, y_shape;
  static Var<T> apply(const Var<T>& x, const Var<T>& y) {
    Tensor<T> out = x.data() - y.data();
    if (!detail::needs_graph<T>(x, y)) return Var<T>(out);
    auto n = std::make_shared<Sub>();
    n->x_shape = x.shape();
    n->y_shape = y.shape();
    return detail::attach<T>(out, n, {&x, &y});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dz) override {
    return {this->needs_grad[0] ? detail::sum_to(dz, x_shape) : Tensor<T>(),
            this->needs_grad[1] ? detail::sum_to(neg(dz), y_shape) : Tensor<T>()};
  }
  const char* name() const override { return "sub"; }
  void release_saved() override {}
};

// z = x · y: dx = dz·y, dy = dz·x. Saves both inputs.
template <class T>
struct Mul : Node<T> {
  Tensor<T> x, y;
  static Var<T> apply(const Var<T>& a, const Var<T>& b) {
    Tensor<T> out = a.data() * b.data();
    if (!detail::needs_graph<T>(a, b)) return Var<T>(out);
    auto n = std::make_shared<Mul>();
    if (b.requires_grad()) n->x = a.data();
    if (a.requires_grad()) n->y = b.data();
    return detail::attach<T>(out, n, {&a, &b});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dz) override {
    return {
        this->needs_grad[0] ? detail::sum_to(dz * y, this->inputs[0]->data.shape()) : Tensor<T>(),
        this->needs_grad[1] ? detail::sum_to(dz * x, this->inputs[1]->data.shape()) : Tensor<T>()};
  }
  const char* name() const override { return "mul"; }
  void release_saved() override { x = y = Tensor<T>(); }
};

// z = x / y: dx = dz / y, dy = -dz·x / y² = -dz·z / y. Saves y and z.
template <class T>
struct Div : Node<T> {
  Tensor<T> y, z;
  static Var<T> apply(const Var<T>& a, const Var<T>& b) {
    Tensor<T> out = a.data() / b.data();
    if (!detail::needs_graph<T>(a, b)) return Var<T>(out);
    auto n = std::make_shared<Div>();
    n->y = b.data();
    if (b.requires_grad()) n->z = out;
    return detail::attach<T>(out, n, {&a, &b});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dz) override {
    return {
        this->needs_grad[0] ? detail::sum_to(dz / y, this->inputs[0]->data.shape()) : Tensor<T>(),
        this->needs_grad[1] ? detail::sum_to(neg(dz * z / y), this->inputs[1]->data.shape())
                            : Tensor<T>()};
  }
  const char* name() const override { return "div"; }
  void release_saved() override { y = z = Tensor<T>(); }
};

// A unary op y = f(x) whose derivative is computed from what `Save` keeps.
// Derivative(saved_x, saved_y, dy) → dx.
template <class T, class Derived>
struct Unary : Node<T> {
  Tensor<T> x, y;  // whichever the derivative needs (the other stays empty)
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) override {
    return {static_cast<Derived*>(this)->grad(dy)};
  }
  void release_saved() override { x = y = Tensor<T>(); }

 protected:
  // Records out = f(a): keeps a's value and/or the output, as the derivative needs.
  static Var<T> record(const Var<T>& a, Tensor<T> out, bool keep_x, bool keep_y) {
    if (!detail::needs_graph<T>(a)) return Var<T>(out);
    auto n = std::make_shared<Derived>();
    if (keep_x) n->x = a.data();
    if (keep_y) n->y = out;
    return detail::attach<T>(out, n, {&a});
  }
};

template <class T>
struct Neg : Unary<T, Neg<T>> {
  static Var<T> apply(const Var<T>& a) {
    return Unary<T, Neg<T>>::record(a, ember::neg(a.data()), false, false);
  }
  Tensor<T> grad(const Tensor<T>& dy) { return ember::neg(dy); }
  const char* name() const override { return "neg"; }
};

// y = exp(x): dx = dy·y. Saves y.
template <class T>
struct Exp : Unary<T, Exp<T>> {
  static Var<T> apply(const Var<T>& a) {
    return Unary<T, Exp<T>>::record(a, ember::exp(a.data()), false, true);
  }
  Tensor<T> grad(const Tensor<T>& dy) { return dy * this->y; }
  const char* name() const override { return "exp"; }
};

// y = log(x): dx = dy / x. Saves x.
template <class T>
struct Log : Unary<T, Log<T>> {
  static Var<T> apply(const Var<T>& a) {
    return Unary<T, Log<T>>::record(a, ember::log(a.data()), true, false);
  }
  Tensor<T> grad(const Tensor<T>& dy) { return dy / this->x; }
  const char* name() const override { return "log"; }
};

// y = tanh(x): dx = dy·(1 - y²). Saves y.
template <class T>
struct Tanh : Unary<T, Tanh<T>> {
  static Var<T> apply(const Var<T>& a) {
    return Unary<T, Tanh<T>>::record(a, ember::tanh(a.data()), false, true);
  }
  Tensor<T> grad(const Tensor<T>& dy) { return dy * (T(1) - this->y * this->y); }
  const char* name() const override { return "tanh"; }
};

// y = sigmoid(x): dx = dy·y·(1 - y). Saves y.
template <class T>
struct Sigmoid : Unary<T, Sigmoid<T>> {
  static Var<T> apply(const Var<T>& a) {
    return Unary<T, Sigmoid<T>>::record(a, ember::sigmoid(a.data()), false, true);
  }
  Tensor<T> grad(const Tensor<T>& dy) { return dy * this->y * (T(1) - this->y); }
  const char* name() const override { return "sigmoid"; }
};

// y = relu(x): dx = dy where x > 0 (0 at x = 0, as PyTorch). Saves x.
template <class T>
struct Relu : Unary<T, Relu<T>> {
  static Var<T> apply(const Var<T>& a) {
    return Unary<T, Relu<T>>::record(a, ember::relu(a.data()), true, false);
  }
  Tensor<T> grad(const Tensor<T>& dy) { return where(this->x > T(0), dy, T(0)); }
  const char* name() const override { return "relu"; }
};

}  // namespace ops

template <FloatingScalar T>
Var<T> operator+(const Var<T>& a, const Var<T>& b) {
  return ops::Add<T>::apply(a, b);
}
template <FloatingScalar T>
Var<T> operator-(const Var<T>& a, const Var<T>& b) {
  return ops::Sub<T>::apply(a, b);
}
template <FloatingScalar T>
Var<T> operator*(const Var<T>& a, const Var<T>& b) {
  return ops::Mul<T>::apply(a, b);
}
template <FloatingScalar T>
Var<T> operator/(const Var<T>& a, const Var<T>& b) {
  return ops::Div<T>::apply(a, b);
}
template <FloatingScalar T>
Var<T> operator-(const Var<T>& a) {
  return ops::Neg<T>::apply(a);
}
// Scalars enter the graph as constants (no gradient).
template <FloatingScalar T, class S>
requires std::is_arithmetic_v<S> Var<T>
operator+(const Var<T>& a, S s) {
  return a + Var<T>(scalar_tensor<T>(static_cast<T>(s)));
}
template <FloatingScalar T, class S>
requires std::is_arithmetic_v<S> Var<T>
operator*(const Var<T>& a, S s) {
  return a * Var<T>(scalar_tensor<T>(static_cast<T>(s)));
}
template <FloatingScalar T, class S>
requires std::is_arithmetic_v<S> Var<T>
operator-(const Var<T>& a, S s) {
  return a - Var<T>(scalar_tensor<T>(static_cast<T>(s)));
}
template <FloatingScalar T, class S>
requires std::is_arithmetic_v<S> Var<T>
operator/(const Var<T>& a, S s) {
  return a / Var<T>(scalar_tensor<T>(static_cast<T>(s)));
}

template <FloatingScalar T>
Var<T> exp(const Var<T>& a) {
  return ops::Exp<T>::apply(a);
}
template <FloatingScalar T>
Var<T> log(const Var<T>& a) {
  return ops::Log<T>::apply(a);
}
template <FloatingScalar T>
Var<T> tanh(const Var<T>& a) {
  return ops::Tanh<T>::apply(a);
}
template <FloatingScalar T>
Var<T> sigmoid(const Var<T>& a) {
  return ops::Sigmoid<T>::apply(a);
}
template <FloatingScalar T>
Var<T> relu(const Var<T>& a) {
  return ops::Relu<T>::apply(a);
}

}  // namespace ember
