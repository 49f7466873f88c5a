// ember/core/tensor.hpp — Tensor<T>: an N-d strided view into shared Storage<T>.
// Layer: core. Invariants:
//   * shape and strides have the same rank (0 ≤ rank ≤ kMaxRank); strides are in elements, ≥ 0;
//   * every addressed element lies inside the storage (checked when a view is made);
//   * copying a Tensor copies the handle: views share storage and writes through one are seen
//     by all (shallow const, as in PyTorch: a `const Tensor&` still refers to mutable data).
// Views (slice, select, transpose, permute, view, squeeze, unsqueeze, expand) never copy;
// `reshape` views when the strides allow it and copies otherwise; `contiguous` copies only when
// the tensor is not already dense row-major; `clone` always copies.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <initializer_list>
#include <limits>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ember/core/broadcast.hpp"
#include "ember/core/dtype.hpp"
#include "ember/core/error.hpp"
#include "ember/core/iterate.hpp"
#include "ember/core/shape.hpp"
#include "ember/core/storage.hpp"
#include "ember/core/view.hpp"

namespace ember {

template <class T>
class Tensor;

namespace detail {

/// Converts one element from S to D the way NumPy's astype does, except that a float that an
/// integer type cannot hold (NaN, ±inf, out of range) raises instead of being undefined.
template <class D, class S>
D convert_scalar(S v, std::string_view op) {
  if constexpr (std::is_same_v<D, S>) {
    return v;
  } else if constexpr (std::is_same_v<D, bool>) {
    return static_cast<compute_t<S>>(v) != compute_t<S>{};
  } else if constexpr (std::is_same_v<D, bfloat16>) {
    return bfloat16(static_cast<float>(static_cast<compute_t<S>>(v)));
  } else if constexpr (IntegralScalar<D> && FloatingScalar<S>) {
    double x = static_cast<double>(static_cast<compute_t<S>>(v));
    constexpr double lo = static_cast<double>(std::numeric_limits<D>::min());
    constexpr double hi = -lo;  // 2^(bits-1), exclusive
    if (!(x > lo - 1.0 && x < hi)) [[unlikely]] {
      fail(op, "value ", x, " cannot be represented in ", dtype_name(dtype_of<D>));
    }
    return static_cast<D>(x);
  } else {
    return static_cast<D>(static_cast<compute_t<S>>(v));
  }
}

}  // namespace detail

/// A dense N-d array of T (bool, int32_t, int64_t, float, double or bfloat16).
///
///     ember::Tensor<float> a{{1, 2, 3}, {4, 5, 6}};   // shape [2,3]
///     auto col = a.select(1, 0);                      // view [1,4]
///     col.at(1) = 40;                                 // writes a(1,0)
template <class T>
class Tensor {
  static_assert(detail::is_scalar_v<T>,
                "ember::Tensor<T>: T must be one of bool, int32_t, int64_t, float, double, "
                "ember::bfloat16");

 public:
  using value_type = T;

  /// An empty 1-D tensor (shape [0]).
  Tensor() : shape_{0}, strides_{1} {}
  /// One value of a 1-D initializer list, converted to T. Taking it through this user-defined
  /// conversion (rather than as T) makes `{{1}, {2}}` resolve to the 2-D constructor (a column)
  /// instead of being ambiguous, and lets `{1, 2.5}` mix literal types.
  struct Element {
    T value;
    template <class U>
    requires(std::is_arithmetic_v<U> || std::is_same_v<U, T>) Element(U v)
        : value(static_cast<T>(v)) {}  // NOLINT(google-explicit-constructor)
  };

  /// 1-D from values: `Tensor<float>{1, 2, 3}`.
  Tensor(std::initializer_list<Element> values)
      : Tensor(empty({static_cast<std::int64_t>(values.size())})) {
    T* p = data();
    for (const Element& e : values) *p++ = e.value;
  }
  /// 2-D from rows: `Tensor<float>{{1, 2}, {3, 4}}`; `{{1}, {2}}` is a column. Ragged rows raise
  /// ember::Error.
  Tensor(std::initializer_list<std::initializer_list<T>> rows) {
    std::int64_t cols = rows.size() ? static_cast<std::int64_t>(rows.begin()->size()) : 0;
    *this = empty({static_cast<std::int64_t>(rows.size()), cols});
    T* p = data();
    for (auto& r : rows) {
      EMBER_CHECK(static_cast<std::int64_t>(r.size()) == cols, "Tensor",
                  "ragged initializer list: a row has ", r.size(), " elements, expected ", cols);
      p = std::copy(r.begin(), r.end(), p);
    }
  }
  /// 3-D from nested lists.
  Tensor(std::initializer_list<std::initializer_list<std::initializer_list<T>>> planes) {
    std::int64_t rows = planes.size() ? static_cast<std::int64_t>(planes.begin()->size()) : 0;
    std::int64_t cols = rows ? static_cast<std::int64_t>(planes.begin()->begin()->size()) : 0;
    *this = empty({static_cast<std::int64_t>(planes.size()), rows, cols});
    T* p = data();
    for (auto& pl : planes) {
      EMBER_CHECK(static_cast<std::int64_t>(pl.size()) == rows, "Tensor",
                  "ragged initializer list: a plane has ", pl.size(), " rows, expected ", rows);
      for (auto& r : pl) {
        EMBER_CHECK(static_cast<std::int64_t>(r.size()) == cols, "Tensor",
                    "ragged initializer list: a row has ", r.size(), " elements, expected ", cols);
        p = std::copy(r.begin(), r.end(), p);
      }
    }
  }

  /// A contiguous tensor of `shape` with uninitialised elements.
  static Tensor empty(const Shape& shape) {
    std::int64_t n = checked_numel(shape, "empty", sizeof(T));
    return Tensor(Storage<T>::allocate(n, "empty"), shape, detail::contiguous_strides(shape), 0);
  }

  /// A view of `storage` with the given geometry; ember::Error if it reaches outside.
  static Tensor from_storage(Storage<T> storage, const Shape& shape, const Strides& strides,
                             std::int64_t offset = 0) {
    EMBER_CHECK(shape.rank() == strides.rank(), "as_strided", "shape ", shape, " and strides ",
                strides, " differ in rank");
    checked_numel(shape, "as_strided", sizeof(T));
    std::int64_t last = offset;  // highest element index addressed
    bool empty_view = false;
    for (int d = 0; d < shape.rank(); ++d) {
      EMBER_CHECK(strides[d] >= 0, "as_strided", "negative stride in ", strides);
      if (shape[d] == 0)
        empty_view = true;
      else
        last += (shape[d] - 1) * strides[d];
    }
    EMBER_CHECK(offset >= 0 && (empty_view || last < storage.size()), "as_strided", "view ", shape,
                " with strides ", strides, " at offset ", offset, " needs ", last + 1,
                " elements but the storage holds ", storage.size());
    return Tensor(std::move(storage), shape, strides, offset);
  }

  // ---- geometry ------------------------------------------------------------------------------
  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  int dim() const { return shape_.rank(); }
  std::int64_t numel() const { return shape_.numel(); }
  /// Size of one dimension; negative `d` counts from the end.
  std::int64_t size(std::int64_t d) const { return shape_[normalize_axis(d, dim(), "size")]; }
  std::int64_t stride(std::int64_t d) const { return strides_[normalize_axis(d, dim(), "stride")]; }
  std::int64_t offset() const { return offset_; }
  const Storage<T>& storage() const { return storage_; }
  static constexpr DType dtype() { return dtype_of<T>; }
  std::int64_t nbytes() const { return numel() * static_cast<std::int64_t>(sizeof(T)); }
  bool is_contiguous() const { return detail::is_contiguous(shape_, strides_); }
  /// Pointer to element (0, ..., 0). Shallow const, as the rest of the handle. An empty tensor
  /// may have no storage at all (null) and still carry an offset from a view: null stays null.
  T* data() const {
    T* p = storage_.data();
    return p == nullptr ? p : p + offset_;
  }

  // ---- element access ------------------------------------------------------------------------
  /// Checked access; negative indices count from the end. `t.at(1, -1)`.
  template <std::integral... I>
  T& at(I... idx) const {
    std::int64_t ix[] = {static_cast<std::int64_t>(idx)..., 0};
    constexpr int n = sizeof...(I);
    EMBER_CHECK(n == dim(), "at", "expected ", dim(), " indices for a tensor of shape ", shape_,
                ", got ", n);
    std::int64_t off = offset_;
    for (int d = 0; d < n; ++d) {
      std::int64_t i = ix[d] < 0 ? ix[d] + shape_[d] : ix[d];
      EMBER_CHECK(i >= 0 && i < shape_[d], "at", "index ", ix[d],
                  " is out of bounds for dimension ", d, " with size ", shape_[d], " in ", shape_);
      off += i * strides_[d];
    }
    return storage_.data()[off];
  }
  /// Unchecked access (checked only under EMBER_DEBUG). Indices must be in [0, size).
  template <std::integral... I>
  T& operator()(I... idx) const {
#if EMBER_CHECK_UNCHECKED_ACCESS
    return at(idx...);
#else
    std::int64_t ix[] = {static_cast<std::int64_t>(idx)..., 0};
    std::int64_t off = offset_;
    for (int d = 0; d < static_cast<int>(sizeof...(I)); ++d) off += ix[d] * strides_[d];
    return storage_.data()[off];
#endif
  }
  /// The value of a one-element tensor.
  T item() const {
    EMBER_CHECK(numel() == 1, "item", "a tensor of shape ", shape_, " has ", numel(),
                " elements, expected 1");
    return *data();
  }
  /// Elements in row-major order.
  std::vector<T> to_vector() const {
    Tensor c = contiguous();
    return std::vector<T>(c.data(), c.data() + c.numel());
  }

  // ---- views ---------------------------------------------------------------------------------
  /// Python slicing `t[start:stop:step]` along `d`: negative bounds count from the end and are
  /// clamped to the size; `step` must be positive.
  Tensor slice(std::int64_t d, std::int64_t start = 0,
               std::int64_t stop = std::numeric_limits<std::int64_t>::max(),
               std::int64_t step = 1) const {
    int ax = normalize_axis(d, dim(), "slice");
    EMBER_CHECK(step > 0, "slice", "step must be positive, got ", step);
    std::int64_t n = shape_[ax];
    auto clamp = [n](std::int64_t i) {
      if (i < 0) i += n;
      return std::clamp<std::int64_t>(i, 0, n);
    };
    std::int64_t lo = clamp(start), hi = std::max(clamp(stop), lo);
    Tensor r = *this;
    // ceil((hi - lo) / step) without forming hi - lo + step (which overflows for a huge step).
    r.shape_[ax] = hi == lo ? 0 : (hi - lo - 1) / step + 1;
    // With two or more elements step < n, so the product stays inside the storage's extent; a
    // dim of size 0 or 1 never uses its stride.
    r.strides_[ax] = r.shape_[ax] > 1 ? strides_[ax] * step : strides_[ax];
    if (r.shape_[ax] > 0) r.offset_ += lo * strides_[ax];
    return r;
  }
  /// `length` elements of dim `d` from `start` (PyTorch narrow); must lie inside the dim.
  Tensor narrow(std::int64_t d, std::int64_t start, std::int64_t length) const {
    int ax = normalize_axis(d, dim(), "narrow");
    std::int64_t n = shape_[ax];
    std::int64_t s = start < 0 ? start + n : start;
    EMBER_CHECK(s >= 0 && length >= 0 && s <= n - length, "narrow", "start ", start, " and length ",
                length, " exceed dimension ", ax, " of size ", n, " in ", shape_);
    Tensor r = *this;
    r.shape_[ax] = length;
    if (length > 0) r.offset_ += s * strides_[ax];
    return r;
  }
  /// Index `i` of dim `d`, removing that dim (NumPy `t[:, i]`).
  Tensor select(std::int64_t d, std::int64_t i) const {
    int ax = normalize_axis(d, dim(), "select");
    std::int64_t n = shape_[ax];
    std::int64_t j = i < 0 ? i + n : i;
    EMBER_CHECK(j >= 0 && j < n, "select", "index ", i, " is out of bounds for dimension ", ax,
                " with size ", n, " in ", shape_);
    Tensor r = *this;
    r.offset_ += j * strides_[ax];
    r.shape_.erase(ax);
    r.strides_.erase(ax);
    return r;
  }
  /// `t[i]`: select along the first dim.
  Tensor operator[](std::int64_t i) const {
    EMBER_CHECK(dim() > 0, "operator[]", "cannot index a rank-0 tensor");
    return select(0, i);
  }
  /// Swaps two dims.
  Tensor transpose(std::int64_t d0, std::int64_t d1) const {
    int a = normalize_axis(d0, dim(), "transpose"), b = normalize_axis(d1, dim(), "transpose");
    Tensor r = *this;
    std::swap(r.shape_[a], r.shape_[b]);
    std::swap(r.strides_[a], r.strides_[b]);
    return r;
  }
  /// Matrix transpose of a rank ≤ 2 tensor.
  Tensor t() const {
    EMBER_CHECK(dim() <= 2, "t", "expects a tensor of rank <= 2, got shape ", shape_);
    return dim() < 2 ? *this : transpose(0, 1);
  }
  /// Reorders dims: result dim i is input dim axes[i].
  Tensor permute(const Axes& axes) const {
    EMBER_CHECK(axes.rank() == dim(), "permute", "axes ", axes, " do not match rank ", dim(),
                " of shape ", shape_);
    bool seen[kMaxRank] = {};
    Tensor r = *this;
    for (int i = 0; i < dim(); ++i) {
      int a = normalize_axis(axes[i], dim(), "permute");
      EMBER_CHECK(!seen[a], "permute", "axes ", axes, " are not a permutation of ", dim(), " dims");
      seen[a] = true;
      r.shape_[i] = shape_[a];
      r.strides_[i] = strides_[a];
    }
    return r;
  }
  /// Same data seen with a new shape (one dim may be -1); ember::Error if strides don't allow it.
  Tensor view(const Shape& new_shape) const {
    Shape s = detail::infer_shape(new_shape, numel(), "view");
    auto st = detail::view_strides(shape_, strides_, s);
    EMBER_CHECK(st.has_value(), "view", "cannot view shape ", shape_, " with strides ", strides_,
                " as ", s, " without copying; use reshape()");
    Tensor r = *this;
    r.shape_ = s;
    r.strides_ = *st;
    return r;
  }
  /// Like view, but copies (into a contiguous tensor) when the strides don't allow a view.
  Tensor reshape(const Shape& new_shape) const {
    Shape s = detail::infer_shape(new_shape, numel(), "reshape");
    if (auto st = detail::view_strides(shape_, strides_, s)) {
      Tensor r = *this;
      r.shape_ = s;
      r.strides_ = *st;
      return r;
    }
    return clone().view(s);
  }
  /// Merges dims [start, end] into one.
  Tensor flatten(std::int64_t start = 0, std::int64_t end = -1) const {
    if (dim() == 0) return reshape({1});
    int a = normalize_axis(start, dim(), "flatten"), b = normalize_axis(end, dim(), "flatten");
    EMBER_CHECK(a <= b, "flatten", "start dim ", start, " comes after end dim ", end);
    Shape s;
    for (int i = 0; i < a; ++i) s.push_back(shape_[i]);
    std::int64_t m = 1;
    for (int i = a; i <= b; ++i) m *= shape_[i];
    s.push_back(m);
    for (int i = b + 1; i < dim(); ++i) s.push_back(shape_[i]);
    return reshape(s);
  }
  /// Removes every size-1 dim.
  Tensor squeeze() const {
    Tensor r = *this;
    for (int i = dim() - 1; i >= 0; --i) {
      if (r.shape_[i] == 1) {
        r.shape_.erase(i);
        r.strides_.erase(i);
      }
    }
    return r;
  }
  /// Removes dim `d` if its size is 1; otherwise returns the tensor unchanged (as PyTorch).
  Tensor squeeze(std::int64_t d) const {
    int ax = normalize_axis(d, dim(), "squeeze");
    Tensor r = *this;
    if (shape_[ax] == 1) {
      r.shape_.erase(ax);
      r.strides_.erase(ax);
    }
    return r;
  }
  /// Inserts a size-1 dim at position `d` (in [-rank-1, rank]).
  Tensor unsqueeze(std::int64_t d) const {
    int ax = normalize_axis(d, dim() + 1, "unsqueeze");
    Tensor r = *this;
    std::int64_t st = ax < dim() ? strides_[ax] * shape_[ax] : 1;
    r.shape_.insert(ax, 1);
    r.strides_.insert(ax, st);
    return r;
  }
  /// Broadcasts to `target` without copying (stride 0 along expanded dims); -1 keeps a dim.
  Tensor expand(const Shape& target) const {
    EMBER_CHECK(target.rank() >= dim(), "expand", "cannot expand ", shape_, " to ", target,
                " with fewer dims");
    Shape s = target;
    int lead = target.rank() - dim();
    for (int i = 0; i < target.rank(); ++i) {
      if (s[i] == -1) {
        EMBER_CHECK(i >= lead, "expand", "-1 is not allowed for a new leading dim in ", target);
        s[i] = shape_[i - lead];
      }
    }
    EMBER_CHECK(broadcastable_to(shape_, s), "expand", "cannot expand ", shape_, " to ", target);
    checked_numel(s, "expand");
    Tensor r = *this;
    r.strides_ = broadcast_strides(shape_, strides_, s);
    r.shape_ = s;
    return r;
  }
  /// NumPy's name for expand (no -1).
  Tensor broadcast_to(const Shape& target) const {
    EMBER_CHECK(broadcastable_to(shape_, target), "broadcast_to", "cannot broadcast ", shape_,
                " to ", target);
    return expand(target);
  }

  // ---- copies --------------------------------------------------------------------------------
  /// This tensor if already contiguous, else a contiguous copy.
  Tensor contiguous() const {
    return is_contiguous() ? *this : clone();
  }
  /// A contiguous copy that shares nothing with this tensor.
  Tensor clone() const {
    Tensor r = empty(shape_);
    r.copy_(*this);
    return r;
  }
  /// A copy converted to element type U (float → int raises on NaN, ±inf or overflow).
  template <Scalar U>
  Tensor<U> to() const {
    Tensor<U> r = Tensor<U>::empty(shape_);
    r.copy_(*this);
    return r;
  }
  /// Copies `src` (broadcast to this shape, converted to T) into this tensor, in place.
  template <Scalar S>
  const Tensor& copy_(const Tensor<S>& src) const {
    EMBER_CHECK(broadcastable_to(src.shape(), shape_), "copy_", "cannot broadcast source ",
                src.shape(), " to destination ", shape_);
    check_writable("copy_");
    if constexpr (std::is_same_v<S, T>) {
      if (src.storage().same(storage_) &&
          !(src.offset() == offset_ && src.shape() == shape_ && src.strides() == strides_)) {
        return copy_(src.clone());  // overlapping source: read it before writing
      }
    }
    Strides ss = broadcast_strides(src.shape(), src.strides(), shape_);
    detail::StridedLoop<2> loop(shape_, {&strides_, &ss});
    T* dst = data();
    const S* sp = src.data();
    loop.run(0, loop.numel(), [&](const auto& off, std::int64_t n, const auto& st) {
      T* o = dst + off[0];
      const S* x = sp + off[1];
      if (st[0] == 1 && st[1] == 1) {
        for (std::int64_t i = 0; i < n; ++i) o[i] = detail::convert_scalar<T>(x[i], "to");
      } else {
        for (std::int64_t i = 0; i < n; ++i) {
          o[i * st[0]] = detail::convert_scalar<T>(x[i * st[1]], "to");
        }
      }
    });
    return *this;
  }
  /// Sets every element to `value`, in place.
  const Tensor& fill_(T value) const {
    check_writable("fill_");
    detail::StridedLoop<1> loop(shape_, {&strides_});
    T* dst = data();
    loop.run(0, loop.numel(), [&](const auto& off, std::int64_t n, const auto& st) {
      T* o = dst + off[0];
      for (std::int64_t i = 0; i < n; ++i) o[i * st[0]] = value;
    });
    return *this;
  }

  /// Raises if several elements of this view share one memory location (an expanded view), so
  /// an in-place write would be ambiguous.
  void check_writable(std::string_view op) const {
    for (int d = 0; d < dim(); ++d) {
      EMBER_CHECK(strides_[d] != 0 || shape_[d] <= 1, op,
                  "cannot write in place to a tensor whose elements overlap in memory (shape ",
                  shape_, ", strides ", strides_, "); clone() it first");
    }
  }

 private:
  template <class U>
  friend class Tensor;

  Tensor(Storage<T> storage, const Shape& shape, const Strides& strides, std::int64_t offset)
      : storage_(std::move(storage)), shape_(shape), strides_(strides), offset_(offset) {}

  Storage<T> storage_;
  Shape shape_;
  Strides strides_;
  std::int64_t offset_ = 0;
};

}  // namespace ember
