// ember/kernels/quantize.hpp — affine quantisation to 8-bit integers, and the int8 linear layer
// of dynamic quantisation (torch.ao.quantization.quantize_dynamic).
// Layer: kernels (on tensors, as gemm.hpp's matmul).
//
//   q = clamp(round_half_even(x / scale) + zero_point, qmin, qmax),   x ≈ (q − zero_point)·scale
//
// uint8 [0, 255] or int8 [−128, 127]; per tensor (one scale and zero point) or per channel
// (one per index along `axis`), as torch.quantize_per_tensor / quantize_per_channel.
//
// Dynamic quantisation of a linear layer y = x·Wᵀ + b:
//   * W once, per output channel, symmetric int8 in [−127, 127]: s_o = max_p |W(o,p)| / 127;
//   * x at run time, per row, asymmetric uint8: s_r = (max(x_r, 0) − min(x_r, 0)) / 255,
//     z_r = round(−min(x_r, 0) / s_r);
//   * y(r,o) = s_r·s_o·(Σ_p xq(r,p)·wq(o,p) − z_r·Σ_p wq(o,p)) + b(o), the sum one u8·s8 → s32
//     GEMM (exact), the correction with the precomputed column sums.
// Error per output, from rounding only: |Δy(r,o)| ≤ Σ_p (|x(r,p)|·s_o/2 + |W(o,p)|·s_r/2 +
// s_r·s_o/4) — tests/kernels/test_quantize.cpp checks exactly this bound.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "ember/core/factory.hpp"
#include "ember/core/tensor.hpp"
#include "ember/kernels/gemm/gemm.hpp"
#include "ember/kernels/gemm/packed.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember {

template <class Q>
concept QuantizedInt = std::is_same_v<Q, std::uint8_t> || std::is_same_v<Q, std::int8_t>;

/// Integer values with their scales and zero points: per tensor (axis = −1, one scale) or per
/// channel along `axis` (scales and zero_points of length values.size(axis)).
template <QuantizedInt Q>
struct QuantizedTensor {
  Tensor<Q> values;
  Tensor<float> scales;
  Tensor<std::int32_t> zero_points;
  std::int64_t axis = -1;

  /// (q − zero_point)·scale, as float.
  Tensor<float> dequantize() const;
};

namespace detail {

template <QuantizedInt Q>
constexpr std::int32_t qmin() {
  return std::numeric_limits<Q>::min();
}
template <QuantizedInt Q>
constexpr std::int32_t qmax() {
  return std::numeric_limits<Q>::max();
}

template <QuantizedInt Q>
Q quantize_one(float x, float inv_scale, std::int32_t zp) {
  const float r = std::nearbyint(x * inv_scale) + static_cast<float>(zp);
  return static_cast<Q>(std::clamp(r, static_cast<float>(qmin<Q>()), static_cast<float>(qmax<Q>())));
}

inline void check_scale(float scale, std::int32_t zp, std::int32_t lo, std::int32_t hi,
                        std::string_view op) {
  EMBER_CHECK(std::isfinite(scale) && scale > 0.0f, op, "scale must be positive and finite, got ",
              scale);
  EMBER_CHECK(zp >= lo && zp <= hi, op, "zero_point ", zp, " is outside [", lo, ", ", hi, "]");
}

inline void check_finite(const Tensor<float>& x, std::string_view op) {
  const Tensor<float> c = x.contiguous();
  const float* p = c.data();
  for (std::int64_t i = 0; i < c.numel(); ++i)
    EMBER_CHECK(std::isfinite(p[i]), op, "input ", x.shape(), " has a non-finite value at flat index ", i);
}

}  // namespace detail

/// torch.quantize_per_tensor: one scale and zero point for every element.
template <QuantizedInt Q>
QuantizedTensor<Q> quantize_per_tensor(const Tensor<float>& x, float scale,
                                       std::int32_t zero_point) {
  detail::check_scale(scale, zero_point, detail::qmin<Q>(), detail::qmax<Q>(), "quantize_per_tensor");
  detail::check_finite(x, "quantize_per_tensor");
  const Tensor<float> c = x.contiguous();
  Tensor<Q> q = Tensor<Q>::empty(x.shape());
  const float inv = 1.0f / scale;
  const float* src = c.data();
  Q* dst = q.data();
  for (std::int64_t i = 0; i < c.numel(); ++i) dst[i] = detail::quantize_one<Q>(src[i], inv, zero_point);
  return {q, Tensor<float>{scale}, Tensor<std::int32_t>{zero_point}, -1};
}

/// torch.quantize_per_channel: scales[c] and zero_points[c] for index c along `axis`.
template <QuantizedInt Q>
QuantizedTensor<Q> quantize_per_channel(const Tensor<float>& x, const Tensor<float>& scales,
                                        const Tensor<std::int32_t>& zero_points,
                                        std::int64_t axis) {
  EMBER_CHECK(x.dim() >= 1, "quantize_per_channel", "needs at least 1 dim, got ", x.shape());
  const std::int64_t ax = axis < 0 ? axis + x.dim() : axis;
  EMBER_CHECK(ax >= 0 && ax < x.dim(), "quantize_per_channel", "axis ", axis, " is out of range for ",
              x.shape());
  const std::int64_t channels = x.size(ax);
  EMBER_CHECK(scales.dim() == 1 && scales.size(0) == channels && zero_points.dim() == 1 &&
                  zero_points.size(0) == channels,
              "quantize_per_channel", "scales ", scales.shape(), " and zero_points ",
              zero_points.shape(), " must both be [", channels, "] for input ", x.shape(),
              " along axis ", ax);
  const Tensor<float> s = scales.contiguous();
  const Tensor<std::int32_t> z = zero_points.contiguous();
  for (std::int64_t ch = 0; ch < channels; ++ch)
    detail::check_scale(s.data()[ch], z.data()[ch], detail::qmin<Q>(), detail::qmax<Q>(),
                        "quantize_per_channel");
  detail::check_finite(x, "quantize_per_channel");
  const Tensor<float> c = x.contiguous();
  Tensor<Q> q = Tensor<Q>::empty(x.shape());
  std::int64_t inner = 1;
  for (std::int64_t d = ax + 1; d < x.dim(); ++d) inner *= x.size(d);
  const float* src = c.data();
  Q* dst = q.data();
  for (std::int64_t i = 0; i < c.numel(); ++i) {
    const std::int64_t ch = (i / inner) % channels;
    dst[i] = detail::quantize_one<Q>(src[i], 1.0f / s.data()[ch], z.data()[ch]);
  }
  return {q, s.clone(), z.clone(), ax};
}

template <QuantizedInt Q>
Tensor<float> QuantizedTensor<Q>::dequantize() const {
  const Tensor<Q> c = values.contiguous();
  Tensor<float> out = Tensor<float>::empty(values.shape());
  const Tensor<float> s = scales.contiguous();
  const Tensor<std::int32_t> z = zero_points.contiguous();
  const std::int64_t channels = axis < 0 ? 1 : values.size(axis);
  EMBER_CHECK(s.numel() == channels && z.numel() == channels, "dequantize", "scales ",
              scales.shape(), " and zero_points ", zero_points.shape(), " do not match ",
              channels, " channel(s) of ", values.shape());
  std::int64_t inner = c.numel();
  if (axis >= 0) {
    inner = 1;
    for (std::int64_t d = axis + 1; d < values.dim(); ++d) inner *= values.size(d);
  }
  for (std::int64_t i = 0; i < c.numel(); ++i) {
    const std::int64_t ch = axis < 0 ? 0 : (i / inner) % channels;
    out.data()[i] = static_cast<float>(static_cast<std::int32_t>(c.data()[i]) - z.data()[ch]) *
                    s.data()[ch];
  }
  return out;
}

/// A linear layer's weights quantised for dynamic int8 inference (see the file comment).
struct Int8LinearWeights {
  Tensor<std::int8_t> weight;         // (out, in), symmetric per output channel
  Tensor<float> scales;               // (out)
  Tensor<std::int32_t> column_sums;   // (out): Σ_p weight(o, p)
  Tensor<float> bias;                 // (out) or empty
  /// weightᵀ (in × out) packed for the int8 kernel once (quantize_linear_weights), so the
  /// products skip packing it on every call. Target: the 12% of bench_autograd's int8
  /// linear_stack that packing the weights took (perf, Zen 3, 1 thread); reached −6% of the
  /// stack's time there (6.2 / 5.9 → 5.9 / 5.5 ms; 2 threads within noise). A snapshot: after
  /// changing `weight` in place, quantise again. Empty (a weights struct built by hand):
  /// linear_int8 packs `weight` on each call.
  PackedB<std::int8_t> packed;
  std::int64_t in_features() const { return weight.size(1); }
  std::int64_t out_features() const { return weight.size(0); }
};

/// Quantises W (out, in) per output channel to int8 in [−127, 127]; bias kept in fp32.
inline Int8LinearWeights quantize_linear_weights(const Tensor<float>& w,
                                                 const Tensor<float>& bias = Tensor<float>()) {
  EMBER_CHECK(w.dim() == 2 && w.size(0) > 0 && w.size(1) > 0, "quantize_linear_weights",
              "expects a non-empty weight (out, in), got ", w.shape());
  const bool has_bias = bias.numel() > 0 || bias.dim() != 1;
  if (has_bias)
    EMBER_CHECK(bias.dim() == 1 && bias.size(0) == w.size(0), "quantize_linear_weights", "bias ",
                bias.shape(), " does not match weight ", w.shape());
  detail::check_finite(w, "quantize_linear_weights");
  const std::int64_t out = w.size(0), in = w.size(1);
  const Tensor<float> c = w.contiguous();
  Tensor<float> scales = Tensor<float>::empty({out});
  for (std::int64_t o = 0; o < out; ++o) {
    float m = 0;
    for (std::int64_t p = 0; p < in; ++p) m = std::max(m, std::fabs(c.data()[o * in + p]));
    scales.data()[o] = m > 0 ? m / 127.0f : 1.0f;  // an all-zero row quantises to zeros
  }
  Int8LinearWeights q{quantize_per_channel<std::int8_t>(w, scales, zeros<std::int32_t>({out}), 0).values,
                      scales, Tensor<std::int32_t>::empty({out}),
                      has_bias ? bias.contiguous().clone() : Tensor<float>(), {}};
  for (std::int64_t o = 0; o < out; ++o) {
    std::int32_t s = 0;
    for (std::int64_t p = 0; p < in; ++p) s += q.weight.data()[o * in + p];
    q.column_sums.data()[o] = s;
  }
  q.packed = PackedB<std::int8_t>(in, out, q.weight.data(), 1, in);
  return q;
}

/// y = x·Wᵀ + b with W quantised (quantize_linear_weights) and x quantised per row at run time
/// to uint8; x (..., in) → y (..., out), fp32. Inference only (no gradient).
inline Tensor<float> linear_int8(const Tensor<float>& x, const Int8LinearWeights& w) {
  const std::int64_t in = w.in_features(), out = w.out_features();
  EMBER_CHECK(x.dim() >= 1 && x.size(-1) == in, "linear_int8", "x ", x.shape(),
              " does not end in in_features ", in, " of the quantised weight ", w.weight.shape());
  const Tensor<float> x2 = x.reshape({-1, in}).contiguous();
  const std::int64_t rows = x2.size(0);
  Shape out_shape = x.shape();
  out_shape[out_shape.rank() - 1] = out;
  Tensor<float> y = Tensor<float>::empty(out_shape);
  if (rows == 0) return y;
  Tensor<std::uint8_t> xq = Tensor<std::uint8_t>::empty({rows, in});
  std::vector<float> row_scale(static_cast<std::size_t>(rows));
  std::vector<std::int32_t> row_zp(static_cast<std::size_t>(rows));
  const float* xs = x2.data();
  std::uint8_t* xd = xq.data();
  std::atomic<bool> finite{true};
  parallel_for(0, rows, std::max<std::int64_t>(1, 65536 / in), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      const float* xr = xs + r * in;
      float mn = 0, mx = 0;
      bool row_finite = true;
      for (std::int64_t p = 0; p < in; ++p) {
        row_finite = row_finite && std::isfinite(xr[p]);  // min/max alone would skip a NaN
        mn = std::min(mn, xr[p]);
        mx = std::max(mx, xr[p]);
      }
      if (!row_finite) {  // reported below; never converted (NaN → uint8 is undefined)
        finite.store(false, std::memory_order_relaxed);
        continue;
      }
      // The range in double: max − min of two finite floats can exceed FLT_MAX.
      const auto scale = mx > mn ? static_cast<float>((double{mx} - double{mn}) / 255.0) : 1.0f;
      const auto zp = static_cast<std::int32_t>(std::clamp(std::nearbyint(-mn / scale), 0.0f, 255.0f));
      row_scale[static_cast<std::size_t>(r)] = scale;
      row_zp[static_cast<std::size_t>(r)] = zp;
      const float inv = 1.0f / scale;
      for (std::int64_t p = 0; p < in; ++p) xd[r * in + p] = detail::quantize_one<std::uint8_t>(xr[p], inv, zp);
    }
  });
  EMBER_CHECK(finite.load(), "linear_int8", "input ", x.shape(), " has a non-finite value");
  Tensor<std::int32_t> acc = Tensor<std::int32_t>::empty({rows, out});
  if (w.packed.rows() == in && w.packed.cols() == out)
    gemm(rows, 1, xq.data(), in, 1, w.packed, 0, acc.data(), out, 1);
  else
    gemm(rows, out, in, 1, xq.data(), in, 1, w.weight.data(), 1, in, 0, acc.data(), out, 1);
  float* yd = y.data();
  const std::int32_t* ad = acc.data();
  const float* ws = w.scales.data();
  const std::int32_t* cs = w.column_sums.data();
  const float* b = w.bias.numel() > 0 ? w.bias.data() : nullptr;
  parallel_for(0, rows, std::max<std::int64_t>(1, 65536 / out), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      const float sr = row_scale[static_cast<std::size_t>(r)];
      const std::int32_t zr = row_zp[static_cast<std::size_t>(r)];
      for (std::int64_t o = 0; o < out; ++o) {
        const std::int64_t v = std::int64_t{ad[r * out + o]} - std::int64_t{zr} * cs[o];
        yd[r * out + o] = sr * ws[o] * static_cast<float>(v) + (b ? b[o] : 0.0f);
      }
    }
  });
  return y;
}

}  // namespace ember
