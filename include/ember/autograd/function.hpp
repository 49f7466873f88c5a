// ember/autograd/function.hpp — helpers shared by the differentiable ops.
// Layer: autograd.
#pragma once

#include "ember/autograd/variable.hpp"
#include "ember/kernels/reduce.hpp"

namespace ember::detail {

/// Sums a broadcast gradient back to the shape of the operand it came from: over the leading
/// dims the operand lacked and over the dims where it had size 1 (the adjoint of broadcasting).
template <class T>
Tensor<T> sum_to(const Tensor<T>& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const int lead = g.dim() - shape.rank();
  Axes axes;
  for (int d = 0; d < g.dim(); ++d) {
    if (d < lead || (shape[d - lead] == 1 && g.shape()[d] != 1)) axes.push_back(d);
  }
  if (axes.empty()) return g.reshape(shape);
  return sum(g, axes, /*keepdim=*/true).reshape(shape);
}

}  // namespace ember::detail
