// ember/kernels/reduce.hpp — reductions over any set of axes: sum, prod, mean, max, min, var,
// std, any, all, argmax, argmin.
// Layer: kernels. One engine: the output is viewed with the input's shape and stride 0 along
// reduced dims, and core's StridedLoop walks input and accumulator together, ordered by the
// input's strides. When the innermost run is along a reduced dim it is folded into one
// accumulator (`fold`: pairwise summation over 16 lanes for dense float sums, so it vectorises
// and rounding error grows as log n); otherwise each input row is combined into a row of
// accumulators (sequential per output: error O(n·eps) for very long outer reductions).
// Threads split a kept dim (each owns disjoint outputs) or, for a full reduction, reduce pieces
// into partial accumulators that are merged at the end. Sum order, and so the last bits of a
// float sum, depend on the thread count.
//
// Axes: a list (negative counts from the end); an empty list reduces every axis (NumPy's
// axis=None). `keepdim` keeps reduced axes with size 1.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "ember/kernels/elementwise.hpp"

namespace ember {

namespace detail {

struct ReducePlan {
  Shape kd_shape;   // output shape with reduced dims kept as 1
  Shape out_shape;  // the shape returned (kd_shape without reduced dims unless keepdim)
  bool reduced[kMaxRank] = {};
  std::int64_t count = 1;  // number of input elements folded into each output
};

inline ReducePlan plan_reduction(const Shape& shape, const Axes& axes, bool keepdim,
                                 std::string_view op) {
  ReducePlan p;
  if (axes.empty()) {
    for (int d = 0; d < shape.rank(); ++d) p.reduced[d] = true;
  }
  for (std::int64_t a : axes) {
    int d = normalize_axis(a, shape.rank(), op);
    EMBER_CHECK(!p.reduced[d], op, "axis ", a, " appears more than once in ", axes);
    p.reduced[d] = true;
  }
  for (int d = 0; d < shape.rank(); ++d) {
    p.kd_shape.push_back(p.reduced[d] ? 1 : shape[d]);
    if (p.reduced[d]) p.count *= shape[d];
    if (!p.reduced[d] || keepdim) p.out_shape.push_back(p.reduced[d] ? 1 : shape[d]);
  }
  return p;
}

inline constexpr std::int64_t kGrainReduce = 32768;

template <class Op, class T, class Acc>
void reduce_serial(const Shape& shape, const Strides& acc_st, Acc* acc, const Strides& x_st,
                   const T* x, const Op& op) {
  StridedLoop<2> loop(shape, {&acc_st, &x_st}, /*key=*/1);
  loop.run(0, loop.numel(), [&](const auto& off, std::int64_t n, const auto& st) {
    Acc* a = acc + off[0];
    const T* p = x + off[1];
    if (st[0] == 0) {
      *a = op.fold(*a, p, n, st[1]);
    } else {
      for (std::int64_t i = 0; i < n; ++i) {
        a[i * st[0]] = op.combine(a[i * st[0]], static_cast<compute_t<T>>(p[i * st[1]]));
      }
    }
  });
}

/// Reduces x per the plan into a contiguous buffer of Acc (kd_shape order), in parallel.
template <class Op, class T>
std::vector<typename Op::Acc> reduce_to_acc(const Tensor<T>& x, const ReducePlan& plan,
                                            const Op& op) {
  using Acc = typename Op::Acc;
  const Shape& shape = x.shape();
  std::vector<Acc> acc(static_cast<std::size_t>(plan.kd_shape.numel()), op.identity());
  Strides acc_st = contiguous_strides(plan.kd_shape);
  for (int d = 0; d < shape.rank(); ++d) {
    if (plan.reduced[d]) acc_st[d] = 0;
  }
  const std::int64_t total = x.numel();
  if (total == 0) return acc;
  if (total < 2 * kGrainReduce || num_threads() == 1) {
    reduce_serial(shape, acc_st, acc.data(), x.strides(), x.data(), op);
    return acc;
  }
  // Split a kept dim: threads write disjoint accumulators.
  int split = -1;
  for (int d = 0; d < shape.rank(); ++d) {
    if (!plan.reduced[d] && shape[d] >= 2 && (split < 0 || shape[d] > shape[split])) split = d;
  }
  if (split >= 0) {
    const std::int64_t per_index = total / shape[split];
    parallel_for(0, shape[split], std::max<std::int64_t>(1, kGrainReduce / per_index),
                 [&](std::int64_t lo, std::int64_t hi) {
                   Shape s = shape;
                   s[split] = hi - lo;
                   reduce_serial(s, acc_st, acc.data() + lo * acc_st[split], x.strides(),
                                 x.data() + lo * x.strides()[split], op);
                 });
    return acc;
  }
  // Full reduction: every output folds the whole input. Cut the largest dim into pieces, reduce
  // each into its own partial accumulators, then merge.
  int big = 0;
  for (int d = 1; d < shape.rank(); ++d) {
    if (shape[d] > shape[big]) big = d;
  }
  const std::int64_t pieces = std::min<std::int64_t>(num_threads(), shape[big]);
  std::vector<std::vector<Acc>> partial(static_cast<std::size_t>(pieces),
                                        std::vector<Acc>(acc.size(), op.identity()));
  parallel_for(0, pieces, 1, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t piece = lo; piece < hi; ++piece) {
      std::int64_t b = shape[big] * piece / pieces, e = shape[big] * (piece + 1) / pieces;
      Shape s = shape;
      s[big] = e - b;
      reduce_serial(s, acc_st, partial[static_cast<std::size_t>(piece)].data(), x.strides(),
                    x.data() + b * x.strides()[big], op);
    }
  });
  for (const auto& part : partial) {
    for (std::size_t i = 0; i < acc.size(); ++i) acc[i] = op.merge(acc[i], part[i]);
  }
  return acc;
}

/// Runs a reduction and writes op.finish(acc, count) into a tensor of R with the output shape.
template <Scalar R, class Op, class T>
Tensor<R> reduce(const Tensor<T>& x, const Axes& axes, bool keepdim, std::string_view name,
                 const Op& op) {
  ReducePlan plan = plan_reduction(x.shape(), axes, keepdim, name);
  // The output may hold more elements than the input (reducing the empty dim of [2^50, 2^52,
  // 0]): validate its size before the accumulators are allocated.
  checked_numel(plan.out_shape, name, sizeof(R));
  auto acc = reduce_to_acc(x, plan, op);
  Tensor<R> out = Tensor<R>::empty(plan.out_shape);
  R* o = out.data();
  for (std::size_t i = 0; i < acc.size(); ++i) o[i] = static_cast<R>(op.finish(acc[i], plan.count));
  return out;
}

// Accumulation ops: identity, combine (one element), fold (a strided run), merge (two partial
// accumulators), finish (accumulator and element count to the result).
template <class T>
struct SumOp {
  using Acc = compute_t<T>;
  Acc identity() const { return Acc(0); }
  Acc combine(Acc a, Acc x) const { return wrapping_add(a, x); }
  Acc merge(Acc a, Acc b) const { return wrapping_add(a, b); }
  Acc fold(Acc a, const T* p, std::int64_t n, std::int64_t stride) const {
    if constexpr (std::is_floating_point_v<Acc>) {
      if (stride == 1) return a + pairwise_sum(p, n);
    }
    for (std::int64_t i = 0; i < n; ++i) a = combine(a, static_cast<Acc>(p[i * stride]));
    return a;
  }
  // Pairwise (cascade) summation, as NumPy: halves until blocks of ≤ 1024, which are summed
  // into 64 independent lanes. Error grows as O(log n · eps) instead of O(n · eps); the lane loop
  // has no loop-carried dependency, so -O3 vectorises it without -ffast-math, and 64 float
  // lanes are 4 AVX-512 accumulators — enough to cover the 4-cycle add latency (with one
  // accumulator the in-cache sum ran at 87 GB/s, latency-bound).
  static Acc pairwise_sum(const T* p, std::int64_t n) {
    constexpr std::int64_t kBlock = 1024;
    constexpr int kLanes = 64;
    if (n > kBlock) {
      const std::int64_t half = (n / 2) / kLanes * kLanes;
      return pairwise_sum(p, half) + pairwise_sum(p + half, n - half);
    }
    Acc lanes[kLanes] = {};
    std::int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int j = 0; j < kLanes; ++j) lanes[j] += static_cast<Acc>(p[i + j]);
    }
    for (int w = kLanes / 2; w >= 1; w /= 2) {
      for (int j = 0; j < w; ++j) lanes[j] += lanes[j + w];
    }
    for (; i < n; ++i) lanes[0] += static_cast<Acc>(p[i]);
    return lanes[0];
  }
  Acc finish(Acc a, std::int64_t) const { return a; }
};

template <class T>
struct MeanOp : SumOp<T> {
  using Acc = typename SumOp<T>::Acc;
  Acc finish(Acc a, std::int64_t count) const { return a / static_cast<Acc>(count); }
};

template <class T>
struct ProdOp {
  using Acc = compute_t<T>;
  Acc identity() const { return Acc(1); }
  Acc combine(Acc a, Acc x) const { return wrapping_mul(a, x); }
  Acc merge(Acc a, Acc b) const { return wrapping_mul(a, b); }
  Acc fold(Acc a, const T* p, std::int64_t n, std::int64_t stride) const {
    for (std::int64_t i = 0; i < n; ++i) a = combine(a, static_cast<Acc>(p[i * stride]));
    return a;
  }
  Acc finish(Acc a, std::int64_t) const { return a; }
};

/// Max (or min) of a dense run of floats, NaN-propagating, in a form g++ vectorises: each
/// float maps to an integer key with the same order (flip the magnitude bits of negatives), and
/// integer max needs none of the NaN/trapping care that blocks vectorising a float compare.
/// NaN is detected separately from the bits. Measured (bench_elementwise,
/// BM_ember_softmax_rows/64/1, 1 thread): softmax over 64×512 floats went from 5.2 GB/s with a
/// scalar max pass to 12.6 GB/s.
template <bool IsMax, class T>
compute_t<T> dense_extremum(const T* p, std::int64_t n) {
  using CT = compute_t<T>;
  using Bits = std::conditional_t<sizeof(CT) == 4, std::int32_t, std::int64_t>;
  constexpr Bits kMagnitude = std::numeric_limits<Bits>::max();
  constexpr Bits kInfBits = std::bit_cast<Bits>(std::numeric_limits<CT>::infinity());
  Bits m = IsMax ? std::numeric_limits<Bits>::min() : std::numeric_limits<Bits>::max();
  Bits bad = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const Bits b = std::bit_cast<Bits>(static_cast<CT>(p[i]));
    const Bits key = b ^ ((b >> (8 * sizeof(Bits) - 1)) & kMagnitude);
    if constexpr (IsMax)
      m = key > m ? key : m;
    else
      m = key < m ? key : m;
    bad |= static_cast<Bits>((b & kMagnitude) > kInfBits);
  }
  if (bad) return std::numeric_limits<CT>::quiet_NaN();
  if (n == 0)
    return IsMax ? -std::numeric_limits<CT>::infinity() : std::numeric_limits<CT>::infinity();
  return std::bit_cast<CT>(static_cast<Bits>(m ^ ((m >> (8 * sizeof(Bits) - 1)) & kMagnitude)));
}

template <class T, bool IsMax>
struct ExtremumOp {  // max / min, NaN-propagating as torch.max and numpy.max
  using Acc = compute_t<T>;
  Acc identity() const {
    if constexpr (std::numeric_limits<Acc>::has_infinity) {
      return IsMax ? -std::numeric_limits<Acc>::infinity() : std::numeric_limits<Acc>::infinity();
    } else {
      return IsMax ? std::numeric_limits<Acc>::lowest() : std::numeric_limits<Acc>::max();
    }
  }
  Acc combine(Acc a, Acc x) const {
    if constexpr (IsMax)
      return (x > a || is_nan(x)) && !is_nan(a) ? x : a;
    else
      return (x < a || is_nan(x)) && !is_nan(a) ? x : a;
  }
  Acc merge(Acc a, Acc b) const { return combine(a, b); }
  Acc fold(Acc a, const T* p, std::int64_t n, std::int64_t stride) const {
    if constexpr (std::is_floating_point_v<Acc>) {
      if (stride == 1) return combine(a, dense_extremum<IsMax>(p, n));
    }
    for (std::int64_t i = 0; i < n; ++i) a = combine(a, static_cast<Acc>(p[i * stride]));
    return a;
  }
  Acc finish(Acc a, std::int64_t) const { return a; }
};

template <bool IsAny>
struct LogicalOp {
  using Acc = std::uint8_t;  // not bool: the accumulators live in a std::vector
  Acc identity() const { return !IsAny; }
  Acc combine(Acc a, Acc x) const { return IsAny ? (a || x) : (a && x); }
  Acc merge(Acc a, Acc b) const { return combine(a, b); }
  Acc fold(Acc a, const bool* p, std::int64_t n, std::int64_t stride) const {
    for (std::int64_t i = 0; i < n; ++i) a = combine(a, p[i * stride]);
    return a;
  }
  Acc finish(Acc a, std::int64_t) const { return a; }
};

template <class T>
void check_nonempty_reduction(const Tensor<T>& x, const Axes& axes, std::string_view op) {
  ReducePlan plan = plan_reduction(x.shape(), axes, false, op);
  for (int d = 0; d < x.dim(); ++d) {
    EMBER_CHECK(!(plan.reduced[d] && x.shape()[d] == 0), op,
                "cannot reduce over the empty dimension ", d, " of ", x.shape());
  }
}

/// out[j] = Σ_i x[i·ld + j] for an n×m block (rows of m contiguous values, row stride ld): the
/// bias gradient of a linear layer. Columns are split between threads and each column is summed
/// by one thread, in blocks of 64 rows added into the total (blocked summation: the error grows
/// with n/64 + 64 rather than n), so the result does not depend on the thread count. The
/// generic reduction summed these columns one element at a time (2.9% of the MLM step).
template <class T>
void column_sums(const T* x, std::int64_t n, std::int64_t m, std::int64_t ld, T* out) {
  using CT = compute_t<T>;
  constexpr std::int64_t kCols = 64, kRows = 64;
  const std::int64_t blocks = (m + kCols - 1) / kCols;
  const std::int64_t grain = std::max<std::int64_t>(1, kGrainElementwise / std::max<std::int64_t>(1, n * kCols));
  parallel_for(0, blocks, grain, [&](std::int64_t lo, std::int64_t hi) {
    CT total[kCols], part[kCols];
    for (std::int64_t blk = lo; blk < hi; ++blk) {
      const std::int64_t j0 = blk * kCols, w = std::min(kCols, m - j0);
      std::fill(total, total + w, CT(0));
      for (std::int64_t r0 = 0; r0 < n; r0 += kRows) {
        std::fill(part, part + w, CT(0));
        const std::int64_t r1 = std::min(n, r0 + kRows);
        for (std::int64_t r = r0; r < r1; ++r) {
          const T* row = x + r * ld + j0;
          for (std::int64_t j = 0; j < w; ++j) part[j] += static_cast<CT>(row[j]);
        }
        for (std::int64_t j = 0; j < w; ++j) total[j] += part[j];
      }
      for (std::int64_t j = 0; j < w; ++j) out[j0 + j] = static_cast<T>(total[j]);
    }
  });
}

}  // namespace detail

/// Sum over `axes` (all if empty). `ember::sum(x, {0, 2}, /*keepdim=*/true)`.
template <Numeric T>
Tensor<T> sum(const Tensor<T>& x, const Axes& axes = {}, bool keepdim = false) {
  return detail::reduce<T>(x, axes, keepdim, "sum", detail::SumOp<T>{});
}

/// Product over `axes` (all if empty).
template <Numeric T>
Tensor<T> prod(const Tensor<T>& x, const Axes& axes = {}, bool keepdim = false) {
  return detail::reduce<T>(x, axes, keepdim, "prod", detail::ProdOp<T>{});
}

/// Mean over `axes` (floating types; NaN for an empty reduction, as NumPy).
template <FloatingScalar T>
Tensor<T> mean(const Tensor<T>& x, const Axes& axes = {}, bool keepdim = false) {
  return detail::reduce<T>(x, axes, keepdim, "mean", detail::MeanOp<T>{});
}

/// Maximum over `axes`; NaN propagates; an empty reduction raises.
template <Numeric T>
Tensor<T> max(const Tensor<T>& x, const Axes& axes = {}, bool keepdim = false) {
  detail::check_nonempty_reduction(x, axes, "max");
  return detail::reduce<T>(x, axes, keepdim, "max", detail::ExtremumOp<T, true>{});
}

/// Minimum over `axes`; NaN propagates; an empty reduction raises.
template <Numeric T>
Tensor<T> min(const Tensor<T>& x, const Axes& axes = {}, bool keepdim = false) {
  detail::check_nonempty_reduction(x, axes, "min");
  return detail::reduce<T>(x, axes, keepdim, "min", detail::ExtremumOp<T, false>{});
}

/// True where any element along `axes` is true.
inline Tensor<bool> any(const Tensor<bool>& x, const Axes& axes = {}, bool keepdim = false) {
  return detail::reduce<bool>(x, axes, keepdim, "any", detail::LogicalOp<true>{});
}
/// True where every element along `axes` is true.
inline Tensor<bool> all(const Tensor<bool>& x, const Axes& axes = {}, bool keepdim = false) {
  return detail::reduce<bool>(x, axes, keepdim, "all", detail::LogicalOp<false>{});
}

/// Variance over `axes`, sum((x - mean)^2) / (N - correction); correction=1 (PyTorch's default)
/// is the unbiased estimate, 0 is NumPy's default. Two passes, so no catastrophic cancellation.
template <FloatingScalar T>
Tensor<T> var(const Tensor<T>& x, const Axes& axes = {}, std::int64_t correction = 1,
              bool keepdim = false) {
  detail::ReducePlan plan = detail::plan_reduction(x.shape(), axes, keepdim, "var");
  Tensor<T> d = x - mean(x, axes, /*keepdim=*/true);
  square_(d);
  Tensor<T> s = sum(d, axes, keepdim);
  using CT = compute_t<T>;
  const CT denom = static_cast<CT>(std::max<std::int64_t>(plan.count - correction, 0));
  return detail::apply_(s, "var", [denom](CT v) { return v / denom; });
}

/// Standard deviation: sqrt(var).
template <FloatingScalar T>
Tensor<T> std(const Tensor<T>& x, const Axes& axes = {}, std::int64_t correction = 1,
              bool keepdim = false) {
  return sqrt_(var(x, axes, correction, keepdim));
}

namespace detail {

template <class T, bool IsMax>
bool arg_better(compute_t<T> v, compute_t<T> best) {
  if (is_nan(best)) return false;
  if (is_nan(v)) return true;
  return IsMax ? v > best : v < best;
}

template <bool IsMax, class T>
Tensor<std::int64_t> arg_extremum(const Tensor<T>& x, std::string_view op) {
  EMBER_CHECK(x.numel() > 0, op, "cannot take the ", op, " of an empty tensor of shape ",
              x.shape());
  Tensor<T> c = x.contiguous();
  const T* p = c.data();
  std::int64_t best_i = 0;
  compute_t<T> best = static_cast<compute_t<T>>(p[0]);
  for (std::int64_t i = 1, n = c.numel(); i < n; ++i) {
    compute_t<T> v = static_cast<compute_t<T>>(p[i]);
    if (arg_better<T, IsMax>(v, best)) {
      best = v;
      best_i = i;
    }
  }
  return scalar_tensor<std::int64_t>(best_i);
}

template <bool IsMax, class T>
Tensor<std::int64_t> arg_extremum(const Tensor<T>& x, std::int64_t axis, bool keepdim,
                                  std::string_view op) {
  int ax = normalize_axis(axis, x.dim(), op);
  const std::int64_t len = x.shape()[ax];
  EMBER_CHECK(len > 0, op, "cannot reduce over the empty dimension ", ax, " of ", x.shape());
  const std::int64_t step = x.strides()[ax];
  Tensor<T> rest = x.select(ax, 0);  // the other dims; walking `ax` adds multiples of step
  Tensor<std::int64_t> out = Tensor<std::int64_t>::empty(rest.shape());
  StridedLoop<2> loop(rest.shape(), {&out.strides(), &rest.strides()});
  std::int64_t* po = out.data();
  const T* px = rest.data();
  run_parallel(loop, [&](const auto& off, std::int64_t n, const auto& st) {
    for (std::int64_t i = 0; i < n; ++i) {
      const T* p = px + off[1] + i * st[1];
      compute_t<T> best = static_cast<compute_t<T>>(p[0]);
      std::int64_t best_k = 0;
      for (std::int64_t k = 1; k < len; ++k) {
        compute_t<T> v = static_cast<compute_t<T>>(p[k * step]);
        if (arg_better<T, IsMax>(v, best)) {
          best = v;
          best_k = k;
        }
      }
      po[off[0] + i * st[0]] = best_k;
    }
  });
  return keepdim ? out.unsqueeze(ax) : out;
}

}  // namespace detail

/// Index of the first maximum of the flattened tensor (row-major), as a 0-d tensor.
template <Numeric T>
Tensor<std::int64_t> argmax(const Tensor<T>& x) {
  return detail::arg_extremum<true>(x, "argmax");
}
/// Indices of the first maximum along `axis`.
template <Numeric T>
Tensor<std::int64_t> argmax(const Tensor<T>& x, std::int64_t axis, bool keepdim = false) {
  return detail::arg_extremum<true>(x, axis, keepdim, "argmax");
}
template <Numeric T>
Tensor<std::int64_t> argmin(const Tensor<T>& x) {
  return detail::arg_extremum<false>(x, "argmin");
}
template <Numeric T>
Tensor<std::int64_t> argmin(const Tensor<T>& x, std::int64_t axis, bool keepdim = false) {
  return detail::arg_extremum<false>(x, axis, keepdim, "argmin");
}

}  // namespace ember
