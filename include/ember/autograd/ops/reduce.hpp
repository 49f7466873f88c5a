// ember/autograd/ops/reduce.hpp — differentiable reductions over any axes: sum, mean, prod,
// max, min, var, std.
// Layer: autograd. The gradient of a reduction broadcasts dout back over the reduced axes
// (viewed with the reduced dims kept as 1: plan.kd_shape), times the local derivative.
#pragma once

#include "ember/autograd/function.hpp"
#include "ember/kernels/elementwise.hpp"
#include "ember/kernels/reduce.hpp"

namespace ember {

namespace ops {

template <class T>
struct SumMean : Node<T> {
  Shape x_shape;
  detail::ReducePlan plan;
  bool mean = false;
  static Var<T> apply(const Var<T>& x, const Axes& axes, bool keepdim, bool is_mean) {
    Tensor<T> out =
        is_mean ? ember::mean(x.data(), axes, keepdim) : ember::sum(x.data(), axes, keepdim);
    if (!detail::needs_graph<T>(x)) return Var<T>(out);
    auto n = std::make_shared<SumMean>();
    n->x_shape = x.shape();
    n->plan = detail::plan_reduction(x.shape(), axes, keepdim, is_mean ? "mean" : "sum");
    n->mean = is_mean;
    return detail::attach<T>(std::move(out), std::move(n), {&x});
  }
  // dout: out_shape → view as kd_shape (reduced dims kept as 1) → broadcast to x's shape.
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    Tensor<T> g = dout.reshape(plan.kd_shape).expand(x_shape).contiguous();
    if (mean) g = g / static_cast<T>(plan.count);
    return {g};
  }
  const char* name() const override { return mean ? "mean" : "sum"; }
  void release_saved() override {}
};

// y = prod(x): dx_i = dy · Π_{j≠i} x_j, computed without dividing by x_i so zeros are exact:
// with z zeros in a group, the product of the non-zeros p, dx_i = p/x_i (z = 0), p at the zero
// (z = 1), and 0 otherwise. Saves x.
template <class T>
struct Prod : Node<T> {
  Tensor<T> x;
  Axes axes;
  detail::ReducePlan plan;
  static Var<T> apply(const Var<T>& in, const Axes& axes, bool keepdim) {
    Tensor<T> out = ember::prod(in.data(), axes, keepdim);
    if (!detail::needs_graph<T>(in)) return Var<T>(out);
    auto n = std::make_shared<Prod>();
    n->x = in.data();
    n->axes = axes;
    n->plan = detail::plan_reduction(in.shape(), axes, keepdim, "prod");
    return detail::attach<T>(std::move(out), std::move(n), {&in});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    Tensor<bool> is_zero = x == T(0);
    Tensor<T> nonzero_prod = ember::prod(where(is_zero, T(1), x), axes, true);
    Tensor<T> zero_count = ember::sum(where(is_zero, T(1), T(0)), axes, true);
    using CT = compute_t<T>;
    Tensor<T> others = detail::map3<T>(x, nonzero_prod, zero_count, "prod", [](CT v, CT p, CT z) {
      if (z == CT(0)) return p / v;
      return (z == CT(1) && v == CT(0)) ? p : CT(0);
    });
    return {others * dout.reshape(plan.kd_shape)};
  }
  const char* name() const override { return "prod"; }
  void release_saved() override { x = Tensor<T>(); }
};

// y = max(x) or min(x) over axes: the gradient is shared evenly among the elements equal to
// the extremum (torch.amax's rule: ties split it). Saves x and y (with kept dims).
template <class T, bool IsMax>
struct ExtremumReduce : Node<T> {
  Tensor<T> x, y_kd;
  Axes axes;
  detail::ReducePlan plan;
  static Var<T> apply(const Var<T>& in, const Axes& axes, bool keepdim) {
    Tensor<T> out =
        IsMax ? ember::max(in.data(), axes, keepdim) : ember::min(in.data(), axes, keepdim);
    if (!detail::needs_graph<T>(in)) return Var<T>(out);
    auto n = std::make_shared<ExtremumReduce>();
    n->x = in.data();
    n->axes = axes;
    n->plan = detail::plan_reduction(in.shape(), axes, keepdim, IsMax ? "max" : "min");
    n->y_kd = out.reshape(n->plan.kd_shape);
    return detail::attach<T>(std::move(out), std::move(n), {&in});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    Tensor<T> hit = where(x == y_kd, T(1), T(0));
    Tensor<T> ties = ember::sum(hit, axes, true);
    return {hit * (dout.reshape(plan.kd_shape) / ties)};
  }
  const char* name() const override { return IsMax ? "max" : "min"; }
  void release_saved() override { x = y_kd = Tensor<T>(); }
};

// v = Σ (x − mean)² / (N − c): dx = dv · 2(x − mean) / (N − c). With `std` (s = √v):
// dx = ds · (x − mean) / ((N − c)·s). Saves x − mean and, for std, s.
template <class T>
struct VarStd : Node<T> {
  Tensor<T> centered, s_kd;
  detail::ReducePlan plan;
  double denom = 1;
  bool is_std = false;
  static Var<T> apply(const Var<T>& in, const Axes& axes, std::int64_t correction, bool keepdim,
                      bool is_std) {
    Tensor<T> out = is_std ? ember::std(in.data(), axes, correction, keepdim)
                           : ember::var(in.data(), axes, correction, keepdim);
    if (!detail::needs_graph<T>(in)) return Var<T>(out);
    auto n = std::make_shared<VarStd>();
    n->plan = detail::plan_reduction(in.shape(), axes, keepdim, is_std ? "std" : "var");
    n->centered = in.data() - ember::mean(in.data(), axes, true);
    n->denom = static_cast<double>(std::max<std::int64_t>(n->plan.count - correction, 0));
    n->is_std = is_std;
    if (is_std) n->s_kd = out.reshape(n->plan.kd_shape);
    return detail::attach<T>(std::move(out), std::move(n), {&in});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    Tensor<T> g = dout.reshape(plan.kd_shape);
    if (is_std) return {centered * (g / s_kd) / static_cast<T>(denom)};
    return {centered * g * static_cast<T>(2.0 / denom)};
  }
  const char* name() const override { return is_std ? "std" : "var"; }
  void release_saved() override { centered = s_kd = Tensor<T>(); }
};

}  // namespace ops

/// Differentiable sum over `axes` (all if empty).
template <FloatingScalar T>
Var<T> sum(const Var<T>& x, const Axes& axes = {}, bool keepdim = false) {
  return ops::SumMean<T>::apply(x, axes, keepdim, false);
}
/// Differentiable mean over `axes` (all if empty).
template <FloatingScalar T>
Var<T> mean(const Var<T>& x, const Axes& axes = {}, bool keepdim = false) {
  return ops::SumMean<T>::apply(x, axes, keepdim, true);
}

/// Differentiable product over `axes` (all if empty); exact at zeros.
template <FloatingScalar T>
Var<T> prod(const Var<T>& x, const Axes& axes = {}, bool keepdim = false) {
  return ops::Prod<T>::apply(x, axes, keepdim);
}
/// Differentiable maximum over `axes` (all if empty); ties share the gradient.
template <FloatingScalar T>
Var<T> max(const Var<T>& x, const Axes& axes = {}, bool keepdim = false) {
  return ops::ExtremumReduce<T, true>::apply(x, axes, keepdim);
}
/// Differentiable minimum over `axes` (all if empty); ties share the gradient.
template <FloatingScalar T>
Var<T> min(const Var<T>& x, const Axes& axes = {}, bool keepdim = false) {
  return ops::ExtremumReduce<T, false>::apply(x, axes, keepdim);
}
/// Differentiable variance (correction 1: unbiased, as PyTorch).
template <FloatingScalar T>
Var<T> var(const Var<T>& x, const Axes& axes = {}, std::int64_t correction = 1,
           bool keepdim = false) {
  return ops::VarStd<T>::apply(x, axes, correction, keepdim, false);
}
/// Differentiable standard deviation.
template <FloatingScalar T>
Var<T> std(const Var<T>& x, const Axes& axes = {}, std::int64_t correction = 1,
           bool keepdim = false) {
  return ops::VarStd<T>::apply(x, axes, correction, keepdim, true);
}

}  // namespace ember
