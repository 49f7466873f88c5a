// ember/kernels/loss.hpp — softmax cross-entropy (ignore_index, label smoothing) on raw pointers.
// Layer: kernels.
//
//   x, probs, dx: (N, C) row-major; targets: (N) class ids; row_loss: (N)
//   q_i = (1 − ε)·onehot(t_i) + ε / C                      (ε = label smoothing)
//   cross_entropy_forward:  probs[i, :] = softmax(x[i, :]),
//                           row_loss[i] = −Σ_c q_ic · log_softmax(x[i, :])_c   (0 where t_i is ignored)
//   cross_entropy_backward: dx[i, :] = (probs[i, :] − q_i) · scale            (0 where t_i is ignored)
//
// The caller checks that every target is ignore_index or in [0, C). One pass per row computes
// the max, the shifted exponentials (stored once, then scaled to probabilities in place) and the
// log-sum-exp; log_softmax is never stored: the composed form wrote log_softmax (N, C), read it
// back for exp, and kept a third (N, C) tensor — at the MLM head (rows × vocabulary 8 000) the
// largest tensors of the step. Rows run in parallel in the widest copy allowed (with_widest_isa);
// the loss is summed by the caller over row_loss in row order, so the result does not depend on
// the thread count.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "ember/core/dtype.hpp"
#include "ember/kernels/cpu.hpp"
#include "ember/kernels/parallel.hpp"
#include "ember/kernels/reduce.hpp"
#include "ember/kernels/softmax.hpp"

namespace ember::kernels {

template <class T>
void cross_entropy_forward(const T* x, const std::int64_t* targets, std::int64_t N,
                           std::int64_t C, std::int64_t ignore_index, double smoothing, T* probs,
                           double* row_loss) {
  using CT = compute_t<T>;
  const std::int64_t grain =
      std::max<std::int64_t>(1, detail::kGrainElementwise / std::max<std::int64_t>(C, 1));
  parallel_for(0, N, grain, [&](std::int64_t lo, std::int64_t hi) {
    detail::with_widest_isa([&] {
      for (std::int64_t i = lo; i < hi; ++i) {
        const T* xr = x + i * C;
        T* pr = probs + i * C;
        const std::int64_t t = targets[i];
        if (t == ignore_index) {  // no loss and no gradient: the backward writes zeros
          row_loss[i] = 0;
          continue;
        }
        CT m = detail::dense_extremum</*IsMax=*/true>(xr, C);
        if (m == -std::numeric_limits<CT>::infinity()) m = 0;  // all −inf: exp gives 0s
        detail::exp_shifted(xr, pr, C, m);
        const CT s = detail::SumOp<T>::pairwise_sum(pr, C);
        const CT log_s = std::log(s);
        // log_softmax(x)_c = (x_c − m) − log s (log_softmax's order, softmax.hpp).
        double loss = -(1.0 - smoothing) *
                      static_cast<double>((static_cast<CT>(xr[t]) - m) - log_s);
        if (smoothing > 0) {
          double sum_logp = 0;
          for (std::int64_t c = 0; c < C; ++c)
            sum_logp += static_cast<double>((static_cast<CT>(xr[c]) - m) - log_s);
          loss -= smoothing / static_cast<double>(C) * sum_logp;
        }
        row_loss[i] = loss;
        const CT inv = CT(1) / s;
        for (std::int64_t c = 0; c < C; ++c) pr[c] = static_cast<T>(static_cast<CT>(pr[c]) * inv);
      }
    });
  });
}

/// dx may alias probs.
template <class T>
void cross_entropy_backward(const T* probs, const std::int64_t* targets, std::int64_t N,
                            std::int64_t C, std::int64_t ignore_index, double smoothing, T scale,
                            T* dx) {
  using CT = compute_t<T>;
  const CT sc = static_cast<CT>(scale);
  const CT off = static_cast<CT>(smoothing / static_cast<double>(C));
  const CT hit = static_cast<CT>(1.0 - smoothing) * sc;
  const std::int64_t grain =
      std::max<std::int64_t>(1, detail::kGrainElementwise / std::max<std::int64_t>(C, 1));
  parallel_for(0, N, grain, [&](std::int64_t lo, std::int64_t hi) {
    detail::with_widest_isa([&] {
      for (std::int64_t i = lo; i < hi; ++i) {
        const std::int64_t t = targets[i];
        const T* pr = probs + i * C;
        T* row = dx + i * C;
        if (t == ignore_index) {
          for (std::int64_t c = 0; c < C; ++c) row[c] = T(0);
          continue;
        }
        for (std::int64_t c = 0; c < C; ++c)
          row[c] = static_cast<T>((static_cast<CT>(pr[c]) - off) * sc);
        row[t] = static_cast<T>(static_cast<CT>(row[t]) - hit);
      }
    });
  });
}

}  // namespace ember::kernels
