// ember/kernels/index.hpp — joining and indexing: cat, stack, index_select, index_add_.
// Layer: kernels. Copies through views (copy_ handles any strides); results are contiguous.
#pragma once

#include <vector>

#include "ember/core/tensor.hpp"
#include "ember/kernels/elementwise.hpp"

namespace ember {

/// Concatenates tensors along `axis`; all other dims must agree (numpy.concatenate).
template <Scalar T>
Tensor<T> cat(const std::vector<Tensor<T>>& parts, std::int64_t axis = 0) {
  EMBER_CHECK(!parts.empty(), "cat", "needs at least one tensor");
  const Shape& first = parts[0].shape();
  const int ax = normalize_axis(axis, first.rank(), "cat");
  Shape out_shape = first;
  out_shape[ax] = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const Shape& s = parts[i].shape();
    bool ok = s.rank() == first.rank();
    for (int d = 0; ok && d < s.rank(); ++d) ok = d == ax || s[d] == first[d];
    EMBER_CHECK(ok, "cat", "tensor ", i, " has shape ", s, ", incompatible with ", first,
                " along axis ", ax);
    out_shape[ax] += s[ax];
  }
  Tensor<T> out = Tensor<T>::empty(out_shape);
  std::int64_t at = 0;
  for (const Tensor<T>& p : parts) {
    out.narrow(ax, at, p.shape()[ax]).copy_(p);
    at += p.shape()[ax];
  }
  return out;
}

/// Stacks same-shaped tensors along a new axis (numpy.stack).
template <Scalar T>
Tensor<T> stack(const std::vector<Tensor<T>>& parts, std::int64_t axis = 0) {
  EMBER_CHECK(!parts.empty(), "stack", "needs at least one tensor");
  std::vector<Tensor<T>> lifted;
  const int ax = normalize_axis(axis, parts[0].dim() + 1, "stack");
  for (std::size_t i = 0; i < parts.size(); ++i) {
    EMBER_CHECK(parts[i].shape() == parts[0].shape(), "stack", "tensor ", i, " has shape ",
                parts[i].shape(), ", expected ", parts[0].shape());
    lifted.push_back(parts[i].unsqueeze(ax));
  }
  return cat(lifted, ax);
}

/// Slices of x at `ids` along `axis` (torch.index_select): out.size(axis) = ids.numel().
template <Scalar T>
Tensor<T> index_select(const Tensor<T>& x, std::int64_t axis, const Tensor<std::int64_t>& ids) {
  EMBER_CHECK(ids.dim() == 1, "index_select", "indices must be 1-D, got ", ids.shape());
  const int ax = normalize_axis(axis, x.dim(), "index_select");
  Shape out_shape = x.shape();
  out_shape[ax] = ids.numel();
  Tensor<T> out = Tensor<T>::empty(out_shape);
  for (std::int64_t i = 0; i < ids.numel(); ++i) {
    const std::int64_t id = ids(i);
    EMBER_CHECK(id >= 0 && id < x.shape()[ax], "index_select", "index ", id,
                " is out of range for ", "dimension ", ax, " of size ", x.shape()[ax]);
    out.select(ax, i).copy_(x.select(ax, id));
  }
  return out;
}

/// self[..., ids[i], ...] += src[..., i, ...] along `axis` (torch.index_add_); repeated ids add up.
template <Numeric T>
const Tensor<T>& index_add_(const Tensor<T>& self, std::int64_t axis,
                            const Tensor<std::int64_t>& ids, const Tensor<T>& src) {
  EMBER_CHECK(ids.dim() == 1, "index_add_", "indices must be 1-D, got ", ids.shape());
  const int ax = normalize_axis(axis, self.dim(), "index_add_");
  EMBER_CHECK(src.dim() == self.dim() && src.shape()[ax] == ids.numel(), "index_add_", "source ",
              src.shape(), " does not match ", ids.numel(), " indices into ", self.shape());
  for (std::int64_t i = 0; i < ids.numel(); ++i) {
    const std::int64_t id = ids(i);
    EMBER_CHECK(id >= 0 && id < self.shape()[ax], "index_add_", "index ", id,
                " is out of range for ", "dimension ", ax, " of size ", self.shape()[ax]);
    add_(self.select(ax, id), src.select(ax, i));
  }
  return self;
}

}  // namespace ember
