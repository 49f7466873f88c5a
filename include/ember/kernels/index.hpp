// ember/kernels/index.hpp — joining and indexing: cat, stack, index_select, index_add_, gather,
// scatter_add_.
// Layer: kernels. Copies through views (copy_ handles any strides); results are contiguous.
#pragma once

#include <string_view>
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

namespace detail {

// Walks every position of `index` (rank r) and calls f(i, off_self, off_idx) where i is the
// index value read there and off_self the offset in `self` of the same position with the `ax`
// coordinate left at 0 — the shared loop of gather and scatter_add_. Checks shapes and range.
template <class T, class F>
void for_each_indexed(const Tensor<T>& self, int ax, const Tensor<std::int64_t>& index,
                      std::string_view op, F f) {
  const Shape& is = index.shape();
  EMBER_CHECK(is.rank() == self.dim(), op, "index ", is, " must have the rank of ", self.shape());
  for (int d = 0; d < is.rank(); ++d) {
    EMBER_CHECK(d == ax || is[d] <= self.shape()[d], op, "index ", is, " is larger than ",
                self.shape(), " in dimension ", d);
  }
  const std::int64_t n = index.numel(), limit = self.shape()[ax];
  std::int64_t coord[kMaxRank] = {};
  for (std::int64_t flat = 0; flat < n; ++flat) {
    std::int64_t off_self = 0, off_idx = 0;
    for (int d = 0; d < is.rank(); ++d) {
      off_idx += coord[d] * index.strides()[d];
      if (d != ax) off_self += coord[d] * self.strides()[d];
    }
    const std::int64_t i = index.data()[off_idx];
    EMBER_CHECK(i >= 0 && i < limit, op, "index ", i, " is out of range for dimension ", ax,
                " of size ", limit);
    f(i, off_self, flat);
    for (int d = is.rank() - 1; d >= 0; --d) {  // next coordinate, row-major
      if (++coord[d] < is[d]) break;
      coord[d] = 0;
    }
  }
}

}  // namespace detail

/// out[p] = x[p with its `axis` coordinate replaced by index[p]] (torch.gather); out has the
/// shape of `index`, which must have x's rank and be no larger in the other dims.
template <Scalar T>
Tensor<T> gather(const Tensor<T>& x, std::int64_t axis, const Tensor<std::int64_t>& index) {
  const int ax = normalize_axis(axis, x.dim(), "gather");
  Tensor<T> out = Tensor<T>::empty(index.shape());
  const std::int64_t step = x.strides()[ax];
  T* dst = out.data();
  const T* src = x.data();
  detail::for_each_indexed(x, ax, index, "gather",
                           [&](std::int64_t i, std::int64_t off, std::int64_t flat) {
                             dst[flat] = src[off + i * step];
                           });
  return out;
}

/// self[p with its `axis` coordinate replaced by index[p]] += src[p] (torch.scatter_add_), the
/// adjoint of gather; repeated targets add up. src has the shape of `index`.
template <Numeric T>
const Tensor<T>& scatter_add_(const Tensor<T>& self, std::int64_t axis,
                              const Tensor<std::int64_t>& index, const Tensor<T>& src) {
  const int ax = normalize_axis(axis, self.dim(), "scatter_add_");
  EMBER_CHECK(src.shape() == index.shape(), "scatter_add_", "source ", src.shape(),
              " does not match index ", index.shape());
  const Tensor<T> s = src.contiguous();
  const std::int64_t step = self.strides()[ax];
  T* dst = self.data();
  detail::for_each_indexed(self, ax, index, "scatter_add_",
                           [&](std::int64_t i, std::int64_t off, std::int64_t flat) {
                             dst[off + i * step] += s.data()[flat];
                           });
  return self;
}

}  // namespace ember
