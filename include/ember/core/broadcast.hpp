// ember/core/broadcast.hpp — NumPy broadcasting of shapes and strides.
// Layer: core. Rules (NumPy): align shapes at the right; two dims are compatible when equal or
// when one is 1; the result takes the other. A broadcast dim of size 1 gets stride 0, so a view
// with the target shape reads the same element along it. Size 0 broadcasts with 1 (result 0).
#pragma once

#include <string_view>

#include "ember/core/shape.hpp"

namespace ember {

/// The broadcast of two shapes, or ember::Error "op: cannot broadcast [2,3] with [4,3]".
inline Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op = "broadcast") {
  int rank = std::max(a.rank(), b.rank());
  Shape out = Shape::filled(rank, 1);
  for (int i = 0; i < rank; ++i) {
    int ia = a.rank() - rank + i, ib = b.rank() - rank + i;
    std::int64_t da = ia >= 0 ? a[ia] : 1;
    std::int64_t db = ib >= 0 ? b[ib] : 1;
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else {
      detail::fail(op, "cannot broadcast ", a, " with ", b);
    }
  }
  return out;
}

/// Can `from` be broadcast to exactly `to` (without changing `to`)?
inline bool broadcastable_to(const Shape& from, const Shape& to) {
  if (from.rank() > to.rank()) return false;
  int lead = to.rank() - from.rank();
  for (int i = 0; i < from.rank(); ++i) {
    if (from[i] != to[lead + i] && from[i] != 1) return false;
  }
  return true;
}

/// Strides that view (shape, strides) as `target` (which `shape` must broadcast to): leading
/// new dims and broadcast size-1 dims get stride 0.
inline Strides broadcast_strides(const Shape& shape, const Strides& strides, const Shape& target) {
  Strides out = Shape::filled(target.rank(), 0);
  int lead = target.rank() - shape.rank();
  for (int i = 0; i < shape.rank(); ++i) {
    out[lead + i] = (shape[i] == 1 && target[lead + i] != 1) ? 0 : strides[i];
  }
  return out;
}

}  // namespace ember
