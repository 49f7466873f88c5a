// ember/autograd/ops/reduce.hpp — differentiable sum and mean over any axes.
// Layer: autograd. The gradient of a reduction broadcasts dout back over the reduced axes
// (divided by the count for mean). Saves the input shape and the axes.
#pragma once

#include "ember/autograd/function.hpp"
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
    return detail::attach<T>(out, n, {&x});
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

}  // namespace ember
