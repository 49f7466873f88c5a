// ember/autograd/ops/shape.hpp — differentiable reshape and transpose.
// Layer: autograd. Both are views forward; backward applies the inverse view to dout.
#pragma once

#include "ember/autograd/function.hpp"
#include "ember/core/factory.hpp"
#include "ember/kernels/index.hpp"

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
    return detail::attach<T>(std::move(out), std::move(n), {&x});
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
    return detail::attach<T>(std::move(out), std::move(n), {&x});
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

namespace ember {

namespace ops {

// y = x.permute(axes); dx = dy.permute(inverse axes).
template <class T>
struct Permute : Node<T> {
  Axes inverse;
  static Var<T> apply(const Var<T>& x, const Axes& axes) {
    Tensor<T> out = x.data().permute(axes);
    if (!detail::needs_graph<T>(x)) return Var<T>(out);
    auto n = std::make_shared<Permute>();
    n->inverse = Shape::filled(axes.rank(), 0);
    for (int i = 0; i < axes.rank(); ++i) {
      n->inverse[normalize_axis(axes[i], axes.rank(), "permute")] = i;
    }
    return detail::attach<T>(std::move(out), std::move(n), {&x});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) override { return {dy.permute(inverse)}; }
  const char* name() const override { return "permute"; }
  void release_saved() override {}
};

// y = x.narrow(axis, start, length); dx = zeros with dy written into that slice.
template <class T>
struct Narrow : Node<T> {
  Shape x_shape;
  std::int64_t axis = 0, start = 0, length = 0;
  static Var<T> apply(const Var<T>& x, std::int64_t axis, std::int64_t start, std::int64_t length) {
    Tensor<T> out = x.data().narrow(axis, start, length);
    if (!detail::needs_graph<T>(x)) return Var<T>(out);
    auto n = std::make_shared<Narrow>();
    n->x_shape = x.shape();
    n->axis = axis;
    n->start = start;
    n->length = length;
    return detail::attach<T>(std::move(out), std::move(n), {&x});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) override {
    Tensor<T> dx = zeros<T>(x_shape);
    dx.narrow(axis, start, length).copy_(dy);
    return {dx};
  }
  const char* name() const override { return "narrow"; }
  void release_saved() override {}
};

// y = cat(xs, axis); dx_i = the slice of dy that x_i filled.
template <class T>
struct Cat : Node<T> {
  std::vector<std::int64_t> sizes;
  int axis = 0;
  static Var<T> apply(const std::vector<Var<T>>& xs, std::int64_t axis) {
    std::vector<Tensor<T>> parts;
    bool any_grad = false;
    for (const Var<T>& x : xs) {
      parts.push_back(x.data());
      any_grad = any_grad || x.requires_grad();
    }
    Tensor<T> out = ember::cat(parts, axis);
    if (!grad_enabled() || !any_grad) return Var<T>(out);
    auto n = std::make_shared<Cat>();
    n->axis = normalize_axis(axis, out.dim(), "cat");
    for (const Var<T>& x : xs) {
      n->sizes.push_back(x.shape()[n->axis]);
      n->needs_grad.push_back(x.requires_grad());
      n->inputs.push_back(x.requires_grad() ? x.impl() : nullptr);
    }
    return Var<T>::from_node(out, n);
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) override {
    std::vector<Tensor<T>> g;
    std::int64_t at = 0;
    for (std::int64_t s : sizes) {
      g.push_back(dy.narrow(axis, at, s).contiguous());
      at += s;
    }
    return g;
  }
  const char* name() const override { return "cat"; }
  void release_saved() override {}
};

// y = index_select(x, axis, ids); dx = index_add of dy into zeros (repeated ids add up).
template <class T>
struct IndexSelect : Node<T> {
  Shape x_shape;
  std::int64_t axis = 0;
  Tensor<std::int64_t> ids;
  static Var<T> apply(const Var<T>& x, std::int64_t axis, const Tensor<std::int64_t>& ids) {
    Tensor<T> out = ember::index_select(x.data(), axis, ids);
    if (!detail::needs_graph<T>(x)) return Var<T>(out);
    auto n = std::make_shared<IndexSelect>();
    n->x_shape = x.shape();
    n->axis = axis;
    n->ids = ids;
    return detail::attach<T>(std::move(out), std::move(n), {&x});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) override {
    Tensor<T> dx = zeros<T>(x_shape);
    ember::index_add_(dx, axis, ids, dy);
    return {dx};
  }
  const char* name() const override { return "index_select"; }
  void release_saved() override { ids = Tensor<std::int64_t>(); }
};

// y = gather(x, axis, index); dx = scatter_add of dy into zeros (repeated picks add up).
template <class T>
struct Gather : Node<T> {
  Shape x_shape;
  std::int64_t axis = 0;
  Tensor<std::int64_t> index;
  static Var<T> apply(const Var<T>& x, std::int64_t axis, const Tensor<std::int64_t>& index) {
    Tensor<T> out = ember::gather(x.data(), axis, index);
    if (!detail::needs_graph<T>(x)) return Var<T>(out);
    auto n = std::make_shared<Gather>();
    n->x_shape = x.shape();
    n->axis = axis;
    n->index = index;
    return detail::attach<T>(std::move(out), std::move(n), {&x});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) override {
    Tensor<T> dx = zeros<T>(x_shape);
    ember::scatter_add_(dx, axis, index, dy);
    return {dx};
  }
  const char* name() const override { return "gather"; }
  void release_saved() override { index = Tensor<std::int64_t>(); }
};

}  // namespace ops

/// Differentiable permute.
template <FloatingScalar T>
Var<T> permute(const Var<T>& x, const Axes& axes) {
  return ops::Permute<T>::apply(x, axes);
}
/// Differentiable narrow (a slice of `length` along `axis` from `start`).
template <FloatingScalar T>
Var<T> narrow(const Var<T>& x, std::int64_t axis, std::int64_t start, std::int64_t length) {
  return ops::Narrow<T>::apply(x, axis, start, length);
}
/// Differentiable concatenation along `axis`.
template <FloatingScalar T>
Var<T> cat(const std::vector<Var<T>>& xs, std::int64_t axis = 0) {
  return ops::Cat<T>::apply(xs, axis);
}
/// Differentiable stack along a new `axis`.
template <FloatingScalar T>
Var<T> stack(const std::vector<Var<T>>& xs, std::int64_t axis = 0) {
  EMBER_CHECK(!xs.empty(), "stack", "needs at least one tensor");
  const int ax = normalize_axis(axis, xs[0].dim() + 1, "stack");
  std::vector<Var<T>> lifted;
  for (const Var<T>& x : xs) {
    Shape s = x.shape();
    s.insert(ax, 1);
    lifted.push_back(reshape(x, s));
  }
  return cat(lifted, ax);
}
/// Differentiable index_select.
template <FloatingScalar T>
Var<T> index_select(const Var<T>& x, std::int64_t axis, const Tensor<std::int64_t>& ids) {
  return ops::IndexSelect<T>::apply(x, axis, ids);
}

/// Differentiable gather (torch.gather): out[p] = x[p with `axis` coordinate index[p]].
template <FloatingScalar T>
Var<T> gather(const Var<T>& x, std::int64_t axis, const Tensor<std::int64_t>& index) {
  return ops::Gather<T>::apply(x, axis, index);
}

}  // namespace ember
