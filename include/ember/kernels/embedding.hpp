// ember/kernels/embedding.hpp — embedding and embedding-bag: row gathers and their gradient
// scatters on raw pointers. Layer: kernels.
//
//   w: (V, D) row-major table; ids: int64, each in [0, V) (the caller checks)
//   embedding_forward(w, D, ids, n, out):        out[i, :] = w[ids[i], :]              out (n, D)
//   embedding_backward(dout, D, ids, n, dw):     dw[ids[i], :] += dout[i, :]           dw (V, D)
//   Bags: bag b is ids[offsets[b] : offsets[b+1]) (the last runs to n), offsets valid;
//   coefficient c_j of occurrence j = psw[j] (per-sample weights, Sum only) or 1/|bag| (Mean) or 1
//   embedding_bag_forward(w, D, ids, n, offsets, B, mode, psw, out):
//                                                out[b, :] = Σ_j c_j·w[ids[j], :]      out (B, D)
//   embedding_bag_occurrence_grads(dout, D, n, offsets, B, mode, psw, values):
//                                                values[j, :] = c_j·dout[b, :]         values (n, D)
//   (the bag's dense gradient is then embedding_backward over values; its row-sparse one
//   coalesces values by id.)
//
// Gathers split the output rows across threads. The scatter-add splits the columns instead, so
// each thread adds its columns of every occurrence in occurrence order: no two threads write one
// element, and the sums are the same for any thread count (ids repeat).
#pragma once

#include <algorithm>
#include <cstdint>

#include "ember/kernels/parallel.hpp"

namespace ember {

/// How embedding_bag combines the rows of a bag.
enum class BagMode { Sum, Mean };

namespace detail {
/// Rows (of D elements) per parallel task: about 4K elements of copying each.
inline std::int64_t embedding_row_grain(std::int64_t D) {
  return std::max<std::int64_t>(1, 4096 / std::max<std::int64_t>(D, 1));
}
/// [start, end) of bag b.
inline void bag_range(const std::int64_t* offsets, std::int64_t b, std::int64_t B, std::int64_t n,
                      std::int64_t& start, std::int64_t& end) {
  start = offsets[b];
  end = b + 1 < B ? offsets[b + 1] : n;
}
/// f(b, start, end) for every bag b with its range [start, end), bags split across threads.
template <class F>
void for_each_bag(const std::int64_t* offsets, std::int64_t B, std::int64_t n, std::int64_t D,
                  F f) {
  parallel_for(0, B, embedding_row_grain(D), [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t b = b0; b < b1; ++b) {
      std::int64_t start = 0, end = 0;
      bag_range(offsets, b, B, n, start, end);
      f(b, start, end);
    }
  });
}
}  // namespace detail

namespace kernels {

template <class T>
void embedding_forward(const T* w, std::int64_t D, const std::int64_t* ids, std::int64_t n,
                       T* out) {
  parallel_for(0, n, detail::embedding_row_grain(D), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) std::copy_n(w + ids[i] * D, D, out + i * D);
  });
}

template <class T>
void embedding_backward(const T* dout, std::int64_t D, const std::int64_t* ids, std::int64_t n,
                        T* dw) {
  // Columns per task: enough occurrences × columns (~32K additions) to be worth a thread.
  const std::int64_t grain = std::max<std::int64_t>(16, 32768 / std::max<std::int64_t>(n, 1));
  parallel_for(0, D, grain, [&](std::int64_t d0, std::int64_t d1) {
    for (std::int64_t i = 0; i < n; ++i) {
      T* dst = dw + ids[i] * D;
      const T* src = dout + i * D;
      for (std::int64_t d = d0; d < d1; ++d) dst[d] += src[d];
    }
  });
}

template <class T>
void embedding_bag_forward(const T* w, std::int64_t D, const std::int64_t* ids, std::int64_t n,
                           const std::int64_t* offsets, std::int64_t B, BagMode mode,
                           const T* psw, T* out) {
  detail::for_each_bag(offsets, B, n, D, [&](std::int64_t b, std::int64_t start, std::int64_t end) {
    T* dst = out + b * D;
    std::fill_n(dst, D, T(0));
    for (std::int64_t j = start; j < end; ++j) {
      const T* row = w + ids[j] * D;
      const T c = psw != nullptr ? psw[j] : T(1);
      for (std::int64_t d = 0; d < D; ++d) dst[d] += c * row[d];
    }
    if (mode == BagMode::Mean && end > start) {
      const T inv = T(1) / static_cast<T>(end - start);
      for (std::int64_t d = 0; d < D; ++d) dst[d] *= inv;
    }
  });
}

template <class T>
void embedding_bag_occurrence_grads(const T* dout, std::int64_t D, std::int64_t n,
                                    const std::int64_t* offsets, std::int64_t B, BagMode mode,
                                    const T* psw, T* values) {
  detail::for_each_bag(offsets, B, n, D, [&](std::int64_t b, std::int64_t start, std::int64_t end) {
    const T* src = dout + b * D;
    for (std::int64_t j = start; j < end; ++j) {
      const T c = psw != nullptr ? psw[j]
                  : mode == BagMode::Mean ? T(1) / static_cast<T>(end - start)
                                          : T(1);
      T* dst = values + j * D;
      for (std::int64_t d = 0; d < D; ++d) dst[d] = c * src[d];
    }
  });
}

}  // namespace kernels

}  // namespace ember
