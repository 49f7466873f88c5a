// ember/autograd/gradcheck.hpp — compares analytic gradients with central finite differences.
// Layer: autograd. For f: inputs → output, the check backpropagates L = Σ w ⊙ f(inputs) with a
// fixed random w (so every output element matters) and compares dL/dx_i with
// (L(x_i + eps) - L(x_i - eps)) / 2eps for every element of every input that requires grad,
// through its strides (non-contiguous inputs are perturbed in place). Use double: with
// eps = 1e-6 the truncation error is O(eps²) and the rounding error O(1e-16/eps) ≈ 1e-10.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "ember/autograd/engine.hpp"
#include "ember/autograd/ops/elementwise.hpp"
#include "ember/autograd/ops/reduce.hpp"
#include "ember/core/factory.hpp"

namespace ember {

/// Outcome of gradcheck: ok, and the worst mismatch found (described).
struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;
  std::string message;
};

/// Checks f's gradients with respect to every input that requires grad.
///
///     auto r = ember::gradcheck<double>([](auto& in) { return ember::tanh(in[0]); }, {x});
///     EXPECT_TRUE(r.ok) << r.message;
template <FloatingScalar T>
GradcheckResult gradcheck(const std::function<Var<T>(const std::vector<Var<T>>&)>& f,
                          const std::vector<Var<T>>& inputs, double eps = 1e-6, double atol = 1e-7,
                          double rtol = 1e-5) {
  GradcheckResult result;
  Var<T> out = f(inputs);
  Generator gen(0x9e3779b9);
  const Var<T> w(uniform<T>(out.shape(), 0.5, 1.5, gen));
  auto loss_of = [&](const std::vector<Var<T>>& in) {
    NoGradGuard no_grad;
    return static_cast<double>(sum(f(in) * w).item());
  };
  for (const Var<T>& x : inputs) {
    if (x.requires_grad()) x.zero_grad();
  }
  sum(out * w).backward();

  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Var<T>& x = inputs[k];
    if (!x.requires_grad()) continue;
    const Tensor<T>& data = x.data();
    const Tensor<T> analytic = x.has_grad() ? x.grad() : zeros<T>(data.shape());
    // Walk the elements in logical order through the strides.
    const Shape& shape = data.shape();
    std::vector<std::int64_t> idx(static_cast<std::size_t>(shape.rank()), 0);
    for (std::int64_t flat = 0; flat < data.numel(); ++flat) {
      std::int64_t off = 0, rem = flat;
      for (int d = shape.rank() - 1; d >= 0; --d) {
        idx[static_cast<std::size_t>(d)] = rem % shape[d];
        rem /= shape[d];
        off += idx[static_cast<std::size_t>(d)] * data.strides()[d];
      }
      T* p = data.data() + off;
      const T saved = *p;
      *p = static_cast<T>(saved + eps);
      const double plus = loss_of(inputs);
      *p = static_cast<T>(saved - eps);
      const double minus = loss_of(inputs);
      *p = saved;
      const double numeric = (plus - minus) / (2 * eps);
      const double got = static_cast<double>(analytic.contiguous().data()[flat]);
      const double err = std::fabs(got - numeric);
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (err > atol + rtol * std::fabs(numeric) && result.ok) {
        result.ok = false;
        result.message = detail::cat("input ", k, " element ", flat, ": analytic ", got,
                                     " vs numeric ", numeric);
      }
    }
  }
  return result;
}

}  // namespace ember
