// ember/kernels/compare.hpp — whole-tensor comparisons: equal, allclose, isclose.
// Layer: kernels. Tolerances follow numpy.isclose: |a - b| <= atol + rtol * |b| (asymmetric in b),
// with NaN equal to NaN only when equal_nan is set; infinities are close only to themselves.
#pragma once

#include <cmath>

#include "ember/kernels/elementwise.hpp"
#include "ember/kernels/reduce.hpp"

namespace ember {

/// True when a and b have the same shape and the same elements (NaN ≠ NaN), like torch.equal.
template <Scalar T>
bool equal(const Tensor<T>& a, const Tensor<T>& b) {
  if (a.shape() != b.shape()) return false;
  return all(eq(a, b)).item();
}

/// Element-wise |a - b| <= atol + rtol·|b|, with broadcasting.
template <FloatingScalar T>
Tensor<bool> isclose(const Tensor<T>& a, const Tensor<T>& b, double rtol = 1e-5, double atol = 1e-8,
                     bool equal_nan = false) {
  return detail::map2<bool>(a, b, "isclose", [=](auto x, auto y) {
    double dx = static_cast<double>(x), dy = static_cast<double>(y);
    if (std::isnan(dx) || std::isnan(dy)) return equal_nan && std::isnan(dx) && std::isnan(dy);
    if (std::isinf(dx) || std::isinf(dy)) return dx == dy;
    return std::fabs(dx - dy) <= atol + rtol * std::fabs(dy);
  });
}

/// True when every element pair is close (numpy.allclose); shapes must broadcast.
template <FloatingScalar T>
bool allclose(const Tensor<T>& a, const Tensor<T>& b, double rtol = 1e-5, double atol = 1e-8,
              bool equal_nan = false) {
  return all(isclose(a, b, rtol, atol, equal_nan)).item();
}

}  // namespace ember
