// ember/autograd/ops/elementwise.hpp — differentiable element-wise ops on Var, with broadcasting.
// Layer: autograd. One struct per op: forward (apply) and backward side by side, and the tensors
// backward needs saved as named members. Broadcast operands get their gradient summed back to
// their own shape (sum_to).
#pragma once

#include "ember/autograd/function.hpp"
#include "ember/core/factory.hpp"
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
    return detail::attach<T>(std::move(out), std::move(n), {&x, &y});
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
    return detail::attach<T>(std::move(out), std::move(n), {&x, &y});
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
    return detail::attach<T>(std::move(out), std::move(n), {&a, &b});
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
    return detail::attach<T>(std::move(out), std::move(n), {&a, &b});
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
    return detail::attach<T>(std::move(out), std::move(n), {&a});
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

// y = |x|: dx = dy·sign(x), 0 at x = 0 (as PyTorch). Saves x.
template <class T>
struct Abs : Unary<T, Abs<T>> {
  static Var<T> apply(const Var<T>& a) {
    return Unary<T, Abs<T>>::record(a, ember::abs(a.data()), true, false);
  }
  Tensor<T> grad(const Tensor<T>& dy) {
    using CT = compute_t<T>;
    return detail::map2<T>(dy, this->x, "abs", [](CT g, CT v) {
      return v > CT(0) ? g : (v < CT(0) ? -g : CT(0));
    });
  }
  const char* name() const override { return "abs"; }
};

// y = x²: dx = 2x·dy. Saves x.
template <class T>
struct Square : Unary<T, Square<T>> {
  static Var<T> apply(const Var<T>& a) {
    return Unary<T, Square<T>>::record(a, ember::square(a.data()), true, false);
  }
  Tensor<T> grad(const Tensor<T>& dy) { return dy * this->x * T(2); }
  const char* name() const override { return "square"; }
};

// y = √x: dx = dy / (2y). Saves y.
template <class T>
struct Sqrt : Unary<T, Sqrt<T>> {
  static Var<T> apply(const Var<T>& a) {
    return Unary<T, Sqrt<T>>::record(a, ember::sqrt(a.data()), false, true);
  }
  Tensor<T> grad(const Tensor<T>& dy) { return dy / (this->y * T(2)); }
  const char* name() const override { return "sqrt"; }
};

// y = 1/√x: dx = −dy·y³/2. Saves y.
template <class T>
struct Rsqrt : Unary<T, Rsqrt<T>> {
  static Var<T> apply(const Var<T>& a) {
    return Unary<T, Rsqrt<T>>::record(a, ember::rsqrt(a.data()), false, true);
  }
  Tensor<T> grad(const Tensor<T>& dy) { return dy * this->y * this->y * this->y * T(-0.5); }
  const char* name() const override { return "rsqrt"; }
};

// y = log(1 + x): dx = dy / (1 + x). Saves x.
template <class T>
struct Log1p : Unary<T, Log1p<T>> {
  static Var<T> apply(const Var<T>& a) {
    return Unary<T, Log1p<T>>::record(a, ember::log1p(a.data()), true, false);
  }
  Tensor<T> grad(const Tensor<T>& dy) { return dy / (this->x + T(1)); }
  const char* name() const override { return "log1p"; }
};

// y = sin x: dx = dy·cos x. Saves x.
template <class T>
struct Sin : Unary<T, Sin<T>> {
  static Var<T> apply(const Var<T>& a) {
    return Unary<T, Sin<T>>::record(a, ember::sin(a.data()), true, false);
  }
  Tensor<T> grad(const Tensor<T>& dy) { return dy * ember::cos(this->x); }
  const char* name() const override { return "sin"; }
};

// y = cos x: dx = −dy·sin x. Saves x.
template <class T>
struct Cos : Unary<T, Cos<T>> {
  static Var<T> apply(const Var<T>& a) {
    return Unary<T, Cos<T>>::record(a, ember::cos(a.data()), true, false);
  }
  Tensor<T> grad(const Tensor<T>& dy) { return neg(dy * ember::sin(this->x)); }
  const char* name() const override { return "cos"; }
};

// y = x^p for a constant p: dx = dy·p·x^(p−1) (0 where p = 0). Saves x.
template <class T>
struct PowScalar : Unary<T, PowScalar<T>> {
  double p = 1;
  static Var<T> apply(const Var<T>& a, double p) {
    Var<T> out = Unary<T, PowScalar<T>>::record(a, ember::pow(a.data(), p), true, false);
    if (out.grad_fn()) static_cast<PowScalar*>(out.grad_fn().get())->p = p;
    return out;
  }
  Tensor<T> grad(const Tensor<T>& dy) {
    if (p == 0) return zeros<T>(dy.shape());
    using CT = compute_t<T>;
    const CT pc = static_cast<CT>(p), pm1 = static_cast<CT>(p - 1);
    return detail::map2<T>(dy, this->x, "pow",
                           [pc, pm1](CT g, CT v) { return g * pc * std::pow(v, pm1); });
  }
  const char* name() const override { return "pow"; }
};

// z = a^b (broadcasting): da = dz·b·a^(b−1), db = dz·z·log a. Saves a, b and z.
template <class T>
struct Pow : Node<T> {
  Tensor<T> a, b, z;
  static Var<T> apply(const Var<T>& x, const Var<T>& y) {
    Tensor<T> out = ember::pow(x.data(), y.data());
    if (!detail::needs_graph<T>(x, y)) return Var<T>(out);
    auto n = std::make_shared<Pow>();
    n->a = x.data();
    n->b = y.data();
    n->z = out;
    return detail::attach<T>(std::move(out), std::move(n), {&x, &y});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dz) override {
    using CT = compute_t<T>;
    Tensor<T> da, db;
    if (this->needs_grad[0]) {
      Tensor<T> d = detail::map2<T>(a, b, "pow", [](CT u, CT v) {
        return v == CT(0) ? CT(0) : v * std::pow(u, v - CT(1));
      });
      da = detail::sum_to(dz * d, a.shape());
    }
    if (this->needs_grad[1]) {
      // PyTorch's convention: the b-gradient is 0 where a = 0 and b ≥ 0 (z is 0 or 1 there).
      Tensor<T> d = detail::map2<T>(a, z, "pow", [](CT u, CT w) {
        return u == CT(0) ? CT(0) : w * std::log(u);
      });
      db = detail::sum_to(dz * d, b.shape());
    }
    return {da, db};
  }
  const char* name() const override { return "pow"; }
  void release_saved() override { a = b = z = Tensor<T>(); }
};

// z = maximum(a, b) or minimum(a, b): the gradient goes to the operand chosen; ties split it
// half and half (as PyTorch). Saves a and b.
template <class T, bool IsMax>
struct Extremum2 : Node<T> {
  Tensor<T> a, b;
  static Var<T> apply(const Var<T>& x, const Var<T>& y) {
    Tensor<T> out = IsMax ? ember::maximum(x.data(), y.data()) : ember::minimum(x.data(), y.data());
    if (!detail::needs_graph<T>(x, y)) return Var<T>(out);
    auto n = std::make_shared<Extremum2>();
    n->a = x.data();
    n->b = y.data();
    return detail::attach<T>(std::move(out), std::move(n), {&x, &y});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dz) override {
    using CT = compute_t<T>;
    // Share of dz that goes to a: 1 where a wins, ½ on a tie, 0 where b wins.
    Tensor<T> wa = detail::map2<T>(a, b, name(), [](CT u, CT v) {
      return u == v ? CT(0.5) : ((IsMax ? u > v : u < v) ? CT(1) : CT(0));
    });
    Tensor<T> da, db;
    if (this->needs_grad[0]) da = detail::sum_to(dz * wa, a.shape());
    if (this->needs_grad[1]) db = detail::sum_to(dz * (T(1) - wa), b.shape());
    return {da, db};
  }
  const char* name() const override { return IsMax ? "maximum" : "minimum"; }
  void release_saved() override { a = b = Tensor<T>(); }
};

// y = clamp(x, lo, hi): dx = dy where lo ≤ x ≤ hi, else 0 (as PyTorch). Saves x.
template <class T>
struct Clamp : Unary<T, Clamp<T>> {
  T lo{}, hi{};
  static Var<T> apply(const Var<T>& a, T lo, T hi) {
    EMBER_CHECK(!(hi < lo), "clamp", "lower bound ", lo, " exceeds upper bound ", hi);
    Var<T> out = Unary<T, Clamp<T>>::record(a, ember::clamp(a.data(), lo, hi), true, false);
    if (out.grad_fn()) {
      auto* n = static_cast<Clamp*>(out.grad_fn().get());
      n->lo = lo;
      n->hi = hi;
    }
    return out;
  }
  Tensor<T> grad(const Tensor<T>& dy) {
    using CT = compute_t<T>;
    const CT l = static_cast<CT>(lo), h = static_cast<CT>(hi);
    return detail::map2<T>(dy, this->x, "clamp",
                           [l, h](CT g, CT v) { return (v >= l && v <= h) ? g : CT(0); });
  }
  const char* name() const override { return "clamp"; }
};

// z = where(cond, a, b): da = dz where cond, db = dz elsewhere (each summed to its shape).
template <class T>
struct Where : Node<T> {
  Tensor<bool> cond;
  Shape a_shape, b_shape;
  static Var<T> apply(const Tensor<bool>& c, const Var<T>& x, const Var<T>& y) {
    Tensor<T> out = ember::where(c, x.data(), y.data());
    if (!detail::needs_graph<T>(x, y)) return Var<T>(out);
    auto n = std::make_shared<Where>();
    n->cond = c;
    n->a_shape = x.shape();
    n->b_shape = y.shape();
    return detail::attach<T>(std::move(out), std::move(n), {&x, &y});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dz) override {
    Tensor<T> da, db;
    if (this->needs_grad[0]) da = detail::sum_to(ember::where(cond, dz, T(0)), a_shape);
    if (this->needs_grad[1]) db = detail::sum_to(ember::where(cond, T(0), dz), b_shape);
    return {da, db};
  }
  const char* name() const override { return "where"; }
  void release_saved() override { cond = Tensor<bool>(); }
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

// Scalar on the left: s + a, s · a, s − a, s / a.
template <FloatingScalar T, class S>
requires std::is_arithmetic_v<S> Var<T>
operator+(S s, const Var<T>& a) {
  return Var<T>(scalar_tensor<T>(static_cast<T>(s))) + a;
}
template <FloatingScalar T, class S>
requires std::is_arithmetic_v<S> Var<T>
operator*(S s, const Var<T>& a) {
  return Var<T>(scalar_tensor<T>(static_cast<T>(s))) * a;
}
template <FloatingScalar T, class S>
requires std::is_arithmetic_v<S> Var<T>
operator-(S s, const Var<T>& a) {
  return Var<T>(scalar_tensor<T>(static_cast<T>(s))) - a;
}
template <FloatingScalar T, class S>
requires std::is_arithmetic_v<S> Var<T>
operator/(S s, const Var<T>& a) {
  return Var<T>(scalar_tensor<T>(static_cast<T>(s))) / a;
}

template <FloatingScalar T>
Var<T> abs(const Var<T>& a) {
  return ops::Abs<T>::apply(a);
}
template <FloatingScalar T>
Var<T> square(const Var<T>& a) {
  return ops::Square<T>::apply(a);
}
template <FloatingScalar T>
Var<T> sqrt(const Var<T>& a) {
  return ops::Sqrt<T>::apply(a);
}
template <FloatingScalar T>
Var<T> rsqrt(const Var<T>& a) {
  return ops::Rsqrt<T>::apply(a);
}
template <FloatingScalar T>
Var<T> log1p(const Var<T>& a) {
  return ops::Log1p<T>::apply(a);
}
template <FloatingScalar T>
Var<T> sin(const Var<T>& a) {
  return ops::Sin<T>::apply(a);
}
template <FloatingScalar T>
Var<T> cos(const Var<T>& a) {
  return ops::Cos<T>::apply(a);
}
/// a^p for a constant exponent.
template <FloatingScalar T>
Var<T> pow(const Var<T>& a, double p) {
  return ops::PowScalar<T>::apply(a, p);
}
/// a^b element-wise, with broadcasting.
template <FloatingScalar T>
Var<T> pow(const Var<T>& a, const Var<T>& b) {
  return ops::Pow<T>::apply(a, b);
}
template <FloatingScalar T>
Var<T> maximum(const Var<T>& a, const Var<T>& b) {
  return ops::Extremum2<T, true>::apply(a, b);
}
template <FloatingScalar T>
Var<T> minimum(const Var<T>& a, const Var<T>& b) {
  return ops::Extremum2<T, false>::apply(a, b);
}
template <FloatingScalar T>
Var<T> clamp(const Var<T>& a, T lo, T hi) {
  return ops::Clamp<T>::apply(a, lo, hi);
}
/// a where cond is true, b elsewhere (all three broadcast together).
template <FloatingScalar T>
Var<T> where(const Tensor<bool>& cond, const Var<T>& a, const Var<T>& b) {
  return ops::Where<T>::apply(cond, a, b);
}

}  // namespace ember
