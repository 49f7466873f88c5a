// ember/core/view.hpp — stride arithmetic behind views (reshape without copy, contiguity).
// Layer: core. Pure functions of (shape, strides); Tensor's view methods call them. Strides are
// in elements and never negative (slicing steps are positive, as in PyTorch).
#pragma once

#include <algorithm>
#include <limits>
#include <optional>
#include <string_view>

#include "ember/core/shape.hpp"

namespace ember::detail {

/// Row-major (C order) strides of a dense tensor of `shape`. Zero dims count as 1, so an empty
/// shape such as [0, 2^40, 2^40] passes checked_numel while the product of its other dims does
/// not fit: such strides saturate (an empty tensor never uses them) instead of overflowing.
inline Strides contiguous_strides(const Shape& shape) {
  Strides s = Shape::filled(shape.rank(), 1);
  std::int64_t acc = 1;
  for (int i = shape.rank() - 1; i >= 0; --i) {
    s[i] = acc;
    if (__builtin_mul_overflow(acc, std::max<std::int64_t>(shape[i], 1), &acc)) {
      acc = std::numeric_limits<std::int64_t>::max();
    }
  }
  return s;
}

/// Does (shape, strides) address its elements densely in row-major order? Size-1 dims may have
/// any stride; an empty tensor is contiguous.
inline bool is_contiguous(const Shape& shape, const Strides& strides) {
  // Empty first: the other dims of an empty shape may multiply past int64 ([0, 2^50, 2^52]).
  for (std::int64_t d : shape) {
    if (d == 0) return true;
  }
  std::int64_t expected = 1;
  for (int i = shape.rank() - 1; i >= 0; --i) {
    if (shape[i] == 1) continue;
    if (strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

/// Resolves a requested shape with at most one -1 against `numel` elements.
/// "reshape: shape [4,-1] is invalid for a tensor of 6 elements".
inline Shape infer_shape(const Shape& requested, std::int64_t numel, std::string_view op) {
  Shape out = requested;
  int infer = -1;
  std::int64_t known = 1;
  for (int i = 0; i < requested.rank(); ++i) {
    std::int64_t d = requested[i];
    if (d == -1) {
      if (infer >= 0) fail(op, "only one dimension can be -1, got ", requested);
      infer = i;
    } else if (d < 0) {
      fail(op, "invalid dimension ", d, " in shape ", requested);
    } else if (__builtin_mul_overflow(known, d, &known)) {
      fail(op, "shape ", requested, " has too many elements (size overflow)");
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel % known != 0) {
      fail(op, "shape ", requested, " is invalid for a tensor of ", numel, " elements");
    }
    out[infer] = numel / known;
  } else if (known != numel) {
    fail(op, "shape ", requested, " is invalid for a tensor of ", numel, " elements");
  }
  return out;
}

/// Strides that let (old_shape, old_strides) be seen as `new_shape` without moving data, or
/// nullopt when no such strides exist (then reshape must copy). The same element count is
/// assumed. The walk matches PyTorch's computeStride: split the old dims into runs that are
/// contiguous with each other ("chunks"), and require each chunk to map onto whole new dims.
inline std::optional<Strides> view_strides(const Shape& old_shape, const Strides& old_strides,
                                           const Shape& new_shape) {
  if (old_shape.rank() == 0 || old_shape.numel() == 0) return contiguous_strides(new_shape);
  Strides out = Shape::filled(new_shape.rank(), 0);
  int view_d = new_shape.rank() - 1;
  std::int64_t chunk_base_stride = old_strides.back();
  std::int64_t tensor_numel = 1, view_numel = 1;
  for (int tensor_d = old_shape.rank() - 1; tensor_d >= 0; --tensor_d) {
    tensor_numel *= old_shape[tensor_d];
    bool chunk_ends =
        tensor_d == 0 || (old_shape[tensor_d - 1] != 1 &&
                          old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
      out[view_d] = view_numel * chunk_base_stride;
      view_numel *= new_shape[view_d];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (tensor_d > 0) {
      chunk_base_stride = old_strides[tensor_d - 1];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

}  // namespace ember::detail
