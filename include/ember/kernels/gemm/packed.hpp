// ember/kernels/gemm/packed.hpp — the B operand of a GEMM packed once and reused (MKL's
// cblas_sgemm_pack / cblas_gemm_s8u8s32_pack, FBGEMM's PackBMatrix, oneDNN's reordered weights).
// Layer: kernels/gemm.
//
//     ember::PackedB<std::int8_t> wt(k, n, w, 1, k);            // Wᵀ of an (n, k) weight, once
//     ember::gemm(m, 1, x, k, 1, wt, 0, acc, n, 1);             // acc (m×n) = x (m×k, u8) · Wᵀ
//
// B types: float (fp32 products, or bf16 ones when packed under Precision::bf16: the fp32
// values rounded to bf16 once, while packing), bfloat16 (bf16 products, fp32 sums) and
// std::int8_t (u8·s8 → s32). Every product packs B into its micro-kernel's layout (fp32
// slivers, int16 pairs, quads, AMX tile rows; driver.hpp, mixed.hpp) on each call, or reads a
// row-major B in place where packing would not pay. A weight multiplied many times can be
// packed once: the products then skip that phase, and read slivers that are the same bytes the
// per-call packing would write, so the result is bit for bit the one of ember::gemm on the
// unpacked B (under the precision it was packed with).
//
// Target: remove B's packing from products with a weight reused across calls (12% of the int8
// linear stack, perf on a Zen 3). Reached there (bench_gemm ember_prepacked against ember,
// 2026-12-05): at 32×128×128, 64×768×768 and 128×768×3072 on 1 thread int8 1.05–1.11×, bf16
// 1.07–1.42× (its B is widened in a scalar loop without bf16 hardware), fp32 1.08–1.19×; large
// squares within noise; the int8 linear stack −6% on 1 thread. Not measured on AMX.
//
// A PackedB holds the kernel in force when it was packed (gemm_kernel_name at that time; for
// float, under the matmul_precision() of the packing thread) and the depth blocking; a product
// with it runs that kernel, even if EMBER_ISA, set_gemm_isa or the precision changed since
// (the kernel stays runnable: the CPU had it). It is immutable and shares its buffer between
// copies; it keeps no reference to the source, so changing the source afterwards does not
// change it (pack again).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <type_traits>

#include "ember/core/dtype.hpp"
#include "ember/core/error.hpp"
#include "ember/kernels/gemm/gemm.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember {
namespace detail {

/// The A and C types and the mixed-kernel row in force for each B type that can be pre-packed
/// (float: the row of Precision::bf16; at fp32 precision the fp32 kernel table runs instead).
template <class TB>
struct PackedTraits;
template <>
struct PackedTraits<std::int8_t> {
  using A = std::uint8_t;
  using C = std::int32_t;
  static const MixedKernel<A, std::int8_t, C>& row() { return u8s8_kernel(); }
};
template <>
struct PackedTraits<bfloat16> {
  using A = bfloat16;
  using C = float;
  static const MixedKernel<A, bfloat16, C>& row() { return bf16_kernel<bfloat16>(); }
};
template <>
struct PackedTraits<float> {
  using A = float;
  using C = float;
  static const MixedKernel<A, float, C>& row() { return bf16_kernel<float>(); }
};

}  // namespace detail

/// B (k×n, any strides) of `gemm(m, alpha, a, …, PackedB, …)`, packed for the kernel in force.
template <class TB>
class PackedB {
 public:
  using A = typename detail::PackedTraits<TB>::A;  // the type of the A it multiplies
  using C = typename detail::PackedTraits<TB>::C;  // the accumulator and C type
  using Row = detail::MixedKernel<A, TB, C>;

  /// An empty 0×0 matrix.
  PackedB() { choose_kernel(); }

  /// Packs B(p, j) = b[p*rs + j*cs] for p < k, j < n for the kernel in force (for float, under
  /// this thread's matmul_precision()). Threads as the products do.
  PackedB(std::int64_t k, std::int64_t n, const TB* b, std::int64_t rs, std::int64_t cs) {
    choose_kernel();
    pack(k, n, b, rs, cs);
  }

  /// The same for a chosen mixed-kernel row (tests and benchmarks pick rows; it must be
  /// runnable).
  PackedB(const Row& row, std::int64_t k, std::int64_t n, const TB* b, std::int64_t rs,
          std::int64_t cs)
      : row_(&row) {
    pack(k, n, b, rs, cs);
  }

  /// The same for a chosen fp32 kernel (float only).
  PackedB(const detail::GemmKernelF32& kern, std::int64_t k, std::int64_t n, const TB* b,
          std::int64_t rs, std::int64_t cs)
    requires std::is_same_v<TB, float>
      : f32_(&kern) {
    pack(k, n, b, rs, cs);
  }

  std::int64_t rows() const { return k_; }
  std::int64_t cols() const { return n_; }
  /// The micro-kernel it was packed for, e.g. "ukernel_avx2_u8s8_6x16".
  const char* kernel_name() const { return f32_ != nullptr ? f32_->name : row_->name; }
  /// Bytes of packed data (the depth padded to the kernel's k-group, n to its tile width).
  std::size_t bytes() const { return bytes_; }

  /// The fp32 kernel it runs (float packed at fp32 precision), else null and row() runs.
  const detail::GemmKernelF32* fp32_kernel() const { return f32_; }
  const Row& row() const { return *row_; }
  detail::PrepackedB prepacked() const { return {data_.get(), kc_}; }

 private:
  void choose_kernel() {
    if constexpr (std::is_same_v<TB, float>) {
      if (matmul_precision() == Precision::fp32) {
        f32_ = &detail::kernel_table(gemm_isa());
        return;
      }
    }
    row_ = &detail::PackedTraits<TB>::row();
  }

  void pack(std::int64_t k, std::int64_t n, const TB* b, std::int64_t rs, std::int64_t cs) {
    EMBER_CHECK(k >= 0 && n >= 0, "PackedB", "negative size k=", k, " n=", n);
    k_ = k;
    n_ = n;
    // The kernel's sliver width, depth group, packed element size and depth block, and one
    // sliver's packing (cols ≤ NR columns of `depth` rows, zero-padded) as the driver packs it.
    std::int64_t NR = 0, G = 1, elem = 0, KC = 0;
    if (f32_ != nullptr) {
      if constexpr (std::is_same_v<TB, float>) {
        NR = f32_->blocking.nr;
        elem = sizeof(float);
        KC = detail::depth_block(detail::effective_blocking<float>(f32_->blocking).kc, 1);
      }
    } else {
      NR = row_->nr;
      G = row_->kgroup;
      elem = row_->b_elem_bytes;
      KC = detail::depth_block(detail::effective_blocking<C>(row_->blocking).kc, G);
    }
    kc_ = KC;
    if (k == 0 || n == 0) return;
    EMBER_CHECK(b != nullptr, "PackedB", "null source for a ", k, "x", n, " matrix");
    const std::int64_t n_slivers = (n + NR - 1) / NR, blocks = (k + KC - 1) / KC;
    const std::int64_t last_kp = detail::round_up(k - (blocks - 1) * KC, G);
    bytes_ = static_cast<std::size_t>(
        detail::prepacked_block_offset(n, NR, KC, elem, (blocks - 1) * KC) +
        n_slivers * NR * last_kp * elem);
    void* p = std::aligned_alloc(64, (bytes_ + 63) / 64 * 64);
    if (p == nullptr)
      detail::fail("PackedB", "cannot allocate ", bytes_, " bytes for a packed ", k, "x", n,
                   " matrix");
    data_.reset(static_cast<unsigned char*>(p), [](unsigned char* q) { std::free(q); });
    unsigned char* out = data_.get();
    // Items: (depth block, sliver) pairs, a sliver of a 512-deep block being 16–64 KiB.
    parallel_for(0, blocks * n_slivers, 16, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t item = lo; item < hi; ++item) {
        const std::int64_t q = item / n_slivers, s = item % n_slivers;
        const std::int64_t pc = q * KC, depth = std::min(KC, k - pc), j0 = s * NR;
        const std::int64_t cols = std::min(NR, n - j0);
        const TB* src = b + pc * rs + j0 * cs;
        unsigned char* dst = out + detail::prepacked_block_offset(n, NR, KC, elem, pc) +
                             s * NR * detail::round_up(depth, G) * elem;
        if (f32_ != nullptr) {
          if constexpr (std::is_same_v<TB, float>) {
            // B slivers are A slivers of Bᵀ (driver.hpp).
            const detail::PackFn<float> fn =
                f32_->kernels.pack != nullptr ? f32_->kernels.pack : &detail::pack_a<float>;
            fn(cols, depth, src, cs, rs, NR, reinterpret_cast<float*>(dst));
          }
        } else {
          row_->pack_b(cols, depth, src, rs, cs, dst);
        }
      }
    });
  }

  const Row* row_ = nullptr;                    // the mixed row it runs, or
  const detail::GemmKernelF32* f32_ = nullptr;  // the fp32 kernel (float at fp32 precision)
  std::int64_t k_ = 0, n_ = 0, kc_ = 1;
  std::size_t bytes_ = 0;
  std::shared_ptr<unsigned char> data_;
};

/// C = alpha·A·B + beta·C with B pre-packed: A m×k (A(i,p) = a[i*rs_a + p*cs_a]), C m×n, k and
/// n those of `b`. Exactly ember::gemm on the B that was packed (same kernel, same sums).
template <class TB>
void gemm(std::int64_t m, typename PackedB<TB>::C alpha, const typename PackedB<TB>::A* a,
          std::int64_t rs_a, std::int64_t cs_a, const PackedB<TB>& b,
          typename PackedB<TB>::C beta, typename PackedB<TB>::C* c, std::int64_t rs_c,
          std::int64_t cs_c) {
  EMBER_CHECK(m >= 0, "gemm", "negative size m=", m, " with a packed ", b.rows(), "x", b.cols(),
              " B");
  using TA = typename PackedB<TB>::A;
  using TC = typename PackedB<TB>::C;
  const std::int64_t k = b.rows(), n = b.cols();
  const detail::PrepackedB pre = b.prepacked();
  const int threads = detail::gemm_threads(m, n, k);
  if (const detail::GemmKernelF32* f32 = b.fp32_kernel()) {
    if constexpr (std::is_same_v<TB, float>) {
      detail::gemm_driver<float>(m, n, k, alpha, {a, rs_a, cs_a}, {nullptr, 0, 0}, beta,
                                 {c, rs_c, cs_c}, detail::effective_blocking<float>(f32->blocking),
                                 f32->kernels, threads, nullptr, &pre);
    }
    return;
  }
  detail::mixed_gemm_driver<TA, TB, TC>(m, n, k, alpha, {a, rs_a, cs_a}, {nullptr, 0, 0}, beta,
                                        {c, rs_c, cs_c}, b.row(),
                                        detail::effective_blocking<TC>(b.row().blocking),
                                        threads, nullptr, &pre);
}

}  // namespace ember
