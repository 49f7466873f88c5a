// ember/kernels/activation.hpp — GELU's forward and backward as raw-pointer kernels.
// Layer: kernels. The scalar formulas (gelu_value, gelu_grad) are shared by the Tensor-level
// ember::gelu (elementwise.hpp), the autograd op (autograd/ops/activation.hpp) and the pointer kernels
// below, so every path computes the same bits. For float they use the vectorisable
// normal_cdf_pdf (math.hpp): libm's erff is a call per element, which no compiler vectorises.
//
//   gelu_forward(x, y, n):        y[i]  = x[i]·Φ(x[i]),               Φ(x) = (1 + erf(x/√2))/2
//   gelu_backward(x, dy, dx, n):  dx[i] = dy[i]·(Φ(x[i]) + x[i]·φ(x[i])), φ(x) = e^{-x²/2}/√(2π)
//   x, y, dy, dx: n contiguous elements; dx may alias dy, y may alias x.
//
// Speed target: memory-bound (≥ 80% of triad bandwidth above L2; bench_elementwise BM_gelu*).
// Missed: compute-bound at about 0.8 ns per element on one Zen 5 core. With normal_cdf_pdf in
// place of erf_fast (2026-12-03, 4 Mi floats, two alternating rounds): forward 9.2 / 9.0 →
// 9.0 / 10.2 GB/s on one thread, 17.2 / 17.2 → 19.6 / 20.5 on two; backward 9.1 / 7.8 →
// 14.1 / 14.0 and 17.6 / 14.7 → 27.5 / 27.1 (triad: 28 and 81). README, "Roofline".
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "ember/kernels/cpu.hpp"
#include "ember/kernels/math.hpp"
#include "ember/kernels/math_avx2.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::detail {

// float: Φ and φ from normal_cdf_pdf (math.hpp), one exponential for both and no cancellation
// for negative x; double: libm's erf and exp.
template <class T>
EMBER_ALWAYS_INLINE T gelu_value(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return x * normal_cdf_pdf(x).cdf;
  } else {
    return T(0.5) * x * (T(1) + detail::erf(x * T(0.7071067811865476)));
  }
}
template <class T>
EMBER_ALWAYS_INLINE T gelu_grad(T x) {
  if constexpr (std::is_same_v<T, float>) {
    const NormalCdfPdf f = normal_cdf_pdf(x);
    return f.cdf + x * f.pdf;
  } else {
    const T cdf = T(0.5) * (T(1) + detail::erf(x * T(0.7071067811865476)));
    const T pdf = T(0.3989422804014327) * detail::exp(T(-0.5) * x * x);
    return cdf + x * pdf;
  }
}

/// Elements per thread below which GELU runs on one thread.
inline constexpr std::int64_t kGrainActivation = 16384;

// The loops, inlined into one copy per instruction set below: the vectoriser widens the
// branch-free erf/exp to the register width of the copy it sits in.
template <class T>
EMBER_ALWAYS_INLINE void gelu_forward_loop(const T* x, T* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = gelu_value(x[i]);
}
template <class T>
EMBER_ALWAYS_INLINE void gelu_backward_loop(const T* x, const T* dy, T* dx, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) dx[i] = dy[i] * gelu_grad(x[i]);
}

// Run-time dispatch for float: a program built without -march flags (the default) would
// otherwise get the SSE2 loop, 4 lanes without FMA. In the MLM pretraining step (issue 14's
// shape, d 256, ffn 1024), GELU forward + backward took 37% of the step at SSE2.
// The AVX-512 copy is the loop above run through with_widest_isa (cpu.hpp), which g++
// if-converts with masks. g++ 12 leaves the same
// loop scalar for AVX2 (it keeps exp_fast/erf_fast's clamps as branches under -ftrapping-math),
// so the AVX2 copy runs the __m256 forms of math_avx2.hpp, eight lanes at a time.
// Measured in a default build (g++ 12 -O3, no -march; 4M elements, 1 thread, Zen 5, best of
// 15, ns per element, forward / backward): SSE2 17.0 / 26.8; AVX2 10.2 / 15.5 with the scalar
// forms, **1.60 / 2.35** with the __m256 forms; AVX-512 1.12 / 1.67. (bench_elementwise builds
// with -march=native, where the "AVX2" copy may use AVX-512VL too, so it cannot show this.)
// Target: memory-bound on every copy. Reached for AVX-512 (~7 GB/s of 1-thread streaming);
// the AVX2 copy is within 1.4× of it, bound by its 8-lane arithmetic.
#if EMBER_X86
__attribute__((target("avx2,fma"))) inline __m256 gelu_avx2(__m256 v) {
  return _mm256_mul_ps(v, avx2::normal_cdf_pdf(v).cdf);
}
__attribute__((target("avx2,fma"))) inline void gelu_forward_avx2(const float* x, float* y, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, gelu_avx2(_mm256_loadu_ps(x + i)));
  }
  gelu_forward_loop(x + i, y + i, n - i);
}
__attribute__((target("avx2,fma"))) inline void gelu_backward_avx2(const float* x, const float* dy, float* dx,
                                                                  std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const avx2::NormalCdfPdf8 f = avx2::normal_cdf_pdf(v);
    const __m256 grad = _mm256_fmadd_ps(v, f.pdf, f.cdf);
    _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), grad));
  }
  gelu_backward_loop(x + i, dy + i, dx + i, n - i);
}
#endif

/// y = gelu(x) over n elements on this thread, with the widest instructions allowed
/// (EMBER_ISA / set_gemm_isa cap it, so every copy is testable on one machine).
template <class T>
void gelu_forward_range(const T* x, T* y, std::int64_t n) {
#if EMBER_X86
  if constexpr (std::is_same_v<T, float>) {
    return with_widest_isa([&] { gelu_forward_loop(x, y, n); },
                           [&] { gelu_forward_avx2(x, y, n); });
  }
#endif
  gelu_forward_loop(x, y, n);
}
template <class T>
void gelu_backward_range(const T* x, const T* dy, T* dx, std::int64_t n) {
#if EMBER_X86
  if constexpr (std::is_same_v<T, float>) {
    return with_widest_isa([&] { gelu_backward_loop(x, dy, dx, n); },
                           [&] { gelu_backward_avx2(x, dy, dx, n); });
  }
#endif
  gelu_backward_loop(x, dy, dx, n);
}

// ---- Bias, GELU and a residual add on a finished GEMM tile, in one pass ----------------------
/// The activation an Epilogue applies.
enum class EpilogueAct : std::uint8_t { none, gelu };

/// Work done on each finished strip of micro-tiles of C (after its last depth block, while the
/// strip is in L1; gemm/driver.hpp, tile_strip), in this order:
///   C(i, j) += bias[j];
///   with act = gelu: pre(i, j) = C(i, j) (if pre is given), then C(i, j) = gelu(C(i, j));
///   C(i, j) += residual(i, j).
/// Each step only where its operand is given. bias is indexed by C's column, pre and residual by
/// (i, j) with rows ld_pre / ld_residual apart (contiguous within a row). Each saves a pass over
/// C in memory: linear layers wrote the bias into every row of the output before the GEMM; an
/// FFN's GELU read its input back and wrote a second tensor; a residual connection read both
/// tensors back and wrote a third. `pre` keeps what GELU's backward needs (cuBLASLt's GELU_AUX
/// epilogue does the same). The arithmetic is the separate ops' (the bias add, gelu_forward, the
/// add), in their order, so the values are theirs up to the last bit of GELU's vector/scalar
/// tails. The GEMM driver applies it (gemm/driver.hpp, apply_epilogue); epilogue_tile below is
/// its one-pass form for contiguous float/double tiles.
template <class T>
struct Epilogue {
  const T* bias = nullptr;  // one per column of C, contiguous
  EpilogueAct act = EpilogueAct::none;
  T* pre = nullptr;  // with act: C before the activation; may be null
  std::int64_t ld_pre = 0;
  const T* residual = nullptr;
  std::int64_t ld_residual = 0;

  [[nodiscard]] bool gelu() const { return act == EpilogueAct::gelu; }
  [[nodiscard]] bool empty() const { return bias == nullptr && !gelu() && residual == nullptr; }
  /// The same epilogue for the block of C whose first element is C(i0, j0): each operand given
  /// points at its own (i0, j0); one not given stays null.
  [[nodiscard]] Epilogue at(std::int64_t i0, std::int64_t j0) const {
    Epilogue e = *this;
    if (bias != nullptr) e.bias += j0;
    if (pre != nullptr) e.pre += i0 * ld_pre + j0;
    if (residual != nullptr) e.residual += i0 * ld_residual + j0;
    return e;
  }
};

// Speed target: the fused feed-forward block (GEMM + bias + GELU + residual) faster than the
// composed ops. The first form called gelu_forward_range once per tile row; the second, one pass
// per MR × NR tile; both were slower fused (bench_autograd ffn/*, 1 thread: 22.3–23.2 ms against
// 21.3–22.1, then 30.2 / 27.6 against 25.1 / 25.1 on a slower day). The cause was the tile's
// size: 14 rows of 32 elements per call (gemm/driver.hpp, kEpilogueSlivers, has the figures).
// The driver now applies it per strip of 8 tiles; see README, "GEMM epilogues", for the block.
template <bool kBias, bool kGelu, bool kPre, bool kRes, class T>
EMBER_ALWAYS_INLINE void epilogue_row_loop(T* c, const T* bias, T* pre, const T* res, std::int64_t n) {
  for (std::int64_t j = 0; j < n; ++j) {
    T v = c[j];
    if constexpr (kBias) v += bias[j];
    if constexpr (kGelu) {
      if constexpr (kPre) pre[j] = v;
      v = gelu_value(v);
    }
    if constexpr (kRes) v += res[j];
    c[j] = v;
  }
}

#if EMBER_X86
template <bool kBias, bool kGelu, bool kPre, bool kRes>
__attribute__((target("avx2,fma"))) inline void epilogue_row_avx2(float* c, const float* bias, float* pre,
                                                                 const float* res, std::int64_t n) {
  std::int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 v = _mm256_loadu_ps(c + j);
    if constexpr (kBias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + j));
    if constexpr (kGelu) {
      if constexpr (kPre) _mm256_storeu_ps(pre + j, v);
      v = gelu_avx2(v);
    }
    if constexpr (kRes) v = _mm256_add_ps(v, _mm256_loadu_ps(res + j));
    _mm256_storeu_ps(c + j, v);
  }
  // (An operand not given stays null: no offset is applied to it.)
  epilogue_row_loop<kBias, kGelu, kPre, kRes>(c + j, kBias ? bias + j : bias, kPre ? pre + j : pre,
                                              kRes ? res + j : res, n - j);
}
#endif

/// Calls f(std::bool_constant<b>...) for the run-time flags b..., so each combination is its own
/// loop with no test inside it.
template <bool... kDone, class F, class... Bools>
EMBER_ALWAYS_INLINE void with_static_flags(F&& f, Bools... flags) {
  if constexpr (sizeof...(Bools) == 0) {
    f(std::bool_constant<kDone>{}...);
  } else {
    [&](bool first, auto... rest) {
      if (first) {
        with_static_flags<kDone..., true>(f, rest...);
      } else {
        with_static_flags<kDone..., false>(f, rest...);
      }
    }(flags...);
  }
}

/// Applies `ep` (its pointers at the tile's first element) to the m×n tile at c, rows ldc apart.
template <class T>
void epilogue_tile(const Epilogue<T>& ep, T* c, std::int64_t ldc, std::int64_t m, std::int64_t n) {
  with_static_flags(
      [&](auto has_bias, auto has_gelu, auto has_pre, auto has_res) {
        constexpr bool kBias = decltype(has_bias)::value, kGelu = decltype(has_gelu)::value;
        constexpr bool kPre = decltype(has_pre)::value, kRes = decltype(has_res)::value;
        auto each_row = [&](auto row_fn) {
          for (std::int64_t i = 0; i < m; ++i) {
            const Epilogue<T> r = ep.at(i, 0);
            row_fn(c + i * ldc, r.bias, r.pre, r.residual, n);
          }
        };
        auto generic = [&] {
          each_row([](auto... args) { epilogue_row_loop<kBias, kGelu, kPre, kRes>(args...); });
        };
#if EMBER_X86
        if constexpr (std::is_same_v<T, float>) {
          return with_widest_isa(generic, [&] {
            each_row([](auto... args) { epilogue_row_avx2<kBias, kGelu, kPre, kRes>(args...); });
          });
        }
#endif
        generic();
      },
      ep.bias != nullptr, ep.gelu(), ep.gelu() && ep.pre != nullptr, ep.residual != nullptr);
}

}  // namespace ember::detail

namespace ember::kernels {

template <class T>
void gelu_forward(const T* x, T* y, std::int64_t n) {
  parallel_for(0, n, detail::kGrainActivation,
               [=](std::int64_t lo, std::int64_t hi) { detail::gelu_forward_range(x + lo, y + lo, hi - lo); });
}

template <class T>
void gelu_backward(const T* x, const T* dy, T* dx, std::int64_t n) {
  parallel_for(0, n, detail::kGrainActivation, [=](std::int64_t lo, std::int64_t hi) {
    detail::gelu_backward_range(x + lo, dy + lo, dx + lo, hi - lo);
  });
}

}  // namespace ember::kernels
