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

// ---- Channels-last input: one GEMM over overlapping windows, no unfold ----------------------
// When x (B, C, L) is stored as (B, L, C) (the transpose of an embedding's output, as in a
// TextCNN) and the convolution has stride 1, no padding and no dilation, the window of output
// position l in sequence b is the K·C contiguous values at xcl + (b·L + l)·C, in (k, c) order.
// So the rows r = b·L + l of A (B·L − K + 1, K·C) are those windows with a leading dimension of
// C: the GEMM reads the input in place. Rows with l ≥ Lout straddle two sequences; they are
// computed and dropped (K − 1 of every L rows). The weight is used as (O, K, C), i.e.
// w.permute({0, 2, 1}) made contiguous (the caller's). The output and dout move between the
// GEMM's row layout and (B, O, Lout):
//   conv1d_cl_output(y (B·L, O), bias, out):       out[b, o, l] = y[b·L + l, o] (+ bias[o])
//   conv1d_cl_dout(dout (B, O, Lout), g (B·L, O)): g[b·L + l, o] = dout[b, o, l]; 0 for l ≥ Lout
// (out, dout: (B, O, Lout) row-major.) Measured: README, "Whole models beside PyTorch" (cnn).

template <class T>
void conv1d_cl_output(const T* y, const T* bias, const Conv1dGeometry& g, std::int64_t O, T* out) {
  const std::int64_t L = g.L, l_out = g.l_out;
  parallel_for(0, g.B, 1, [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t b = b0; b < b1; ++b)
      for (std::int64_t o = 0; o < O; ++o) {
        const T add = bias != nullptr ? bias[o] : T(0);
        const T* ys = y + b * L * O + o;
        T* os = out + (b * O + o) * l_out;
        for (std::int64_t l = 0; l < l_out; ++l) os[l] = ys[l * O] + add;
      }
  });
}

template <class T>
void conv1d_cl_dout(const T* dout, const Conv1dGeometry& g, std::int64_t O, T* gy) {
  const std::int64_t L = g.L, l_out = g.l_out;
  parallel_for(0, g.B, 1, [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t b = b0; b < b1; ++b) {
      T* gs = gy + b * L * O;
      std::fill(gs + l_out * O, gs + L * O, T(0));
      for (std::int64_t o = 0; o < O; ++o) {
        const T* ds = dout + (b * O + o) * l_out;
        for (std::int64_t l = 0; l < l_out; ++l) gs[l * O + o] = ds[l];
      }
    }
  });
}

}  // namespace kernels

}  // namespace ember
