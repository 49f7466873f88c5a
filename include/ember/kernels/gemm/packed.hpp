// ember/kernels/gemm/packed.hpp — the B operand of int8 and bf16 GEMMs packed once and reused
// (MKL's cblas_gemm_s8u8s32_pack, FBGEMM's PackBMatrix, oneDNN's reordered weights).
// Layer: kernels/gemm.
//
//     ember::PackedB<std::int8_t> wt(k, n, w, 1, k);            // Wᵀ of an (n, k) weight, once
//     ember::gemm(m, 1, x, k, 1, wt, 0, acc, n, 1);             // acc (m×n) = x (m×k, u8) · Wᵀ
//
// Every int8 and bf16 product packs B into its micro-kernel's layout (int16 pairs, quads, AMX
// tile rows; mixed.hpp) on every call. A weight multiplied many times can be packed once: the
// products then skip that phase, and read slivers that are the same bytes the per-call packing
// would write, so the result is bit for bit the one of ember::gemm on the unpacked B.
//
// Target: remove B's packing from products with a weight reused across calls (12% of the int8
// linear stack, perf on a Zen 3). Reached there (bench_gemm ember_prepacked against ember,
// 2026-12-05): int8 1.05–1.11× at 32×128×128, 64×768×768 and 128×768×3072 on 1 thread, bf16
// 1.07–1.46× (its B is widened in a scalar loop without bf16 hardware); large squares within
// noise; the int8 linear stack −6% on 1 thread. Not measured on AMX.
//
// A PackedB holds the kernel row in force when it was packed (gemm_kernel_name at that time)
// and the depth blocking; a product with it runs that row, even if EMBER_ISA or set_gemm_isa
// changed the level since (the row stays runnable: the CPU had it). It is immutable and shares
// its buffer between copies; it keeps no reference to the source, so changing the source
// afterwards does not change it (pack again).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "ember/core/dtype.hpp"
#include "ember/core/error.hpp"
#include "ember/kernels/gemm/gemm.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember {
namespace detail {

/// The A and C types and the kernel row in force for each B type that can be pre-packed.
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

}  // namespace detail

/// B (k×n, any strides) of `gemm(m, alpha, a, …, PackedB, …)`, packed for the kernel in force.
/// TB: std::int8_t (u8·s8 → s32 products) or bfloat16 (bf16 products, fp32 sums).
template <class TB>
class PackedB {
 public:
  using A = typename detail::PackedTraits<TB>::A;  // the type of the A it multiplies
  using C = typename detail::PackedTraits<TB>::C;  // the accumulator and C type
  using Row = detail::MixedKernel<A, TB, C>;

  /// An empty 0×0 matrix.
  PackedB() : row_(&detail::PackedTraits<TB>::row()) {}

  /// Packs B(p, j) = b[p*rs + j*cs] for p < k, j < n for the kernel in force. Threads as the
  /// products do.
  PackedB(std::int64_t k, std::int64_t n, const TB* b, std::int64_t rs, std::int64_t cs)
      : PackedB(detail::PackedTraits<TB>::row(), k, n, b, rs, cs) {}

  /// The same for a chosen kernel row (tests and benchmarks pick rows; it must be runnable).
  PackedB(const Row& row, std::int64_t k, std::int64_t n, const TB* b, std::int64_t rs,
          std::int64_t cs)
      : row_(&row), k_(k), n_(n) {
    EMBER_CHECK(k >= 0 && n >= 0, "PackedB", "negative size k=", k, " n=", n);
    const Row& r = *row_;
    const std::int64_t G = r.kgroup, NR = r.nr;
    kc_ = std::max(G, detail::effective_blocking<C>(r.blocking).kc / G * G);
    if (k == 0 || n == 0) return;
    EMBER_CHECK(b != nullptr, "PackedB", "null source for a ", k, "x", n, " matrix");
    const std::int64_t n_slivers = (n + NR - 1) / NR, blocks = (k + kc_ - 1) / kc_;
    const std::int64_t last_kp = detail::round_up(k - (blocks - 1) * kc_, G);
    bytes_ = static_cast<std::size_t>(
        detail::prepacked_block_offset(r, n, kc_, (blocks - 1) * kc_) +
        n_slivers * NR * last_kp * r.b_elem_bytes);
    void* p = std::aligned_alloc(64, (bytes_ + 63) / 64 * 64);
    if (p == nullptr)
      detail::fail("PackedB", "cannot allocate ", bytes_, " bytes for a packed ", k, "x", n, " matrix");
    data_.reset(static_cast<unsigned char*>(p), [](unsigned char* q) { std::free(q); });
    unsigned char* out = data_.get();
    const std::int64_t kc = kc_;
    // Items: (depth block, sliver) pairs, a sliver of a 512-deep block being ~16 KiB.
    parallel_for(0, blocks * n_slivers, 16, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t item = lo; item < hi; ++item) {
        const std::int64_t q = item / n_slivers, s = item % n_slivers;
        const std::int64_t pc = q * kc, depth = std::min(kc, k - pc), j0 = s * NR;
        const std::int64_t sliver = NR * detail::round_up(depth, G) * r.b_elem_bytes;
        r.pack_b(std::min(NR, n - j0), depth, b + pc * rs + j0 * cs, rs, cs,
                 out + detail::prepacked_block_offset(r, n, kc, pc) + s * sliver);
      }
    });
  }

  std::int64_t rows() const { return k_; }
  std::int64_t cols() const { return n_; }
  /// The micro-kernel it was packed for, e.g. "ukernel_avx2_u8s8_6x16".
  const char* kernel_name() const { return row_->name; }
  /// Bytes of packed data (the depth padded to the kernel's k-group, n to its tile width).
  std::size_t bytes() const { return bytes_; }

  const Row& row() const { return *row_; }
  detail::PrepackedB prepacked() const { return {data_.get(), kc_}; }

 private:
  const Row* row_;
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
  const std::int64_t k = b.rows(), n = b.cols();
  const detail::PrepackedB pre = b.prepacked();
  using TA = typename PackedB<TB>::A;
  using TC = typename PackedB<TB>::C;
  detail::mixed_gemm_driver<TA, TB, TC>(m, n, k, alpha, {a, rs_a, cs_a}, {nullptr, 0, 0}, beta,
                                        {c, rs_c, cs_c}, b.row(),
                                        detail::effective_blocking<TC>(b.row().blocking),
                                        detail::gemm_threads(m, n, k), nullptr, &pre);
}

}  // namespace ember
