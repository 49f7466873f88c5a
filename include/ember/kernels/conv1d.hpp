// ember/kernels/conv1d.hpp — the data movement of a 1-D convolution computed as one GEMM
// (im2col): unfolding the input into columns and folding column gradients back. Layer: kernels.
//
//   x, dx: (B, C, L) row-major; cols, dcols: (B·Lout, C·K) row-major
//   pos(l, k) = l·stride − padding + k·dilation
//   conv1d_unfold(x, …, cols):  cols[b·Lout + l, c·K + k] = x[b, c, pos(l, k)], 0 outside [0, L)
//   conv1d_fold(dcols, …, dx):  dx[b, c, pos(l, k)] += dcols[b·Lout + l, c·K + k] inside [0, L)
//   (dx is zeroed by the caller; fold is unfold's adjoint)
//
// Unfold splits the column rows across threads; fold splits the batch, so each thread owns the
// positions it adds into (overlapping windows of one sequence add up in one thread, in order).
#pragma once

#include <algorithm>
#include <cstdint>

#include "ember/kernels/parallel.hpp"

namespace ember {

/// The geometry of a 1-D convolution: batch, channels, length, kernel size, stride, padding,
/// dilation and the output length.
struct Conv1dGeometry {
  std::int64_t B = 0, C = 0, L = 0, K = 0;
  std::int64_t stride = 1, padding = 0, dilation = 1, l_out = 0;
};

namespace kernels {

template <class T>
void conv1d_unfold(const T* x, const Conv1dGeometry& g, T* cols) {
  const std::int64_t C = g.C, L = g.L, K = g.K, l_out = g.l_out;
  parallel_for(0, g.B * l_out, 64, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      const std::int64_t b = r / l_out, l = r % l_out;
      T* row = cols + r * C * K;
      for (std::int64_t c = 0; c < C; ++c) {
        const T* xs = x + (b * C + c) * L;
        for (std::int64_t k = 0; k < K; ++k) {
          const std::int64_t pos = l * g.stride - g.padding + k * g.dilation;
          row[c * K + k] = (pos >= 0 && pos < L) ? xs[pos] : T(0);
        }
      }
    }
  });
}

template <class T>
void conv1d_fold(const T* dcols, const Conv1dGeometry& g, T* dx) {
  const std::int64_t C = g.C, L = g.L, K = g.K, l_out = g.l_out;
  parallel_for(0, g.B, 1, [&](std::int64_t b0, std::int64_t b1) {  // batches own their rows
    for (std::int64_t b = b0; b < b1; ++b) {
      for (std::int64_t l = 0; l < l_out; ++l) {
        const T* row = dcols + (b * l_out + l) * C * K;
        for (std::int64_t c = 0; c < C; ++c) {
          T* xs = dx + (b * C + c) * L;
          for (std::int64_t k = 0; k < K; ++k) {
            const std::int64_t pos = l * g.stride - g.padding + k * g.dilation;
            if (pos >= 0 && pos < L) xs[pos] += row[c * K + k];
          }
        }
      }
    }
  });
}

}  // namespace kernels

}  // namespace ember
