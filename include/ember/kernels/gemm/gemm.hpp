// ember/kernels/gemm/gemm.hpp — matrix products: BLAS-style gemm, batched gemm, matmul, linear.
// Layer: kernels/gemm (the entry point; includes the driver and the dispatch table).
//
//   gemm(m, n, k, alpha, a, rs_a, cs_a, b, rs_b, cs_b, beta, c, rs_c, cs_c)   any strides
//   gemm(Layout, Trans, Trans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)  BLAS convention
//   gemm(alpha, A, B, beta, C)              on 2-D tensors (views with any strides)
//   gemm_batched(alpha, A, B, beta, C)      on 3-D tensors: a strided batch
//   matmul(a, b)                            torch.matmul semantics, batch dims broadcast
//   linear(x, w, bias)                      x · wᵀ + bias, as torch.nn.functional.linear
//
// float runs the packed Goto/BLIS driver with the micro-kernel picked at run time
// (dispatch.hpp); bfloat16 tensors run the bf16 kernels (mixed.hpp) with fp32 sums, rounded
// once; double and the integer types run the same driver with the portable reference kernel. As in BLAS, beta == 0 means C is not read (NaN or garbage in C does not propagate),
// and C must not overlap A or B (the tensor entry points check it).
#pragma once

#include <string_view>
#include <vector>

#include "ember/core/factory.hpp"
#include "ember/core/tensor.hpp"
#include "ember/kernels/gemm/dispatch.hpp"
#include "ember/kernels/gemm/driver.hpp"
#include "ember/kernels/gemm/mixed.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember {

/// How fp32 matrix products are computed (torch.set_float32_matmul_precision, CPU autocast):
///   fp32  fp32 products and sums (the default);
///   bf16  operands rounded to bf16 while they are packed, exact products, fp32 sums — on AMX
///         tiles where the CPU has them. Inputs, outputs, parameters and gradients stay fp32.
/// Every fp32 GEMM honours it: gemm, gemm_batched, matmul, linear and the autograd ops built on
/// them (their forward and both backward products).
enum class Precision { fp32, bf16 };

constexpr std::string_view precision_name(Precision p) {
  return p == Precision::bf16 ? "bf16" : "fp32";
}

namespace detail {
inline std::atomic<int>& precision_default() {
  static std::atomic<int> p{static_cast<int>(Precision::fp32)};
  return p;
}
inline int& precision_override() {  // -1: none; set by MatmulPrecisionGuard on this thread
  thread_local int p = -1;
  return p;
}
}  // namespace detail

/// The precision of fp32 matrix products on the calling thread.
inline Precision matmul_precision() {
  const int o = detail::precision_override();
  return static_cast<Precision>(o >= 0 ? o
                                       : detail::precision_default().load(std::memory_order_relaxed));
}

/// Sets the process-wide default (threads inside a MatmulPrecisionGuard keep the guard's).
inline void set_matmul_precision(Precision p) {
  detail::precision_default().store(static_cast<int>(p), std::memory_order_relaxed);
}

/// Scoped precision on the calling thread, restored on exit (as torch.autocast):
///
///     { ember::MatmulPrecisionGuard bf16(ember::Precision::bf16); loss = model.forward(x); … }
class MatmulPrecisionGuard {
 public:
  explicit MatmulPrecisionGuard(Precision p) : saved_(detail::precision_override()) {
    detail::precision_override() = static_cast<int>(p);
  }
  ~MatmulPrecisionGuard() { detail::precision_override() = saved_; }
  MatmulPrecisionGuard(const MatmulPrecisionGuard&) = delete;
  MatmulPrecisionGuard& operator=(const MatmulPrecisionGuard&) = delete;

 private:
  int saved_;
};

/// Storage order of the matrices in the BLAS-style gemm.
enum class Layout { RowMajor, ColMajor };
/// Whether an operand is used as stored or transposed.
enum class Trans { No, Yes };

namespace detail {

/// Tests force tiny cache blocks through this to reach every edge path at small sizes.
inline GemmBlocking*& gemm_blocking_override() {
  static GemmBlocking* override_blocks = nullptr;
  return override_blocks;
}

/// Problems below this many multiply-adds run on one thread: at ~2 µs per fork/join and
/// barrier round, a second thread cannot pay for itself below ~1 M multiply-adds.
inline constexpr std::int64_t kGemmParallelMacs = 1 << 20;

inline int gemm_threads(std::int64_t m, std::int64_t n, std::int64_t k) {
  if (m * n * k < kGemmParallelMacs) return 1;
  return available_threads();
}

template <class T>
GemmBlocking effective_blocking(GemmBlocking bs) {
  if (const GemmBlocking* o = gemm_blocking_override()) {
    bs.mc = o->mc;
    bs.kc = o->kc;
    bs.nc = o->nc;
  }
  return bs;
}

/// Runs one mixed-type kernel row (the entry points choose it; tests and benchmarks pick rows).
template <class TA, class TB, class TC>
void gemm_mixed_with(const MixedKernel<TA, TB, TC>& row, std::int64_t m, std::int64_t n,
                     std::int64_t k, TC alpha, MatRef<const TA> a, MatRef<const TB> b, TC beta,
                     MatRef<TC> c, int nthreads, const Epilogue<TC>* ep = nullptr) {
  mixed_gemm_driver<TA, TB, TC>(m, n, k, alpha, a, b, beta, c, row,
                                effective_blocking<TC>(row.blocking), nthreads, ep);
}

template <class T>
void gemm_dispatch(std::int64_t m, std::int64_t n, std::int64_t k, T alpha, MatRef<const T> a,
                   MatRef<const T> b, T beta, MatRef<T> c, int nthreads,
                   const Epilogue<T>* ep = nullptr) {
  if constexpr (std::is_same_v<T, float>) {
    if (matmul_precision() == Precision::bf16) {
      gemm_mixed_with(bf16_kernel<float>(), m, n, k, alpha, a, b, beta, c, nthreads, ep);
      return;
    }
    const GemmKernelF32& kern = kernel_table(gemm_isa());
    gemm_driver<float>(m, n, k, alpha, a, b, beta, c, effective_blocking<T>(kern.blocking),
                       kern.kernels, nthreads, ep);
  } else if constexpr (std::is_same_v<T, bfloat16>) {
    // bf16 tensors (torch semantics: bf16 in, bf16 out): exact products and fp32 sums into an
    // fp32 copy of C, rounded to bf16 once at the end.
    std::vector<float> acc(static_cast<std::size_t>(m * n));
    if (beta != bfloat16(0.0f)) {
      for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j)
          acc[static_cast<std::size_t>(i * n + j)] = static_cast<float>(c.p[i * c.rs + j * c.cs]);
    }
    gemm_mixed_with(bf16_kernel<bfloat16>(), m, n, k, static_cast<float>(alpha), a, b,
                    static_cast<float>(beta), MatRef<float>{acc.data(), n, 1}, nthreads);
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j)
        c.p[i * c.rs + j * c.cs] =
            bfloat16(acc[static_cast<std::size_t>(i * n + j)] +
                     (ep != nullptr && ep->bias != nullptr ? static_cast<float>(ep->bias[j]) : 0.0f));
    if (ep != nullptr && (ep->act != EpilogueAct::none || ep->residual != nullptr)) {
      Epilogue<bfloat16> rest = *ep;  // the bias is in (added in fp32 above)
      rest.bias = nullptr;
      apply_epilogue(rest, c.p, c.rs, c.cs, m, n, 0, 0);
    }
  } else {
    constexpr int kMR = 4, kNR = 8;
    static constexpr UKernelFamily<T> portable_kernels{
        kernel_set<T, RefKernel<T, kMR, kNR>::template K>()};
    gemm_driver<T>(m, n, k, alpha, a, b, beta, c,
                   effective_blocking<T>(GemmBlocking{kMR, kNR, 128, 256, 2048}), portable_kernels,
                   nthreads, ep);
  }
}

}  // namespace detail

/// C = alpha·A·B + beta·C with explicit strides (in elements): A(i,p) = a[i*rs_a + p*cs_a],
/// B(p,j) = b[p*rs_b + j*cs_b], C(i,j) = c[i*rs_c + j*cs_c]. A is m×k, B k×n, C m×n.
///
///     ember::gemm(m, n, k, 1.0f, a, k, 1, b, n, 1, 0.0f, c, n, 1);   // row-major C = A·B
template <Numeric T>
void gemm(std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a, std::int64_t rs_a,
          std::int64_t cs_a, const T* b, std::int64_t rs_b, std::int64_t cs_b, T beta, T* c,
          std::int64_t rs_c, std::int64_t cs_c) {
  EMBER_CHECK(m >= 0 && n >= 0 && k >= 0, "gemm", "negative size m=", m, " n=", n, " k=", k);
  detail::gemm_dispatch<T>(m, n, k, alpha, {a, rs_a, cs_a}, {b, rs_b, cs_b}, beta, {c, rs_c, cs_c},
                           detail::gemm_threads(m, n, k));
}

/// bf16 GEMM: C (fp32) = alpha·A·B + beta·C with A, B in bfloat16, exact products and fp32
/// sums (on AMX tiles where the CPU has them); strides as the fp32 gemm.
inline void gemm(std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const bfloat16* a,
                 std::int64_t rs_a, std::int64_t cs_a, const bfloat16* b, std::int64_t rs_b,
                 std::int64_t cs_b, float beta, float* c, std::int64_t rs_c, std::int64_t cs_c) {
  EMBER_CHECK(m >= 0 && n >= 0 && k >= 0, "gemm", "negative size m=", m, " n=", n, " k=", k);
  detail::gemm_mixed_with(detail::bf16_kernel<bfloat16>(), m, n, k, alpha, {a, rs_a, cs_a},
                          {b, rs_b, cs_b}, beta, {c, rs_c, cs_c}, detail::gemm_threads(m, n, k));
}

/// int8 GEMM: C (int32) = alpha·A·B + beta·C with A unsigned and B signed 8-bit integers
/// (u8·s8 → s32, as oneDNN and VNNI/AMX), exact; int32 overflow wraps as the hardware's
/// accumulators do (k ≤ 66 052 cannot overflow: 255·128·k < 2^31).
inline void gemm(std::int64_t m, std::int64_t n, std::int64_t k, std::int32_t alpha,
                 const std::uint8_t* a, std::int64_t rs_a, std::int64_t cs_a, const std::int8_t* b,
                 std::int64_t rs_b, std::int64_t cs_b, std::int32_t beta, std::int32_t* c,
                 std::int64_t rs_c, std::int64_t cs_c) {
  EMBER_CHECK(m >= 0 && n >= 0 && k >= 0, "gemm", "negative size m=", m, " n=", n, " k=", k);
  detail::gemm_mixed_with(detail::u8s8_kernel(), m, n, k, alpha, {a, rs_a, cs_a}, {b, rs_b, cs_b},
                          beta, {c, rs_c, cs_c}, detail::gemm_threads(m, n, k));
}

/// Name of the micro-kernel a GEMM on `dtype` runs now: Float32 (under matmul_precision()),
/// BFloat16, or Int8 (u8·s8 → s32). E.g. "ukernel_amx_bf16_32x32".
inline std::string gemm_kernel_name(DType dtype) {
  switch (dtype) {
    case DType::Float32:
      return matmul_precision() == Precision::bf16 ? detail::bf16_kernel<float>().name
                                                   : gemm_kernel_name();
    case DType::BFloat16:
      return detail::bf16_kernel<bfloat16>().name;
    case DType::Int8:
    case DType::UInt8:
      return detail::u8s8_kernel().name;
    default:
      return "ukernel_ref_4x8";  // double and the integers: the portable reference kernel
  }
}

/// BLAS-convention gemm: C = alpha·op(A)·op(B) + beta·C, with leading dimensions.
template <Numeric T>
void gemm(Layout layout, Trans trans_a, Trans trans_b, std::int64_t m, std::int64_t n,
          std::int64_t k, T alpha, const T* a, std::int64_t lda, const T* b, std::int64_t ldb,
          T beta, T* c, std::int64_t ldc) {
  const bool row = layout == Layout::RowMajor;
  const std::int64_t a_rows = trans_a == Trans::No ? m : k, a_cols = trans_a == Trans::No ? k : m;
  const std::int64_t b_rows = trans_b == Trans::No ? k : n, b_cols = trans_b == Trans::No ? n : k;
  auto check_ld = [&](const char* name, std::int64_t ld, std::int64_t rows, std::int64_t cols) {
    const std::int64_t need = std::max<std::int64_t>(1, row ? cols : rows);
    EMBER_CHECK(ld >= need, "gemm", name, "=", ld, " is smaller than ", need, " (a ", rows, "x",
                cols, " ", row ? "row" : "column", "-major matrix)");
  };
  check_ld("lda", lda, a_rows, a_cols);
  check_ld("ldb", ldb, b_rows, b_cols);
  check_ld("ldc", ldc, m, n);
  // Strides of the stored matrix, then swapped if it is used transposed.
  auto strides = [&](std::int64_t ld, Trans t) {
    std::int64_t rs = row ? ld : 1, cs = row ? 1 : ld;
    if (t == Trans::Yes) std::swap(rs, cs);
    return std::pair{rs, cs};
  };
  auto [rs_a, cs_a] = strides(lda, trans_a);
  auto [rs_b, cs_b] = strides(ldb, trans_b);
  auto [rs_c, cs_c] = strides(ldc, Trans::No);
  gemm<T>(m, n, k, alpha, a, rs_a, cs_a, b, rs_b, cs_b, beta, c, rs_c, cs_c);
}

namespace detail {
template <class T, class U>
bool overlaps(const Tensor<T>& x, const Tensor<U>& y) {
  if constexpr (!std::is_same_v<T, U>) {
    return false;
  } else {
    return x.numel() > 0 && y.numel() > 0 && x.storage().same(y.storage());
  }
}
}  // namespace detail

/// C = alpha·A·B + beta·C on 2-D tensors of any strides: A [m,k], B [k,n], C [m,n].
template <Numeric T>
void gemm(T alpha, const Tensor<T>& a, const Tensor<T>& b, T beta, const Tensor<T>& c) {
  EMBER_CHECK(a.dim() == 2 && b.dim() == 2 && c.dim() == 2, "gemm", "expects 2-D tensors, got ",
              a.shape(), ", ", b.shape(), " and ", c.shape());
  EMBER_CHECK(a.size(1) == b.size(0) && c.size(0) == a.size(0) && c.size(1) == b.size(1), "gemm",
              "shapes ", a.shape(), " · ", b.shape(), " do not give ", c.shape());
  EMBER_CHECK(!detail::overlaps(c, a) && !detail::overlaps(c, b), "gemm",
              "the output must not share memory with an input");
  c.check_writable("gemm");
  gemm<T>(a.size(0), b.size(1), a.size(1), alpha, a.data(), a.stride(0), a.stride(1), b.data(),
          b.stride(0), b.stride(1), beta, c.data(), c.stride(0), c.stride(1));
}

/// Strided-batched gemm on 3-D tensors: C[i] = alpha·A[i]·B[i] + beta·C[i] for every i.
/// A [batch,m,k], B [batch,k,n], C [batch,m,n]; A or B may have batch stride 0 (expanded).
/// Small products run in parallel across the batch, large ones in parallel inside each gemm.
template <Numeric T>
void gemm_batched(T alpha, const Tensor<T>& a, const Tensor<T>& b, T beta, const Tensor<T>& c) {
  EMBER_CHECK(a.dim() == 3 && b.dim() == 3 && c.dim() == 3, "gemm_batched",
              "expects 3-D tensors, got ", a.shape(), ", ", b.shape(), " and ", c.shape());
  const std::int64_t batch = c.size(0), m = c.size(1), n = c.size(2), k = a.size(2);
  EMBER_CHECK(a.size(0) == batch && b.size(0) == batch && a.size(1) == m && b.size(1) == k &&
                  b.size(2) == n,
              "gemm_batched", "shapes ", a.shape(), " · ", b.shape(), " do not give ", c.shape());
  EMBER_CHECK(!detail::overlaps(c, a) && !detail::overlaps(c, b), "gemm_batched",
              "the output must not share memory with an input");
  c.check_writable("gemm_batched");
  if (batch == 0 || m == 0 || n == 0) return;  // nothing to write (and no storage to offset)
  const bool inner_parallel = detail::gemm_threads(m, n, k) > 1;
  // With k = 0, A and B hold no elements (their data may be null): C = beta·C reads neither.
  const std::int64_t a_step = k == 0 ? 0 : a.stride(0), b_step = k == 0 ? 0 : b.stride(0);
  auto one = [&](std::int64_t i, int threads) {
    detail::gemm_dispatch<T>(m, n, k, alpha, {a.data() + i * a_step, a.stride(1), a.stride(2)},
                             {b.data() + i * b_step, b.stride(1), b.stride(2)}, beta,
                             {c.data() + i * c.stride(0), c.stride(1), c.stride(2)}, threads);
  };
  if (inner_parallel) {
    for (std::int64_t i = 0; i < batch; ++i) one(i, num_threads());
  } else {
    const std::int64_t grain =
        std::max<std::int64_t>(1, detail::kGemmParallelMacs / std::max<std::int64_t>(1, m * n * k));
    parallel_for(0, batch, grain, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t i = lo; i < hi; ++i) one(i, 1);
    });
  }
}

/// Matrix product with torch.matmul's rules:
///   1-D·1-D → dot product (0-d); 2-D·2-D → matrix product; 1-D·2-D and 2-D·1-D treat the
///   vector as a row / column and drop that dim; N-d operands are stacks of matrices whose
///   batch dims broadcast (NumPy rules).
///
///     auto y = ember::matmul(x, w);   // x [B,T,C], w [C,D] → y [B,T,D]
template <Numeric T>
Tensor<T> matmul(const Tensor<T>& a_in, const Tensor<T>& b_in) {
  EMBER_CHECK(a_in.dim() >= 1 && b_in.dim() >= 1, "matmul",
              "both operands need at least 1 dim, got ", a_in.shape(), " and ", b_in.shape());
  const bool a_vec = a_in.dim() == 1, b_vec = b_in.dim() == 1;
  Tensor<T> a = a_vec ? a_in.unsqueeze(0) : a_in;  // [k] → [1,k]
  Tensor<T> b = b_vec ? b_in.unsqueeze(1) : b_in;  // [k] → [k,1]
  const std::int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  EMBER_CHECK(b.size(-2) == k, "matmul", "shapes ", a_in.shape(), " and ", b_in.shape(),
              " cannot be multiplied (", k, " != ", b.size(-2), ")");
  if (b.dim() == 2 && a.dim() > 2) {
    // A stack times one matrix (a linear layer over [B, T, C]): one GEMM over all B·T rows
    // rather than B small ones. The reshape views when a's rows are evenly strided.
    Shape out_shape = a.shape();
    out_shape[out_shape.rank() - 1] = n;
    Tensor<T> out = Tensor<T>::empty(out_shape);
    gemm<T>(T(1), a.reshape({-1, k}), b, T(0), out.view({-1, n}));
    if (b_vec) out_shape.erase(out_shape.rank() - 1);
    return out.view(out_shape);
  }
  // Broadcast the batch dims.
  Shape a_batch(a.shape().begin(), a.shape().end() - 2),
      b_batch(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(a_batch, b_batch, "matmul");
  Shape a_full = batch, b_full = batch, out_shape = batch;
  a_full.push_back(m);
  a_full.push_back(k);
  b_full.push_back(k);
  b_full.push_back(n);
  out_shape.push_back(m);
  out_shape.push_back(n);
  const std::int64_t nb = batch.numel();
  Tensor<T> out = Tensor<T>::empty(out_shape);
  Tensor<T> a3 = a.expand(a_full), b3 = b.expand(b_full);
  // Flatten the batch dims to one; reshape views when the batch strides allow it (always for
  // contiguous or expanded-scalar batches), else copies.
  a3 = a3.reshape({nb, m, k});
  b3 = b3.reshape({nb, k, n});
  gemm_batched<T>(T(1), a3, b3, T(0), out.view({nb, m, n}));
  Shape result = batch;
  if (!a_vec) result.push_back(m);
  if (!b_vec) result.push_back(n);
  return out.view(result);
}

/// What ember::linear does to y = x·wᵀ + bias besides, on each tile of y as the GEMM finishes
/// it (while the tile is in L1; detail::Epilogue), in this order:
///   gelu:      y = gelu(x·wᵀ + bias), the exact (erf) form — float, double and bfloat16;
///   pre_gelu:  with gelu, when given (not Tensor<T>()): receives x·wᵀ + bias, the values before GELU (what its
///              backward needs); contiguous, y's shape;
///   residual:  when given: y += residual (y's shape, no broadcasting), after the GELU.
/// The same values as the separate ops (gelu(linear(x, w, b)), linear(x, w, b) + r), without
/// their passes over y in memory.
template <class T>
struct LinearEpilogue {
  bool gelu = false;
  Tensor<T> pre_gelu = {};  // (initialised, so designated initialisers may leave it out)
  Tensor<T> residual = {};
};

/// y = x·wᵀ + bias (torch.nn.functional.linear), then `fused` (above): x [..., in], w [out, in],
/// bias [out] (optional, pass an empty tensor to skip) → y [..., out]. One GEMM; the bias and
/// `fused` are applied to each tile of y as it is finished.
template <Numeric T>
Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias,
                 const LinearEpilogue<T>& fused) {
  EMBER_CHECK(x.dim() >= 1 && w.dim() == 2, "linear", "expects x [..., in] and w [out, in], got ",
              x.shape(), " and ", w.shape());
  const std::int64_t in = x.size(-1), out_features = w.size(0);
  EMBER_CHECK(w.size(1) == in, "linear", "x ", x.shape(), " and weight ", w.shape(),
              " disagree on in_features (", in, " != ", w.size(1), ")");
  // Given: anything but the default Tensor<T>() (shape [0]).
  auto given = [](const Tensor<T>& t) { return t.numel() > 0 || t.dim() != 1; };
  const bool has_bias = given(bias);
  if (has_bias) {
    EMBER_CHECK(bias.dim() == 1 && bias.size(0) == out_features, "linear", "bias ", bias.shape(),
                " does not match out_features ", out_features);
  }
  Shape out_shape = x.shape();
  out_shape[out_shape.rank() - 1] = out_features;
  const bool has_pre = given(fused.pre_gelu), has_residual = given(fused.residual);
  if (fused.gelu) {
    EMBER_CHECK(FloatingScalar<T>, "linear", "a GELU epilogue needs a floating-point type, got ",
                dtype_name(dtype_of<T>));
  }
  if (has_pre) {
    EMBER_CHECK(fused.gelu, "linear", "pre_gelu is given without gelu");
    EMBER_CHECK(fused.pre_gelu.shape() == out_shape && fused.pre_gelu.is_contiguous(), "linear",
                "pre_gelu must be contiguous with the output's shape ", out_shape, ", got ",
                fused.pre_gelu.shape(), fused.pre_gelu.is_contiguous() ? "" : " (not contiguous)");
    fused.pre_gelu.check_writable("linear");
  }
  if (has_residual) {
    EMBER_CHECK(fused.residual.shape() == out_shape, "linear", "residual ",
                fused.residual.shape(), " must have the output's shape ", out_shape);
  }
  Tensor<T> y = Tensor<T>::empty(out_shape);
  if (y.numel() == 0) return y;
  const std::int64_t rows = y.numel() / out_features;  // explicit: in = 0 makes -1 ambiguous
  Tensor<T> x2 = x.reshape({rows, in});
  const Tensor<T> b = has_bias ? bias.contiguous() : Tensor<T>();
  const Tensor<T> r = has_residual ? fused.residual.contiguous() : Tensor<T>();
  detail::Epilogue<T> ep;
  ep.bias = has_bias ? b.data() : nullptr;
  ep.act = fused.gelu ? detail::EpilogueAct::gelu : detail::EpilogueAct::none;
  ep.pre = has_pre ? fused.pre_gelu.data() : nullptr;
  ep.ld_pre = out_features;
  ep.residual = has_residual ? r.data() : nullptr;
  ep.ld_residual = out_features;
  detail::gemm_dispatch<T>(rows, out_features, in, T(1), {x2.data(), x2.stride(0), x2.stride(1)},
                           {w.data(), w.stride(1), w.stride(0)}, T(0), {y.data(), out_features, 1},
                           detail::gemm_threads(rows, out_features, in), &ep);
  return y;
}

/// y = x·wᵀ + bias (torch.nn.functional.linear): x [..., in], w [out, in], bias [out] (optional,
/// pass an empty tensor to skip) → y [..., out]. One GEMM; the bias is added to each tile of y
/// as it is finished.
template <Numeric T>
Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias = Tensor<T>()) {
  return linear(x, w, bias, LinearEpilogue<T>{});
}

}  // namespace ember
