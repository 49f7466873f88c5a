// ember/core/iterate.hpp — StridedLoop<N>: walks N operands that share one logical shape.
// Layer: core. The engine under every element-wise op, reduction and copy. It
//   1. drops size-1 dims, orders the dims so the key operand's strides decrease (the innermost
//      loop then runs along its smallest stride), and
//   2. merges neighbouring dims that are contiguous in every operand ("coalescing"), so a dense
//      tensor of any shape becomes a single 1-D loop the compiler can vectorise.
// `run(begin, end, body)` then calls `body(offsets, n, inner_strides)` once per inner run of
// `n` elements, where offsets[k] is operand k's element offset at the run's start. Any
// [begin, end) sub-range of the linear index space can be run, which is how work is split
// between threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "ember/core/shape.hpp"

namespace ember::detail {

template <std::size_t N>
class StridedLoop {
 public:
  using Offsets = std::array<std::int64_t, N>;

  /// `shape` is the logical shape; strides[k] are operand k's strides for it (0 where it is
  /// broadcast). Dims are ordered by the strides of operand `key`.
  StridedLoop(const Shape& shape, const std::array<const Strides*, N>& strides, int key = 0) {
    numel_ = shape.numel();
    if (numel_ == 0) {  // nothing to visit; the other dims' products may not even fit in int64
      sizes_[0] = 0;
      for (std::size_t k = 0; k < N; ++k) strides_[k][0] = 0;
      rank_ = 1;
      return;
    }
    for (int d = 0; d < shape.rank(); ++d) {
      if (shape[d] == 1) continue;
      sizes_[rank_] = shape[d];
      for (std::size_t k = 0; k < N; ++k) strides_[k][rank_] = (*strides[k])[d];
      ++rank_;
    }
    sort_dims(key);
    coalesce();
    if (rank_ == 0) {  // a single element (or a rank-0 tensor)
      sizes_[0] = 1;
      for (std::size_t k = 0; k < N; ++k) strides_[k][0] = 0;
      rank_ = 1;
    }
  }

  std::int64_t numel() const { return numel_; }
  int rank() const { return rank_; }
  std::int64_t size(int d) const { return sizes_[d]; }
  std::int64_t stride(std::size_t k, int d) const { return strides_[k][d]; }

  /// Calls body(offsets, n, inner_strides) over the linear index range [begin, end).
  template <class Body>
  void run(std::int64_t begin, std::int64_t end, Body&& body) const {
    if (begin >= end) return;
    const int inner = rank_ - 1;
    std::int64_t idx[kMaxRank];
    Offsets off{};
    std::int64_t rem = begin;
    for (int d = inner; d >= 0; --d) {
      idx[d] = rem % sizes_[d];
      rem /= sizes_[d];
      for (std::size_t k = 0; k < N; ++k) off[k] += idx[d] * strides_[k][d];
    }
    Offsets inner_strides;
    for (std::size_t k = 0; k < N; ++k) inner_strides[k] = strides_[k][inner];
    std::int64_t pos = begin;
    while (pos < end) {
      std::int64_t n = std::min(sizes_[inner] - idx[inner], end - pos);
      body(static_cast<const Offsets&>(off), n, static_cast<const Offsets&>(inner_strides));
      pos += n;
      idx[inner] += n;
      for (std::size_t k = 0; k < N; ++k) off[k] += n * inner_strides[k];
      for (int d = inner; d > 0 && idx[d] == sizes_[d]; --d) {
        idx[d] = 0;
        ++idx[d - 1];
        for (std::size_t k = 0; k < N; ++k) {
          off[k] += strides_[k][d - 1] - sizes_[d] * strides_[k][d];
        }
      }
    }
  }

 private:
  // Stable insertion sort: outermost dim first, by decreasing stride of the key operand
  // (ties broken by the other operands, so a broadcast output still follows its input).
  void sort_dims(int key) {
    auto less_inner = [&](int a, int b) {  // should dim a be inside dim b?
      if (strides_[key][a] != strides_[key][b]) return strides_[key][a] < strides_[key][b];
      for (std::size_t k = 0; k < N; ++k) {
        if (strides_[k][a] != strides_[k][b]) return strides_[k][a] < strides_[k][b];
      }
      return false;
    };
    for (int i = 1; i < rank_; ++i) {
      for (int j = i; j > 0 && less_inner(j - 1, j); --j) swap_dims(j - 1, j);
    }
  }
  void swap_dims(int a, int b) {
    std::swap(sizes_[a], sizes_[b]);
    for (std::size_t k = 0; k < N; ++k) std::swap(strides_[k][a], strides_[k][b]);
  }
  // Merge dim d-1 (outer) into d (inner) when every operand steps over d exactly into d-1.
  void coalesce() {
    if (rank_ <= 1) return;
    int out = rank_ - 1;  // write position, from the inside out
    for (int d = rank_ - 2; d >= 0; --d) {
      bool mergeable = true;
      for (std::size_t k = 0; k < N; ++k) {
        mergeable = mergeable && strides_[k][d] == strides_[k][out] * sizes_[out];
      }
      if (mergeable) {
        sizes_[out] *= sizes_[d];
      } else {
        --out;
        sizes_[out] = sizes_[d];
        for (std::size_t k = 0; k < N; ++k) strides_[k][out] = strides_[k][d];
      }
    }
    int shift = out;
    rank_ -= shift;
    for (int d = 0; d < rank_; ++d) {
      sizes_[d] = sizes_[d + shift];
      for (std::size_t k = 0; k < N; ++k) strides_[k][d] = strides_[k][d + shift];
    }
  }

  std::int64_t sizes_[kMaxRank] = {};
  std::int64_t strides_[N][kMaxRank] = {};
  int rank_ = 0;
  std::int64_t numel_ = 0;
};

}  // namespace ember::detail
