// ember/core/shape.hpp — Shape: a fixed-capacity list of dimensions (also used for strides).
// Layer: core. A Shape holds up to kMaxRank int64 values inline, so building and copying shapes
// never allocates. Helpers here normalise axes and count elements with overflow checks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "ember/core/error.hpp"

namespace ember {

/// The largest rank a tensor may have.
inline constexpr int kMaxRank = 12;

/// An ordered list of up to kMaxRank dimensions, e.g. `Shape{2, 3}` prints as "[2,3]".
class Shape {
 public:
  constexpr Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims) { assign(dims.begin(), dims.end()); }
  /// A rank-1 shape, so that a single size or axis reads as in NumPy: `zeros(5)`, `sum(x, 1)`.
  Shape(std::int64_t d) { push_back(d); }  // NOLINT(google-explicit-constructor)
  template <class It>
  Shape(It first, It last) {
    assign(first, last);
  }
  /// A shape of `rank` copies of `value`.
  static Shape filled(int rank, std::int64_t value) {
    Shape s;
    s.resize(rank, value);
    return s;
  }

  int size() const { return rank_; }
  int rank() const { return rank_; }
  bool empty() const { return rank_ == 0; }
  std::int64_t& operator[](int i) { return dims_[i]; }
  const std::int64_t& operator[](int i) const { return dims_[i]; }
  std::int64_t* begin() { return dims_; }
  std::int64_t* end() { return dims_ + rank_; }
  const std::int64_t* begin() const { return dims_; }
  const std::int64_t* end() const { return dims_ + rank_; }
  const std::int64_t* data() const { return dims_; }
  std::int64_t back() const { return dims_[rank_ - 1]; }

  void push_back(std::int64_t v) {
    check_capacity(rank_ + 1);
    dims_[rank_++] = v;
  }
  void insert(int pos, std::int64_t v) {
    check_capacity(rank_ + 1);
    std::copy_backward(dims_ + pos, dims_ + rank_, dims_ + rank_ + 1);
    dims_[pos] = v;
    ++rank_;
  }
  void erase(int pos) {
    std::copy(dims_ + pos + 1, dims_ + rank_, dims_ + pos);
    --rank_;
  }
  void resize(int rank, std::int64_t value = 0) {
    check_capacity(rank);
    for (int i = rank_; i < rank; ++i) dims_[i] = value;
    rank_ = rank;
  }

  /// Product of the dimensions (1 for rank 0). Assumes it was validated (see checked_numel).
  /// A zero dim anywhere gives 0 before the others are multiplied (they may not fit in int64).
  std::int64_t numel() const {
    for (int i = 0; i < rank_; ++i) {
      if (dims_[i] == 0) return 0;
    }
    std::int64_t n = 1;
    for (int i = 0; i < rank_; ++i) n *= dims_[i];
    return n;
  }

  friend bool operator==(const Shape& a, const Shape& b) {
    // A plain loop: std::equal became a call to memcmp, 2.6% of bench_autograd op_overhead.
    if (a.rank_ != b.rank_) return false;
    for (int i = 0; i < a.rank_; ++i)
      if (a.dims_[i] != b.dims_[i]) return false;
    return true;
  }

  /// "[2,3]"; a rank-0 shape is "[]".
  std::string to_string() const {
    std::string s = "[";
    for (int i = 0; i < rank_; ++i) {
      if (i) s.push_back(',');
      detail::append(s, dims_[i]);
    }
    s.push_back(']');
    return s;
  }

 private:
  template <class It>
  void assign(It first, It last) {
    rank_ = 0;
    for (; first != last; ++first) push_back(static_cast<std::int64_t>(*first));
  }
  static void check_capacity(int rank) {
    EMBER_CHECK(rank <= kMaxRank, "Shape", "rank ", rank, " exceeds the maximum rank ", kMaxRank);
  }

  std::int64_t dims_[kMaxRank] = {};
  int rank_ = 0;
};

/// Strides are counted in elements and share Shape's storage.
using Strides = Shape;

/// A list of axes for reductions and permutations; negative values count from the end.
using Axes = Shape;

/// Maps a possibly negative axis into [0, rank); throws naming `op` if out of range.
inline int normalize_axis(std::int64_t axis, int rank, std::string_view op) {
  std::int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) [[unlikely]] {
    detail::fail(op, "axis ", axis, " is out of range for a tensor of rank ", rank);
  }
  return static_cast<int>(a);
}

/// Validates a shape for allocation (no negative dims, product fits int64 and the byte size
/// fits size_t) and returns its element count.
inline std::int64_t checked_numel(const Shape& shape, std::string_view op,
                                  std::int64_t elem_size = 1) {
  std::int64_t n = 1;
  bool overflow = false, empty = false;
  for (std::int64_t d : shape) {
    if (d < 0) detail::fail(op, "negative dimension ", d, " in shape ", shape);
    empty = empty || d == 0;
    overflow = overflow || __builtin_mul_overflow(n, d, &n);
  }
  if (empty) return 0;  // [2^50, 2^52, 0] is as empty as [0, 2^50, 2^52]
  std::int64_t bytes = 0;
  if (overflow || __builtin_mul_overflow(n, elem_size, &bytes)) {
    detail::fail(op, "shape ", shape, " has too many elements (size overflow)");
  }
  return n;
}

}  // namespace ember
